/**
 * Rate sheets (DESIGN §7): served from Redis under the current ruleset version, computed
 * from Postgres on a miss and stored for settlement, dropped when their card changes.
 */
import { ruleAppliesToCard } from '@puhui/discount';
import type { DiscountRule, RateSheet } from '@puhui/discount';
import { NotFound, ServiceUnavailable } from '@puhui/errors';
import type { Logger } from '@puhui/logging';
import type { Pool } from '@puhui/postgres';
import type { RateSheetCache } from '../cache/rate-sheet-cache';
import { factsOf } from '../domain/card';
import { cardRevision, findCardAtRuleset } from '../store/cards';
import { liveRuleset } from '../store/rules';
import { currentRulesetVersion, rulesetHead } from '../store/rulesets';
import { clearInvalidations, pendingInvalidations } from '../store/sheet-invalidations';
import type { PendingInvalidation } from '../store/sheet-invalidations';

/** Reads of card and ruleset that may straddle a publish before giving up (each publish is rare). */
const SNAPSHOT_ATTEMPTS_MAX = 3;
/** Invalidations retried per background pass; a backlog larger than this takes more passes. */
const INVALIDATIONS_PER_PASS_MAX = 1_000;

export class RateSheets {
  /** The live rules of one ruleset version: after a publish every card misses once, and reads them. */
  private liveRulesMemo: { version: number; rules: DiscountRule[] } | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly cache: RateSheetCache,
    private readonly logger: Logger,
  ) {}

  /** The card's sheet as JSON text (cached text is served as it is). */
  async forCard(cardToken: string): Promise<string> {
    const cachedVersion = await this.cache.rulesetVersion();
    if (cachedVersion !== undefined) {
      const cached = await this.cache.sheet(cachedVersion, cardToken);
      if (cached !== undefined) return cached;
    }
    const computed = await this.compute(cardToken);
    if (computed === undefined) throw new NotFound(`Card ${cardToken}`);
    const { sheet, revision } = computed;
    const json = JSON.stringify(sheet);
    if (await this.cache.storeSheet(sheet.ruleset_version, cardToken, json)) {
      // A card change that committed after our snapshot may have sent its DEL before our SET:
      // the revision read now (after the SET) tells, and the stale sheet goes.
      if ((await cardRevision(this.pool, cardToken)) !== revision) {
        await this.cache.dropSheet([sheet.ruleset_version], cardToken);
      }
    }
    if (cachedVersion === undefined || sheet.ruleset_version > cachedVersion) {
      await this.cache.advanceVersion(sheet.ruleset_version);
    }
    return json;
  }

  /**
   * The card's sheet at the current ruleset version. The card is read with the version in one
   * statement and the rules with theirs in another; when a publish lands in between, the two
   * versions differ and the card is read again (at most SNAPSHOT_ATTEMPTS_MAX times).
   */
  private async compute(cardToken: string): Promise<{ sheet: RateSheet; revision: number } | undefined> {
    for (let attempt = 1; attempt <= SNAPSHOT_ATTEMPTS_MAX; attempt += 1) {
      const { rulesetVersion, card } = await findCardAtRuleset(this.pool, cardToken);
      if (card === undefined) return undefined;
      const rules = await this.liveRulesAt(rulesetVersion);
      if (rules === undefined) continue;
      const sheet: RateSheet = {
        card: factsOf(card),
        ruleset_version: rulesetVersion,
        computed_at: new Date().toISOString(),
        rules: card.status === 'active' ? rules.filter((rule) => ruleAppliesToCard(rule, card)) : [],
      };
      return { sheet, revision: card.revision };
    }
    throw new ServiceUnavailable(
      'ruleset_changing',
      'The ruleset kept changing while the rate sheet was read; retry.',
    );
  }

  /** The live rules of exactly `rulesetVersion`, or undefined when the ruleset has moved on. */
  private async liveRulesAt(rulesetVersion: number): Promise<DiscountRule[] | undefined> {
    if (this.liveRulesMemo?.version === rulesetVersion) return this.liveRulesMemo.rules;
    const live = await liveRuleset(this.pool);
    if (this.liveRulesMemo === undefined || live.version > this.liveRulesMemo.version)
      this.liveRulesMemo = live;
    return live.version === rulesetVersion ? live.rules : undefined;
  }

  /**
   * Drops the card's sheet under the version readers use and the one Postgres holds (they
   * differ only while Redis catches up). True when Redis answered.
   */
  async dropCardSheet(cardToken: string): Promise<boolean> {
    const versions = [await currentRulesetVersion(this.pool)];
    const cachedVersion = await this.cache.rulesetVersion();
    if (cachedVersion !== undefined) versions.push(cachedVersion);
    return this.cache.dropSheet(versions, cardToken);
  }

  /** After a card change committed: drop its sheet, then its invalidation request. */
  async invalidate(pending: PendingInvalidation): Promise<void> {
    try {
      if (await this.dropCardSheet(pending.card_token)) await clearInvalidations(this.pool, [pending]);
    } catch (error) {
      // The change is committed and its request stays pending: the background pass retries it.
      this.logger.warn({ err: error, card_token: pending.card_token }, 'rate sheet drop deferred');
    }
  }

  /** Carries out card changes' pending sheet drops (after a crash, or while Redis was away). */
  async retryInvalidations(): Promise<number> {
    const pending = await pendingInvalidations(this.pool, INVALIDATIONS_PER_PASS_MAX);
    const done = [];
    for (const entry of pending) {
      if (!(await this.dropCardSheet(entry.card_token))) break;
      done.push(entry);
    }
    if (done.length > 0) await clearInvalidations(this.pool, done);
    return done.length;
  }

  /** After a publish or retire committed: readers switch to the new version at once. */
  async announceRulesetVersion(rulesetVersion: number): Promise<void> {
    // If Redis does not answer, the background sync sets it within one interval.
    await this.cache.advanceVersion(rulesetVersion);
  }

  /**
   * Brings Redis's ruleset version up to Postgres's; run at start and periodically. A Redis that
   * holds another database's sheets (its epoch differs: a reset or recreated database, whose
   * versions count from 1 again) or a later version than Postgres (a restored database) would
   * serve sheets naming rules and budgets of that other state under this one's version numbers:
   * every sheet is dropped and the version set to Postgres's.
   */
  async syncRulesetVersion(): Promise<void> {
    // Redis first: a publish commits before it writes Redis, so Postgres read after Redis is at
    // least as far on, and a publish racing this pass never looks like "Redis is ahead".
    const heldEpoch = await this.cache.epoch();
    const heldVersion = await this.cache.rulesetVersion();
    const { version, epoch } = await rulesetHead(this.pool);
    if (heldEpoch === undefined) return; // Redis does not answer: the next pass tries again.
    // No epoch yet is a Redis this database starts on (or one from before epochs; a recreated
    // database is still caught below, its versions being behind). A version without an epoch is
    // no sign of another database: a read-through may set it while Redis missed the first pass.
    const otherDatabase = heldEpoch !== null && heldEpoch !== epoch;
    const laterState = heldVersion !== undefined && heldVersion > version;
    if (otherDatabase || laterState) {
      const dropped = await this.cache.resetTo(version, epoch);
      this.logger.warn(
        {
          redis_version: heldVersion ?? null,
          postgres_version: version,
          other_database: otherDatabase,
          dropped,
        },
        'redis held rate sheets of another database or a later ruleset version: all dropped, version set to postgres',
      );
      return;
    }
    if (heldEpoch === null) await this.cache.setEpoch(epoch);
    await this.cache.advanceVersion(version);
  }
}
