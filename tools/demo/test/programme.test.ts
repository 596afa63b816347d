import { checkUnionPayPan } from '@puhui/cards';
import { MERCHANT_CATEGORIES } from '@puhui/contracts';
import { checkCreditCode, checkResidentId } from '@puhui/kyc';
import { yuan } from '../src/flows';
import {
  CARD_COUNT,
  MERCHANTS,
  SEED,
  applicationOf,
  demoCard,
  demoCardsCsv,
  exampleCards,
  offerLabel,
  standingOfferRules,
  subsidyRules,
} from '../src/programme';

describe('the demo programme', () => {
  it('has merchants for every category the seed programme names, all in Shangrao', () => {
    const named = new Set([
      ...SEED.standing_offers.map((offer) => offer.merchant_category),
      ...Object.keys(SEED.merchant_category_codes_commonly_used),
    ]);
    const covered = new Set(MERCHANTS.map((merchant) => merchant.category));
    for (const category of named) expect(covered).toContain(category);
    for (const category of covered) expect(MERCHANT_CATEGORIES).toContain(category);
    expect(new Set(MERCHANTS.map((merchant) => merchant.legal_name)).size).toBe(MERCHANTS.length);
  });

  it('makes applications with valid, distinct papers', () => {
    const applications = MERCHANTS.map((merchant, index) => applicationOf(merchant, 3_900_001 + index));
    for (const application of applications) {
      expect(checkCreditCode(application.credit_code).ok).toBe(true);
      expect(checkResidentId(application.legal_representative.id_number, '2026-11-21').ok).toBe(true);
      expect(application.region_code).toBe('361100');
      expect(application.settlement_account.account_name).toBe(application.legal_name);
      expect(application.mcc).toMatch(/^\d{4}$/u);
    }
    expect(new Set(applications.map((application) => application.credit_code)).size).toBe(MERCHANTS.length);
    expect(applications.find((application) => application.category === 'supermarket')?.mcc).toBe('5411');
  });

  it('turns every standing offer into a rule with exactly its basis points', () => {
    const rules = standingOfferRules('2026-01-01T00:00:00+08:00');
    expect(rules).toHaveLength(SEED.standing_offers.length);
    SEED.standing_offers.forEach((offer, index) => {
      const rule = rules[index] as Record<string, unknown>;
      expect(rule.scope).toEqual({ merchant_categories: [offer.merchant_category], merchant_ids: null });
      expect(rule.item_categories).toEqual(offer.item_category === 'any' ? null : [offer.item_category]);
      expect(rule.benefit).toEqual(
        offer.discount_bps === 10_000 ? { type: 'waive' } : { type: 'percent_off', bps: offer.discount_bps },
      );
      expect(rule.merchant_share_bps).toBe(10_000);
    });
    const subsidies = subsidyRules('2026-01-01T00:00:00+08:00', { model_worker: 'bud_a', hardship: 'bud_b' });
    expect(subsidies.map((rule) => [rule.union_share_bps, rule.budget_id, rule.stacking])).toEqual([
      [10_000, 'bud_a', 'stackable'],
      [10_000, 'bud_b', 'stackable'],
    ]);
  });

  it('issues several thousand valid, distinct UnionPay cards across the three tiers', () => {
    const lines = demoCardsCsv().trim().split('\n');
    expect(lines[0]).toBe('card_number,member_id,union_id,tier');
    const rows = lines.slice(1).map((line) => line.split(','));
    expect(rows).toHaveLength(CARD_COUNT);
    expect(new Set(rows.map((row) => row[0])).size).toBe(CARD_COUNT);
    for (const row of rows) expect(checkUnionPayPan(row[0] as string).ok).toBe(true);
    const tiers = rows.reduce<Record<string, number>>((counts, row) => {
      counts[row[3] as string] = (counts[row[3] as string] ?? 0) + 1;
      return counts;
    }, {});
    expect(tiers).toEqual({ standard: 5_400, model_worker: 400, hardship: 200 });
    expect(exampleCards().hardship.tier).toBe('hardship');
    expect(demoCard(15 * 7 + 1).tier).toBe('model_worker');
  });

  it('shows offers and money as people read them', () => {
    expect(offerLabel(5_000)).toBe('5折 · 50% off');
    expect(offerLabel(2_200)).toBe('7.8折 · 22% off');
    expect(offerLabel(500)).toBe('9.5折 · 5% off');
    expect(offerLabel(10_000)).toBe('免费 · free');
    expect(yuan(1_234_567)).toBe('¥12,345.67');
    expect(yuan(-5)).toBe('-¥0.05');
  });
});
