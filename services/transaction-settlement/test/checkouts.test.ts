import { randomUUID } from 'node:crypto';
import { recordTopic } from '@puhui/testing';
import { SettlementHarness, percentOffRule, unionFundedRule, useHarness } from './support';
import type { TestMerchant } from './support';

const harness = new SettlementHarness();
let hospital: TestMerchant;
const hospitalRules = [
  percentOffRule({ category: 'hospital', items: ['registration_fee'], bps: 0, benefit: { type: 'waive' } }),
  percentOffRule({ category: 'hospital', items: ['examination_fee'], bps: 2000 }),
];

useHarness(harness, async () => {
  hospital = await harness.addMerchant('hospital');
});

const capture = (
  merchant: TestMerchant,
  body: Record<string, unknown>,
  idempotencyKey: string = randomUUID(),
) => harness.call('POST', '/v1/checkouts', { token: merchant.secret, body, idempotencyKey });

async function ledgerAccount(code: string) {
  return (await harness.call('GET', `/v1/ledger/accounts/${code}`, { token: harness.finance })).body;
}

describe('the seed hospital scenario', () => {
  it('waives the registration fee, takes 20% off the examination, refunds part, and the ledger agrees to the fen', async () => {
    const card = await harness.addCard(1, hospitalRules);
    const events = await recordTopic(harness.topic('checkouts'));
    const body = {
      card_number: card.card_number,
      currency: 'CNY',
      reference: 'HIS-20261121-0001',
      lines: [
        { category: 'registration_fee', amount_minor: 1200 },
        { category: 'examination_fee', amount_minor: 18000 },
      ],
    };
    const beforeCapture = new Date().toISOString();
    const quote = await harness.call('POST', '/v1/checkouts/quote', { token: hospital.secret, body });
    expect(quote.body).toMatchObject({ gross_minor: 19200, discount_minor: 4800, net_minor: 14400 });

    const captured = await capture(hospital, body);
    expect(captured.status).toBe(201);
    expect(captured.body).toMatchObject({
      status: 'captured',
      currency: 'CNY',
      card_last4: card.card_last4,
      gross_minor: 19200,
      discount_minor: 4800,
      merchant_funded_minor: 4800,
      union_funded_minor: 0,
      net_minor: 14400,
      budget_exhausted: false,
      ruleset_version: 1,
    });
    expect(captured.body.lines.map((line: { discount_minor: number }) => line.discount_minor)).toEqual([
      1200, 3600,
    ]);
    expect(captured.body.lines[1].applied_rules).toEqual([
      {
        rule_id: hospitalRules[1]?.rule_id,
        version: 1,
        discount_minor: 3600,
        union_funded_minor: 0,
        // The same fields as the quote's (issue 13); a merchant-funded rule draws no budget.
        merchant_funded_minor: 3600,
        budget_id: null,
        budget_balance_after_minor: null,
      },
    ]);
    expect(JSON.stringify(captured.body)).not.toContain(card.card_number);

    const id = captured.body.id as string;
    const refund = await harness.call('POST', `/v1/checkouts/${id}/refunds`, {
      token: hospital.secret,
      idempotencyKey: randomUUID(),
      body: { amount_minor: 9600, reason: '检查项目取消一半' },
    });
    expect(refund.status).toBe(201);
    // Half the sale back: half the discount reversed, so the card gets 7200 of its 14400.
    expect(refund.body).toMatchObject({
      amount_minor: 9600,
      discount_reversed_minor: 2400,
      member_refund_minor: 7200,
      checkout_status: 'partially_refunded',
    });

    const listed = await harness.call('GET', '/v1/checkouts', { token: hospital.secret });
    expect(listed.body.data).toEqual([
      expect.objectContaining({ id, status: 'partially_refunded', refunded_minor: 9600 }),
    ]);

    const receivable = await ledgerAccount(`merchant:${hospital.merchant_id}:card_receivable`);
    expect(receivable.balance_minor).toBe(14400 - 7200);
    const earlier = await harness.call(
      'GET',
      `/v1/ledger/accounts/merchant:${hospital.merchant_id}:card_receivable?as_of=${encodeURIComponent(beforeCapture)}`,
      { token: harness.finance },
    );
    expect(earlier.body).toMatchObject({ balance_minor: 0, as_of: beforeCapture });
    const discountGiven = await ledgerAccount(`merchant:${hospital.merchant_id}:discount_given`);
    expect(discountGiven.balance_minor).toBe(4800 - 2400);
    const clearing = await ledgerAccount('acquirer:clearing');
    expect(clearing.balance_minor).toBeGreaterThanOrEqual(7200);
    const trial = await harness.call('GET', '/v1/ledger/trial_balance', { token: harness.finance });
    expect(trial.body).toMatchObject({ balanced: true, difference_minor: 0 });

    const entries = await harness.call(
      'GET',
      `/v1/ledger/accounts/merchant:${hospital.merchant_id}:card_receivable/entries`,
      {
        token: harness.finance,
      },
    );
    expect(
      entries.body.data.map((entry: { kind: string; side: string; amount_minor: number }) => [
        entry.kind,
        entry.side,
        entry.amount_minor,
      ]),
    ).toEqual([
      ['capture_net', 'credit', 14400],
      ['refund_net', 'debit', 7200],
    ]);

    const published = await events.waitForCount(2);
    expect(published.map((message) => message.value.type)).toEqual([
      'puhui.checkout.captured.v1',
      'puhui.checkout.refunded.v1',
    ]);
    expect(published[0]?.key).toBe(hospital.merchant_id);
    expect(published[0]?.value.data).toMatchObject({
      card_token: card.card_token,
      card_last4: card.card_last4,
      net_minor: 14400,
    });
    expect(JSON.stringify(published)).not.toContain(card.card_number);
    await events.stop();
  });
});

describe('concurrency', () => {
  it('funds exactly 37 of 200 concurrent captures from a budget that holds 37 subsidies, and never below zero', async () => {
    const merchant = await harness.addMerchant('supermarket');
    const budgetId = await harness.fundedBudget('劳模补贴', 37 * 100);
    // 10% off 1000 fen, paid entirely by the union: each capture wants a 100-fen subsidy.
    const rule = unionFundedRule(budgetId, 1000, 10000);
    const cards = await Promise.all(
      Array.from({ length: 20 }, (_, index) => harness.addCard(1000 + index, [rule])),
    );
    const responses = await Promise.all(
      Array.from({ length: 200 }, (_, index) =>
        capture(merchant, {
          card_number: cards[index % cards.length]?.card_number,
          currency: 'CNY',
          reference: `SM-${index}`,
          lines: [{ category: 'general', amount_minor: 1000 }],
        }),
      ),
    );
    expect(responses.map((response) => response.status).every((status) => status === 201)).toBe(true);
    const subsidised = responses.filter((response) => response.body.union_funded_minor === 100);
    const unfunded = responses.filter((response) => response.body.union_funded_minor === 0);
    expect(subsidised).toHaveLength(37);
    expect(unfunded).toHaveLength(163);
    expect(
      unfunded.every(
        (response) => response.body.budget_exhausted === true && response.body.net_minor === 1000,
      ),
    ).toBe(true);
    const budget = await harness.call('GET', `/v1/budgets/${budgetId}`, { token: harness.finance });
    expect(budget.body.balance_minor).toBe(0);
    // The definition's fields carry the names discount-rules' GET /v1/budgets/{id} gives them.
    expect(budget.body).toMatchObject({
      budget_id: budgetId,
      name: '劳模补贴',
      union_id: 'union_sr_01',
      currency: 'CNY',
    });
    const trial = await harness.call('GET', '/v1/ledger/trial_balance', { token: harness.finance });
    expect(trial.body.balanced).toBe(true);
  });

  it('captures once for 50 concurrent requests with one Idempotency-Key, with identical responses', async () => {
    const merchant = await harness.addMerchant('pharmacy');
    const card = await harness.addCard(2000, [percentOffRule({ category: 'pharmacy', bps: 1500 })]);
    const key = randomUUID();
    const body = {
      card_number: card.card_number,
      currency: 'CNY',
      reference: 'PH-1',
      lines: [{ category: 'medicine', amount_minor: 5990 }],
    };
    const responses = await Promise.all(Array.from({ length: 50 }, () => capture(merchant, body, key)));
    expect(new Set(responses.map((response) => response.status))).toEqual(new Set([201]));
    expect(new Set(responses.map((response) => JSON.stringify(response.body))).size).toBe(1);
    expect(responses[0]?.body).toMatchObject({ discount_minor: 899, net_minor: 5091 });
    const rows = await harness.query<{ count: number }>(
      'SELECT count(*)::int AS count FROM checkouts WHERE merchant_id = $1',
      [merchant.merchant_id],
    );
    expect(rows[0]?.count).toBe(1);
    const transfers = await harness.query<{ count: number }>(
      'SELECT count(*)::int AS count FROM ledger_transfers WHERE checkout_id = $1',
      [responses[0]?.body.id],
    );
    expect(transfers[0]?.count).toBe(2);

    const reused = await capture(
      merchant,
      { ...body, lines: [{ category: 'medicine', amount_minor: 100 }] },
      key,
    );
    expect(reused.status).toBe(422);
    expect(reused.body.code).toBe('idempotency_key_reused');
  });

  it('lets exactly one of two concurrent partial refunds that together exceed the sale succeed', async () => {
    const merchant = await harness.addMerchant('hotel');
    const card = await harness.addCard(3000, [
      percentOffRule({ category: 'hotel', items: ['room'], bps: 2200 }),
    ]);
    const captured = await capture(merchant, {
      card_number: card.card_number,
      currency: 'CNY',
      reference: 'HT-1',
      lines: [{ category: 'room', amount_minor: 38800 }],
    });
    expect(captured.body).toMatchObject({ discount_minor: 8536, net_minor: 30264 });
    const refund = () =>
      harness.call('POST', `/v1/checkouts/${captured.body.id}/refunds`, {
        token: merchant.secret,
        idempotencyKey: randomUUID(),
        body: { amount_minor: 25000 },
      });
    const outcomes = await Promise.all([refund(), refund()]);
    expect(outcomes.map((outcome) => outcome.status).sort()).toEqual([201, 422]);
    expect(outcomes.find((outcome) => outcome.status === 422)?.body.code).toBe('refund_exceeds_remaining');
    const rows = await harness.query<{ count: number }>(
      'SELECT count(*)::int AS count FROM refunds WHERE checkout_id = $1',
      [captured.body.id],
    );
    expect(rows[0]?.count).toBe(1);
  });

  it('keeps a per-card daily cap exact under concurrent captures', async () => {
    const merchant = await harness.addMerchant('scenic_spot');
    const rule = percentOffRule({
      category: 'scenic_spot',
      items: ['ticket'],
      bps: 5000,
      caps: { per_transaction_minor: null, per_card_day_minor: 5000, per_card_month_minor: null },
    });
    const card = await harness.addCard(4000, [rule]);
    const responses = await Promise.all(
      Array.from({ length: 12 }, (_, index) =>
        capture(merchant, {
          card_number: card.card_number,
          currency: 'CNY',
          reference: `SS-${index}`,
          lines: [{ category: 'ticket', amount_minor: 2000 }],
        }),
      ),
    );
    const granted = responses.reduce((sum, response) => sum + (response.body.discount_minor as number), 0);
    expect(granted).toBe(5000);
  });
});

describe('the ledger', () => {
  it('refuses UPDATE and DELETE on a transfer in the database', async () => {
    await expect(harness.query('UPDATE ledger_transfers SET amount_minor = 1')).rejects.toThrow(
      /append-only/,
    );
    await expect(harness.query('DELETE FROM ledger_transfers')).rejects.toThrow(/append-only/);
    await expect(
      harness.query(
        "UPDATE ledger_accounts SET credits_minor = credits_minor + 1 WHERE account_code = 'acquirer:clearing'",
      ),
    ).rejects.toThrow(/only through transfers/);
  });

  it('keeps the reason for no discount to the documented ones', async () => {
    await expect(
      harness.query("UPDATE checkouts SET no_discount_reason = 'card_lost' WHERE checkout_id IS NOT NULL"),
    ).rejects.toThrow(/checkouts_no_discount_reason_known/);
  });

  it('refuses by itself a transfer that would overdraw a budget', async () => {
    const budgetId = await harness.addBudget('空预算');
    await expect(
      harness.query(
        `INSERT INTO ledger_transfers (debit_account, credit_account, amount_minor, currency, kind, occurred_at)
         VALUES ($1, 'bank:union_funds', 1, 'CNY', 'payout', now())`,
        [`budget:${budgetId}`],
      ),
    ).rejects.toThrow(/check constraint/);
  });
});

describe('line descriptions', () => {
  it('keeps each line’s description and shows it on the quote, the checkout and when read again', async () => {
    const merchant = await harness.addMerchant('supermarket');
    const card = await harness.addCard(5000, [percentOffRule({ category: 'supermarket', bps: 1000 })]);
    const body = {
      card_number: card.card_number,
      currency: 'CNY',
      reference: `DESC-${randomUUID()}`,
      lines: [
        { category: 'food', amount_minor: 3_000, description: '有机大米 5kg' },
        { category: 'beverage', amount_minor: 1_000 },
      ],
    };
    const quote = await harness.call('POST', '/v1/checkouts/quote', { token: merchant.secret, body });
    expect(quote.body.lines.map((line: { description: string | null }) => line.description)).toEqual([
      '有机大米 5kg',
      null,
    ]);
    const captured = await capture(merchant, body);
    expect(captured.status).toBe(201);
    const described = captured.body.lines.map((line: { description: string | null }) => line.description);
    expect(described).toEqual(['有机大米 5kg', null]);
    const stored = await harness.call('GET', `/v1/checkouts/${captured.body.id}`, { token: merchant.secret });
    expect(stored.body.lines.map((line: { description: string | null }) => line.description)).toEqual(
      described,
    );

    const tooLong = await capture(merchant, {
      ...body,
      reference: `DESC-${randomUUID()}`,
      lines: [{ category: 'food', amount_minor: 3_000, description: '米'.repeat(201) }],
    });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.invalid_params).toEqual([expect.objectContaining({ name: 'lines.0.description' })]);
    // The table holds the bound too, for any writer but this one.
    await expect(
      harness.query(
        `UPDATE checkouts SET lines = jsonb_set(lines, '{0,description}', to_jsonb(repeat('米', 201)))
         WHERE checkout_id = $1`,
        [captured.body.id],
      ),
    ).rejects.toThrow(/checkouts_line_description_length/);
  });
});

describe('checkouts stored before descriptions and budgets were kept', () => {
  it('read their lines with a null description and each rule’s budget from its grant', async () => {
    const merchant = await harness.addMerchant('supermarket');
    const budgetId = await harness.fundedBudget('旧数据预算', 10_000);
    const rule = unionFundedRule(budgetId, 1000, 5000);
    const card = await harness.addCard(6000, [rule]);
    const sale = await harness.captureSale(merchant, card, 2_000);
    expect(sale.status).toBe(201);
    // As a capture before issue 13 wrote its lines: no description, no budget fields per rule.
    await harness.query(
      `UPDATE checkouts SET lines = (
         SELECT jsonb_agg((line - 'description') || jsonb_build_object('applied_rules',
           (SELECT jsonb_agg(applied - 'budget_id' - 'budget_balance_after_minor')
            FROM jsonb_array_elements(line -> 'applied_rules') AS applied)))
         FROM jsonb_array_elements(lines) AS line)
       WHERE checkout_id = $1`,
      [sale.body.id],
    );
    const stored = await harness.call('GET', `/v1/checkouts/${sale.body.id}`, { token: merchant.secret });
    expect(stored.body.lines[0]).toMatchObject({
      description: null,
      applied_rules: [{ rule_id: rule.rule_id, budget_id: budgetId, budget_balance_after_minor: null }],
    });
  });
});
