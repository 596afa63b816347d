/** Request shapes (strict: unknown fields are rejected) and their field-level checks. */
import { z } from 'zod';
import { MERCHANT_STATUSES, merchantCategory, merchantKeyScopes } from '@puhui/contracts';
import {
  branchCodeSchema,
  creditCodeSchema,
  mobileSchema,
  regionCodeSchema,
  residentIdSchema,
} from '@puhui/kyc';
import { safeText } from '@puhui/http';
import { REVEALABLE_FIELDS } from '../domain/merchant';

/** Names and addresses: safe text (no formula start, no invisible characters; see libs/http's text.ts). */
const text = (max: number) => safeText(max);

/** Today in Asia/Shanghai (UTC+8, no DST): ID numbers may not be born after it. */
export function shanghaiToday(now = new Date()): string {
  return new Date(now.getTime() + 8 * 3600 * 1000).toISOString().slice(0, 10);
}

function applicationShape(today: string) {
  return {
    legal_name: text(200),
    display_name: text(100),
    credit_code: creditCodeSchema,
    category: merchantCategory,
    mcc: z.string().regex(/^\d{4}$/u, 'must be a 4-digit merchant category code'),
    region_code: regionCodeSchema,
    address: text(300),
    contact: z.strictObject({ name: text(100), mobile: mobileSchema, email: z.email().max(254) }),
    legal_representative: z.strictObject({ name: text(100), id_number: residentIdSchema(today) }),
    settlement_account: z.strictObject({
      account_type: z.enum(['corporate', 'personal']).default('corporate'),
      account_name: text(200).meta({
        description:
          'Who the account is in the name of: for a corporate account exactly the merchant’s `legal_name` (else 400 on this field); for a personal one the holder’s name.',
      }),
      account_number: z.string().regex(/^\d{8,30}$/u, 'must be 8 to 30 digits'),
      bank_name: text(100),
      branch_code: branchCodeSchema,
    }),
    outlets: z
      .array(z.strictObject({ name: text(100), address: text(300) }))
      .min(1)
      .max(500),
  };
}

/** A new application needs only its legal name; `requirements` says what else is missing. */
export function createApplicationBody(today: string) {
  const shape = applicationShape(today);
  return z.strictObject({ ...z.object(shape).partial().shape, legal_name: shape.legal_name });
}

export function updateMerchantBody(today: string) {
  return z
    .strictObject(z.object(applicationShape(today)).partial().shape)
    .refine((body) => Object.keys(body).length > 0, 'send at least one field to change');
}

export const reasonBody = z.strictObject({ reason: text(500) });

/**
 * A reason long enough to say why: 8 characters is "核实账户变更联系" or "call back", not "x" or
 * "看看" (Chinese says in 8 characters what English says in about 20).
 */
export const REVEAL_REASON_LENGTH_MIN = 8;

export const revealPersonalDataBody = z.strictObject({
  fields: z
    .array(z.enum(REVEALABLE_FIELDS))
    .min(1)
    .max(REVEALABLE_FIELDS.length)
    .refine((fields) => new Set(fields).size === fields.length, 'name each field once'),
  reason: safeText(500, { min: REVEAL_REASON_LENGTH_MIN }).meta({
    description: `Why the plaintext is needed (at least ${REVEAL_REASON_LENGTH_MIN} characters); kept in the audit trail with who asked and when.`,
  }),
});
export const optionalReasonBody = z.strictObject({ reason: text(500).optional() }).optional();

export const merchantPath = z.strictObject({
  id: z.string().regex(/^mer_[0-9a-z]{25}$/u, 'not a merchant id'),
});
export const apiKeyPath = merchantPath.extend({
  key_id: z.string().regex(/^key_[0-9a-z]{25}$/u, 'not a key id'),
});

export const PAGE_LIMIT_MAX = 100;
const limit = z.coerce.number().int().min(1).max(PAGE_LIMIT_MAX).default(20);

export const listMerchantsQuery = z.strictObject({
  status: z.enum(MERCHANT_STATUSES).optional(),
  category: merchantCategory.optional(),
  region_code: z
    .string()
    .regex(/^\d{6}$/u)
    .optional(),
  q: z.string().trim().min(1).max(100).optional(),
  limit,
  starting_after: z
    .string()
    .regex(/^mer_[0-9a-z]{25}$/u)
    .optional(),
});

export const auditQuery = z.strictObject({
  merchant_id: z
    .string()
    .regex(/^mer_[0-9a-z]{25}$/u)
    .optional(),
  limit,
  starting_after: z
    .string()
    .regex(/^\d{1,18}$/u)
    .optional(),
});

export const createApiKeyBody = z
  .strictObject({
    rotates_key_id: z
      .string()
      .regex(/^key_[0-9a-z]{25}$/u)
      .optional(),
    /** How long the rotated key keeps working; default one day, at most seven. */
    overlap_seconds: z
      .number()
      .int()
      .min(0)
      .max(7 * 24 * 3600)
      .default(24 * 3600),
    /** What the key may do; default `checkout` (or the rotated key's scopes). */
    scopes: merchantKeyScopes.optional(),
  })
  .optional();
