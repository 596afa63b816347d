import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startHarness } from './support';
import type { Harness } from './support';

interface StandingOffer {
  merchant_category: string;
  item_category: string;
  offer: string;
  discount_bps: number;
}

const seed = JSON.parse(readFileSync(path.join(__dirname, '../../../data/seed-programme.json'), 'utf8')) as {
  standing_offers: StandingOffer[];
};

/** Each standing offer as an admin would enter it: merchant-funded percent off for its category. */
const offerRule = (offer: StandingOffer) => ({
  name: `${offer.merchant_category} ${offer.item_category} ${offer.offer}`,
  scope: { merchant_categories: [offer.merchant_category] },
  item_categories: offer.item_category === 'any' ? null : [offer.item_category],
  benefit: { type: 'percent_off', bps: offer.discount_bps },
  schedule: { valid_from: '2025-01-01T00:00:00+08:00' },
});
const seedRules = seed.standing_offers.map(offerRule);

const checkout = (category: string, lines: Array<[number, string]>, card: Record<string, unknown> = {}) => ({
  merchant: { merchant_id: `${category}-1`, category },
  card: { tier: 'standard', union_id: 'union-361102', ...card },
  occurred_at: '2025-06-10T10:00:00+08:00',
  lines: lines.map(([amount_minor, lineCategory]) => ({ category: lineCategory, amount_minor, quantity: 1 })),
});

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness();
});

afterAll(async () => {
  await harness.close();
});

const SEED_CASES = [
  ['scenic_spot', 'ticket', 12_001, 6_001], // 5折 on ¥120.01: 6000.5 rounds half up
  ['supermarket', 'groceries', 3_555, 178], // 9.5折 on ¥35.55: 177.75 → ¥1.78 off
  ['pharmacy', 'medicine', 8_800, 1_320], // 8.5折
  ['hospital', 'registration_fee', 1_200, 1_200], // 免费挂号
  ['hospital', 'examination_fee', 18_000, 3_600], // 8折
  ['hotel', 'room', 38_800, 8_536], // 7.8折
] as const;

describe('previewing the seed programme’s standing offers', () => {
  it('has the six offers of the design', () => {
    expect(seedRules).toHaveLength(6);
  });

  it.each(SEED_CASES)(
    'a %s takes the exact fen off a %s line of %i',
    async (category, item, amount, expected) => {
      const response = await harness.call('POST', '/v1/rules/preview', {
        body: { rules: seedRules, checkout: checkout(category, [[amount, item]]) },
        token: harness.finance,
      });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({
        gross_minor: amount,
        discount_minor: expected,
        merchant_funded_minor: expected,
        union_funded_minor: 0,
        net_minor: amount - expected,
        budget_exhausted: false,
      });
      expect(response.body.lines[0].applied_rules).toHaveLength(1);
    },
  );

  it('waives registration (1200) and takes 3600 off examination (18000) in one hospital checkout', async () => {
    const response = await harness.call('POST', '/v1/rules/preview', {
      body: {
        rules: seedRules,
        checkout: checkout('hospital', [
          [1_200, 'registration_fee'],
          [18_000, 'examination_fee'],
        ]),
      },
    });
    expect(response.body.lines.map((line: { discount_minor: number }) => line.discount_minor)).toEqual([
      1_200, 3_600,
    ]);
    expect(response.body).toMatchObject({ gross_minor: 19_200, discount_minor: 4_800, net_minor: 14_400 });
  });

  it('gives the same through published rules, by id and as the live ruleset', async () => {
    const ruleIds: string[] = [];
    for (const rule of seedRules) {
      const created = await harness.call('POST', '/v1/rules', { body: rule });
      ruleIds.push(created.body.rule_id as string);
      expect((await harness.call('POST', `/v1/rules/${created.body.rule_id}/publish`)).status).toBe(200);
    }
    const checkouts = SEED_CASES.map(([category, item, amount]) => checkout(category, [[amount, item]]));
    const byId = await harness.call('POST', '/v1/rules/preview', { body: { rule_ids: ruleIds, checkouts } });
    const live = await harness.call('POST', '/v1/rules/preview', { body: { checkouts } });
    for (const response of [byId, live]) {
      expect(response.status).toBe(200);
      expect(
        response.body.results.map((result: { discount_minor: number }) => result.discount_minor),
      ).toEqual(SEED_CASES.map(([, , , expected]) => expected));
      const discount = SEED_CASES.reduce((sum, [, , , expected]) => sum + expected, 0);
      const gross = SEED_CASES.reduce((sum, [, , amount]) => sum + amount, 0);
      expect(response.body.totals).toEqual({
        checkouts: 6,
        gross_minor: gross,
        discount_minor: discount,
        union_funded_minor: 0,
        merchant_funded_minor: discount,
        net_minor: gross - discount,
      });
    }
    expect(live.body.rules.map((rule: { rule_id: string }) => rule.rule_id).sort()).toEqual(
      [...ruleIds].sort(),
    );
    const unknown = await harness.call('POST', '/v1/rules/preview', {
      body: { rule_ids: [ruleIds[0], 'rul_0000000000000000000000000', ruleIds[0]], checkout: checkouts[0] },
    });
    expect(unknown.body.invalid_params.map((param: { name: string }) => param.name)).toEqual([
      'rule_ids.1',
      'rule_ids.2',
    ]);
  });
});

describe('previewing what a change would cost', () => {
  const subsidy = {
    name: '困难职工超市补贴',
    scope: { merchant_categories: ['supermarket'] },
    eligibility: { card_tiers: ['hardship'] },
    benefit: { type: 'percent_off', bps: 1000 },
    union_share_bps: 10000,
    budget_id: 'bud_preview',
    stacking: 'stackable',
    schedule: { valid_from: '2025-01-01T00:00:00+08:00' },
  };

  it('totals discount, union and merchant parts over past checkouts, budgets unlimited unless stated', async () => {
    const checkouts = [
      checkout('supermarket', [[10_000, 'groceries']], { tier: 'hardship' }),
      checkout('supermarket', [[10_000, 'groceries']]),
      checkout('supermarket', [[10_000, 'groceries']], { tier: 'hardship', status: 'frozen' }),
    ];
    const rules = [seedRules[1], subsidy];
    const response = await harness.call('POST', '/v1/rules/preview', { body: { rules, checkouts } });
    expect(response.status).toBe(200);
    // Hardship: 500 off (9.5折), then 10% of the 9,500 left (有折再折) = 950 from the union.
    expect(response.body.results.map((result: { discount_minor: number }) => result.discount_minor)).toEqual([
      1_450, 500, 0,
    ]);
    expect(response.body.results[2].no_discount_reason).toBe('card_frozen');
    expect(response.body.totals).toEqual({
      checkouts: 3,
      gross_minor: 30_000,
      discount_minor: 1_950,
      union_funded_minor: 950,
      merchant_funded_minor: 1_000,
      net_minor: 28_050,
    });
    const limited = await harness.call('POST', '/v1/rules/preview', {
      body: { rules, checkout: checkouts[0], budgets: { bud_preview: { remaining_minor: 300 } } },
    });
    expect(limited.body).toMatchObject({
      union_funded_minor: 300,
      budget_exhausted: true,
      discount_minor: 800,
    });
  });

  it('refuses bad previews with 400', async () => {
    const one = checkout('supermarket', [[100, 'groceries']]);
    const tooMany = await harness.call('POST', '/v1/rules/preview', {
      body: { rules: [seedRules[1]], checkouts: Array.from({ length: 10_001 }, () => one) },
    });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.invalid_params[0].name).toBe('checkouts');
    const both = await harness.call('POST', '/v1/rules/preview', {
      body: { checkout: one, checkouts: [one] },
    });
    expect(both.body.invalid_params[0].name).toBe('checkout');
    const badRule = await harness.call('POST', '/v1/rules/preview', {
      body: {
        rules: [
          {
            ...seedRules[1],
            schedule: { valid_from: '2025-06-01T00:00:00+08:00', valid_to: '2025-01-01T00:00:00+08:00' },
          },
        ],
        checkout: one,
      },
    });
    expect(badRule.body.invalid_params.map((param: { name: string }) => param.name)).toEqual([
      'rules.0.schedule.valid_to',
    ]);
    const badLine = await harness.call('POST', '/v1/rules/preview', {
      body: { checkout: { ...one, lines: [{ category: 'groceries', amount_minor: 0.5, quantity: 1 }] } },
    });
    expect(badLine.body.invalid_params[0].name).toBe('checkout.lines.0.amount_minor');
  });
});

describe('saying why a rule gave nothing', () => {
  // The admin's weekend rule of issue 17: 8折 on restaurant meals on Saturday and Sunday, the
  // union paying 30 %, at most ¥30 per card per day.
  const weekendMeals = {
    name: '周末餐饮8折',
    scope: { merchant_categories: ['restaurant'] },
    item_categories: ['food'],
    benefit: { type: 'percent_off', bps: 2000 },
    caps: { per_card_day_minor: 3_000 },
    union_share_bps: 3000,
    budget_id: 'bud_meals',
    schedule: { valid_from: '2025-01-01T00:00:00+08:00', days_of_week: [6, 7] },
  };
  const meal = (occurredAt: string, usage?: Record<string, unknown>) => ({
    ...checkout('restaurant', [[18_800, 'food']]),
    occurred_at: occurredAt,
    ...(usage === undefined ? {} : { usage }),
  });

  it('gives ¥30 off a Saturday basket of ¥188, split ¥21 merchant / ¥9 union, and says why not on a Tuesday', async () => {
    const saturday = await harness.call('POST', '/v1/rules/preview', {
      body: { rules: [weekendMeals], checkout: meal('2025-06-14T12:30:00+08:00') },
    });
    expect(saturday.status).toBe(200);
    expect(saturday.body).toMatchObject({
      discount_minor: 3_000,
      merchant_funded_minor: 2_100,
      union_funded_minor: 900,
      rule_outcomes: [{ rule_id: 'preview_1', version: 1, outcome: 'applied' }],
    });

    const tuesday = await harness.call('POST', '/v1/rules/preview', {
      body: { rules: [weekendMeals], checkout: meal('2025-06-10T12:30:00+08:00') },
    });
    expect(tuesday.body).toMatchObject({
      discount_minor: 0,
      rule_outcomes: [{ rule_id: 'preview_1', outcome: 'outside_schedule' }],
    });
  });

  it('names a used cap, a card the rule is not for and an empty budget, checkout by checkout', async () => {
    const saturday = '2025-06-14T12:30:00+08:00';
    const response = await harness.call('POST', '/v1/rules/preview', {
      body: {
        rules: [{ ...weekendMeals, eligibility: { card_tiers: ['model_worker', 'standard'] } }],
        checkouts: [
          meal(saturday, { preview_1: { card_day_minor: 3_000, card_month_minor: 3_000 } }),
          { ...meal(saturday), card: { tier: 'hardship', union_id: 'union-361102' } },
          { ...checkout('hotel', [[18_800, 'food']]), occurred_at: saturday },
        ],
        budgets: { bud_meals: { remaining_minor: 0 } },
      },
    });
    expect(response.status).toBe(200);
    expect(
      response.body.results.map(
        (result: { rule_outcomes: { outcome: string }[] }) => result.rule_outcomes[0]?.outcome,
      ),
    ).toEqual(['cap_used', 'card_not_eligible', 'merchant_not_in_scope']);
    const empty = await harness.call('POST', '/v1/rules/preview', {
      body: {
        rules: [weekendMeals],
        checkout: meal(saturday),
        budgets: { bud_meals: { remaining_minor: 0 } },
      },
    });
    expect(empty.body).toMatchObject({
      union_funded_minor: 0,
      budget_exhausted: true,
      rule_outcomes: [{ rule_id: 'preview_1', outcome: 'budget_short', shortfall_minor: 900 }],
    });
  });
});
