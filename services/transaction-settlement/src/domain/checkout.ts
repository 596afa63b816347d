/** A captured sale (checkout) and its refunds, as the service holds them (DESIGN §4, §5). */
import type { LineResult, NoDiscountReason, RuleFunding, RuleGrant } from '@puhui/discount';
import type { SubsidyState } from './ledger';

/** A line's description: long enough for a product name, short enough for a statement cell. */
export const LINE_DESCRIPTION_LENGTH_MAX = 200;

/** A checkout's line as kept: the engine's result and the POS's words for it. */
export interface CheckoutLineRecord extends LineResult {
  /** As the POS sent it (safe text, at most LINE_DESCRIPTION_LENGTH_MAX characters); null when it sent none. */
  description: string | null;
}

/** The engine's lines (in the request's order) with the descriptions the request gave them. */
export function describedLines(
  lines: readonly LineResult[],
  requested: ReadonlyArray<{ description?: string | undefined }>,
): CheckoutLineRecord[] {
  return lines.map((line, index) => ({ ...line, description: requested[index]?.description ?? null }));
}

/** A line as a checkout captured before issue 13 stored it: no description, no budget per rule. */
export type StoredLine = Omit<CheckoutLineRecord, 'description' | 'applied_rules'> & {
  description?: string | null;
  applied_rules: Array<
    RuleFunding & { budget_id?: string | null; budget_balance_after_minor?: number | null }
  >;
};

/**
 * A checkout's lines as read back, the same for one captured before descriptions and budgets
 * were kept: its description null, each rule's budget the one its grant drew (its balance after
 * unrecorded, null).
 */
export function linesAsKept(
  lines: readonly StoredLine[],
  grants: readonly RuleGrant[],
): CheckoutLineRecord[] {
  const budgetOf = (ruleId: string) =>
    grants.find((grant) => grant.rule_id === ruleId && grant.union_funded_minor > 0)?.budget_id ?? null;
  return lines.map((line) => ({
    ...line,
    description: line.description ?? null,
    applied_rules: line.applied_rules.map((applied) => ({
      ...applied,
      budget_id: applied.budget_id === undefined ? budgetOf(applied.rule_id) : applied.budget_id,
      budget_balance_after_minor: applied.budget_balance_after_minor ?? null,
    })),
  }));
}

export type CheckoutStatus = 'captured' | 'partially_refunded' | 'refunded' | 'voided';

export interface Checkout {
  checkout_id: string;
  merchant_id: string;
  card_token: string;
  card_last4: string;
  currency: 'CNY';
  reference: string;
  status: CheckoutStatus;
  gross_minor: number;
  discount_minor: number;
  merchant_funded_minor: number;
  union_funded_minor: number;
  net_minor: number;
  refunded_minor: number;
  budget_exhausted: boolean;
  no_discount_reason: NoDiscountReason | null;
  ruleset_version: number;
  lines: CheckoutLineRecord[];
  grants: RuleGrant[];
  /** What the POS said (information only, within OCCURRED_AT_WINDOW_MS of created_at). */
  occurred_at: string;
  business_date: string;
  created_at: string;
  /** The instant whose Asia/Shanghai day and month hold this capture's card usage. */
  usage_at: string;
  voided_at: string | null;
  settlement_batch_id: string | null;
  /** Where the union part is: held until reconciliation confirms the sale (DESIGN §6). */
  subsidy_state: SubsidyState;
}

export interface Refund {
  refund_id: string;
  checkout_id: string;
  merchant_id: string;
  amount_minor: number;
  discount_reversed_minor: number;
  union_reversed_minor: number;
  merchant_reversed_minor: number;
  member_refund_minor: number;
  reversals: unknown;
  reason: string | null;
  business_date: string;
  created_at: string;
}
