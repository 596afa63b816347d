/**
 * Reconciling the acquirer's daily statement (DESIGN §6). One upload is one transaction:
 * 1. The body streams through the CSV parser while its bytes are hashed; every line is checked
 *    and staged in batches, one batch written while the next is parsed. A bad line stops the
 *    staging; up to `invalidLinesListedMax` bad lines are listed and the transaction rolls
 *    back, so a bad file leaves no run behind (commands/reconciliation-upload.ts).
 * 2. A file whose SHA-256 has a run already answers that run and stores nothing.
 * 3. Otherwise the staged lines are matched (rules in domain/reconciliation.ts: duplicates and
 *    references in SQL, the time-tolerance pass streamed through `ToleranceMatcher`) and the
 *    run is stored with its items, totals and an audit entry; the matched sales' held
 *    subsidies become payable (commands/subsidy.ts).
 * The process holds at most two batches of lines, or one page of leftovers, at a time: memory
 * stays flat whatever the size of the file.
 *
 * The transaction is never retried: the body cannot be read twice.
 */
import assert from 'node:assert/strict';
import type { Readable } from 'node:stream';
import { newId } from '@puhui/contracts';
import type { Logger } from '@puhui/logging';
import { sqlState, withTransaction } from '@puhui/postgres';
import type { Pool, PoolClient } from '@puhui/postgres';
import { RECONCILIATION_CATEGORIES } from '../domain/reconciliation';
import type { CategoryTotal, ReconciliationRun } from '../domain/reconciliation';
import { ToleranceMatcher } from '../domain/reconciliation-tolerance';
import { findRun, findRunByFile, insertItems, insertRun, insertTotals } from '../store/reconciliation';
import {
  analyzeStaging,
  createStagedLedger,
  createStagedLines,
  createStagedPairs,
  fetchLeftovers,
  insertTolerancePairs,
  openLeftovers,
  pairByReferenceAndAmount,
  pairByReferenceOnly,
  pairDuplicateLines,
  setRunLimits,
  stageLedgerItems,
} from '../store/reconciliation-staging';
import { appendAudit } from '../store/reconciliation-audit';
import { stageStatement } from './reconciliation-upload';
import type { StagedStatement, StatementLimits } from './reconciliation-upload';
import { confirmMatchedSubsidies } from './subsidy';

export interface ReconciliationSettings extends StatementLimits {
  /** How far apart a line's time and a ledger item's may be for a match without a reference. */
  timeToleranceMs: number;
}

/**
 * Bounds. A national programme's busiest acquirer day is a few million lines, so five million;
 * a line is about 95 bytes, so 1 GiB leaves room. Batches of 5,000 lines: staging 300,000 lines
 * took 3.7 s in the benchmark, against 4.4 s in batches of 1,000 and 4.1 s in batches of 20,000.
 */
export const RECONCILIATION_LIMITS = {
  linesMax: 5_000_000,
  fileBytesMax: 1024 * 1024 * 1024,
  batchSize: 5_000,
  invalidLinesListedMax: 20,
} as const;
/** Leftovers fetched per round trip in the time-tolerance pass, and pairs per INSERT. */
const LEFTOVER_PAGE_SIZE = 5_000;

/** Settings from the service's config, plus the fixed limits. */
export function reconciliationSettings(config: {
  RECONCILIATION_TIME_TOLERANCE_MS: number;
}): ReconciliationSettings {
  return { timeToleranceMs: config.RECONCILIATION_TIME_TOLERANCE_MS, ...RECONCILIATION_LIMITS };
}

export interface ReconciliationContext {
  pool: Pool;
  logger: Logger;
  /** `operator:<subject>`, for the run and the audit. */
  actor: string;
  requestId: string | null;
}

export interface ReconciliationOutcome {
  run: ReconciliationRun;
  /** The file had been reconciled before: `run` is that earlier run, and nothing was stored. */
  duplicate: boolean;
}

/** Rule 3 (domain/reconciliation.ts): what rules 1 and 2 left, a page at a time. */
async function pairWithinTolerance(client: PoolClient, toleranceMs: number): Promise<void> {
  const matcher = new ToleranceMatcher(toleranceMs);
  let pairs: Array<{ line_number: number; ledger_id: string }> = [];
  await openLeftovers(client);
  // Bounded by the cursor: a short page is its last.
  for (;;) {
    const entries = await fetchLeftovers(client, LEFTOVER_PAGE_SIZE);
    for (const entry of entries) {
      const pair = matcher.push(entry);
      if (pair !== undefined) pairs.push(pair);
    }
    const last = entries.length < LEFTOVER_PAGE_SIZE;
    if (pairs.length > 0 && (last || pairs.length >= LEFTOVER_PAGE_SIZE)) {
      await insertTolerancePairs(client, pairs);
      pairs = [];
    }
    if (last) return;
  }
}

/** Pairs the staged lines with the ledger items of the day, rule by rule, into `staged_pairs`. */
async function matchStaged(client: PoolClient, settlementDate: string, toleranceMs: number): Promise<void> {
  await createStagedLedger(client);
  await stageLedgerItems(client, settlementDate);
  await createStagedPairs(client);
  await analyzeStaging(client);
  await pairDuplicateLines(client);
  await pairByReferenceAndAmount(client);
  await pairByReferenceOnly(client);
  await analyzeStaging(client);
  await pairWithinTolerance(client, toleranceMs);
}

/** Every line lands in exactly one line category; checked here and by the items' unique indexes. */
function checkTotals(totals: readonly CategoryTotal[], lineCount: number, itemCount: number): void {
  const count = (category: string) => totals.find((total) => total.category === category)?.item_count ?? 0;
  const lineItems = ['matched', 'amount_mismatch', 'missing_in_ledger', 'duplicate_line'].map(count);
  assert.equal(
    lineItems.reduce((sum, value) => sum + value, 0),
    lineCount,
    'every line is classified once',
  );
  assert.equal(lineCount + count('missing_in_statement'), itemCount, 'the totals count every item');
}

async function storeRun(
  client: PoolClient,
  context: ReconciliationContext,
  staged: StagedStatement,
  settings: ReconciliationSettings,
): Promise<ReconciliationRun> {
  const runId = newId('rec');
  // First, so that a concurrent upload of the same file waits here and then finds this run.
  await insertRun(client, {
    run_id: runId,
    file_sha256: staged.fileSha256,
    file_bytes: staged.fileBytes,
    settlement_date: staged.settlementDate,
    line_count: staged.lineCount,
    time_tolerance_ms: settings.timeToleranceMs,
    created_by: context.actor,
  });
  await matchStaged(client, staged.settlementDate, settings.timeToleranceMs);
  const itemCount = await insertItems(client, runId);
  checkTotals(await insertTotals(client, runId, RECONCILIATION_CATEGORIES), staged.lineCount, itemCount);
  // The acquirer confirmed the matched sales: their held subsidies become payable, with the match.
  await confirmMatchedSubsidies(client, {
    run_id: runId,
    settlement_date: staged.settlementDate,
    decided_by: context.actor,
  });
  await appendAudit(client, {
    run_id: runId,
    item_id: null,
    action: 'statement_reconciled',
    actor: context.actor,
    note: null,
    request_id: context.requestId,
  });
  const run = await findRun(client, runId);
  assert.ok(run !== undefined, 'the run just stored is there');
  return run;
}

function isDuplicateFile(error: unknown): boolean {
  return (
    sqlState(error) === '23505' &&
    (error as { constraint?: string }).constraint === 'reconciliation_runs_file_sha256_key'
  );
}

/** Reconciles the CSV statement in `body`, or answers the run of an identical earlier upload. */
export async function reconcileUpload(
  context: ReconciliationContext,
  body: Readable,
  settings: ReconciliationSettings,
): Promise<ReconciliationOutcome> {
  const startedAt = process.hrtime.bigint();
  let fileSha256: string | undefined;
  try {
    const outcome = await withTransaction(
      context.pool,
      async (client) => {
        await setRunLimits(client);
        await createStagedLines(client);
        const staged = await stageStatement(client, body, settings);
        fileSha256 = staged.fileSha256;
        const earlier = await findRunByFile(client, staged.fileSha256);
        if (earlier !== undefined) return { run: earlier, duplicate: true };
        return { run: await storeRun(client, context, staged, settings), duplicate: false };
      },
      { attemptsMax: 1 },
    );
    context.logger.info(
      {
        run_id: outcome.run.run_id,
        duplicate: outcome.duplicate,
        line_count: outcome.run.line_count,
        duration_ms: Math.round(Number(process.hrtime.bigint() - startedAt) / 1e6),
      },
      'statement reconciled',
    );
    return outcome;
  } catch (error) {
    // The same file, reconciled by a concurrent upload that committed first.
    if (fileSha256 !== undefined && isDuplicateFile(error)) {
      const earlier = await findRunByFile(context.pool, fileSha256);
      if (earlier !== undefined) return { run: earlier, duplicate: true };
    }
    throw error;
  }
}
