/**
 * DESIGN §4 steps 5–6: who pays for each rule's discount, what the union budgets can cover,
 * and the checkout's totals with line figures that add up exactly.
 */
import assert from 'node:assert/strict';
import { allocateByLargestRemainder, applyBps, sumFen } from '@puhui/money';
import {
  ownEntry,
  type AppliedRule,
  type CheckoutContext,
  type CheckoutLine,
  type CheckoutResult,
  type LineResult,
  type NoDiscountReason,
  type RuleGrant,
} from './checkout';
import { compareRules } from './order';
import type { DiscountRule } from './schema';

/** A rule's discount on each line (canonical positions), after its caps. */
export interface RuleDiscount {
  rule: DiscountRule;
  line_discounts: number[];
}

interface FundedRule {
  grant: RuleGrant;
  /** What the rule finally grants on each line (canonical positions) and the union's part of it. */
  line_discounts: number[];
  line_union: number[];
  /** What the rule's budget holds after its draw; null for a rule that draws none. */
  budget_balance_after_minor: number | null;
}

export interface Funding {
  /** In application order, for each line's applied_rules. */
  applied: FundedRule[];
  /** In processing order, the order the budgets were drawn. */
  grants: RuleGrant[];
}

/**
 * Funds one rule: union = round_half_up(discount × share), limited by what its budget has left
 * (`balances` carries the draws of rules funded earlier in this checkout); merchant = the rest.
 * A shortfall is not granted, so the discount shrinks by it while the merchant part stays.
 */
function fundRule(
  { rule, line_discounts: lineDiscounts }: RuleDiscount,
  budgets: CheckoutContext['budgets'],
  balances: Map<string, number>,
): FundedRule {
  const discount = sumFen(lineDiscounts);
  const unionWanted = applyBps(discount, rule.union_share_bps);
  const merchant = discount - unionWanted;
  let union = unionWanted;
  let balanceAfter: number | null = null;
  if (unionWanted > 0) {
    assert.ok(rule.budget_id !== null, `rule ${rule.rule_id} has a union share but no budget`);
    const available = balances.get(rule.budget_id) ?? ownEntry(budgets, rule.budget_id)?.remaining_minor ?? 0;
    union = Math.min(unionWanted, available);
    balanceAfter = available - union;
    balances.set(rule.budget_id, balanceAfter);
  }
  const granted = merchant + union;
  // Each line keeps at most its capped discount (largest remainder never exceeds a ceil of a
  // quota ≤ the weight), and the union's line part at most the line's grant.
  const lineGranted = allocateByLargestRemainder(granted, lineDiscounts);
  const lineUnion = allocateByLargestRemainder(union, lineGranted);
  return {
    grant: {
      rule_id: rule.rule_id,
      version: rule.version,
      budget_id: rule.budget_id,
      discount_minor: granted,
      union_funded_minor: union,
      merchant_funded_minor: merchant,
      budget_shortfall_minor: unionWanted - union,
    },
    line_discounts: lineGranted,
    line_union: lineUnion,
    budget_balance_after_minor: balanceAfter,
  };
}

/** Funds every applied rule, drawing budgets in processing order (priority desc, then rule_id). */
export function fundRules(applied: readonly RuleDiscount[], budgets: CheckoutContext['budgets']): Funding {
  const balances = new Map<string, number>();
  const funded = new Map<string, FundedRule>();
  const processing = [...applied].sort((a, b) => compareRules(a.rule, b.rule));
  for (const item of processing) funded.set(item.rule.rule_id, fundRule(item, budgets, balances));
  const lookup = (item: RuleDiscount): FundedRule => funded.get(item.rule.rule_id) as FundedRule;
  return { applied: applied.map(lookup), grants: processing.map((item) => lookup(item).grant) };
}

function appliedRulesAt(funding: Funding, position: number): AppliedRule[] {
  return funding.applied.flatMap((funded) => {
    const discount = funded.line_discounts[position] as number;
    const unionPart = funded.line_union[position] as number;
    if (discount === 0) return [];
    const { rule_id, version } = funded.grant;
    const drawn = funded.budget_balance_after_minor !== null;
    return [
      {
        rule_id,
        version,
        discount_minor: discount,
        union_funded_minor: unionPart,
        merchant_funded_minor: discount - unionPart,
        budget_id: drawn ? funded.grant.budget_id : null,
        budget_balance_after_minor: funded.budget_balance_after_minor,
      },
    ];
  });
}

/** Maps canonical positions back to input order and adds the totals (step 6). */
export function assembleResult(
  inputLines: readonly CheckoutLine[],
  order: readonly number[],
  funding: Funding,
  reason: NoDiscountReason | null,
): CheckoutResult {
  const lines: LineResult[] = new Array<LineResult>(inputLines.length);
  order.forEach((inputIndex, position) => {
    const { category, amount_minor, quantity } = inputLines[inputIndex] as CheckoutLine;
    const applied_rules = appliedRulesAt(funding, position);
    const discount_minor = sumFen(applied_rules.map((applied) => applied.discount_minor));
    assert.ok(discount_minor <= amount_minor, 'a line discount never exceeds its amount');
    lines[inputIndex] = { category, amount_minor, quantity, discount_minor, applied_rules };
  });
  const gross = sumFen(inputLines.map((line) => line.amount_minor));
  const union = sumFen(funding.grants.map((grant) => grant.union_funded_minor));
  const merchant = sumFen(funding.grants.map((grant) => grant.merchant_funded_minor));
  const discount = merchant + union;
  assert.equal(
    sumFen(lines.map((line) => line.discount_minor)),
    discount,
    'line discounts add up to the grants',
  );
  return {
    gross_minor: gross,
    discount_minor: discount,
    merchant_funded_minor: merchant,
    union_funded_minor: union,
    net_minor: gross - discount,
    budget_exhausted: funding.grants.some((grant) => grant.budget_shortfall_minor > 0),
    no_discount_reason: reason,
    lines,
    rule_grants: funding.grants,
  };
}
