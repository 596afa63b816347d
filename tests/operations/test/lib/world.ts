/**
 * Enough business for every metric family to have series: a merchant onboarded (events relayed
 * and consumed by two replicas), a funded budget, a card, a published rule the union co-funds,
 * captures that hit the rate sheet and draw on the budget, and a failed console sign-in. Built
 * from the e2e suite's helpers (tests/e2e/test/puhui.ts), as the chaos suite does.
 */
import { randomBytes } from 'node:crypto';
import {
  capture,
  checkoutBody,
  createRule,
  fundedBudget,
  onboardMerchant,
  publishRule,
  registerCard,
  waitUntilSettlementAccepts,
} from '../../../e2e/test/puhui';
import type { PuhuiSystem } from '../../../e2e/test/system';
import { waitFor } from '@puhui/testing';

/**
 * Captures in the world: enough for the histograms and the business-day gauges to move, and to
 * draw the budget below 10 % (PuhuiBudgetBelowTenPercent): each capture of 123.45 yuan at 5 % off
 * with 40 % union-funded draws 247 fen, so 8 draw 1,976 of 2,000 fen (1.2 % left), each in full.
 */
const CAPTURES = 8;
export const BUDGET_FEN = 2_000;

export interface World {
  budgetId: string;
  captured: number;
  /** What the captures drew on the budget, from settlement's answers. */
  unionFundedFen: number;
}

export async function setUpWorld(system: PuhuiSystem): Promise<World> {
  const merchant = await onboardMerchant(system);
  const budgetId = await fundedBudget(system, BUDGET_FEN);
  const card = await registerCard(system, 1);
  const rule = await createRule(system, {
    name: '运维测试超市9.5折',
    scope: { merchant_categories: null, merchant_ids: [merchant.merchant_id] },
    benefit: { type: 'percent_off', bps: 500 },
    union_share_bps: 4000,
    budget_id: budgetId,
    schedule: { valid_from: '2025-01-01T00:00:00+08:00' },
  });
  await publishRule(system, rule.body.rule_id as string);
  await waitUntilSettlementAccepts(system, merchant);
  // Captures until one carries the rule's discount (the rule reached settlement's sheets), then
  // the rest: CAPTURES discounted ones in all. One before the rule arrives draws nothing.
  let unionFundedFen = 0;
  let captured = 0;
  let discounted = 0;
  const captureOne = async (): Promise<boolean> => {
    const answer = await capture(
      system,
      merchant,
      checkoutBody(card, [{ category: 'general', amount_minor: 12_345 }]),
    );
    if (answer.status !== 201)
      throw new Error(`capture refused: ${answer.status} ${JSON.stringify(answer.body)}`);
    captured += 1;
    const unionFunded = Number(answer.body.union_funded_minor);
    unionFundedFen += unionFunded;
    if (unionFunded > 0) discounted += 1;
    return unionFunded > 0;
  };
  await waitFor(async () => ((await captureOne()) ? true : undefined), {
    timeoutMs: 30_000,
    intervalMs: 100,
    description: 'a capture the published rule discounts',
  });
  for (let index = discounted; index < CAPTURES; index += 1) await captureOne();
  await failedSignIn(system);
  return { budgetId, captured, unionFundedFen };
}

/** A sign-in with a password nobody has: `puhui_console_sign_ins_total{outcome="wrong_password"}`. */
async function failedSignIn(system: PuhuiSystem): Promise<void> {
  const origin = system.url('console');
  const response = await fetch(`${origin}/console/v1/session`, {
    method: 'POST',
    headers: { origin, 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'nobody-here', password: randomBytes(12).toString('base64url') }),
    signal: AbortSignal.timeout(15_000),
  });
  await response.text();
  if (response.status !== 401)
    throw new Error(`a made-up person's sign-in answered ${response.status}, not 401`);
}
