// The web app's pure helpers (services/console/web/src): money, 折, Beijing time, before/after rows and
// which pages a role may use. Plain functions, so the console's jest runs them without a browser.
import { mayUse, pagesFor } from '../web/src/access';
import { changeRows, fieldName, valueWords, wordedChangeRows } from '../web/src/changes';
import type { ChangeWords } from '../web/src/changes';
import {
  describeUserAgent,
  formatShanghaiTime,
  formatYuan,
  formatZhe,
  minutesToWait,
} from '../web/src/format';
import { en } from '../web/src/i18n/en';
import { zhCN } from '../web/src/i18n/zh-CN';

describe('formatYuan', () => {
  it.each([
    [123456, '¥1,234.56'],
    [0, '¥0.00'],
    [5, '¥0.05'],
    [100, '¥1.00'],
    [99, '¥0.99'],
    [-5, '-¥0.05'],
    [-123456789, '-¥1,234,567.89'],
    [100000000, '¥1,000,000.00'],
    [Number.MAX_SAFE_INTEGER, '¥90,071,992,547,409.91'],
  ])('shows %d fen as %s', (fen, shown) => {
    expect(formatYuan(fen)).toBe(shown);
  });

  it('keeps every fen where floating point would not (0.29 * 100 is 28.999…)', () => {
    for (const fen of [29, 57, 1005, 4_503_599_627_370_497]) {
      const shown = formatYuan(fen).replace(/[¥,.]/g, '');
      expect(BigInt(shown)).toBe(BigInt(fen));
    }
  });

  it('refuses an amount that is not an integer number of fen', () => {
    expect(() => formatYuan(12.5)).toThrow(RangeError);
    expect(() => formatYuan(Number.NaN)).toThrow(RangeError);
  });
});

describe('formatZhe', () => {
  it.each([
    [2200, '7.8折 · 22% off'],
    [2250, '7.75折 · 22.5% off'],
    [1000, '9折 · 10% off'],
    [5, '9.995折 · 0.05% off'],
    [0, '10折 · 0% off'],
    [10000, '0折 · 100% off'],
  ])('shows %d basis points off as %s', (basisPoints, shown) => {
    expect(formatZhe(basisPoints)).toBe(shown);
  });

  it('refuses a discount outside 0–10000 basis points', () => {
    expect(() => formatZhe(-1)).toThrow(RangeError);
    expect(() => formatZhe(10001)).toThrow(RangeError);
    expect(() => formatZhe(22.5)).toThrow(RangeError);
  });
});

describe('formatShanghaiTime', () => {
  it('shows an instant on Beijing time (UTC+8), across midnight', () => {
    expect(formatShanghaiTime('2026-12-01T16:09:36Z')).toBe('2026-12-02 00:09:36');
    expect(formatShanghaiTime('2026-06-30T23:59:59.999Z')).toBe('2026-07-01 07:59:59');
    expect(formatShanghaiTime(new Date(Date.UTC(2026, 0, 1, 0, 0, 0)))).toBe('2026-01-01 08:00:00');
  });

  it('shows a missing or unreadable time as a dash', () => {
    expect(formatShanghaiTime(null)).toBe('—');
    expect(formatShanghaiTime(undefined)).toBe('—');
    expect(formatShanghaiTime('not a time')).toBe('—');
  });
});

describe('minutesToWait', () => {
  it('rounds a Retry-After up to whole minutes, at least one', () => {
    expect(minutesToWait(900)).toBe(15);
    expect(minutesToWait(61)).toBe(2);
    expect(minutesToWait(1)).toBe(1);
    expect(minutesToWait(0)).toBe(1);
  });
});

describe('changeRows', () => {
  it('flattens before and after into fields, changed ones first, and shows fen as yuan', () => {
    const rows = changeRows(
      { settlement_account: { account_name: '甲', account_number_masked: '****1234' }, amount_minor: 500 },
      { settlement_account: { account_name: '乙', account_number_masked: '****1234' }, amount_minor: 150000 },
    );
    expect(rows).toEqual([
      { field: 'settlement_account.account_name', before: '甲', after: '乙', changed: true },
      { field: 'amount_minor', before: '¥5.00', after: '¥1,500.00', changed: true },
      {
        field: 'settlement_account.account_number_masked',
        before: '****1234',
        after: '****1234',
        changed: false,
      },
    ]);
  });

  it('shows instants on Beijing time and leaves a business date as it is', () => {
    const rows = changeRows(
      { decided_at: null, business_date: '2026-11-30' },
      { decided_at: '2026-12-01T16:34:03.710Z', business_date: '2026-11-30' },
    );
    expect(rows).toEqual([
      { field: 'decided_at', before: '—', after: '2026-12-02 00:34:03', changed: true },
      { field: 'business_date', before: '2026-11-30', after: '2026-11-30', changed: false },
    ]);
  });

  it('shows a field that only one side has as a dash on the other', () => {
    expect(changeRows(null, { status: 'active' })).toEqual([
      { field: 'status', before: '—', after: 'active', changed: true },
    ]);
  });
});

describe('the changes in words', () => {
  const words = (messages: typeof zhCN): ChangeWords => ({
    fields: messages.fields,
    statuses: {
      merchant: messages.merchants.statuses,
      rule: messages.rules.statuses,
      settlement_batch: messages.settlement.statuses,
    },
    values: messages.values,
    yes: messages.common.yes,
    no: messages.common.no,
    separator: ' · ',
  });

  it("words a merchant approval's fields and statuses in Chinese and in English", () => {
    const before = { status: 'in_review', category: 'supermarket', contact: { name: '王芳' } };
    const after = { ...before, status: 'active' };
    expect(wordedChangeRows('merchant', before, after, words(zhCN))).toEqual([
      { path: 'status', field: '状态', before: '审核中', after: '已上线', changed: true },
      { path: 'category', field: '类别', before: '超市', after: '超市', changed: false },
      { path: 'contact.name', field: '联系人姓名', before: '王芳', after: '王芳', changed: false },
    ]);
    expect(wordedChangeRows('merchant', before, after, words(en))[0]).toEqual({
      path: 'status',
      field: 'Status',
      before: en.merchants.statuses.in_review,
      after: en.merchants.statuses.active,
      changed: true,
    });
  });

  it("words a status by the request's target: a settlement batch's paid is not a merchant's", () => {
    expect(valueWords('settlement_batch', 'status', 'paid', words(zhCN))).toBe('已付款');
    expect(valueWords('rule', 'status', 'published', words(zhCN))).toBe('已发布');
    expect(valueWords('budget', 'status', 'paid', words(zhCN))).toBe('paid');
  });

  it('names an unknown field by its nearest known parent, else by its path', () => {
    expect(fieldName('settlement_account.account_number_masked', words(zhCN))).toBe('结算账号');
    expect(fieldName('benefit.percent_off_bps', words(zhCN))).toBe('优惠 · percent_off_bps');
    expect(fieldName('something_new', words(zhCN))).toBe('something_new');
  });

  it('shows outlets by name, basis points as a percentage, yes/no in words', () => {
    const rows = wordedChangeRows(
      'rule',
      { outlets: [{ outlet_id: 'o1', name: '一号店' }], union_share_bps: 0, enabled: false },
      {
        outlets: [
          { outlet_id: 'o1', name: '一号店' },
          { outlet_id: 'o2', name: '二号店' },
        ],
        union_share_bps: 2250,
        enabled: true,
      },
      words(zhCN),
    );
    expect(rows.map(({ field, before, after }) => [field, before, after])).toEqual([
      ['门店', '一号店', '一号店、二号店'],
      ['工会补贴比例', '0%', '22.5%'],
      ['enabled', '否', '是'],
    ]);
  });
});

describe('describeUserAgent', () => {
  it.each([
    [
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36',
      'Chrome (headless) 131 · Linux',
    ],
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0',
      'Edge 130 · Windows',
    ],
    [
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
      'Safari 17 · macOS',
    ],
    ['Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0', 'Firefox 128 · Linux'],
    ['curl/8.5.0', 'curl/8.5.0'],
    [null, '—'],
  ])('shows %s as %s', (agent, shown) => {
    expect(describeUserAgent(agent)).toBe(shown);
  });
});

describe('pages by role', () => {
  it('shows each role only what it may use', () => {
    expect(pagesFor(['admin'])).toEqual(['home', 'inbox', 'merchants', 'people', 'sessions']);
    expect(pagesFor(['finance'])).toEqual(['home', 'inbox', 'settlement', 'sessions']);
    expect(pagesFor(['auditor'])).toEqual(['home', 'merchants', 'settlement', 'people', 'sessions']);
    expect(pagesFor(['merchant_staff'])).toEqual(['home', 'sessions']);
  });

  it('keeps finance out of the merchant list and admins out of settlement', () => {
    expect(mayUse(['finance'], 'merchants')).toBe(false);
    expect(mayUse(['admin'], 'settlement')).toBe(false);
    expect(mayUse(['auditor'], 'inbox')).toBe(false);
  });
});
