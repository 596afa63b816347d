import { parse } from 'csv-parse/sync';
import { PAYMENT_FILE_COLUMNS, spreadsheetCsv, spreadsheetHeader } from '../src/commands/spreadsheet-csv';
import { shanghaiTimestamp } from '../src/domain/business-day';

const payee = {
  batch_id: 'stl_1',
  business_date: '2026-12-01',
  merchant_id: 'mch_1',
  legal_name: '=HYPERLINK("http://evil.example","click")',
  account_name: '+cmd|calc',
  account_number: '6222021234567890123',
  bank_name: '@SUM(A1)',
  branch_code: '-1+1',
  amount_minor: 123456,
  currency: 'CNY',
  reference: 'PUHUI-stl_1',
};

describe('files people open in a spreadsheet', () => {
  it('start with a UTF-8 byte-order mark and put each yuan column beside its fen column', () => {
    const csv = spreadsheetCsv([payee], PAYMENT_FILE_COLUMNS);
    expect(csv.startsWith('\uFEFF')).toBe(true);
    const [header] = csv.slice(1).split('\n');
    expect(header).toBe(
      'batch_id,business_date,merchant_id,legal_name,account_name,account_number,bank_name,branch_code,amount_minor,amount_yuan,currency,reference',
    );
    expect(spreadsheetHeader(['gross_minor', 'kind'])).toEqual(['gross_minor', 'gross_yuan', 'kind']);
  });

  it('escape every text cell a spreadsheet would run as a formula, and leave numbers (even negative) alone', () => {
    const refund = { ...payee, legal_name: 'ok', amount_minor: -505 };
    const csv = spreadsheetCsv([payee, refund], PAYMENT_FILE_COLUMNS);
    const [first, second] = parse(csv, { bom: true, columns: true }) as Array<Record<string, string>>;
    expect(first).toMatchObject({
      legal_name: `'=HYPERLINK("http://evil.example","click")`,
      account_name: `'+cmd|calc`,
      bank_name: `'@SUM(A1)`,
      branch_code: `'-1+1`,
      account_number: '6222021234567890123',
      amount_minor: '123456',
      amount_yuan: '1234.56',
    });
    expect(second).toMatchObject({ legal_name: 'ok', amount_minor: '-505', amount_yuan: '-5.05' });
  });

  it('write times as Asia/Shanghai wall-clock time with the offset', () => {
    expect(shanghaiTimestamp(new Date('2026-12-01T16:30:05.123Z'))).toBe('2026-12-02T00:30:05.123+08:00');
    expect(Date.parse(shanghaiTimestamp(new Date(0)))).toBe(0);
  });
});
