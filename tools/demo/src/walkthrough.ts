/**
 * The walk-through `npm run demo` runs against a running Puhui, through the public APIs only:
 * onboard and approve a merchant, publish a rule for it, capture checkouts with cards of
 * every tier, refund one, close and settle the business day, pay the union's subsidy, write
 * the acquirer's statement of the day with a few deliberate differences and reconcile it.
 * Returns the report's lines; throws when the system does not do what it should.
 */
import { createHash, randomInt } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { csvBody, idempotencyKey, ok } from '@puhui/api-clients';
import type { Schemas } from '@puhui/api-clients';
import type { PuhuiApi } from './api';
import { eventually } from './api';
import { approve, awaitCheckoutAccess, capture, checkoutBody, createApiKey, yuan } from './flows';
import type { CaptureRequest, Tokens } from './flows';
import { applicationOf, demoCard } from './programme';
import type { DemoMerchant, RuleBody } from './programme';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;
type Checkout = Schemas<'transaction-settlement'>['Checkout'];

export interface Report {
  lines: string[];
  /** Deliberate differences planted in the statement, and what reconciliation found. */
  reconciliation: { expected: Record<string, number>; found: Record<string, number> };
}

const STATEMENT_HEADER =
  'settlement_date,merchant_id,card_last4,transaction_time,amount_minor,reference,auth_code';

interface StatementLine {
  merchant_id: string;
  card_last4: string;
  transaction_time: string;
  amount_minor: number;
  reference: string;
  auth_code: string;
}

function authCodeOf(id: string): string {
  return String(parseInt(createHash('sha256').update(id).digest('hex').slice(0, 8), 16) % 1_000_000).padStart(
    6,
    '0',
  );
}

/** The acquirer's file: a merchant's reference may hold a comma or a quote, so fields are quoted as needed. */
function csvOf(date: string, lines: StatementLine[]): string {
  return stringify(
    lines.map((line) => ({ settlement_date: date, ...line })),
    { header: true, columns: STATEMENT_HEADER.split(',') },
  );
}

/** A statement.csv the service writes (with a byte-order mark), one object per row keyed by its header. */
function parseCsv(text: string): Json[] {
  return parse(text, { bom: true, columns: true, skip_empty_lines: true }) as Json[];
}

export async function walkThrough(api: PuhuiApi, tokens: Tokens): Promise<Report> {
  const lines: string[] = [];
  const step = (title: string) => lines.push('', title);
  const say = (text: string) => lines.push(`  ${text}`);
  const run = randomInt(1_000_000, 9_999_999);
  const started = Date.now();

  // 1. Onboarding -----------------------------------------------------------------------
  step('1. Onboard and approve a merchant (merchant-onboarding)');
  const newcomer: DemoMerchant = {
    key: `demo-${run}`,
    legal_name: `上饶惠民生活超市有限公司（演示${run}）`,
    display_name: `惠民生活超市 演示${run}`,
    category: 'supermarket',
    address: '江西省上饶市信州区凤凰大道288号',
    outlets: [{ name: '凤凰大道店', address: '江西省上饶市信州区凤凰大道288号' }],
    representative: '赵立新',
    contact: '孙悦',
    bank_name: '中国工商银行上饶分行',
    branch_code: '102431000015',
  };
  const admin = api.as(tokens.admin);
  const finance = api.as(tokens.finance)['transaction-settlement'];
  const draft = await ok(
    admin['merchant-onboarding'].POST('/v1/merchants', { body: { legal_name: newcomer.legal_name } }),
  );
  say(`draft ${draft.id}: still missing ${draft.requirements.length} fields`);
  const { legal_name: _legalName, ...rest } = applicationOf(newcomer, run);
  await ok(
    admin['merchant-onboarding'].PATCH('/v1/merchants/{id}', {
      params: { path: { id: draft.id } },
      body: rest,
    }),
  );
  const merchant = await approve(api, tokens, { ...draft, status: 'draft' });
  say(`${newcomer.display_name}: submitted → in_review → ${merchant.status}`);
  const secret = await createApiKey(api, tokens, merchant.id);
  const settlement = api.as(secret)['transaction-settlement'];
  const keyStarted = Date.now();
  await awaitCheckoutAccess(api, secret);
  say(
    `secret key issued (${secret.slice(0, 12)}…); checkout accepted it after ${Date.now() - keyStarted} ms (merchant events → settlement's replica)`,
  );

  // 2. A rule ------------------------------------------------------------------------------
  step('2. Publish an opening offer for it (discount-rules)');
  const ruleBody: RuleBody = {
    name: `开业特惠 立减¥10 (${newcomer.display_name})`,
    scope: { merchant_categories: null, merchant_ids: [merchant.id] },
    item_categories: null,
    benefit: { type: 'amount_off', amount_minor: 1_000 },
    caps: { per_transaction_minor: null, per_card_day_minor: 1_000, per_card_month_minor: null },
    merchant_share_bps: 10_000,
    schedule: {
      valid_from: new Date(Date.now() - 60_000).toISOString(),
      valid_to: null,
      days_of_week: null,
      time_of_day: null,
    },
    priority: 5,
    stacking: 'stackable',
  };
  // discount-rules learns of the merchant from its events; until then it answers 503 not_yet_available.
  const rule = await eventually('discount-rules accepts a rule for the new merchant', async () => {
    const created = await admin['discount-rules'].POST('/v1/rules', { body: ruleBody });
    return created.response.status === 503 ? undefined : ok(created);
  });
  // Other members each run, so that monthly caps used up by an earlier run do not hide the subsidy.
  const standard = demoCard(30 * randomInt(0, 199) + 2);
  const modelWorker = demoCard(15 * randomInt(0, 399) + 1);
  const hardship = demoCard(30 * randomInt(0, 199) + 7);
  const basket = (card: typeof standard, amounts: number[], reference: string): CaptureRequest => ({
    card_number: card.card_number,
    reference,
    lines: amounts.map((amount, index) => ({
      category: index === 0 ? 'food' : 'general',
      amount_minor: amount,
    })),
  });
  const quoteOf = (request: CaptureRequest) =>
    ok(settlement.POST('/v1/checkouts/quote', { body: checkoutBody(request) }));
  const sample = basket(standard, [10_000], 'QUOTE');
  const before = await quoteOf(sample);
  const published = await ok(
    admin['discount-rules'].POST('/v1/rules/{id}/publish', {
      params: { path: { id: rule.rule_id } },
      body: {},
    }),
  );
  // The merchant funds this offer alone, so it is live at once (a union-funded one waits for a second admin).
  if ('approval_request' in published) throw new Error(`rule ${rule.rule_id} waits for approval`);
  const publishedAt = Date.now();
  const after = await eventually('the published rule reaches checkout', async () => {
    const quote = await quoteOf(sample);
    return quote.discount_minor > before.discount_minor ? quote : undefined;
  });
  say(`rule ${rule.rule_id} v${published.version} "${ruleBody.name}" published`);
  say(
    `quote for ${yuan(10_000)} with a standard card: ${yuan(before.discount_minor)} off before, ${yuan(after.discount_minor)} off ${Date.now() - publishedAt} ms after publishing`,
  );

  // 3. Captures ----------------------------------------------------------------------------
  step('3. Capture checkouts (transaction-settlement, with the merchant key)');
  const captures: Checkout[] = [];
  const cases: Array<[string, CaptureRequest]> = [
    ['standard', basket(standard, [12_800, 3_560], `DEMO-${run}-1`)],
    ['model_worker', basket(modelWorker, [25_000, 8_990], `DEMO-${run}-2`)],
    ['hardship', basket(hardship, [6_650], `DEMO-${run}-3`)],
    ['standard', basket(standard, [45_900], `DEMO-${run}-4`)],
    ['model_worker', basket(modelWorker, [3_380, 1_250], `DEMO-${run}-5`)],
  ];
  for (const [tier, request] of cases) {
    const key = `demo-${run}-${request.reference}`;
    const body = await capture(api, secret, request, key);
    const retried = await capture(api, secret, request, key); // a POS retry: same key, same answer
    if (retried.id !== body.id) throw new Error('a retried capture made a second checkout');
    captures.push(body);
    say(
      `${body.id} ${tier.padEnd(12)} ${yuan(body.gross_minor).padStart(9)} − merchant ${yuan(body.merchant_funded_minor)} − union ${yuan(body.union_funded_minor)} = card ${yuan(body.net_minor)}`,
    );
  }
  say('each capture sent twice with one Idempotency-Key: one checkout each');

  // 4. Refund ------------------------------------------------------------------------------
  step('4. Refund part of one');
  const refunded = captures[1] as Checkout;
  const refund = await ok(
    settlement.POST('/v1/checkouts/{id}/refunds', {
      params: { path: { id: refunded.id }, header: idempotencyKey(`demo-${run}-refund`) },
      body: { amount_minor: 8_990, reason: '退货 (returned goods)' },
    }),
  );
  say(
    `${refund.id}: ${yuan(8_990)} of ${refunded.id} returned → ${yuan(refund.member_refund_minor)} back to the card, ${yuan(refund.union_reversed_minor)} of union subsidy and ${yuan(refund.merchant_reversed_minor)} of merchant discount reversed`,
  );

  // 5. Settlement --------------------------------------------------------------------------
  step('5. Close and settle the business day (finance)');
  const day = (await ok(finance.GET('/v1/business_days/current'))).business_date;
  await ok(finance.POST('/v1/business_days/{date}/close', { params: { path: { date: day } } }));
  const settled = await ok(finance.POST('/v1/settlement_runs', { body: { business_date: day } }));
  const batches = settled.batches;
  say(
    `business day ${day} closed early (later checkouts belong to the next day); run ${settled.id}: ${batches.length} batches`,
  );
  const ours = batches.find((batch) => batch.merchant_id === merchant.id);
  if (ours === undefined) throw new Error('the new merchant has no batch');
  say(
    `our batch ${ours.id}: ${ours.capture_count} sales, ${ours.refund_count} refund; gross ${yuan(ours.gross_minor)}, net to card ${yuan(ours.net_minor)}, union subsidy owed ${yuan(ours.subsidy_owed_minor)} (${ours.status})`,
  );
  const exported = await ok(
    finance.GET('/v1/settlement_batches/{id}/export.csv', {
      params: { path: { id: ours.id } },
      parseAs: 'text',
    }),
  );
  say(
    `payment file ${exported.trim().split('\n').length - 1} line(s); the union subsidy is held (${yuan(ours.subsidy_held_minor)}) until the acquirer's statement confirms the sales`,
  );

  // 6. Statement ---------------------------------------------------------------------------
  step("6. Write the acquirer's statement of the day, with deliberate differences");
  const statement: StatementLine[] = [];
  for (const batch of batches) {
    const csv = await ok(
      finance.GET('/v1/settlement_batches/{id}/statement.csv', {
        params: { path: { id: batch.id } },
        parseAs: 'text',
      }),
    );
    for (const item of parseCsv(csv)) {
      const amount = Number(item.card_amount_minor);
      if (item.kind === 'void' || amount === 0) continue;
      statement.push({
        merchant_id: batch.merchant_id,
        card_last4: item.card_last4 as string,
        transaction_time: item.occurred_at as string,
        amount_minor: amount,
        reference: item.reference as string,
        auth_code: authCodeOf(String(item.refund_id || item.checkout_id)),
      });
    }
  }
  const lineOf = (checkout: Checkout | undefined) => {
    const found = statement.find((line) => line.reference === checkout?.reference && line.amount_minor > 0);
    if (found === undefined) throw new Error(`no statement line for ${checkout?.id}`);
    return found;
  };
  const dropped = lineOf(captures[3]);
  const mismatched = lineOf(captures[0]);
  const duplicated = lineOf(captures[4]);
  const planted = statement.filter((line) => line !== dropped);
  mismatched.amount_minor += 100;
  planted.push({ ...duplicated });
  planted.push({
    merchant_id: merchant.id,
    card_last4: '8888',
    transaction_time: new Date().toISOString(),
    amount_minor: 5_000,
    reference: `ACQ-${run}-UNKNOWN`,
    auth_code: '424242',
  });
  const expected = {
    matched: statement.length - 2,
    amount_mismatch: 1,
    missing_in_ledger: 1,
    missing_in_statement: 1,
    duplicate_line: 1,
  };
  say(
    `${planted.length} lines from ${batches.length} merchants' statements; planted: 1 sale left out, 1 amount +¥1.00, 1 line listed twice, 1 sale we never saw`,
  );

  // 7. Reconciliation ------------------------------------------------------------------------
  step('7. Reconcile it (finance uploads the file as text/csv)');
  const reconciled = await ok(finance.POST('/v1/reconciliations', csvBody(csvOf(day, planted))));
  const categories = reconciled.categories;
  const found = Object.fromEntries(Object.entries(categories).map(([name, total]) => [name, total.count]));
  for (const [name, total] of Object.entries(categories)) {
    const wanted = expected[name as keyof typeof expected];
    say(
      `${name.padEnd(21)} ${String(total.count).padStart(3)}  statement ${yuan(total.statement_amount_minor).padStart(11)}  ledger ${yuan(total.ledger_amount_minor).padStart(11)}  ${total.count === wanted ? '✓ as planted' : `✗ expected ${wanted}`}`,
    );
  }
  const exceptions = await ok(
    finance.GET('/v1/reconciliations/{id}/items', {
      params: { path: { id: reconciled.id }, query: { category: 'amount_mismatch' } },
    }),
  );
  const mismatch = exceptions.data[0];
  if (mismatch !== undefined) {
    const item = { params: { path: { id: reconciled.id, item_id: mismatch.id } } };
    const note = '收单行确认多记¥1.00，已更正 (acquirer confirmed its error)';
    // The sale's union subsidy is held until finance decides: the acquirer confirmed the sale, so release it.
    const releasing = await finance.POST('/v1/reconciliations/{id}/items/{item_id}/resolve', {
      ...item,
      body: { note, subsidy: 'release' },
    });
    const released = releasing.response.status === 200;
    if (!released && releasing.error?.code !== 'no_held_subsidy') await ok(releasing);
    if (!released) {
      await ok(finance.POST('/v1/reconciliations/{id}/items/{item_id}/resolve', { ...item, body: { note } }));
    }
    say(
      `resolved the amount mismatch (${yuan(mismatch.difference_minor ?? 0)}) with a note${released ? ', releasing its held subsidy' : ' (it held no subsidy)'}; the resolution is audited`,
    );
  }
  const confirmed = await ok(
    finance.GET('/v1/settlement_batches/{id}', { params: { path: { id: ours.id } } }),
  );
  if (confirmed.status === 'unpaid') {
    const requested = await ok(
      finance.POST('/v1/settlement_batches/{id}/mark_paid', {
        params: { path: { id: ours.id }, header: idempotencyKey(`demo-${run}-paid`) },
        body: { bank_reference: `ICBC-${run}` },
      }),
    );
    // Dual control: a second finance person (not the one who exported the file) approves the payout.
    const approved = await ok(
      api.as(tokens.finance2)['transaction-settlement'].POST('/v1/approval_requests/{id}/approve', {
        params: { path: { id: requested.approval_request.id } },
        body: {},
      }),
    );
    say(
      `asked to pay the subsidy the acquirer confirmed, ${yuan(confirmed.subsidy_payable_minor)} with bank reference ICBC-${run}; a second finance person approved it (${approved.status}), and the payout posted (still held: ${yuan(confirmed.subsidy_held_minor)})`,
    );
  }

  // 8. The books ---------------------------------------------------------------------------
  step('8. The books');
  const trial = await ok(finance.GET('/v1/ledger/trial_balance'));
  say(
    `trial balance: debits ${yuan(trial.debits_minor)} = credits ${yuan(trial.credits_minor)} → ${trial.balanced ? 'balanced' : 'NOT BALANCED'}`,
  );
  lines.push('', `Done in ${((Date.now() - started) / 1000).toFixed(1)} s, through the public APIs only.`);
  if (!trial.balanced) throw new Error('the trial balance is not balanced');
  return { lines, reconciliation: { expected, found } };
}
