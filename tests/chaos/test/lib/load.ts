/**
 * Checkout load as merchants' POS terminals make it: each capture has its own reference and
 * Idempotency-Key, and a terminal that gets no answer (connection reset, timeout, 503, 409
 * "still in flight", 429) retries the same request with the same key until it gets one.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { callService } from '../../../e2e/test/system';
import type { PuhuiSystem } from '../../../e2e/test/system';
import type { Card, Merchant } from '../../../e2e/test/puhui';
import type { ClientCapture } from './invariants';

const RETRY_BACKOFF_MS_MIN = 50;
const RETRY_BACKOFF_MS_MAX = 1000;

export interface LoadOptions {
  system: PuhuiSystem;
  merchants: readonly Merchant[];
  cards: readonly Card[];
  total: number;
  /** Terminals sending at once. */
  concurrency: number;
  /** A request that got no answer by then counts as unanswered. */
  giveUpAfterMs?: number;
  requestTimeoutMs?: number;
  label: string;
  /** Stops taking new captures once this returns true (a load that runs until told). */
  stop?: () => boolean;
  /** Called after each answer, e.g. to inject a fault at some progress. */
  onAnswer?: (progress: LoadProgress) => void;
}

export interface LoadProgress {
  sent: number;
  acknowledged: number;
  total: number;
}

export interface AttemptOutcome {
  at: number;
  /** HTTP status, or 0 for a network error or timeout. */
  status: number;
  code?: string;
  durationMs: number;
}

export interface LoadResult {
  clients: ClientCapture[];
  attempts: number;
  /** Status (0: no answer) → count, over every attempt. */
  statuses: Map<number, number>;
  codes: Map<string, number>;
  outcomes: AttemptOutcome[];
  unanswered: ClientCapture[];
  /** Definitive refusals (4xx other than 409 in flight and 429): status and code. */
  refused: Array<{ reference: string; status: number; code: string }>;
  /** Error answers that were not application/problem+json with a code. */
  notProblems: Array<{ status: number; contentType: string | null }>;
  replayed: number;
  durationMs: number;
}

/** Attempts that started in [from, to): status (0: no answer) → count. */
export function statusesBetween(
  outcomes: readonly AttemptOutcome[],
  from: number,
  to: number,
): Map<number, number> {
  const counts = new Map<number, number>();
  for (const outcome of outcomes)
    if (outcome.at >= from && outcome.at < to)
      counts.set(outcome.status, (counts.get(outcome.status) ?? 0) + 1);
  return counts;
}

export function describeStatuses(counts: ReadonlyMap<number, number>): string {
  return [...counts.entries()]
    .sort(([a], [b]) => a - b)
    .map(([status, count]) => `${status === 0 ? 'no answer' : status}×${count}`)
    .join(', ');
}

export function summary(result: LoadResult): string {
  const statuses = describeStatuses(result.statuses);
  const codes = [...result.codes.entries()].map(([code, count]) => `${code}×${count}`).join(', ');
  const acknowledged = result.clients.filter((client) => client.acknowledged !== undefined).length;
  return `${result.clients.length} captures, ${acknowledged} acknowledged, ${result.unanswered.length} unanswered, ${result.refused.length} refused; ${result.attempts} attempts (${statuses}${codes === '' ? '' : `; problem codes: ${codes}`}); ${result.replayed} answers replayed from the idempotency store; ${(result.durationMs / 1000).toFixed(1)} s`;
}

/** Latency percentile (ms) of answered attempts in [from, to). */
export function percentile(outcomes: readonly AttemptOutcome[], p: number, from = 0, to = Infinity): number {
  const durations = outcomes
    .filter((outcome) => outcome.at >= from && outcome.at < to && outcome.status !== 0)
    .map((outcome) => outcome.durationMs)
    .sort((a, b) => a - b);
  if (durations.length === 0) return 0;
  return durations[Math.min(durations.length - 1, Math.floor((p / 100) * durations.length))] ?? 0;
}

function retryable(status: number, code: string | undefined): boolean {
  return (
    status === 0 ||
    status >= 500 ||
    status === 429 ||
    (status === 409 && code === 'idempotency_key_in_flight')
  );
}

export async function runCheckoutLoad(options: LoadOptions): Promise<LoadResult> {
  const { system, merchants, cards, total } = options;
  const giveUpAfterMs = options.giveUpAfterMs ?? 120_000;
  const settlementUrl = system.url('transaction-settlement');
  const result: LoadResult = {
    clients: [],
    attempts: 0,
    statuses: new Map(),
    codes: new Map(),
    outcomes: [],
    unanswered: [],
    refused: [],
    notProblems: [],
    replayed: 0,
    durationMs: 0,
  };
  const startedAt = Date.now();
  let next = 0;
  let acknowledged = 0;
  const one = async (index: number) => {
    const merchant = merchants[index % merchants.length] as Merchant;
    const card = cards[(index * 7) % cards.length] as Card;
    const reference = `CHAOS-${options.label}-${system.runId}-${index}`;
    const client: ClientCapture = {
      idempotencyKey: randomUUID(),
      merchantId: merchant.merchant_id,
      reference,
    };
    result.clients.push(client);
    const body = {
      // The card is present: merchants capture by number only (issue 14).
      card_number: card.card_number,
      currency: 'CNY',
      reference,
      lines: [{ category: 'general', amount_minor: 1000 + (index % 97) * 13, quantity: 1 }],
    };
    const firstAt = Date.now();
    for (let attempt = 0; ; attempt += 1) {
      const at = Date.now();
      let status = 0;
      let code: string | undefined;
      try {
        const response = await callService(settlementUrl, 'POST', '/v1/checkouts', {
          token: merchant.secret,
          idempotencyKey: client.idempotencyKey,
          body,
          timeoutMs: options.requestTimeoutMs ?? 20_000,
        });
        status = response.status;
        code = typeof response.body.code === 'string' ? response.body.code : undefined;
        if (
          status >= 400 &&
          (!(response.contentType ?? '').startsWith('application/problem+json') || code === undefined)
        )
          result.notProblems.push({ status, contentType: response.contentType });
        if (status === 201) {
          client.acknowledged = {
            id: String(response.body.id),
            gross_minor: Number(response.body.gross_minor),
            discount_minor: Number(response.body.discount_minor),
            net_minor: Number(response.body.net_minor),
          };
          if (response.headers.get('idempotent-replayed') === 'true') result.replayed += 1;
        }
      } catch {
        status = 0;
      }
      result.attempts += 1;
      result.statuses.set(status, (result.statuses.get(status) ?? 0) + 1);
      if (code !== undefined) result.codes.set(code, (result.codes.get(code) ?? 0) + 1);
      result.outcomes.push({
        at,
        status,
        durationMs: Date.now() - at,
        ...(code === undefined ? {} : { code }),
      });
      if (status === 201) {
        acknowledged += 1;
        break;
      }
      if (!retryable(status, code)) {
        result.refused.push({ reference, status, code: code ?? '' });
        break;
      }
      if (Date.now() - firstAt > giveUpAfterMs) {
        result.unanswered.push(client);
        break;
      }
      await sleep(Math.min(RETRY_BACKOFF_MS_MAX, RETRY_BACKOFF_MS_MIN * 2 ** Math.min(attempt, 5)));
    }
    options.onAnswer?.({ sent: next, acknowledged, total });
  };
  const terminal = async () => {
    while (next < total && options.stop?.() !== true) {
      const index = next;
      next += 1;
      await one(index);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, () => terminal()));
  result.durationMs = Date.now() - startedAt;
  return result;
}
