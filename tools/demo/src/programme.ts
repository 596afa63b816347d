/**
 * The demo programme: Shangrao's union card (../shared/data/seed-programme.json, copied to
 * data/): partner merchants for every category the programme names, its standing offers as
 * rules, the union-funded subsidies for model workers and workers in hardship with funded
 * budgets, and member cards across the three tiers. Everything is deterministic, so loading
 * it twice finds what the first load made.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { JsonBody } from '@puhui/api-clients';
import { generateTestPan } from '@puhui/cards';
import { DEFAULT_MCC } from '@puhui/contracts';
import type { MerchantCategory } from '@puhui/contracts';
import { makeCreditCode, makeResidentId } from '@puhui/kyc';

export interface SeedProgramme {
  currency: string;
  scale: { member_unions: number; members: number; cards_issued: number; partner_merchants: number };
  standing_offers: Array<{
    merchant_category: MerchantCategory;
    item_category: NonNullable<RuleBody['item_categories']>[number] | 'any';
    offer: string;
    discount_bps: number;
  }>;
  member_tiers_seen_in_programmes: Array<{ tier: string; meaning: string }>;
  union_funded_spending_2017_cny: Record<string, number>;
  merchant_category_codes_commonly_used: Record<string, string>;
}

export const SEED: SeedProgramme = JSON.parse(
  readFileSync(path.join(__dirname, '..', '..', '..', 'data', 'seed-programme.json'), 'utf8'),
) as SeedProgramme;

export const REGION_CODE = '361100'; // 上饶市
const FEN_PER_YUAN = 100;

export interface DemoMerchant {
  key: string;
  legal_name: string;
  display_name: string;
  category: MerchantCategory;
  address: string;
  outlets: Array<{ name: string; address: string }>;
  representative: string;
  contact: string;
  bank_name: string;
  branch_code: string;
}

const ICBC = { bank_name: '中国工商银行上饶分行', branch_code: '102431000015' };
const CCB = { bank_name: '中国建设银行上饶分行', branch_code: '105431000017' };
const BOC = { bank_name: '上饶银行营业部', branch_code: '313431000013' };

/** Partner merchants: every category of the seed's offers and category codes, in Shangrao. */
export const MERCHANTS: DemoMerchant[] = [
  {
    key: 'sanqingshan',
    legal_name: '上饶三清山旅游服务有限公司',
    display_name: '三清山风景名胜区',
    category: 'scenic_spot',
    address: '江西省上饶市玉山县三清山金沙索道站',
    outlets: [
      { name: '金沙售票处', address: '江西省上饶市玉山县三清山金沙' },
      { name: '外双溪售票处', address: '江西省上饶市广信区外双溪' },
    ],
    representative: '陈志远',
    contact: '刘慧',
    ...ICBC,
  },
  {
    key: 'huangling',
    legal_name: '婺源篁岭文化旅游有限公司',
    display_name: '婺源篁岭景区',
    category: 'scenic_spot',
    address: '江西省上饶市婺源县江湾镇篁岭村',
    outlets: [{ name: '篁岭索道售票处', address: '江西省上饶市婺源县江湾镇篁岭村' }],
    representative: '曹文斌',
    contact: '江晓燕',
    ...CCB,
  },
  {
    key: 'guifeng',
    legal_name: '弋阳龟峰旅游开发有限公司',
    display_name: '龟峰风景名胜区',
    category: 'scenic_spot',
    address: '江西省上饶市弋阳县龟峰镇',
    outlets: [{ name: '龟峰游客中心', address: '江西省上饶市弋阳县龟峰镇' }],
    representative: '方国华',
    contact: '邵丽',
    ...BOC,
  },
  {
    key: 'wanjiahui',
    legal_name: '上饶万家惠商贸有限公司',
    display_name: '万家惠超市',
    category: 'supermarket',
    address: '江西省上饶市信州区中山路88号',
    outlets: [
      { name: '中山路店', address: '江西省上饶市信州区中山路88号' },
      { name: '凤凰大道店', address: '江西省上饶市信州区凤凰大道126号' },
      { name: '广丰店', address: '江西省上饶市广丰区永丰大道9号' },
    ],
    representative: '王建国',
    contact: '王芳',
    ...ICBC,
  },
  {
    key: 'jiajia',
    legal_name: '上饶市佳佳购物广场有限公司',
    display_name: '佳佳购物广场',
    category: 'supermarket',
    address: '江西省上饶市信州区五三大道16号',
    outlets: [{ name: '五三大道店', address: '江西省上饶市信州区五三大道16号' }],
    representative: '吴海涛',
    contact: '周敏',
    ...CCB,
  },
  {
    key: 'kangning',
    legal_name: '上饶康宁大药房连锁有限公司',
    display_name: '康宁大药房',
    category: 'pharmacy',
    address: '江西省上饶市信州区解放路36号',
    outlets: [
      { name: '解放路店', address: '江西省上饶市信州区解放路36号' },
      { name: '带湖路店', address: '江西省上饶市信州区带湖路58号' },
    ],
    representative: '郑明',
    contact: '黄婷',
    ...BOC,
  },
  {
    key: 'renji',
    legal_name: '上饶仁济医药有限公司',
    display_name: '仁济药房',
    category: 'pharmacy',
    address: '江西省上饶市广信区旭日大道201号',
    outlets: [{ name: '旭日店', address: '江西省上饶市广信区旭日大道201号' }],
    representative: '叶春生',
    contact: '徐静',
    ...ICBC,
  },
  {
    key: 'xinjiang-hospital',
    legal_name: '上饶信江医院有限公司',
    display_name: '上饶信江医院',
    category: 'hospital',
    address: '江西省上饶市信州区书院路68号',
    outlets: [{ name: '门诊部', address: '江西省上饶市信州区书院路68号' }],
    representative: '杨永康',
    contact: '林洁',
    ...CCB,
  },
  {
    key: 'wuyuan-hospital',
    legal_name: '婺源康复医院有限公司',
    display_name: '婺源康复医院',
    category: 'hospital',
    address: '江西省上饶市婺源县紫阳镇文公北路12号',
    outlets: [{ name: '门诊部', address: '江西省上饶市婺源县紫阳镇文公北路12号' }],
    representative: '汪德明',
    contact: '程佳',
    ...BOC,
  },
  {
    key: 'xinjiang-hotel',
    legal_name: '上饶信江国际酒店有限公司',
    display_name: '信江国际酒店',
    category: 'hotel',
    address: '江西省上饶市信州区滨江西路1号',
    outlets: [{ name: '前台', address: '江西省上饶市信州区滨江西路1号' }],
    representative: '胡振华',
    contact: '蔡琳',
    ...ICBC,
  },
  {
    key: 'huiyun-inn',
    legal_name: '婺源徽韵客栈有限公司',
    display_name: '徽韵客栈',
    category: 'hotel',
    address: '江西省上饶市婺源县思溪延村',
    outlets: [{ name: '延村店', address: '江西省上饶市婺源县思溪延村' }],
    representative: '俞晓峰',
    contact: '詹丽',
    ...CCB,
  },
  {
    key: 'poyang-fish',
    legal_name: '上饶鄱湖渔家餐饮有限公司',
    display_name: '鄱湖渔家',
    category: 'restaurant',
    address: '江西省上饶市信州区茶圣路20号',
    outlets: [{ name: '茶圣路店', address: '江西省上饶市信州区茶圣路20号' }],
    representative: '钟国强',
    contact: '彭雪',
    ...BOC,
  },
];

/** The merchant `npm start` hands a key to, and the one the walk-through onboards. */
export const FEATURED_MERCHANT = 'wanjiahui';

export function applicationOf(merchant: DemoMerchant, serial: number) {
  const digits = String(serial).padStart(7, '0');
  return {
    legal_name: merchant.legal_name,
    display_name: merchant.display_name,
    credit_code: makeCreditCode(`91${REGION_CODE}MA${digits}`),
    category: merchant.category,
    mcc: SEED.merchant_category_codes_commonly_used[merchant.category] ?? DEFAULT_MCC[merchant.category],
    region_code: REGION_CODE,
    address: merchant.address,
    contact: {
      name: merchant.contact,
      mobile: `1390793${digits.slice(-4)}`,
      email: `finance${serial}@merchant.example.cn`,
    },
    legal_representative: {
      name: merchant.representative,
      id_number: makeResidentId(
        `3611021975${String(1 + (serial % 12)).padStart(2, '0')}15${digits.slice(-3)}`,
      ),
    },
    settlement_account: {
      account_type: 'corporate' as const,
      account_name: merchant.legal_name,
      account_number: `1506210009${digits}`,
      bank_name: merchant.bank_name,
      branch_code: merchant.branch_code,
    },
    outlets: merchant.outlets,
  };
}

export interface DemoBudget {
  key: string;
  name: string;
  union_id: string;
  amount_minor: number;
}

const spending = SEED.union_funded_spending_2017_cny;
export const BUDGETS: DemoBudget[] = [
  {
    key: 'model_worker',
    name: '劳模专项补贴 (model worker allowances)',
    union_id: 'srfzgh',
    amount_minor: (spending.model_worker_allowances ?? 0) * FEN_PER_YUAN,
  },
  {
    key: 'hardship',
    name: '困难职工补贴 (hardship subsidies)',
    union_id: 'srfzgh',
    amount_minor: (spending.hardship_subsidies ?? 0) * FEN_PER_YUAN,
  },
];

const OFFER_NAMES: Record<string, string> = {
  scenic_spot: '景区门票',
  supermarket: '超市购物',
  pharmacy: '药店购药',
  hospital: '医院',
  hotel: '酒店客房',
};
const ITEM_NAMES: Record<string, string> = { registration_fee: '挂号费', examination_fee: '检查费' };

/** "5折 · 50% off" — both forms, as people read them (DESIGN §1). */
export function offerLabel(bps: number): string {
  if (bps === 10_000) return '免费 · free';
  const zhe = (10_000 - bps) / 1000;
  return `${zhe}折 · ${bps / 100}% off`;
}

/** A rule body for POST /v1/rules. */
export type RuleBody = JsonBody<'discount-rules', '/v1/rules', 'post'>;

export function standingOfferRules(validFrom: string): RuleBody[] {
  return SEED.standing_offers.map((offer) => {
    const item = offer.item_category === 'any' ? null : [offer.item_category];
    const what = `${OFFER_NAMES[offer.merchant_category] ?? offer.merchant_category}${ITEM_NAMES[offer.item_category] ?? ''}`;
    return {
      name: `${what} ${offer.offer}`,
      scope: { merchant_categories: [offer.merchant_category], merchant_ids: null },
      item_categories: item,
      benefit:
        offer.discount_bps === 10_000
          ? { type: 'waive' as const }
          : { type: 'percent_off' as const, bps: offer.discount_bps },
      merchant_share_bps: 10_000,
      schedule: { valid_from: validFrom, valid_to: null, days_of_week: null, time_of_day: null },
    };
  });
}

/** The union's own money: extra percent off for a tier, stacked on the standing offer, from a budget. */
export function subsidyRules(validFrom: string, budgetIds: Record<string, string>): RuleBody[] {
  const schedule = { valid_from: validFrom, valid_to: null, days_of_week: null, time_of_day: null };
  return [
    {
      name: '劳模专项补贴 再9折 (model workers: a further 10% off, union-funded)',
      scope: { merchant_categories: ['supermarket', 'pharmacy', 'hospital'], merchant_ids: null },
      item_categories: null,
      eligibility: { card_tiers: ['model_worker'], union_ids: null },
      benefit: { type: 'percent_off', bps: 1_000 },
      caps: { per_transaction_minor: null, per_card_day_minor: null, per_card_month_minor: 5_000 },
      union_share_bps: 10_000,
      budget_id: budgetIds.model_worker,
      schedule,
      priority: 10,
      stacking: 'stackable',
    },
    {
      name: '困难职工购药补贴 再8折 (workers in hardship: a further 20% off medicine, union-funded)',
      scope: { merchant_categories: ['pharmacy', 'hospital'], merchant_ids: null },
      item_categories: null,
      eligibility: { card_tiers: ['hardship'], union_ids: null },
      benefit: { type: 'percent_off', bps: 2_000 },
      caps: { per_transaction_minor: 10_000, per_card_day_minor: null, per_card_month_minor: 20_000 },
      union_share_bps: 10_000,
      budget_id: budgetIds.hardship,
      schedule,
      priority: 10,
      stacking: 'stackable',
    },
  ];
}

export type Tier = 'standard' | 'model_worker' | 'hardship';

export interface DemoCard {
  serial: number;
  card_number: string;
  member_id: string;
  union_id: string;
  tier: Tier;
}

export const CARD_COUNT = 6_000;
const CARD_PREFIX = '6217990';
const CARD_LENGTH = 19;
const UNION_COUNT = 48;

/** 6,000 cards: every 15th a model worker, every 30th (offset) in hardship, the rest standard. */
export function demoCard(serial: number): DemoCard {
  const tier: Tier = serial % 15 === 1 ? 'model_worker' : serial % 30 === 7 ? 'hardship' : 'standard';
  return {
    serial,
    card_number: generateTestPan(serial, { prefix: CARD_PREFIX, length: CARD_LENGTH }),
    member_id: `SR${String(serial).padStart(8, '0')}`,
    union_id: `sr-union-${String(1 + (serial % UNION_COUNT)).padStart(4, '0')}`,
    tier,
  };
}

export function demoCardsCsv(count = CARD_COUNT): string {
  const rows = ['card_number,member_id,union_id,tier'];
  for (let serial = 1; serial <= count; serial += 1) {
    const card = demoCard(serial);
    rows.push(`${card.card_number},${card.member_id},${card.union_id},${card.tier}`);
  }
  return `${rows.join('\n')}\n`;
}

/** The first card of each tier, for the printed examples. */
export function exampleCards(): Record<Tier, DemoCard> {
  const found: Partial<Record<Tier, DemoCard>> = {};
  for (let serial = 1; Object.keys(found).length < 3; serial += 1) {
    const card = demoCard(serial);
    found[card.tier] ??= card;
  }
  return found as Record<Tier, DemoCard>;
}
