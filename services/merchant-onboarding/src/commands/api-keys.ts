/**
 * Merchant API keys: shown once, stored as a hash, announced (hash and prefix only) so that
 * transaction-settlement can check checkouts while this service is down.
 */
import { apiKeyCreated, apiKeyRevoked, newId } from '@puhui/contracts';
import { DAY_MS } from '@puhui/config';
import type { MerchantKeyScope } from '@puhui/contracts';
import { Conflict, DomainError, NotFound } from '@puhui/errors';
import { appendEvent, appendEvents } from '@puhui/events';
import type { NewEvent } from '@puhui/events';
import { withTransaction } from '@puhui/postgres';
import type { PoolClient } from '@puhui/postgres';
import { generateApiKey } from '@puhui/security';
import { appendAudit } from '../store/audit';
import { countWorkingApiKeys, findApiKey, insertApiKey, listApiKeys, revokeApiKey } from '../store/api-keys';
import type { ApiKeyRecord } from '../domain/api-key';
import { apiKeyView } from '../views/api-key';
import { lockMerchant } from '../store/merchants';
import { EVENT_SOURCE } from './context';
import type { Actor, CommandContext } from './context';

/** More than this many working keys is a sign of keys being created instead of rotated. */
export const WORKING_KEYS_MAX = 10;
export const ROTATION_OVERLAP_SECONDS_MAX = 7 * 24 * 3600;
/** What a new key may do unless asked for more: take checkouts, not manage keys. */
export const DEFAULT_KEY_SCOPES: readonly MerchantKeyScope[] = ['checkout'];

/** Revokes the key (it stops working at `expiresAt`) with its audit entry; undefined if it was revoked already. */
async function revokeWithAudit(
  client: PoolClient,
  context: Actor,
  merchantId: string,
  keyId: string,
  expiresAt: string,
): Promise<RevokedKey | undefined> {
  const revoked = await revokeApiKey(client, merchantId, keyId, expiresAt);
  if (revoked === undefined || revoked.revoked_at === null || revoked.expires_at === null) return undefined;
  await appendAudit(client, {
    merchant_id: merchantId,
    action: 'api_key_revoked',
    actor: context.actor,
    request_id: context.requestId,
    before: apiKeyView({ ...revoked, revoked_at: null, expires_at: null }),
    after: apiKeyView(revoked),
  });
  return { ...revoked, revoked_at: revoked.revoked_at, expires_at: revoked.expires_at };
}

type RevokedKey = ApiKeyRecord & { revoked_at: string; expires_at: string };

function revocationEvent(revoked: RevokedKey): NewEvent<typeof apiKeyRevoked> {
  return {
    definition: apiKeyRevoked,
    subject: revoked.merchant_id,
    data: {
      merchant_id: revoked.merchant_id,
      key_id: revoked.key_id,
      prefix: revoked.prefix,
      key_hash: revoked.key_hash,
      revoked_at: revoked.revoked_at,
      effective_at: revoked.expires_at,
    },
  };
}

async function revokeAndAnnounce(
  client: PoolClient,
  context: CommandContext,
  merchantId: string,
  keyId: string,
  expiresAt: string,
): Promise<ApiKeyRecord | undefined> {
  const revoked = await revokeWithAudit(client, context, merchantId, keyId, expiresAt);
  if (revoked !== undefined) await appendEvent(client, EVENT_SOURCE, revocationEvent(revoked));
  return revoked;
}

export interface NewKeyOptions {
  rotates_key_id?: string;
  overlap_seconds: number;
  /** Default: the rotated key's scopes, else DEFAULT_KEY_SCOPES. */
  scopes?: readonly MerchantKeyScope[];
  lifetimeDays: number;
  /** The calling key's scopes, when a merchant key asks: the new key may not have more. */
  callerScopes?: readonly MerchantKeyScope[];
}

function refuseMoreScopesThanCaller(
  scopes: readonly MerchantKeyScope[],
  callerScopes?: readonly MerchantKeyScope[],
) {
  const beyond = scopes.filter((scope) => callerScopes !== undefined && !callerScopes.includes(scope));
  if (beyond.length > 0) {
    throw new DomainError('forbidden', 'scope_exceeds_key', 'Forbidden', {
      detail: `A key may not create a key with scopes it lacks (${beyond.join(', ')}).`,
    });
  }
}

/**
 * Creates a key (it works for `lifetimeDays`); with `rotates_key_id`, the old key keeps working
 * for `overlap_seconds` so that POS terminals can switch without a gap. Only an active merchant
 * gets new keys: a suspended or terminated one moves no money and mints nothing.
 */
export async function createApiKey(context: CommandContext, merchantId: string, options: NewKeyOptions) {
  return withTransaction(context.pool, async (client) => {
    const merchant = await lockMerchant(client, merchantId);
    if (merchant === undefined) throw new NotFound(`Merchant ${merchantId}`);
    if (merchant.status !== 'active') {
      throw new DomainError('forbidden', 'merchant_not_active', 'Forbidden', {
        detail: `A merchant that is ${merchant.status} cannot have new API keys.`,
        extensions: { current_status: merchant.status },
      });
    }
    let scopes = options.scopes ?? DEFAULT_KEY_SCOPES;
    if (options.rotates_key_id !== undefined) {
      const old = await findApiKey(client, merchantId, options.rotates_key_id);
      if (old === undefined) throw new NotFound(`API key ${options.rotates_key_id}`);
      scopes = options.scopes ?? old.scopes;
      const expiresAt = new Date(Date.now() + options.overlap_seconds * 1000).toISOString();
      if (
        old.revoked_at !== null ||
        (await revokeAndAnnounce(client, context, merchantId, old.key_id, expiresAt)) === undefined
      ) {
        throw new Conflict('api_key_revoked', 'That key is already revoked.');
      }
    }
    // After the rotation's revocation, inside the same transaction: a refusal rolls it back.
    refuseMoreScopesThanCaller(scopes, options.callerScopes);
    if ((await countWorkingApiKeys(client, merchantId)) >= WORKING_KEYS_MAX) {
      throw new Conflict(
        'too_many_api_keys',
        `A merchant may hold at most ${WORKING_KEYS_MAX} working keys; revoke one.`,
      );
    }
    const generated = generateApiKey();
    const now = Date.now();
    const record: ApiKeyRecord = {
      key_id: newId('key'),
      merchant_id: merchantId,
      prefix: generated.prefix,
      key_hash: generated.hash,
      created_at: new Date(now).toISOString(),
      created_by: context.actor,
      expires_at: new Date(now + options.lifetimeDays * DAY_MS).toISOString(),
      revoked_at: null,
      scopes: [...scopes],
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
        expires_at: record.expires_at,
        scopes: record.scopes,
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
  context: Actor,
  merchantId: string,
): Promise<void> {
  const now = new Date().toISOString();
  const revoked: RevokedKey[] = [];
  for (const key of await listApiKeys(client, merchantId)) {
    const revokedKey = await revokeWithAudit(client, context, merchantId, key.key_id, now);
    if (revokedKey !== undefined) revoked.push(revokedKey);
  }
  await appendEvents(client, EVENT_SOURCE, revoked.map(revocationEvent));
}

export async function listKeys(context: Pick<CommandContext, 'pool'>, merchantId: string) {
  return (await listApiKeys(context.pool, merchantId)).map(apiKeyView);
}
