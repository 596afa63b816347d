/**
 * Events on `puhui.merchants.v1` (key: merchant id), published by merchant-onboarding and
 * replicated by discount-rules and transaction-settlement. API key events carry the hash
 * and visible prefix, never the secret; account numbers travel sealed.
 */
import { z } from 'zod';
import { TOPICS, defineEvent } from './envelope';

export const MERCHANT_CATEGORIES = [
  'scenic_spot',
  'supermarket',
  'pharmacy',
  'hospital',
  'hotel',
  'restaurant',
  'retail',
  'transport',
  'leisure',
  'other',
] as const;
export const merchantCategory = z.enum(MERCHANT_CATEGORIES);
export type MerchantCategory = z.infer<typeof merchantCategory>;

/** Default MCC per category (ISO 18245), from the programme's figures where it names one. */
export const DEFAULT_MCC: Record<MerchantCategory, string> = {
  scenic_spot: '7999',
  supermarket: '5411',
  pharmacy: '5912',
  hospital: '8062',
  hotel: '7011',
  restaurant: '5812',
  retail: '5399',
  transport: '4111',
  leisure: '7941',
  other: '5999',
};

export const MERCHANT_STATUSES = [
  'draft',
  'submitted',
  'in_review',
  'rejected',
  'active',
  'suspended',
  'terminated',
] as const;
export const merchantStatus = z.enum(MERCHANT_STATUSES);
export type MerchantStatus = z.infer<typeof merchantStatus>;

const timestamp = z.iso.datetime({ offset: true });

export const settlementAccountSnapshot = z.strictObject({
  account_type: z.enum(['corporate', 'personal']),
  /** The holder: a corporate account's legal name; a personal account's holder masked (a person's name). */
  account_name: z.string(),
  /**
   * A personal account's holder, sealed like the number (format v2, AAD = merchant id, decision
   * 0016): settlement opens it for the bank's payment file. Absent for a corporate account (its
   * holder is the public legal name) and in a snapshot announced before the holder was sealed.
   */
  account_name_sealed: z.string().optional(),
  account_number_masked: z.string(),
  account_number_last4: z.string().regex(/^\d{4}$/u),
  /**
   * AES-256-GCM sealed with the shared field key for this merchant (format v2, AAD = merchant id,
   * decision 0016): only settlement opens it, for payouts, and a value copied onto another
   * merchant does not open.
   */
  account_number_sealed: z.string(),
  bank_name: z.string(),
  branch_code: z.string().regex(/^\d{12}$/u),
});

/** What replicas need of a merchant to run checkouts, discounts and settlement. */
export const merchantSnapshot = z.strictObject({
  merchant_id: z.string(),
  status: merchantStatus,
  legal_name: z.string(),
  display_name: z.string(),
  category: merchantCategory,
  mcc: z.string().regex(/^\d{4}$/u),
  region_code: z.string().regex(/^\d{6}$/u),
  settlement_account: settlementAccountSnapshot,
  /**
   * When a change of `settlement_account` was last approved on the live merchant; null while it
   * is the account approved with the application (and in events written before this field).
   * Settlement holds a changed account out of payment files for a cooling-off period after it.
   */
  settlement_account_changed_at: timestamp.nullable().default(null),
  outlets: z.array(z.strictObject({ outlet_id: z.string(), name: z.string(), address: z.string() })),
});
export type MerchantSnapshot = z.infer<typeof merchantSnapshot>;

export const merchantApproved = defineEvent(
  'puhui.merchant.approved.v1',
  TOPICS.merchants,
  z.strictObject({ merchant: merchantSnapshot, approved_at: timestamp, approved_by: z.string() }),
);

export const merchantUpdated = defineEvent(
  'puhui.merchant.updated.v1',
  TOPICS.merchants,
  z.strictObject({
    merchant: merchantSnapshot,
    changed_fields: z.array(z.string()).min(1),
    updated_at: timestamp,
  }),
);

const statusChange = z.strictObject({
  merchant_id: z.string(),
  status: merchantStatus,
  reason: z.string().nullable(),
  occurred_at: timestamp,
});

export const merchantSuspended = defineEvent('puhui.merchant.suspended.v1', TOPICS.merchants, statusChange);
export const merchantReinstated = defineEvent('puhui.merchant.reinstated.v1', TOPICS.merchants, statusChange);
export const merchantTerminated = defineEvent('puhui.merchant.terminated.v1', TOPICS.merchants, statusChange);

/** A settlement account as people may see it: the number masked, nothing sealed. */
export const maskedSettlementAccount = z.strictObject({
  account_type: z.enum(['corporate', 'personal']),
  account_name: z.string(),
  account_number_masked: z.string(),
  bank_name: z.string(),
  branch_code: z.string().regex(/^\d{12}$/u),
});

/**
 * A live merchant's settlement account was changed (requested by one person, approved by
 * another): whoever pays or watches the merchant can act on it, and the merchant's existing
 * contact (`notify`, name and mobile masked) is told, so a redirected payout does not go unnoticed.
 */
export const merchantSettlementAccountChanged = defineEvent(
  'puhui.merchant.settlement_account_changed.v1',
  TOPICS.merchants,
  z.strictObject({
    merchant_id: z.string(),
    before: maskedSettlementAccount,
    after: maskedSettlementAccount,
    changed_at: timestamp,
    requested_by: z.string(),
    approved_by: z.string(),
    /** Masked only (decision 0016): whoever tells the contact reads the plaintext through the audited reveal. */
    notify: z.strictObject({ name_masked: z.string(), mobile_masked: z.string() }),
  }),
);

/**
 * What a merchant key may do (DESIGN §8): `checkout` — quote, capture, refund, void and read
 * its own checkouts, batches and statements; `keys` — list, create and revoke the merchant's
 * keys. New keys get `checkout` only unless asked; a key may not mint one with more.
 */
export const MERCHANT_KEY_SCOPES = ['checkout', 'keys'] as const;
export type MerchantKeyScope = (typeof MERCHANT_KEY_SCOPES)[number];
export const merchantKeyScopes = z
  .array(z.enum(MERCHANT_KEY_SCOPES))
  .min(1)
  .max(MERCHANT_KEY_SCOPES.length)
  .refine((scopes) => new Set(scopes).size === scopes.length, 'must not repeat a scope');

const apiKeyFacts = {
  merchant_id: z.string(),
  key_id: z.string(),
  prefix: z.string(),
  key_hash: z.string().regex(/^[0-9a-f]{64}$/u),
};

export const apiKeyCreated = defineEvent(
  'puhui.merchant.api_key.created.v1',
  TOPICS.merchants,
  z.strictObject({
    ...apiKeyFacts,
    created_at: timestamp,
    expires_at: timestamp.nullable(),
    // Keys announced before scopes existed could do everything; they keep that.
    scopes: merchantKeyScopes.default(['checkout', 'keys']),
  }),
);

/** `effective_at` may lie in the future: a rotated key keeps working until then. */
export const apiKeyRevoked = defineEvent(
  'puhui.merchant.api_key.revoked.v1',
  TOPICS.merchants,
  z.strictObject({ ...apiKeyFacts, revoked_at: timestamp, effective_at: timestamp }),
);

export const MERCHANT_EVENTS = [
  merchantApproved,
  merchantUpdated,
  merchantSuspended,
  merchantReinstated,
  merchantTerminated,
  merchantSettlementAccountChanged,
  apiKeyCreated,
  apiKeyRevoked,
] as const;
