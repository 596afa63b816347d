/**
 * Settlement of a business day with 1,000,000 captures and reconciliation of a
 * 1,000,000-line acquirer statement against it, both over HTTP on the running service.
 *
 * Bench shortcut (documented in docs/performance.md): capturing a million sales over HTTP
 * would take most of an hour, so the day's captures are generated straight into the
 * settlement database with set-based SQL that writes what a capture writes: the checkout row
 * (lines, grants, money columns satisfying every CHECK) and its balanced ledger transfers
 * (net to the merchant, the merchant-funded memo pair, and for one sale in ten the union
 * subsidy from the budget), then the accounts' totals moved by the same sums the transfer
 * trigger would have added. No outbox events (nobody consumes a day that already happened).
 * Triggers are bypassed for the load only (session_replication_role = replica), because a
 * million per-row trigger updates of three hot account rows is the slow part of the load,
 * not of settlement; the ledger is checked balanced afterwards.
 */
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import http from 'node:http';
import { Client } from 'pg';
import { writePlantedStatement } from '../../../services/transaction-settlement/bench/planted-statement';
import { sampleRss } from './machine';
import type { Json } from './seed';

const CAPTURE_SPACING_MS = 40;

export interface DayFacts {
  date: string;
  merchants: string[];
  budgetId: string;
  captures: number;
  startMs: number;
}

/** Capture i as the SQL below computes it (the statement writer needs the same facts). */
export function captureFacts(index: number, day: DayFacts) {
  const gross = 1_000 + (index % 49_000);
  const merchantFunded = Math.floor((gross * 500 + 5_000) / 10_000);
  const unionFunded = index % 10 === 3 ? Math.floor(((gross - merchantFunded) * 1_000 + 5_000) / 10_000) : 0;
  return {
    merchant_id: day.merchants[index % day.merchants.length] as string,
    card_last4: String(index % 10_000).padStart(4, '0'),
    reference: `S-${index}`,
    net_minor: gross - merchantFunded - unionFunded,
    occurred_at_ms: day.startMs + index * CAPTURE_SPACING_MS,
  };
}

export async function generateDay(databaseUrl: string, day: DayFacts): Promise<number> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  const began = Date.now();
  try {
    await client.query("SET session_replication_role = 'replica'");
    await client.query('BEGIN');
    await client.query(
      `INSERT INTO checkouts (checkout_id, merchant_id, card_token, card_last4, currency, reference, status, gross_minor,
         discount_minor, merchant_funded_minor, union_funded_minor, net_minor, budget_exhausted, ruleset_version, lines,
         grants, occurred_at, business_date, created_at)
       SELECT 'chk_' || lpad(i::text, 25, '0'), m, 'ctok_' || md5(i::text), lpad((i % 10000)::text, 4, '0'), 'CNY',
              'S-' || i, 'captured', g, md + ud, md, ud, g - md - ud, false, 1,
              jsonb_build_array(jsonb_build_object('category', 'general', 'amount_minor', g, 'quantity', 1,
                'discount_minor', md + ud, 'applied_rules', '[]'::jsonb)),
              CASE WHEN ud > 0 THEN jsonb_build_array(jsonb_build_object('rule_id', 'bench_subsidy', 'version', 1,
                'budget_id', $6::text, 'discount_minor', ud, 'union_funded_minor', ud)) ELSE '[]'::jsonb END,
              at, $5::date, at
       FROM generate_series(0, $1::integer - 1) AS i,
            LATERAL (SELECT ($2::text[])[i % $3 + 1] AS m, 1000 + i % 49000 AS g,
                            to_timestamp($4::float8 / 1000) + make_interval(secs => i * ${CAPTURE_SPACING_MS}::float8 / 1000) AS at) a,
            LATERAL (SELECT (g * 500 + 5000) / 10000 AS md) b,
            LATERAL (SELECT CASE WHEN i % 10 = 3 THEN ((g - md) * 1000 + 5000) / 10000 ELSE 0 END AS ud) c`,
      [day.captures, day.merchants, day.merchants.length, day.startMs, day.date, day.budgetId],
    );
    await client.query(
      `INSERT INTO ledger_transfers (debit_account, credit_account, amount_minor, currency, kind, checkout_id, occurred_at)
       SELECT t.debit, t.credit, t.amount, 'CNY', t.kind, c.checkout_id, c.occurred_at
       FROM checkouts c,
            LATERAL (VALUES
              ('acquirer:clearing', 'merchant:' || c.merchant_id || ':card_receivable', c.net_minor, 'capture_net'),
              ('budget:' || $2, 'merchant:' || c.merchant_id || ':subsidy_held', c.union_funded_minor, 'capture_subsidy'),
              ('merchant:' || c.merchant_id || ':discount_given', 'memo:merchant_funded_discounts', c.merchant_funded_minor,
               'capture_merchant_funded')) AS t(debit, credit, amount, kind)
       WHERE c.business_date = $1 AND t.amount > 0`,
      [day.date, day.budgetId],
    );
    await client.query(
      `WITH moved AS (
         SELECT account, sum(debit) AS debits, sum(credit) AS credits FROM (
           SELECT debit_account AS account, amount_minor AS debit, 0 AS credit FROM ledger_transfers t
             JOIN checkouts c USING (checkout_id) WHERE c.business_date = $1
           UNION ALL
           SELECT credit_account, 0, amount_minor FROM ledger_transfers t
             JOIN checkouts c USING (checkout_id) WHERE c.business_date = $1) x GROUP BY account)
       UPDATE ledger_accounts a SET debits_minor = a.debits_minor + moved.debits, credits_minor = a.credits_minor + moved.credits
       FROM moved WHERE a.account_code = moved.account`,
      [day.date],
    );
    await client.query('COMMIT');
    await client.query("SET session_replication_role = 'origin'");
    await client.query('ANALYZE checkouts, ledger_transfers, ledger_accounts');
    const balance = await client.query<{ debits: string; credits: string; budget_ok: boolean }>(
      `SELECT sum(debits_minor) AS debits, sum(credits_minor) AS credits,
              bool_and(normal_balance_min_minor IS NULL OR
                (CASE normal_side WHEN 'debit' THEN debits_minor - credits_minor ELSE credits_minor - debits_minor END)
                  >= normal_balance_min_minor) AS budget_ok
       FROM ledger_accounts`,
    );
    const row = balance.rows[0];
    if (row === undefined || row.debits !== row.credits || !row.budget_ok) {
      throw new Error(`generated ledger is not balanced: ${JSON.stringify(row)}`);
    }
  } finally {
    await client.end();
  }
  return (Date.now() - began) / 1000;
}

async function post(
  url: string,
  token: string,
  body: { json?: unknown; file?: string },
): Promise<{ status: number; body: Json }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': body.file === undefined ? 'application/json' : 'text/csv',
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: response.statusCode ?? 0,
            body: text.startsWith('{') ? (JSON.parse(text) as Json) : {},
          });
        });
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    if (body.file === undefined) {
      request.end(JSON.stringify(body.json ?? {}));
    } else {
      createReadStream(body.file, { highWaterMark: 64 * 1024 }).pipe(request);
    }
  });
}

export async function settleDay(settlementUrl: string, finance: string, pid: number, date: string) {
  const sampler = sampleRss(pid);
  const began = process.hrtime.bigint();
  const response = await post(`${settlementUrl}/v1/settlement_runs`, finance, {
    json: { business_date: date },
  });
  const seconds = Number(process.hrtime.bigint() - began) / 1e9;
  const rss = sampler.stop();
  if (response.status !== 201)
    throw new Error(`settlement run answered ${response.status}: ${JSON.stringify(response.body)}`);
  const batches = (response.body.batches as Json[]) ?? [];
  const items = batches.reduce((sum, batch) => sum + Number(batch.capture_count ?? 0), 0);
  return { seconds, peak_rss_mib: rss.peak_mib, batches: batches.length, items_reported: items };
}

/** The acquirer's statement of the day, with the planted differences the service bench uses. */
export async function writeStatement(file: string, day: DayFacts): Promise<{ lines: number; bytes: number }> {
  const lines = await writePlantedStatement(file, day.date, day.captures, (index) =>
    captureFacts(index, day),
  );
  return { lines, bytes: (await stat(file)).size };
}

export async function reconcileStatement(settlementUrl: string, finance: string, pid: number, file: string) {
  const sampler = sampleRss(pid);
  const began = process.hrtime.bigint();
  const response = await post(`${settlementUrl}/v1/reconciliations`, finance, { file });
  const seconds = Number(process.hrtime.bigint() - began) / 1e9;
  const rss = sampler.stop();
  await rm(file, { force: true });
  if (response.status !== 201) {
    throw new Error(
      `reconciliation answered ${response.status}: ${JSON.stringify(response.body).slice(0, 500)}`,
    );
  }
  const categories: Record<string, number> = {};
  for (const [category, total] of Object.entries(
    response.body.categories as Record<string, { count: number }>,
  )) {
    categories[category] = total.count;
  }
  return { seconds, peak_rss_mib: rss.peak_mib, categories };
}
