/**
 * What the API answers, as zod schemas: the OpenAPI document is generated from them, the
 * views are typed by them, and the tests check every real answer against them.
 */
import { z } from 'zod';
import { pageSchema } from '@puhui/http';
import { MERCHANT_KEY_SCOPES, MERCHANT_STATUSES, merchantCategory } from '@puhui/contracts';
import { keptKycField } from '@puhui/kyc';
import { REVEALABLE_FIELDS } from '../domain/merchant';

const timestamp = z.iso.datetime({ offset: true });

/** Personal fields are shown masked only (decision 0016); an admin reveals them through `personal_data/reveal`. */
const contact = z
  .strictObject({
    name_masked: z.string().meta({ examples: ['王*', '欧阳**'] }),
    mobile_masked: z.string().meta({ examples: ['138****8000'] }),
    email_masked: z.string().meta({ examples: ['w***@example.cn'] }),
  })
  .meta({ description: 'The person to call, masked; stored sealed.' });
const legalRepresentative = z.strictObject({
  name_masked: z.string().meta({ examples: ['李*'] }),
  id_number_masked: z
    .string()
    .meta({ description: 'The ID number itself is never kept.', examples: ['361***********1234'] }),
});
const settlementAccount = z.strictObject({
  account_type: z.enum(['corporate', 'personal']),
  account_name: z.string().meta({
    description: 'A corporate account’s name (the legal name); a personal account’s holder masked (`王**`).',
  }),
  account_number_masked: z.string(),
  bank_name: z.string(),
  branch_code: keptKycField('branch_code'),
});
const outlet = z.strictObject({ outlet_id: z.string(), name: z.string(), address: z.string() });

const pendingChange = z
  .strictObject({
    legal_name: z.string().optional(),
    credit_code: keptKycField('credit_code').nullable().optional(),
    legal_representative: legalRepresentative.nullable().optional(),
    category: merchantCategory.nullable().optional(),
    mcc: z.string().nullable().optional(),
    settlement_account: settlementAccount.nullable().optional(),
    requested_at: timestamp,
    requested_by: z.string(),
  })
  .meta({
    description: 'Changes to an approved merchant’s identity, category or account, waiting for review.',
  });

const pendingApproval = z
  .strictObject({
    approval_request_id: z.uuid(),
    action: z.enum(['merchant_approval', 'merchant_change']).meta({
      description:
        '`merchant_approval`: the application’s approval; `merchant_change`: the `pending_change` (its settlement account, identity or category).',
    }),
    requested_by: z.string().meta({ description: 'The requester’s account id; someone else must approve.' }),
    requested_at: timestamp,
  })
  .meta({
    description:
      'A request on this merchant waiting for a second admin (`POST /v1/approval_requests/{id}/approve`); the merchant stays as it is until then.',
  });

export const merchantSchema = z
  .strictObject({
    id: z.string().meta({ examples: ['mer_0abcdefghijklmnopqrstuvwx'] }),
    status: z.enum(MERCHANT_STATUSES),
    legal_name: z.string(),
    display_name: z.string().nullable(),
    credit_code: keptKycField('credit_code').nullable(),
    category: merchantCategory.nullable(),
    mcc: z.string().nullable(),
    region_code: keptKycField('region_code').nullable(),
    address: z.string().nullable(),
    contact: contact.nullable(),
    legal_representative: legalRepresentative.nullable(),
    settlement_account: settlementAccount.nullable(),
    outlets: z.array(outlet),
    requirements: z
      .array(z.string())
      .meta({ description: 'What the application still lacks, in form order.' }),
    pending_change: pendingChange.nullable(),
    pending_approval: pendingApproval.nullable(),
    settlement_account_changed_at: timestamp.nullable().meta({
      description:
        'When an approved change last altered the settlement account; null while it is the one approved with the application. Payouts to a changed account wait for a cooling-off period.',
    }),
    status_reason: z.string().nullable(),
    created_at: timestamp,
    updated_at: timestamp,
    submitted_at: timestamp.nullable(),
    decided_at: timestamp.nullable(),
  })
  .meta({
    id: 'Merchant',
    description: 'A merchant or application; personal data and secrets appear masked only.',
  });
export type MerchantView = z.input<typeof merchantSchema>;

export const apiKeySchema = z
  .strictObject({
    id: z.string(),
    merchant_id: z.string(),
    prefix: z.string().meta({ description: 'The visible start of the key, to tell keys apart.' }),
    scopes: z.array(z.enum(MERCHANT_KEY_SCOPES)).meta({
      description:
        '`checkout`: quote, capture, refund, void and read checkouts, batches and statements; `keys`: list, create and revoke keys.',
    }),
    status: z.enum(['active', 'expired', 'expiring', 'revoked']),
    created_at: timestamp,
    revoked_at: timestamp.nullable(),
    expires_at: timestamp
      .nullable()
      .meta({ description: 'When the key stops working: its lifetime, or sooner once revoked or rotated.' }),
  })
  .meta({ id: 'ApiKey' });
export type ApiKeyView = z.input<typeof apiKeySchema>;

export const createdApiKeySchema = apiKeySchema
  .extend({ secret: z.string().meta({ description: 'The secret key, shown this once only.' }) })
  .meta({ id: 'CreatedApiKey' });

export const auditEventSchema = z
  .strictObject({
    audit_id: z.string(),
    merchant_id: z.string(),
    action: z.string(),
    actor: z.string(),
    request_id: z.string().nullable(),
    before: z.unknown().meta({ description: 'The record before, or null.' }),
    after: z.unknown().meta({ description: 'The record after, or null.' }),
    occurred_at: timestamp,
  })
  .meta({ id: 'AuditEvent' });

export const revealedPersonalDataSchema = z
  .strictObject({
    merchant_id: z.string(),
    fields: z
      .partialRecord(z.enum(REVEALABLE_FIELDS), z.string().nullable())
      .meta({ description: 'Each asked field’s plaintext; null when the merchant has none yet.' }),
    revealed_at: timestamp,
  })
  .meta({ id: 'RevealedPersonalData' });

export const merchantListSchema = pageSchema(merchantSchema, 'MerchantList');
export const apiKeyListSchema = pageSchema(apiKeySchema, 'ApiKeyList');
export const auditEventListSchema = pageSchema(auditEventSchema, 'AuditEventList');
