/**
 * Issue 14: a checkout's reference, a refund's reason and a bank reference reach statements and
 * payment files: they are safe text (no formula start, no invisible characters), refused at input.
 */
import { SettlementHarness, percentOffRule, useHarness } from './support';
import type { TestCard, TestMerchant } from './support';

const harness = new SettlementHarness();
let merchant: TestMerchant;
let card: TestCard;

useHarness(harness, async () => {
  merchant = await harness.addMerchant('supermarket');
  card = await harness.addCard(11, [percentOffRule({ category: 'supermarket', bps: 500 })]);
});

async function checkoutCount(): Promise<number> {
  const rows = await harness.query<{ count: number }>('SELECT count(*)::int AS count FROM checkouts');
  return rows[0]?.count ?? 0;
}

it.each([
  ['a reference that is a formula', { reference: '=HYPERLINK("http://evil.example","退款")' }, 'reference'],
  ['a full-width formula reference (NFKC)', { reference: '＠SUM(A1)' }, 'reference'],
  ['a reference with a bidirectional isolate', { reference: 'POS-\u2067001\u2069' }, 'reference'],
  [
    'a line description with a zero-width joiner',
    { lines: [{ category: 'general', amount_minor: 3555, description: '牛奶\u200D' }] },
    'lines.0.description',
  ],
])('refuses %s with a 400 naming the field, and captures nothing', async (_what, overrides, field) => {
  const before = await checkoutCount();
  const response = await harness.captureLines(
    merchant.secret,
    card.card_number,
    [{ category: 'general', amount_minor: 3555 }],
    overrides,
  );
  expect(response.status).toBe(400);
  expect(response.body.invalid_params.map((param: { name: string }) => param.name)).toEqual([field]);
  expect(await checkoutCount()).toBe(before);
});
