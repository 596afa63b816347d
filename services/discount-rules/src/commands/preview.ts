/**
 * Previews (`POST /v1/rules/preview`): the rules asked about — stored rules by id (their
 * pending draft if they have one, else their live version), rule bodies not yet stored, or
 * when neither is given the live ruleset — priced on one checkout or a list of past ones.
 *
 * Pricing runs in a pool of worker threads (decision 0019): a preview of 10,000 checkouts held
 * the event loop for over a second, and a large one for several, during which the service
 * answered nothing else (settlement's rate-sheet reads included). This thread reads the stored
 * rules the body names and sends the worker's bytes; the worker checks the body, prices it
 * within the caps (domain/preview.ts) and writes the JSON.
 */
import path from 'node:path';
import type { Request } from 'express';
import type { DiscountRule } from '@puhui/discount';
import { DomainError } from '@puhui/errors';
import { parseRequest } from '@puhui/http';
import type { Logger } from '@puhui/logging';
import type { Pool } from '@puhui/postgres';
import { Piscina } from 'piscina';
import type { DiscountRulesConfig } from '../config';
import type { KnownRules, PreviewCaps } from '../domain/preview';
import { previewBody, previewRuleIds } from '../http/schemas';
import { findRules, liveRules } from '../store/rules';
import type { PreviewOutcome, PreviewTask } from '../workers/preview';

/** What a client waits before asking again when every worker and queue place is taken. */
const BUSY_RETRY_AFTER_SECONDS = 5;

/**
 * The worker's entry. Built, it is the compiled sibling in dist/workers. Run from the
 * TypeScript source (jest, tsx), a worker thread does not inherit the parent's transform, so
 * it loads the .ts file through tsx's require hook (a root devDependency; never in dist) with
 * this workspace's tsconfig, whose paths map @puhui/* to the libraries' sources as jest does.
 */
function workerEntry(): { filename: string; execArgv: string[]; env?: NodeJS.ProcessEnv } {
  const workers = path.join(__dirname, '..', 'workers');
  if (path.extname(__filename) === '.js') return { filename: path.join(workers, 'preview.js'), execArgv: [] };
  return {
    filename: path.join(workers, 'preview.ts'),
    execArgv: ['--require', 'tsx/cjs'],
    env: { ...process.env, TSX_TSCONFIG_PATH: path.join(__dirname, '..', '..', 'tsconfig.json') },
  };
}

/**
 * The preview pool: PREVIEW_THREADS workers started with the service, and at most
 * PREVIEW_QUEUE_MAX previews waiting for one; past that a preview is refused with 429 and
 * Retry-After rather than queued without bound (each waiting body holds up to 4 MiB).
 */
export class PreviewWorkers {
  private readonly pool: Piscina<PreviewTask, PreviewOutcome>;
  private readonly caps: PreviewCaps;
  private readonly queueMax: number;
  private readonly admitted: number;
  private inFlight = 0;

  constructor(config: DiscountRulesConfig, logger: Logger) {
    this.caps = {
      linesMax: config.PREVIEW_LINES_MAX,
      appliedRulesMax: config.PREVIEW_APPLIED_RULES_MAX,
      pricingMsMax: config.PREVIEW_PRICING_MS_MAX,
    };
    this.queueMax = config.PREVIEW_QUEUE_MAX;
    this.admitted = config.PREVIEW_THREADS + config.PREVIEW_QUEUE_MAX;
    this.pool = new Piscina<PreviewTask, PreviewOutcome>({
      ...workerEntry(),
      minThreads: config.PREVIEW_THREADS,
      maxThreads: config.PREVIEW_THREADS,
      // Warm workers: starting one (loading zod and the engine) costs more than a small preview.
      idleTimeout: Number.POSITIVE_INFINITY,
    });
    // A worker that dies (out of memory, a bug) fails its preview with a 500; piscina starts another.
    this.pool.on('error', (error: unknown) => logger.error({ err: error }, 'preview worker failed'));
  }

  async price(body: unknown, known: KnownRules): Promise<Buffer> {
    if (this.inFlight >= this.admitted) {
      throw new DomainError('rate_limited', 'previews_busy', 'Too many previews at once', {
        detail: `Every preview worker is busy and ${this.queueMax} previews are waiting. Retry after ${BUSY_RETRY_AFTER_SECONDS} seconds.`,
        extensions: { retry_after_seconds: BUSY_RETRY_AFTER_SECONDS },
      });
    }
    this.inFlight += 1;
    let outcome: PreviewOutcome;
    try {
      outcome = await this.pool.run({ body, known, caps: this.caps });
    } finally {
      this.inFlight -= 1;
    }
    if (ArrayBuffer.isView(outcome))
      return Buffer.from(outcome.buffer, outcome.byteOffset, outcome.byteLength);
    const { kind, code, title, detail, extensions, invalidParams } = outcome.refusal;
    throw new DomainError(kind, code, title, { detail, extensions, invalidParams });
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}

/** The stored rules the body names (by a well-formed `rule_ids`), or the live ruleset when it names none. */
async function knownRules(pool: Pool, body: unknown): Promise<KnownRules> {
  const fields = typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {};
  const { rule_ids: ruleIds, rules } = fields as { rule_ids?: unknown; rules?: unknown };
  const asked = previewRuleIds.safeParse(ruleIds);
  const byId = new Map<string, DiscountRule>();
  if (asked.success) {
    for (const record of await findRules(pool, asked.data)) {
      const rule = record.draft ?? record.live;
      if (rule !== undefined && rule !== null) byId.set(record.rule_id, rule);
    }
  }
  // A body that is not an object fails the worker's check; it needs no rules read.
  const live = fields === body && ruleIds === undefined && rules === undefined ? await liveRules(pool) : null;
  return { byId, live };
}

/** The preview's answer as JSON bytes; a body that does not validate is refused as 400 by the worker. */
export async function previewRules(pool: Pool, workers: PreviewWorkers, body: unknown): Promise<Buffer> {
  const known = await knownRules(pool, body);
  try {
    return await workers.price(body, known);
  } catch (error) {
    // JSON.parse takes arrays nested thousands deep, which the structured clone to the worker
    // cannot copy (RangeError: its recursion overflows). Such a body never fits the schema,
    // which fails at its first level too deep: checked here, it gets the 400 it always got.
    // By name: the error can come from another realm (jest's sandbox), where instanceof fails.
    if ((error as { name?: unknown } | null)?.name === 'RangeError')
      parseRequest({ body } as Request, { body: previewBody });
    throw error;
  }
}
