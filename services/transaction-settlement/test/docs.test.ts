import { parse } from 'csv-parse/sync';
import { committedDocument, describeServedDocs } from '@puhui/testing';
import { SettlementHarness, percentOffRule } from './support';

const harness = new SettlementHarness();

describeServedDocs('transaction-settlement', async () => {
  await harness.start();
  return harness;
});

it('answers health, readiness, the business day, the ledger and CSV files as documented', async () => {
  expect((await harness.call('GET', '/healthz')).status).toBe(200);
  expect((await harness.call('GET', '/readyz')).status).toBe(200);
  const merchant = await harness.addMerchant('supermarket');
  const card = await harness.addCard(10, [percentOffRule({ bps: 500, category: 'supermarket' })]);
  const captured = await harness.call('POST', '/v1/checkouts', {
    token: merchant.secret,
    idempotencyKey: 'docs-1',
    body: {
      card_number: card.card_number,
      currency: 'CNY',
      reference: 'DOCS-1',
      lines: [{ category: 'general', amount_minor: 1000 }],
    },
  });
  expect(captured.status).toBe(201);
  const day = await harness.call('GET', '/v1/business_days/current', { token: harness.finance });
  expect(day.status).toBe(200);
  expect(
    (await harness.call('GET', '/v1/ledger/trial_balance', { token: harness.finance })).body.balanced,
  ).toBe(true);
  const closed = await harness.call('POST', `/v1/business_days/${day.body.business_date}/close`, {
    token: harness.finance,
  });
  expect(closed.status).toBe(201);
  const run = await harness.call('POST', '/v1/settlement_runs', {
    token: harness.finance,
    body: { business_date: day.body.business_date },
  });
  expect(run.status).toBe(201);
  const batchId = run.body.batches[0].id as string;
  for (const file of ['export.csv', 'statement.csv']) {
    const response = await harness.call('GET', `/v1/settlement_batches/${batchId}/${file}`, {
      token: harness.finance,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/csv/u);
    expect(parse(response.text, { columns: true })).toHaveLength(1);
  }
});

it('says in the document that a refund’s amount_minor is gross and what the card gets', () => {
  const document = committedDocument('transaction-settlement');
  const refund = document.paths['/v1/checkouts/{id}/refunds'].post;
  expect(refund.requestBody.content['application/json'].schema.properties.amount_minor.description).toMatch(
    /^Gross fen/u,
  );
  expect(document.components.schemas.Refund.properties.member_refund_minor.description).toMatch(
    /amount_minor − discount_reversed_minor/u,
  );
});
