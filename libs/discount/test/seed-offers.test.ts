import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describeBenefit, evaluateCheckout, type DiscountRule, type MerchantCategory } from '@puhui/discount';
import { line, makeContext, makeRule } from './support';

interface StandingOffer {
  merchant_category: MerchantCategory;
  item_category: string;
  offer: string;
  discount_bps: number;
}

const seed = JSON.parse(readFileSync(path.join(__dirname, '../../../data/seed-programme.json'), 'utf8')) as {
  standing_offers: StandingOffer[];
};

/** Each standing offer becomes a merchant-funded percent_off rule for its merchant category. */
function offerRule(offer: StandingOffer): DiscountRule {
  return makeRule({
    rule_id: `seed-${offer.merchant_category}-${offer.item_category}`,
    scope: { merchant_categories: [offer.merchant_category], merchant_ids: null },
    item_categories: offer.item_category === 'any' ? null : [offer.item_category],
    benefit: { type: 'percent_off', bps: offer.discount_bps },
  });
}

const seedRules = seed.standing_offers.map(offerRule);

function checkoutAt(category: MerchantCategory, lines: ReturnType<typeof line>[]) {
  return evaluateCheckout(
    seedRules,
    makeContext({ merchant: { merchant_id: `${category}-1`, category }, lines }),
  );
}

describe('the seed programme’s standing offers', () => {
  it('has the six offers the design lists', () => {
    expect(seed.standing_offers).toHaveLength(6);
  });

  it.each([
    ['scenic_spot', 'ticket', 'ticket', 12_001, 6_001], // 5折 on ¥120.01: 6000.5 rounds half up
    ['supermarket', 'any', 'groceries', 3_555, 178], // 9.5折 on ¥35.55: 177.75 → ¥1.78 off
    ['pharmacy', 'any', 'medicine', 8_800, 1_320], // 8.5折
    ['hospital', 'registration_fee', 'registration_fee', 1_200, 1_200], // 免费挂号
    ['hospital', 'examination_fee', 'examination_fee', 18_000, 3_600], // 8折
    ['hotel', 'room', 'room', 38_800, 8_536], // 7.8折
  ] as const)(
    'a %s offer on %s takes the right amount off a %s line of %i fen',
    (category, offered, item, amount, expected) => {
      const result = checkoutAt(category, [line(amount, item)]);
      expect(result.discount_minor).toBe(expected);
      expect(result.merchant_funded_minor).toBe(expected);
      expect(result.union_funded_minor).toBe(0);
      expect(result.net_minor).toBe(amount - expected);
      expect(result.lines[0]?.applied_rules).toEqual([
        {
          rule_id: `seed-${category}-${offered}`,
          version: 1,
          discount_minor: expected,
          union_funded_minor: 0,
          merchant_funded_minor: expected,
          budget_id: null,
          budget_balance_after_minor: null,
        },
      ]);
    },
  );

  it.each(
    seed.standing_offers.map((offer) => [offer.merchant_category, offer.item_category, offer] as const),
  )('describes the %s %s offer in its 折 form', (_category, _item, offer) => {
    const description = describeBenefit({ type: 'percent_off', bps: offer.discount_bps });
    const zhe = offer.offer.endsWith('折') ? offer.offer : '免费';
    expect(description.startsWith(`${zhe} · `)).toBe(true);
  });

  it('waives registration and takes 20% off examination in one hospital checkout', () => {
    const result = checkoutAt('hospital', [line(1_200, 'registration_fee'), line(18_000, 'examination_fee')]);
    expect(result.lines.map((checkoutLine) => checkoutLine.discount_minor)).toEqual([1_200, 3_600]);
    expect(result).toMatchObject({ gross_minor: 19_200, discount_minor: 4_800, net_minor: 14_400 });
  });

  it('gives nothing for items an offer does not name', () => {
    const result = checkoutAt('hospital', [line(5_000, 'medicine')]);
    expect(result.discount_minor).toBe(0);
    expect(result.lines[0]?.applied_rules).toEqual([]);
    expect(result.rule_grants).toEqual([]);
  });

  it('gives nothing at a merchant category without an offer', () => {
    expect(checkoutAt('restaurant', [line(5_000, 'meal')]).discount_minor).toBe(0);
  });
});
