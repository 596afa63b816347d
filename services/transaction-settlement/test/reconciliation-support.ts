/** Statement files and uploads for the reconciliation tests and benchmark. */
import { request } from 'node:http';
import type { Readable } from 'node:stream';
import { STATEMENT_COLUMNS } from '../src/domain/reconciliation-statement';
import type { ApiResponse, SettlementHarness } from './support';
import { expectDocumented } from './support';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type JsonObject = Record<string, any>;

export type StatementRow = Record<(typeof STATEMENT_COLUMNS)[number], string | number>;

export const STATEMENT_HEADER = STATEMENT_COLUMNS.join(',');

export function statementCsv(rows: readonly StatementRow[], header = STATEMENT_HEADER): string {
  return [header, ...rows.map((row) => STATEMENT_COLUMNS.map((column) => row[column]).join(','))]
    .map((line) => `${line}\n`)
    .join('');
}

export interface UploadOptions {
  token?: string;
  contentType?: string;
}

/** POSTs a statement as it is, a string or a stream, and reads the JSON answer. */
export async function uploadStatement(
  harness: Pick<SettlementHarness, 'url' | 'finance'>,
  body: string | Readable,
  options: UploadOptions = {},
): Promise<ApiResponse> {
  const url = new URL('/v1/reconciliations', harness.url);
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${options.token ?? harness.finance}`,
          'content-type': options.contentType ?? 'text/csv',
          ...(typeof body === 'string' ? { 'content-length': Buffer.byteLength(body) } : {}),
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const headers = new Headers();
          for (const [name, value] of Object.entries(response.headers)) {
            if (typeof value === 'string') headers.set(name, value);
          }
          const answer = {
            status: response.statusCode ?? 0,
            body: text === '' ? {} : JSON.parse(text),
            headers,
            text,
          };
          try {
            expectDocumented('POST', '/v1/reconciliations', answer);
            resolve(answer);
          } catch (error) {
            reject(error);
          }
        });
      },
    );
    outgoing.on('error', reject);
    if (typeof body === 'string') outgoing.end(body);
    else body.pipe(outgoing);
  });
}

/** Every item of a run, page by page. */
export async function allItems(
  harness: SettlementHarness,
  runId: string,
  category?: string,
): Promise<JsonObject[]> {
  const items: JsonObject[] = [];
  let startingAfter: string | undefined;
  for (let page = 0; page < 10_000; page += 1) {
    const query = new URLSearchParams({ limit: '100' });
    if (category !== undefined) query.set('category', category);
    if (startingAfter !== undefined) query.set('starting_after', startingAfter);
    const response = await harness.call('GET', `/v1/reconciliations/${runId}/items?${query.toString()}`, {
      token: harness.finance,
    });
    if (response.status !== 200)
      throw new Error(`items: ${response.status} ${JSON.stringify(response.body)}`);
    items.push(...response.body.data);
    if (response.body.has_more !== true) return items;
    startingAfter = items.at(-1)?.id as string;
  }
  throw new Error('more than 10,000 pages of items');
}

export async function countRows(harness: SettlementHarness, table: string): Promise<number> {
  const rows = await harness.query<{ count: number }>(`SELECT count(*)::int AS count FROM ${table}`);
  return rows[0]?.count ?? 0;
}

/** A capture written straight into the checkouts table (no transfers): enough for reconciliation. */
export interface LedgerCapture {
  checkout_id: string;
  merchant_id: string;
  card_last4: string;
  reference: string;
  net_minor: number;
  discount_minor: number;
  voided: boolean;
  occurred_at: string;
  business_date: string;
}

export interface LedgerRefund {
  refund_id: string;
  checkout_id: string;
  merchant_id: string;
  member_refund_minor: number;
  discount_reversed_minor: number;
  created_at: string;
  business_date: string;
}

const TEST_CARD_TOKEN = `ctok_${'t'.repeat(32)}`;

/**
 * A test shortcut: ledger items inserted directly, without going through capture (which would
 * need rate sheets and post transfers reconciliation never reads).
 */
export async function insertLedgerItems(
  harness: SettlementHarness,
  captures: readonly LedgerCapture[],
  refunds: readonly LedgerRefund[],
): Promise<void> {
  await harness.query(
    `INSERT INTO checkouts (checkout_id, merchant_id, card_token, card_last4, currency, reference, status, gross_minor,
       discount_minor, merchant_funded_minor, union_funded_minor, net_minor, budget_exhausted, ruleset_version, lines,
       grants, occurred_at, business_date, voided_at)
     SELECT id, merchant, $1, last4, 'CNY', reference, CASE WHEN voided THEN 'voided' ELSE 'captured' END,
            net + discount, discount, discount, 0, net, false, 1, '[]', '[]', occurred_at, business_date,
            CASE WHEN voided THEN now() END
     FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::boolean[],
                 $9::timestamptz[], $10::date[])
       AS c(id, merchant, last4, reference, net, discount, voided, occurred_at, business_date)`,
    [
      TEST_CARD_TOKEN,
      captures.map((capture) => capture.checkout_id),
      captures.map((capture) => capture.merchant_id),
      captures.map((capture) => capture.card_last4),
      captures.map((capture) => capture.reference),
      captures.map((capture) => capture.net_minor),
      captures.map((capture) => capture.discount_minor),
      captures.map((capture) => capture.voided),
      captures.map((capture) => capture.occurred_at),
      captures.map((capture) => capture.business_date),
    ],
  );
  await harness.query(
    `INSERT INTO refunds (refund_id, checkout_id, merchant_id, amount_minor, discount_reversed_minor,
       union_reversed_minor, merchant_reversed_minor, member_refund_minor, reversals, business_date, created_at)
     SELECT id, checkout, merchant, member + reversed, reversed, 0, reversed, member, '[]', business_date, created_at
     FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::date[], $7::timestamptz[])
       AS r(id, checkout, merchant, member, reversed, business_date, created_at)`,
    [
      refunds.map((refund) => refund.refund_id),
      refunds.map((refund) => refund.checkout_id),
      refunds.map((refund) => refund.merchant_id),
      refunds.map((refund) => refund.member_refund_minor),
      refunds.map((refund) => refund.discount_reversed_minor),
      refunds.map((refund) => refund.business_date),
      refunds.map((refund) => refund.created_at),
    ],
  );
}
