/**
 * Previews: what rules would give on checkouts, priced by the same engine settlement uses.
 * Budgets are unlimited unless the caller states what is left, so a preview shows what a
 * change would cost, not what today's balances would allow.
 *
 * Pure: `previewAnswer` runs in a worker thread (src/workers/preview.ts), given the stored
 * rules the main thread read, within the caps of `PreviewCaps` (decision 0019).
 */
import { evaluateCheckout, explainCheckout } from '@puhui/discount';
import type { CheckoutContext, CheckoutResult, DiscountRule, RuleOutcome } from '@puhui/discount';
import { Unprocessable, ValidationFailed } from '@puhui/errors';
import type { InvalidParam } from '@puhui/errors';
import { MoneyError, sumFen } from '@puhui/money';
import { ruleOf, ruleProblems } from './rule';
import type { RuleFields } from './rule';

/** A checkout to price: as settlement sees it, with the card's status defaulting to active. */
export type PreviewCheckout = Omit<CheckoutContext, 'budgets' | 'usage'> & {
  usage?: CheckoutContext['usage'];
};

export type Budgets = CheckoutContext['budgets'];

/** Large enough never to bind, small enough to stay an exact integer when summed. */
const UNLIMITED_MINOR = Number.MAX_SAFE_INTEGER;

/** Every budget the rules draw on: as stated by the caller, else unlimited. */
export function previewBudgets(rules: readonly DiscountRule[], stated: Budgets): Budgets {
  const budgets: Record<string, { remaining_minor: number }> = {};
  for (const rule of rules) {
    if (rule.budget_id !== null) budgets[rule.budget_id] = { remaining_minor: UNLIMITED_MINOR };
  }
  for (const [budgetId, budget] of Object.entries(stated)) budgets[budgetId] = budget;
  return budgets;
}

/** A priced checkout, with every rule's outcome: why one that gave nothing gave nothing. */
export type PreviewResult = CheckoutResult & { rule_outcomes: RuleOutcome[] };

export function previewCheckout(
  rules: readonly DiscountRule[],
  checkout: PreviewCheckout,
  budgets: Budgets,
): PreviewResult {
  const context = { ...checkout, usage: checkout.usage ?? {}, budgets };
  const result = evaluateCheckout(rules, context);
  return { ...result, rule_outcomes: explainCheckout(rules, context, result) };
}

export interface PreviewTotals {
  checkouts: number;
  gross_minor: number;
  discount_minor: number;
  union_funded_minor: number;
  merchant_funded_minor: number;
  net_minor: number;
}

/**
 * What the rules would have cost over a list of checkouts. Each checkout is priced on its
 * own: budgets are not drawn down across the list, and usage is what each checkout states.
 */
export function previewTotals(results: readonly CheckoutResult[]): PreviewTotals {
  const total = (field: Exclude<keyof PreviewTotals, 'checkouts'>) => {
    try {
      return sumFen(results.map((result) => result[field]));
    } catch (error) {
      if (!(error instanceof MoneyError)) throw error;
      // 10,000 checkouts of ¥10 billion lines can pass 2^53 fen; say so rather than round.
      throw new Unprocessable('totals_overflow', `The checkouts' ${field} is too large to total exactly.`);
    }
  };
  return {
    checkouts: results.length,
    gross_minor: total('gross_minor'),
    discount_minor: total('discount_minor'),
    union_funded_minor: total('union_funded_minor'),
    merchant_funded_minor: total('merchant_funded_minor'),
    net_minor: total('net_minor'),
  };
}

export interface PreviewRequest {
  rule_ids?: string[];
  rules?: RuleFields[];
  checkout?: PreviewCheckout;
  checkouts?: PreviewCheckout[];
  budgets?: Budgets;
}

export interface PreviewedRule {
  rule_id: string;
  version: number;
  name: string;
}

export type PreviewAnswer =
  | (PreviewResult & { rules: PreviewedRule[] })
  | { rules: PreviewedRule[]; results: PreviewResult[]; totals: PreviewTotals };

/**
 * The stored rules a preview may price, as the main thread read them: by id the rule's pending
 * draft, else its live version (an id without either is not there); and the live ruleset when
 * the request names no rules (null otherwise).
 */
export interface KnownRules {
  byId: ReadonlyMap<string, DiscountRule>;
  live: readonly DiscountRule[] | null;
}

/**
 * What one preview may ask of the service (PREVIEW_* configuration, decision 0019). The body
 * limit and the schema bound checkouts (10,000), lines per checkout (500) and rules (100); these
 * bound what those allow together: 10,000 checkouts of 500 lines, or 100 stacking rules on each
 * line, would take minutes and answer gigabytes.
 */
export interface PreviewCaps {
  /** Lines over every checkout of the preview. */
  linesMax: number;
  /** Entries of `applied_rules` over every line of every checkout: the answer's size. */
  appliedRulesMax: number;
  /** Milliseconds of pricing, after which the preview is refused rather than finished. */
  pricingMsMax: number;
}

function storedRules(ruleIds: readonly string[], known: KnownRules): DiscountRule[] {
  const problems: InvalidParam[] = [];
  const rules: DiscountRule[] = [];
  ruleIds.forEach((ruleId, index) => {
    const rule = known.byId.get(ruleId);
    if (ruleIds.indexOf(ruleId) !== index)
      problems.push({ name: `rule_ids.${index}`, reason: 'is repeated' });
    else if (rule === undefined) problems.push({ name: `rule_ids.${index}`, reason: 'is not a known rule' });
    else rules.push(rule);
  });
  if (problems.length > 0) throw new ValidationFailed(problems);
  return rules;
}

/** Unsaved rule bodies get ids `preview_1`, `preview_2`, … in the order given. */
function bodyRules(bodies: readonly RuleFields[]): DiscountRule[] {
  const rules = bodies.map((fields, index) => ruleOf(`preview_${index + 1}`, 1, fields));
  const problems = rules.flatMap((rule, index) =>
    ruleProblems(rule).map((problem) => ({ name: `rules.${index}.${problem.name}`, reason: problem.reason })),
  );
  if (problems.length > 0) throw new ValidationFailed(problems);
  return rules;
}

/** The rules asked about: stored ones by id, then unsaved bodies; the live ruleset when neither. */
function previewedRules(request: PreviewRequest, known: KnownRules): readonly DiscountRule[] {
  if (request.rule_ids === undefined && request.rules === undefined) {
    if (known.live === null) throw new Error('a preview of the live ruleset was given no live rules');
    return known.live;
  }
  return [
    ...(request.rule_ids === undefined ? [] : storedRules(request.rule_ids, known)),
    ...(request.rules === undefined ? [] : bodyRules(request.rules)),
  ];
}

function refuseTooLarge(detail: string, extensions: Record<string, unknown>): never {
  throw new Unprocessable('preview_too_large', detail, extensions);
}

/**
 * Prices each checkout in turn, refusing the preview as soon as its answer outgrows
 * `appliedRulesMax` or its pricing `pricingMsMax`: one checkout is at most 500 lines, so the
 * refusal comes within one checkout's pricing of the cap.
 */
function priceCheckouts(
  rules: readonly DiscountRule[],
  checkouts: readonly PreviewCheckout[],
  budgets: Budgets,
  caps: PreviewCaps,
): PreviewResult[] {
  const startedAt = performance.now();
  let applied = 0;
  return checkouts.map((checkout) => {
    const result = previewCheckout(rules, checkout, budgets);
    for (const line of result.lines) applied += line.applied_rules.length;
    if (applied > caps.appliedRulesMax)
      refuseTooLarge(
        `The answer would list more than ${caps.appliedRulesMax} applied rules (over every line of every checkout). Preview fewer checkouts or rules at once.`,
        { applied_rules_max: caps.appliedRulesMax },
      );
    if (performance.now() - startedAt > caps.pricingMsMax)
      refuseTooLarge(
        `Pricing took longer than ${caps.pricingMsMax} ms. Preview fewer checkouts or rules at once.`,
        { pricing_ms_max: caps.pricingMsMax },
      );
    return result;
  });
}

/**
 * A preview of a valid request: the rules asked about (stored ones as `known` holds them),
 * priced on its one checkout or its list of checkouts, within `caps`.
 */
export function previewAnswer(request: PreviewRequest, known: KnownRules, caps: PreviewCaps): PreviewAnswer {
  const rules = previewedRules(request, known);
  const checkouts = request.checkouts ?? (request.checkout === undefined ? [] : [request.checkout]);
  const lines = checkouts.reduce((count, checkout) => count + checkout.lines.length, 0);
  if (lines > caps.linesMax)
    throw new ValidationFailed([
      {
        name: 'checkouts',
        reason: `hold ${lines} lines in all; one preview prices at most ${caps.linesMax}`,
      },
    ]);
  const budgets = previewBudgets(rules, request.budgets ?? {});
  const previewed = rules.map((rule) => ({ rule_id: rule.rule_id, version: rule.version, name: rule.name }));
  const results = priceCheckouts(rules, checkouts, budgets, caps);
  if (request.checkout !== undefined) return { ...(results[0] as PreviewResult), rules: previewed };
  return { rules: previewed, results, totals: previewTotals(results) };
}
