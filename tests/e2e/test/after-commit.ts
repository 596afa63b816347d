/**
 * The crash idempotency exists for, forced (issue 23): settlement started with
 * `afterCommitEnvironment()` kills itself with SIGKILL once a capture whose reference starts
 * with the marker committed and before its answer is written (services/transaction-settlement,
 * src/crash-after-commit.ts). A kill from outside lands in that window only by luck, and in the
 * runs seen it never did. `crashAfterCommit` sends one such capture, proves the process died by
 * the hook and not otherwise, reads what the database kept, has the caller restart the service,
 * and retries with the same Idempotency-Key; the e2e and chaos crash tests assert on what it saw.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { waitFor } from '@puhui/testing';
import { CRASH_AFTER_COMMIT_MESSAGE } from '@puhui/transaction-settlement/src/crash-after-commit';
import { capture } from './puhui';
import type { CheckoutBody, Merchant } from './puhui';
import type { ApiResponse, ExitStatus, PuhuiSystem } from './system';

/** Captures whose reference starts with this are killed after commit, before the answer. */
export const CRASH_AFTER_COMMIT_MARKER = 'CRASH-AFTER-COMMIT-';

/** Settlement's environment that arms the hook for references with the marker. */
export function afterCommitEnvironment(): Record<string, string> {
  return { PUHUI_TEST_CRASH_AFTER_COMMIT: `^${CRASH_AFTER_COMMIT_MARKER}` };
}

/** How long the killed process may take to be reaped, and its last line read, after the connection dropped. */
const EXIT_SEEN_TIMEOUT_MS = 5_000;
/** Lines of settlement's output searched for the hook's line: the dead process wrote nothing after it. */
const HOOK_LINE_SEARCH_LINES = 100;
/**
 * The capture and its retry after the restart go on through what a terminal retries (503 while
 * discount-rules is down and the card's sheet is not cached, 409 in flight, 429), this long.
 */
const RETRY_TIMEOUT_MS = 30_000;
const RETRY_INTERVAL_MS = 200;

export interface CommittedCapture {
  checkoutIds: string[];
  transfers: Array<{ kind: string; debit_account: string; credit_account: string; amount_minor: number }>;
  /** The answer stored with the Idempotency-Key, as written in the capture's transaction. */
  stored: { status: number; body: unknown } | undefined;
}

/** What settlement's database holds for one capture: checkouts with its reference, their transfers, its key. */
export async function committedCapture(
  system: PuhuiSystem,
  merchantId: string,
  reference: string,
  idempotencyKey: string,
): Promise<CommittedCapture> {
  const client = new Client({ connectionString: system.databaseUrl('transaction-settlement') });
  await client.connect();
  try {
    const checkouts = await client.query<{ checkout_id: string }>(
      'SELECT checkout_id FROM checkouts WHERE merchant_id = $1 AND reference = $2 ORDER BY checkout_id',
      [merchantId, reference],
    );
    const checkoutIds = checkouts.rows.map((row) => row.checkout_id);
    const transfers = await client.query<CommittedCapture['transfers'][number]>(
      `SELECT kind, debit_account, credit_account, amount_minor::integer AS amount_minor
       FROM ledger_transfers WHERE checkout_id = ANY($1::text[]) ORDER BY transfer_id`,
      [checkoutIds],
    );
    const stored = await client.query<{ response_status: number; response_body: unknown }>(
      'SELECT response_status, response_body FROM idempotency_keys WHERE scope = $1 AND idempotency_key = $2',
      [merchantId, idempotencyKey],
    );
    const key = stored.rows[0];
    return {
      checkoutIds,
      transfers: transfers.rows,
      stored: key === undefined ? undefined : { status: key.response_status, body: key.response_body },
    };
  } finally {
    await client.end();
  }
}

export interface CaptureRequest {
  merchant: Merchant;
  body: CheckoutBody;
  idempotencyKey: string;
}

export type AfterCommitOutcome =
  /** The hook did not kill: the capture was answered. A failure for the caller, never a skip. */
  | { killed: false; answered: ApiResponse }
  | {
      killed: true;
      /** What the client saw instead of an answer. */
      lostAnswer: string;
      killedAt: number;
      /** When `restart` had settlement serving again. */
      backAt: number;
      /** How the process ended: SIGKILL, by nobody but the hook (the harness sent nothing). */
      exit: ExitStatus | undefined;
      /** Whether the hook's line for this reference is the dead process's output. */
      hookLineSeen: boolean;
      /** The database right after the kill, before any retry. */
      afterKill: CommittedCapture;
      /** The first answer of the retries with the same key and body, after the restart. */
      retry: ApiResponse;
      /** Non-answers and retryable answers before it. */
      retriesBefore: number;
      /** The database after the retry. */
      afterRetry: CommittedCapture;
    };

/** Whether the hook's line for `reference` is among the last lines of generation `generation`. */
function hookLineOf(system: PuhuiSystem, generation: number, reference: string): boolean {
  return system.services['transaction-settlement']
    .logs(HOOK_LINE_SEARCH_LINES)
    .split('\n')
    .some(
      (line) =>
        line.startsWith(`#${generation} `) &&
        line.includes(CRASH_AFTER_COMMIT_MESSAGE) &&
        line.includes(`reference=${reference}`),
    );
}

function retryable(answer: ApiResponse): boolean {
  return (
    answer.status === 503 ||
    answer.status === 429 ||
    (answer.status === 409 && answer.body.code === 'idempotency_key_in_flight')
  );
}

/**
 * The capture as a terminal sends it, through what it retries, until the connection drops
 * without an answer (the kill) or a definitive answer comes (no kill); a retryable answer
 * still coming after the bound counts as the answer.
 */
async function firstAttempt(
  call: () => Promise<ApiResponse>,
): Promise<{ answered: ApiResponse } | { lostAnswer: string }> {
  const deadline = Date.now() + RETRY_TIMEOUT_MS;
  for (;;) {
    const attempt = await call().then(
      (answered) => ({ answered }),
      (error: unknown) => ({ lostAnswer: String((error as Error).cause ?? error) }),
    );
    if ('lostAnswer' in attempt || !retryable(attempt.answered) || Date.now() > deadline) return attempt;
    await sleep(RETRY_INTERVAL_MS);
  }
}

/**
 * Sends a capture whose reference carries the marker, waits for the hook's kill, reads the
 * database, lets `restart` bring settlement back (the caller's harness owns its processes; it is
 * told when the client lost the connection), and retries with the same key and body until a
 * definitive answer.
 */
export async function crashAfterCommit(
  system: PuhuiSystem,
  request: CaptureRequest,
  restart: (killedAt: number) => Promise<void>,
): Promise<AfterCommitOutcome> {
  const settlement = system.services['transaction-settlement'];
  const { merchant, body, idempotencyKey } = request;
  const generation = settlement.generation;
  const call = () => capture(system, merchant, body, idempotencyKey);
  const first = await firstAttempt(call);
  if ('answered' in first) return { killed: false, answered: first.answered };
  const killedAt = Date.now();
  await waitFor(() => !settlement.running, {
    timeoutMs: EXIT_SEEN_TIMEOUT_MS,
    description: `settlement #${generation} gone after ${body.reference}`,
  });
  // The process has exited already, so this sends no signal: it reads how the process ended.
  const exit = await settlement.kill();
  const hookLineSeen = await waitFor(() => hookLineOf(system, generation, body.reference), {
    timeoutMs: EXIT_SEEN_TIMEOUT_MS,
    description: `the hook's line for ${body.reference}`,
  }).catch(() => false);
  const afterKill = await committedCapture(system, merchant.merchant_id, body.reference, idempotencyKey);
  await restart(killedAt);
  const backAt = Date.now();
  let retriesBefore = 0;
  const deadline = Date.now() + RETRY_TIMEOUT_MS;
  for (;;) {
    const answer = await call().catch(() => undefined);
    if (answer !== undefined && (!retryable(answer) || Date.now() > deadline)) {
      const afterRetry = await committedCapture(system, merchant.merchant_id, body.reference, idempotencyKey);
      return {
        killed: true,
        lostAnswer: first.lostAnswer,
        killedAt,
        backAt,
        exit,
        hookLineSeen,
        afterKill,
        retry: answer,
        retriesBefore,
        afterRetry,
      };
    }
    if (Date.now() > deadline) throw new Error(`no answer to the retries of ${body.reference}`);
    retriesBefore += 1;
    await sleep(RETRY_INTERVAL_MS);
  }
}
