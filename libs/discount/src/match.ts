/**
 * Which merchants, items and cards a rule reaches, and what its benefit is worth on one line.
 */
import { BPS_WHOLE, applyBps, describeRate, formatYuan } from '@puhui/money';
import type { Benefit, CardTier, DiscountRule, MerchantCategory } from './schema';

export interface MerchantIdentity {
  merchant_id: string;
  category: MerchantCategory;
}

export interface CardIdentity {
  tier: CardTier;
  union_id: string;
}

/**
 * Scope: with both lists null the rule reaches every merchant; otherwise a merchant matches
 * when its category is listed OR its id is listed ("all hotels, plus these two guesthouses").
 */
export function ruleMatchesMerchant(rule: DiscountRule, merchant: MerchantIdentity): boolean {
  const { merchant_categories: categories, merchant_ids: merchantIds } = rule.scope;
  if (categories === null && merchantIds === null) return true;
  return (
    (categories?.includes(merchant.category) ?? false) ||
    (merchantIds?.includes(merchant.merchant_id) ?? false)
  );
}

/**
 * Eligibility: each list that is given must match (tier listed AND union listed); null lists
 * do not restrict. This looks at who the card belongs to, not its status: a rate sheet lists
 * what a card could get, and checkout refuses discounts to cards that are not active.
 */
export function ruleAppliesToCard(rule: DiscountRule, card: CardIdentity): boolean {
  const { card_tiers: tiers, union_ids: unionIds } = rule.eligibility;
  return (
    (tiers === null || tiers.includes(card.tier)) && (unionIds === null || unionIds.includes(card.union_id))
  );
}

/** Item categories: null means any item; otherwise the line's category must be listed. */
export function ruleCoversItem(rule: DiscountRule, itemCategory: string): boolean {
  return rule.item_categories === null || rule.item_categories.includes(itemCategory);
}

/** The smaller of a line amount and a per-unit price times the quantity, without overflowing. */
function perUnitTotal(amountMinor: number, unitMinor: number, quantity: number): number {
  const total = BigInt(unitMinor) * BigInt(quantity);
  return total >= BigInt(amountMinor) ? amountMinor : Number(total);
}

/**
 * What a benefit takes off `amountMinor` (a line's amount, or what remains of it after earlier
 * rules) for `quantity` units. Never more than the amount, never negative.
 */
export function benefitDiscount(benefit: Benefit, amountMinor: number, quantity: number): number {
  switch (benefit.type) {
    case 'percent_off':
      return applyBps(amountMinor, benefit.bps);
    case 'amount_off':
      return perUnitTotal(amountMinor, benefit.amount_minor, quantity);
    case 'fixed_price':
      return amountMinor - perUnitTotal(amountMinor, benefit.amount_minor, quantity);
    case 'waive':
      return amountMinor;
  }
}

/** The benefit for people, in both forms: "7.8折 · 22% off", "立减¥5.00/件 · ¥5.00 off each". */
export function describeBenefit(benefit: Benefit): string {
  switch (benefit.type) {
    case 'percent_off':
      return describeRate(benefit.bps);
    case 'waive':
      return describeRate(BPS_WHOLE);
    case 'amount_off':
      return `立减${formatYuan(benefit.amount_minor)}/件 · ${formatYuan(benefit.amount_minor)} off each`;
    case 'fixed_price':
      return `特价${formatYuan(benefit.amount_minor)}/件 · ${formatYuan(benefit.amount_minor)} each`;
  }
}
