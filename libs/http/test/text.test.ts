import {
  SAFE_TEXT_FORMULA_REASON,
  SAFE_TEXT_INVISIBLE_REASON,
  safeText,
  unsafeTextReason,
} from '@puhui/http';

describe('safe text: what a payment file or console may show as sent', () => {
  it.each([
    ['上饶惠民生活超市有限公司（演示）'],
    ['POS-20261201-0001'],
    ['Café 普惠 · 7.8折'],
    ['a-b+c=d@e'],
    ['100% off (free registration)'],
  ])('accepts %s', (text) => {
    expect(unsafeTextReason(text)).toBeUndefined();
  });

  it.each([
    ['=HYPERLINK("http://evil","pay")', SAFE_TEXT_FORMULA_REASON],
    ['+1+cmd|calc', SAFE_TEXT_FORMULA_REASON],
    ['-2+3', SAFE_TEXT_FORMULA_REASON],
    ['@SUM(A1:A9)', SAFE_TEXT_FORMULA_REASON],
    ['\tTAB', SAFE_TEXT_FORMULA_REASON],
    // NFKC first: a full-width equals sign is an equals sign to a spreadsheet's eye.
    ['＝1+1', SAFE_TEXT_FORMULA_REASON],
    ['＠SUM(1)', SAFE_TEXT_FORMULA_REASON],
    ['上饶\u202E司公限有', SAFE_TEXT_INVISIBLE_REASON],
    ['account\u2066name\u2069', SAFE_TEXT_INVISIBLE_REASON],
    ['zero\u200Bwidth', SAFE_TEXT_INVISIBLE_REASON],
    ['joiner\u200D', SAFE_TEXT_INVISIBLE_REASON],
    ['bom\uFEFFinside', SAFE_TEXT_INVISIBLE_REASON],
    ['line\u2028separator', SAFE_TEXT_INVISIBLE_REASON],
    ['bell\u0007', SAFE_TEXT_INVISIBLE_REASON],
    ['two\nlines', SAFE_TEXT_INVISIBLE_REASON],
  ])('refuses %j', (text, reason) => {
    expect(unsafeTextReason(text)).toBe(reason);
  });

  it('trims first, keeps the value as sent, and bounds its length', () => {
    const schema = safeText(10);
    expect(schema.parse('  ＡＢＣ  ')).toBe('ＡＢＣ');
    expect(schema.safeParse('').success).toBe(false);
    expect(schema.safeParse('x'.repeat(11)).success).toBe(false);
    const refused = schema.safeParse('=1');
    expect(refused.success).toBe(false);
    expect(refused.error?.issues[0]?.message).toBe(SAFE_TEXT_FORMULA_REASON);
    expect(safeText(10, { min: 0 }).parse('')).toBe('');
  });
});
