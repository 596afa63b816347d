/**
 * The service's background pass, every BACKGROUND_INTERVAL_MS (and once at start):
 * - Redis's ruleset version is brought up to Postgres's, healing a crash (or a Redis outage)
 *   between a publish's commit and its Redis write;
 * - scheduled publishes that are due go live;
 * - card changes whose rate sheet could not be dropped at the time are dropped now;
 * - imports left `running` by a process that died (no progress for CARD_IMPORT_ABANDONED_AFTER_MS)
 *   are marked failed, keeping the batches they committed.
 * Each step fails on its own and is retried on the next pass.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { CommandContext } from '../commands/context';
import { publishIfDue } from '../commands/rules';
import { failAbandonedImports } from '../store/card-imports';
import { dueScheduledRules } from '../store/rules';

/** Scheduled publishes per pass: each is its own transaction; more wait for the next pass. */
const DUE_RULES_PER_PASS_MAX = 100;
/** While a step keeps failing, log its first failure and then one a minute (at 1 s passes). */
const FAILURE_LOG_EVERY = 60;

export class BackgroundJobs {
  private readonly failures = new Map<string, number>();
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(
    private readonly context: CommandContext,
    private readonly intervalMs: number,
    private readonly importAbandonedAfterMs: number,
  ) {}

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
  }

  /** One pass over every step. */
  async pass(): Promise<void> {
    const { pool, sheets } = this.context;
    await this.step('sync ruleset version', () => sheets.syncRulesetVersion());
    await this.step('publish due rules', async () => {
      for (const ruleId of await dueScheduledRules(pool, DUE_RULES_PER_PASS_MAX)) {
        await publishIfDue(this.context, ruleId);
      }
    });
    await this.step('retry rate sheet drops', () => sheets.retryInvalidations().then(() => undefined));
    await this.step('fail abandoned imports', async () => {
      const quietMs = this.importAbandonedAfterMs;
      const reason = `interrupted: no progress for ${Math.round(quietMs / 1000)} s (the service stopped during the import); the rows of finished batches are kept, re-import the file`;
      for (const importId of await failAbandonedImports(pool, quietMs, reason)) {
        this.context.logger.warn({ import_id: importId }, 'abandoned card import marked failed');
      }
    });
  }

  private async run(): Promise<void> {
    while (!this.stopping.signal.aborted) {
      await this.pass();
      await sleep(this.intervalMs, undefined, { signal: this.stopping.signal }).catch(() => undefined);
    }
  }

  private async step(name: string, work: () => Promise<void>): Promise<void> {
    try {
      await work();
      if ((this.failures.get(name) ?? 0) > 0)
        this.context.logger.info({ step: name }, 'background step recovered');
      this.failures.set(name, 0);
    } catch (error) {
      const failures = (this.failures.get(name) ?? 0) + 1;
      this.failures.set(name, failures);
      if (failures === 1 || failures % FAILURE_LOG_EVERY === 0) {
        this.context.logger.warn({ err: error, step: name, failures }, 'background step failed');
      }
    }
  }
}
