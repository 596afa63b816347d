/**
 * The preview's caps on the pure domain function the worker runs (domain/preview.ts): where
 * each one starts refusing. The HTTP behaviour at the default caps is in preview-workers.test.ts.
 */
import { ValidationFailed } from '@puhui/errors';
import type { DomainError } from '@puhui/errors';
import { previewAnswer } from '../src/domain/preview';
import type { PreviewCaps, PreviewRequest } from '../src/domain/preview';
import { previewBody } from '../src/http/schemas';

const rule = (bps: number) => ({
  name: `stacking ${bps}`,
  scope: { merchant_categories: ['supermarket'] },
  benefit: { type: 'percent_off', bps },
  stacking: 'stackable',
  schedule: { valid_from: '2025-01-01T00:00:00+08:00' },
});

const checkout = (lines: number) => ({
  merchant: { merchant_id: 'mch-1', category: 'supermarket' },
  card: { tier: 'standard', union_id: 'union-1' },
  occurred_at: '2025-06-10T10:00:00+08:00',
  lines: Array.from({ length: lines }, () => ({ category: 'groceries', amount_minor: 10_000 })),
});

/** The request as the worker has it: the body after the route's schema (defaults filled in). */
const request = (body: unknown) => previewBody.parse(body) as PreviewRequest;

const NO_STORED = { byId: new Map(), live: null };
const WIDE: PreviewCaps = { linesMax: 1_000, appliedRulesMax: 1_000, pricingMsMax: 60_000 };

function refusal(body: unknown, caps: PreviewCaps): DomainError {
  try {
    previewAnswer(request(body), NO_STORED, caps);
  } catch (error) {
    return error as DomainError;
  }
  throw new Error('the preview was not refused');
}

describe('preview caps', () => {
  const twoRules = { rules: [rule(100), rule(200)] };

  it('prices lines up to linesMax and refuses one more, naming checkouts', () => {
    const caps = { ...WIDE, linesMax: 6 };
    expect(
      previewAnswer(request({ ...twoRules, checkouts: [checkout(3), checkout(3)] }), NO_STORED, caps),
    ).toMatchObject({
      totals: { checkouts: 2 },
    });
    const error = refusal({ ...twoRules, checkouts: [checkout(3), checkout(4)] }, caps);
    expect(error).toBeInstanceOf(ValidationFailed);
    expect(error.invalidParams).toEqual([
      { name: 'checkouts', reason: 'hold 7 lines in all; one preview prices at most 6' },
    ]);
  });

  it('answers up to appliedRulesMax applied rules and refuses past them with preview_too_large', () => {
    // Two stacking rules on each line: 2 entries a line.
    const caps = { ...WIDE, appliedRulesMax: 10 };
    const answer = previewAnswer(
      request({ ...twoRules, checkouts: [checkout(2), checkout(3)] }),
      NO_STORED,
      caps,
    );
    expect(answer).toMatchObject({ totals: { checkouts: 2 } });
    const error = refusal({ ...twoRules, checkouts: [checkout(2), checkout(3), checkout(1)] }, caps);
    expect(error).toMatchObject({ kind: 'unprocessable', code: 'preview_too_large' });
    expect(error.extensions).toEqual({ applied_rules_max: 10 });
    // One checkout counts too.
    expect(refusal({ ...twoRules, checkout: checkout(6) }, caps)).toMatchObject({
      code: 'preview_too_large',
    });
  });

  it('refuses a preview whose pricing outlasts pricingMsMax', () => {
    const error = refusal(
      { ...twoRules, checkouts: [checkout(1), checkout(1)] },
      { ...WIDE, pricingMsMax: 0 },
    );
    expect(error).toMatchObject({ code: 'preview_too_large', extensions: { pricing_ms_max: 0 } });
  });
});
