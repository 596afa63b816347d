/**
 * Redis as the rate-sheet cache (DESIGN §7), under the key names settlement reads
 * (libs/discount rate-sheet.ts). Redis is never the truth: every read that fails is a miss,
 * every write that fails is logged and healed later (the background sync, the invalidation
 * table), and nothing here throws. Sheets are stored signed (libs/cache signed values, with
 * RATE_SHEET_SIGNING_KEY, decision 0015): a sheet whose signature fails is a miss, and logged.
 */
import { openCacheValue, signCacheValue } from '@puhui/cache';
import type { Redis } from '@puhui/cache';
import {
  RATE_SHEET_KEY_PATTERN,
  RATE_SHEET_TTL_SECONDS,
  RULESET_EPOCH_KEY,
  RULESET_VERSION_KEY,
  rateSheetKey,
  rateSheetKeyIdentity,
} from '@puhui/discount';
import type { Logger } from '@puhui/logging';

/**
 * Moves the version forward only: a publish that commits later but writes Redis first must
 * not be undone by an earlier one (or by the periodic sync reading Postgres a moment before).
 * Returns the version Redis holds afterwards.
 */
const ADVANCE_VERSION_SCRIPT = `
local current = tonumber(redis.call('GET', KEYS[1]))
local proposed = tonumber(ARGV[1])
if current == nil or proposed > current then
  redis.call('SET', KEYS[1], ARGV[1])
  return proposed
end
return current`;

export class RateSheetCache {
  constructor(
    private readonly redis: Redis,
    private readonly logger: Logger,
    /** RATE_SHEET_SIGNING_KEY. */
    private readonly signingKey: string,
  ) {}

  /** The ruleset version readers use, or undefined when Redis has none or does not answer. */
  async rulesetVersion(): Promise<number | undefined> {
    const value = await this.attempt('read ruleset version', () => this.redis.get(RULESET_VERSION_KEY));
    const version = value === undefined || value === null ? Number.NaN : Number(value);
    return Number.isSafeInteger(version) ? version : undefined;
  }

  /** The sheet's JSON as signed under its key; undefined on a miss or a refused signature. */
  async sheet(rulesetVersion: number, cardToken: string): Promise<string | undefined> {
    const key = rateSheetKey(rulesetVersion, cardToken);
    const stored = await this.attempt('read rate sheet', () => this.redis.get(key));
    if (stored === undefined || stored === null) return undefined;
    const opened = openCacheValue(this.signingKey, key, stored);
    if (opened.ok) return opened.value;
    this.logger.warn(
      { key: rateSheetKeyIdentity(rulesetVersion), reason: opened.reason },
      'rate sheet in Redis refused: its signature does not hold (treated as a miss)',
    );
    return undefined;
  }

  async storeSheet(rulesetVersion: number, cardToken: string, json: string): Promise<boolean> {
    const key = rateSheetKey(rulesetVersion, cardToken);
    const stored = signCacheValue(this.signingKey, key, json);
    const done = await this.attempt('store rate sheet', () =>
      this.redis.set(key, stored, 'EX', RATE_SHEET_TTL_SECONDS),
    );
    return done !== undefined;
  }

  /** Drops the card's sheet under each version; false when Redis did not answer. */
  async dropSheet(rulesetVersions: readonly number[], cardToken: string): Promise<boolean> {
    const keys = [...new Set(rulesetVersions)].map((version) => rateSheetKey(version, cardToken));
    const done = await this.attempt('drop rate sheet', () => this.redis.del(...keys));
    return done !== undefined;
  }

  /** Sets the version unless Redis already holds a later one; the version held, or undefined. */
  async advanceVersion(rulesetVersion: number): Promise<number | undefined> {
    const held = await this.attempt('advance ruleset version', () =>
      this.redis.eval(ADVANCE_VERSION_SCRIPT, 1, RULESET_VERSION_KEY, String(rulesetVersion)),
    );
    return held === undefined ? undefined : Number(held);
  }

  /**
   * Which database's ruleset versions Redis holds: its epoch, null when Redis has none, undefined
   * when Redis does not answer.
   */
  async epoch(): Promise<string | null | undefined> {
    return this.attempt('read ruleset epoch', () => this.redis.get(RULESET_EPOCH_KEY));
  }

  /**
   * Redis held another database's sheets (or a later state of this one's): every sheet is
   * dropped, then the version is set to `rulesetVersion` (down as well as up) and the epoch to
   * `epoch`. The number of sheets dropped, or undefined when Redis did not answer.
   */
  async resetTo(rulesetVersion: number, epoch: string): Promise<number | undefined> {
    return this.attempt('reset rate sheets', async () => {
      // SCAN matches whole key names, the client's prefix included; UNLINK adds the prefix again.
      const prefix = this.redis.options.keyPrefix ?? '';
      let dropped = 0;
      for await (const keys of this.redis.scanStream({
        match: `${prefix}${RATE_SHEET_KEY_PATTERN}`,
        count: 1000,
      })) {
        const names = (keys as string[]).map((key) => key.slice(prefix.length));
        if (names.length > 0) dropped += await this.redis.unlink(...names);
      }
      await this.redis.mset(RULESET_VERSION_KEY, String(rulesetVersion), RULESET_EPOCH_KEY, epoch);
      return dropped;
    });
  }

  /** Records the epoch of a Redis that held no ruleset state yet. */
  async setEpoch(epoch: string): Promise<void> {
    await this.attempt('set ruleset epoch', () => this.redis.set(RULESET_EPOCH_KEY, epoch));
  }

  private async attempt<T>(what: string, command: () => Promise<T>): Promise<T | undefined> {
    try {
      return await command();
    } catch (error) {
      // The client reports the outage itself (once); each failed command is only a detail.
      this.logger.debug({ err: error, what }, 'redis command failed');
      return undefined;
    }
  }
}
