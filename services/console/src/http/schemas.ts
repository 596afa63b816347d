/** The console API's request and response schemas (zod): they parse requests and write the OpenAPI document. */
import { z } from 'zod';
import { pageSchema, safeText } from '@puhui/http';
import { ACCOUNT_STATUSES, OPERATOR_ROLES, PASSWORD_LENGTH_MAX } from '../domain/account';
import { SESSION_STAGES } from '../domain/session';

const PAGE_LIMIT_MAX = 100;
const limit = z.coerce.number().int().min(1).max(PAGE_LIMIT_MAX).default(50);
const uuid = z.uuid();

export const username = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$/u,
    'letters, digits, dot, dash or underscore; 2 to 64 characters',
  );
const role = z.enum(OPERATOR_ROLES);
const roles = z.array(role).min(1).max(3);

export const signInBody = z.strictObject({
  // Any string up to its limit: a malformed username is just a wrong one (401, the same answer).
  username: z.string().min(1).max(200),
  password: z.string().min(1).max(PASSWORD_LENGTH_MAX),
});
export const totpBody = z.strictObject({ code: z.string().min(1).max(12) });
export const sessionPath = z.strictObject({ id: uuid });
export const accountPath = z.strictObject({ id: uuid });

export const createAccountBody = z.strictObject({
  username,
  display_name: safeText(100),
  roles,
  merchant_id: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/u, 'not a merchant id')
    .optional(),
});
export const updateAccountBody = z
  .strictObject({ roles: roles.optional(), display_name: safeText(100).optional() })
  .refine((body) => body.roles !== undefined || body.display_name !== undefined, {
    message: 'give roles or display_name',
  });
export const disableBody = z.strictObject({ reason: safeText(500) });
export const acceptInvitationBody = z.strictObject({
  token: z.string().min(1).max(200),
  password: z.string().min(1).max(PASSWORD_LENGTH_MAX),
});

export const listQuery = z.strictObject({ limit, starting_after: uuid.optional() });
export const auditQuery = z.strictObject({
  limit,
  starting_after: z
    .string()
    .regex(/^\d{1,18}$/u)
    .optional(),
  account_id: uuid.optional(),
  action: z.string().max(100).optional(),
});

const time = z.string().meta({ format: 'date-time' });

export const accountSchema = z
  .strictObject({
    id: uuid,
    username: z.string(),
    display_name: z.string(),
    roles: z.array(role),
    merchant_id: z.string().nullable(),
    status: z.enum(ACCOUNT_STATUSES),
    totp_enrolled: z.boolean(),
    locked_until: time.nullable().meta({
      description: 'Until when sign-in is locked after 5 failures in 15 minutes; null when it is not.',
    }),
    created_at: time,
  })
  .meta({ id: 'Account' });

const stage = z.enum(SESSION_STAGES).meta({
  description:
    '`totp_enrolment_required` (enrol a second factor next), `totp_required` (enter its code next) or `signed_in`.',
});

export const signInAnswerSchema = z
  .strictObject({
    stage,
    account: accountSchema,
    csrf_token: z.string().meta({ description: 'Send it as X-CSRF-Token on every state-changing request.' }),
  })
  .meta({ id: 'SignIn' });

export const sessionStateSchema = signInAnswerSchema
  .extend({ idle_expires_at: time, expires_at: time })
  .meta({ id: 'SessionState' });

export const enrolmentSchema = z
  .strictObject({
    secret: z.string().meta({ description: 'The base32 secret, for typing into an authenticator app.' }),
    otpauth_uri: z.string(),
    qr_svg: z.string().meta({ description: 'The otpauth URI as a QR code, an `<svg>` document.' }),
  })
  .meta({ id: 'TotpEnrolment' });

export const sessionListSchema = z
  .strictObject({
    data: z.array(
      z
        .strictObject({
          id: uuid,
          created_at: time,
          last_seen_at: time,
          user_agent: z.string().nullable(),
          ip: z.string().nullable(),
          current: z.boolean(),
        })
        .meta({ id: 'Session' }),
    ),
  })
  .meta({ id: 'SessionList' });

export const accountListSchema = pageSchema(accountSchema, 'AccountList');

export const invitedSchema = z
  .strictObject({
    account: accountSchema,
    invitation: z
      .strictObject({ token: z.string(), url: z.string(), expires_at: time })
      .meta({ id: 'Invitation', description: 'Shown once: only its hash is kept.' }),
  })
  .meta({ id: 'InvitedAccount' });

export const auditEventSchema = z
  .strictObject({
    id: z.string(),
    occurred_at: time,
    actor: z.string(),
    action: z.string(),
    account_id: z.string().nullable(),
    ip: z.string().nullable(),
    request_id: z.string().nullable(),
    before: z.unknown(),
    after: z.unknown(),
    detail: z.unknown(),
  })
  .meta({ id: 'ConsoleAuditEvent' });
export const auditListSchema = pageSchema(auditEventSchema, 'ConsoleAuditEventList');

export const jwksSchema = z
  .strictObject({ keys: z.array(z.record(z.string(), z.unknown())) })
  .meta({ id: 'Jwks', description: 'The public halves of the signing keys (RFC 7517).' });

export const inboxSchema = z
  .strictObject({
    data: z.array(
      z
        .looseObject({
          id: z.string(),
          service: z.string(),
          requested_by_username: z.string().nullable(),
          requested_by_display_name: z.string().nullable(),
        })
        .meta({
          id: 'InboxItem',
          description:
            "An approval request as its service answers it (libs/dual-control's ApprovalRequest), with the requester's username and display name when `requested_by` is a console account (else null).",
        }),
    ),
    unavailable: z
      .array(z.string())
      .meta({ description: 'Services that did not answer; their requests are missing from `data`.' }),
  })
  .meta({ id: 'Inbox' });
