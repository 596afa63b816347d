/**
 * DESIGN §4 step 7: a refund reverses each rule's discount and union subsidy in proportion
 * to the refunded gross, with the same round-half-up rounding.
 *
 * The cumulative method: after this refund, a rule has reversed
 * round_half_up(grant × refunded_after / gross) in total, and this refund reverses that
 * target minus what earlier refunds reversed. Rounding errors therefore never accumulate,
 * no partial refund reverses more than was granted, and the refund that brings the total
 * to the gross reverses exactly what is left.
 */
import assert from 'node:assert/strict';
import { DomainError } from '@puhui/errors';
import { isFen, prorate, sumFen } from '@puhui/money';
import { ownEntry, type RuleGrant } from './checkout';

export class RefundExceedsRemaining extends DomainError {
  constructor(refundMinor: number, refundableMinor: number) {
    super('unprocessable', 'refund_exceeds_remaining', 'Refund exceeds the refundable amount', {
      detail:
        refundMinor <= 0
          ? `A refund must be a positive amount; got ${refundMinor} fen.`
          : `A refund of ${refundMinor} fen exceeds the ${refundableMinor} fen still refundable.`,
      extensions: { refund_minor: refundMinor, refundable_minor: refundableMinor },
    });
  }
}

/** What earlier refunds of the same checkout reversed for one rule. */
export interface ReversedBefore {
  discount_minor: number;
  union_funded_minor: number;
}

export interface RefundInput {
  /** The captured checkout's gross. */
  gross_minor: number;
  /** The capture's rule_grants. */
  grants: readonly RuleGrant[];
  /** Gross refunded by earlier refunds of this checkout. */
  refunded_before_minor: number;
  /** By rule_id; a missing rule has had nothing reversed. */
  reversed_before: Readonly<Record<string, ReversedBefore>>;
  refund_minor: number;
}

export interface RuleReversal {
  rule_id: string;
  version: number;
  budget_id: string | null;
  discount_reversed_minor: number;
  union_reversed_minor: number;
  merchant_reversed_minor: number;
}

export interface RefundResult {
  refund_gross_minor: number;
  discount_reversed_minor: number;
  union_reversed_minor: number;
  merchant_reversed_minor: number;
  /** refund_gross − discount_reversed: what goes back to the card. */
  member_refund_minor: number;
  /** One per grant, in the grants' order (zero reversals included). */
  reversals: RuleReversal[];
}

function clamp(value: number, lowest: number, highest: number): number {
  return Math.min(Math.max(value, lowest), highest);
}

function isNonNegativeFen(value: unknown): value is number {
  return isFen(value) && value >= 0;
}

function assertGrant(grant: RuleGrant, before: ReversedBefore): void {
  const { discount_minor: discount, union_funded_minor: union, merchant_funded_minor: merchant } = grant;
  assert.ok(
    [discount, union, merchant].every(isNonNegativeFen),
    `grant ${grant.rule_id} has invalid amounts`,
  );
  assert.equal(
    union + merchant,
    discount,
    `grant ${grant.rule_id}: union + merchant must equal the discount`,
  );
  const merchantBefore = before.discount_minor - before.union_funded_minor;
  assert.ok(
    isNonNegativeFen(before.discount_minor) &&
      isNonNegativeFen(before.union_funded_minor) &&
      before.discount_minor <= discount &&
      before.union_funded_minor <= union &&
      merchantBefore >= 0 &&
      merchantBefore <= merchant,
    `reversed_before of ${grant.rule_id} is outside its grant`,
  );
}

function assertRefundInput(input: RefundInput, before: readonly ReversedBefore[]): void {
  const { gross_minor: gross, grants, refunded_before_minor: refundedBefore } = input;
  assert.ok(isFen(gross) && gross > 0, 'gross_minor must be a positive integer number of fen');
  assert.ok(isFen(input.refund_minor), 'refund_minor must be an integer number of fen');
  assert.ok(
    isNonNegativeFen(refundedBefore) && refundedBefore <= gross,
    'refunded_before_minor is outside 0..gross',
  );
  assert.equal(new Set(grants.map((grant) => grant.rule_id)).size, grants.length, 'grants repeat a rule_id');
  grants.forEach((grant, index) => assertGrant(grant, before[index] as ReversedBefore));
  const discount = sumFen(grants.map((grant) => grant.discount_minor));
  assert.ok(discount <= gross, 'grants exceed the gross');
  // What the card got back so far must lie between nothing and everything it paid.
  const memberBefore = refundedBefore - sumFen(before.map((reversed) => reversed.discount_minor));
  assert.ok(memberBefore >= 0 && memberBefore <= gross - discount, 'earlier refunds are inconsistent');
}

/**
 * Moves `targets` (each within [floors, ceilings]) so that their sum lies in [lowest, highest]:
 * excess comes off the last grants first (lowest priority), shortage goes to the first.
 */
function settleTotal(
  targets: number[],
  floors: number[],
  ceilings: number[],
  lowest: number,
  highest: number,
): number[] {
  const settled = [...targets];
  let excess = sumFen(settled) - highest;
  for (let index = settled.length - 1; index >= 0 && excess > 0; index -= 1) {
    const take = Math.min(excess, (settled[index] as number) - (floors[index] as number));
    settled[index] = (settled[index] as number) - take;
    excess -= take;
  }
  let shortage = lowest - sumFen(settled);
  for (let index = 0; index < settled.length && shortage > 0; index += 1) {
    const give = Math.min(shortage, (ceilings[index] as number) - (settled[index] as number));
    settled[index] = (settled[index] as number) + give;
    shortage -= give;
  }
  assert.ok(excess <= 0 && shortage <= 0, 'refund targets cannot be settled');
  return settled;
}

/**
 * Cumulative discount reversed per grant after this refund. Rounding each grant on its own can
 * make the total reversal exceed the refund when several rules share a line (two 50-fen grants
 * on a 100-fen checkout, 1 fen refunded: each rounds 0.5 up), which would take money from the
 * card. The total is therefore held where the card's cumulative refund stays between what it
 * already got back and the net it paid; a grant's deferred fen come back in later refunds.
 */
function discountTargets(input: RefundInput, before: readonly ReversedBefore[]): number[] {
  const refundedAfter = input.refunded_before_minor + input.refund_minor;
  const floors = before.map((reversed) => reversed.discount_minor);
  const ceilings = input.grants.map((grant) => grant.discount_minor);
  const targets = input.grants.map((grant, index) =>
    clamp(
      prorate(grant.discount_minor, refundedAfter, input.gross_minor),
      floors[index] as number,
      grant.discount_minor,
    ),
  );
  const net = input.gross_minor - sumFen(ceilings);
  const lowest = Math.max(sumFen(floors), refundedAfter - net);
  const highest = Math.min(sumFen(ceilings), sumFen(floors) + input.refund_minor);
  return settleTotal(targets, floors, ceilings, lowest, highest);
}

/**
 * Reverses a refund's share of a captured checkout's discounts. Throws RefundExceedsRemaining
 * when the refund is not positive or exceeds what is still refundable.
 */
export function computeRefund(input: RefundInput): RefundResult {
  const before = input.grants.map(
    (grant) => ownEntry(input.reversed_before, grant.rule_id) ?? { discount_minor: 0, union_funded_minor: 0 },
  );
  assertRefundInput(input, before);
  const refundable = input.gross_minor - input.refunded_before_minor;
  if (input.refund_minor <= 0 || input.refund_minor > refundable) {
    throw new RefundExceedsRemaining(input.refund_minor, refundable);
  }
  const refundedAfter = input.refunded_before_minor + input.refund_minor;
  const discountAfter = discountTargets(input, before);
  const reversals = input.grants.map((grant, index): RuleReversal => {
    const { discount_minor: discountBefore, union_funded_minor: unionBefore } = before[
      index
    ] as ReversedBefore;
    const discount = discountAfter[index] as number;
    // The union's cumulative part follows its own proportion, kept where neither the union nor
    // the merchant part goes backwards or beyond its grant; at a full refund this pins it to the grant.
    const union = clamp(
      prorate(grant.union_funded_minor, refundedAfter, input.gross_minor),
      Math.max(unionBefore, discount - grant.merchant_funded_minor),
      Math.min(grant.union_funded_minor, discount - (discountBefore - unionBefore)),
    );
    return {
      rule_id: grant.rule_id,
      version: grant.version,
      budget_id: grant.budget_id,
      discount_reversed_minor: discount - discountBefore,
      union_reversed_minor: union - unionBefore,
      merchant_reversed_minor: discount - discountBefore - (union - unionBefore),
    };
  });
  const discountReversed = sumFen(reversals.map((reversal) => reversal.discount_reversed_minor));
  const unionReversed = sumFen(reversals.map((reversal) => reversal.union_reversed_minor));
  return {
    refund_gross_minor: input.refund_minor,
    discount_reversed_minor: discountReversed,
    union_reversed_minor: unionReversed,
    merchant_reversed_minor: discountReversed - unionReversed,
    member_refund_minor: input.refund_minor - discountReversed,
    reversals,
  };
}
