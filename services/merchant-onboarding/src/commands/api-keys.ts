/**
 * Merchant API keys: shown once, stored as a hash, announced (hash and prefix only) so that
 * transaction-settlement can check checkouts while this service is down.
 */
import { apiKeyCreated, apiKeyRevoked, newId } from '@puhui/contracts';
import { Conflict, NotFound } from '@puhui/errors';
import { appendEvent } from '@puhui/events';
import { withTransaction } from '@puhui/postgres';
import type { PoolClient } from '@puhui/postgres';
import { generateApiKey } from '@puhui/security';
import { isLive } from '../domain/merchant';
import { appendAudit } from '../store/audit';
import { countWorkingApiKeys, findApiKey, insertApiKey, listApiKeys, revokeApiKey } from '../store/api-keys';
import type { ApiKeyRecord } from '../store/api-keys';
import { lockMerchant } from '../store/merchants';
import type { CommandContext } from './merchants';
import { EVENT_SOURCE } from './merchants';

/** More than this many working keys is a sign of keys being created instead of rotated. */
export const WORKING_KEYS_MAX = 10;
export const ROTATION_OVERLAP_SECONDS_MAX = 7 * 24 * 3600;

export function apiKeyView(key: ApiKeyRecord) {
  const now = Date.now();
  const working = key.expires_at === null || Date.parse(key.expires_at) > now;
  return {
    id: key.key_id,
    merchant_id: key.merchant_id,
    prefix: key.prefix,
    status:
      key.revoked_at === null ? ('active' as const) : working ? ('expiring' as const) : ('revoked' as const),
    created_at: key.created_at,
    revoked_at: key.revoked_at,
    expires_at: key.expires_at,
  };
}

async function revokeAndAnnounce(
  client: PoolClient,
  context: CommandContext,
  merchantId: string,
  keyId: string,
  expiresAt: string,
): Promise<ApiKeyRecord | undefined> {
  const revoked = await revokeApiKey(client, merchantId, keyId, expiresAt);
  if (revoked === undefined || revoked.revoked_at === null || revoked.expires_at === null) return undefined;
  await appendEvent(client, EVENT_SOURCE, {
    definition: apiKeyRevoked,
    subject: merchantId,
    data: {
      merchant_id: merchantId,
      key_id: keyId,
      prefix: revoked.prefix,
      key_hash: revoked.key_hash,
      revoked_at: revoked.revoked_at,
      effective_at: revoked.expires_at,
    },
  });
  await appendAudit(client, {
    merchant_id: merchantId,
    action: 'api_key_revoked',
    actor: context.actor,
    request_id: context.requestId,
    before: apiKeyView({ ...revoked, revoked_at: null, expires_at: null }),
    after: apiKeyView(revoked),
  });
  return revoked;
}

/**
 * Creates a key; with `rotates_key_id`, the old key keeps working for `overlap_seconds`
 * so that POS terminals can switch without a gap.
 */
export async function createApiKey(
  context: CommandContext,
  merchantId: string,
  options: { rotates_key_id?: string; overlap_seconds: number },
) {
  return withTransaction(context.pool, async (client) => {
    const merchant = await lockMerchant(client, merchantId);
    if (merchant === undefined) throw new NotFound(`Merchant ${merchantId}`);
    if (!isLive(merchant.status)) {
      throw new Conflict(
        'merchant_not_approved',
        `A merchant that is ${merchant.status} cannot have API keys.`,
        {
          current_status: merchant.status,
        },
      );
    }
    if (options.rotates_key_id !== undefined) {
      const old = await findApiKey(client, merchantId, options.rotates_key_id);
      if (old === undefined) throw new NotFound(`API key ${options.rotates_key_id}`);
      const expiresAt = new Date(Date.now() + options.overlap_seconds * 1000).toISOString();
      if (
        old.revoked_at !== null ||
        (await revokeAndAnnounce(client, context, merchantId, old.key_id, expiresAt)) === undefined
      ) {
        throw new Conflict('api_key_revoked', 'That key is already revoked.');
      }
    }
    if ((await countWorkingApiKeys(client, merchantId)) >= WORKING_KEYS_MAX) {
      throw new Conflict(
        'too_many_api_keys',
        `A merchant may hold at most ${WORKING_KEYS_MAX} working keys; revoke one.`,
      );
    }
    const generated = generateApiKey();
    const record: ApiKeyRecord = {
      key_id: newId('key'),
      merchant_id: merchantId,
      prefix: generated.prefix,
      key_hash: generated.hash,
      created_at: new Date().toISOString(),
      created_by: context.actor,
      expires_at: null,
      revoked_at: null,
    };
    await insertApiKey(client, record);
    await appendEvent(client, EVENT_SOURCE, {
      definition: apiKeyCreated,
      subject: merchantId,
      data: {
        merchant_id: merchantId,
        key_id: record.key_id,
        prefix: record.prefix,
        key_hash: record.key_hash,
        created_at: record.created_at,
        expires_at: null,
      },
    });
    await appendAudit(client, {
      merchant_id: merchantId,
      action: 'api_key_created',
      actor: context.actor,
      request_id: context.requestId,
      before: null,
      after: apiKeyView(record),
    });
    return { ...apiKeyView(record), secret: generated.secret };
  });
}

export async function revokeKey(context: CommandContext, merchantId: string, keyId: string) {
  return withTransaction(context.pool, async (client) => {
    const key = await findApiKey(client, merchantId, keyId);
    if (key === undefined) throw new NotFound(`API key ${keyId}`);
    const revoked = await revokeAndAnnounce(client, context, merchantId, keyId, new Date().toISOString());
    return apiKeyView(revoked ?? key);
  });
}

/** Termination ends every key at once. */
export async function revokeAllApiKeys(
  client: PoolClient,
  context: CommandContext,
  merchantId: string,
): Promise<void> {
  const now = new Date().toISOString();
  for (const key of await listApiKeys(client, merchantId)) {
    await revokeAndAnnounce(client, context, merchantId, key.key_id, now);
  }
}

export async function listKeys(context: Pick<CommandContext, 'pool'>, merchantId: string) {
  return (await listApiKeys(context.pool, merchantId)).map(apiKeyView);
}
