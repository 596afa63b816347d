/**
 * The demo `npm start` loads and the `npm run demo` walk-through, on the three services as
 * separate processes: the programme loads through the public APIs, a second load finds and
 * reuses everything, the printed checkout gives the figures the programme promises, and the
 * walk-through reconciles exactly the differences it planted with the books balanced.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { idempotencyKey, ok } from '@puhui/api-clients';
import {
  BUDGETS,
  CARD_COUNT,
  MERCHANTS,
  PuhuiApi,
  checkoutBody,
  exampleCards,
  loadDemoData,
  walkThrough,
} from '@puhui/demo';
import { operatorToken, testSubject } from '@puhui/testing';
import { PuhuiSystem, documentedFetch } from './system';

let system: PuhuiSystem;
let api: PuhuiApi;
/** The demo's people; admin2 and finance2 approve what admin and finance ask for (dual control). */
let tokens: { admin: string; finance: string; admin2: string; finance2: string };
const stateDirectory = mkdtempSync(path.join(tmpdir(), 'puhui-demo-'));
const stateFile = path.join(stateDirectory, 'demo-merchant-key.json');

beforeAll(async () => {
  system = await PuhuiSystem.start();
  api = new PuhuiApi(
    {
      'merchant-onboarding': system.url('merchant-onboarding'),
      'discount-rules': system.url('discount-rules'),
      'transaction-settlement': system.url('transaction-settlement'),
      console: system.url('console'),
    },
    documentedFetch,
  );
  tokens = {
    admin: system.admin,
    finance: system.finance,
    admin2: operatorToken(['admin'], { subject: testSubject('e2e-admin2') }),
    finance2: operatorToken(['finance'], { subject: testSubject('e2e-finance2') }),
  };
});

afterAll(async () => {
  await system?.stop();
  rmSync(stateDirectory, { recursive: true, force: true });
});

describe('the demo programme', () => {
  it('loads once through the public APIs; a second load reuses everything', async () => {
    await system.withLogsOnFailure(async () => {
      const first = await loadDemoData(api, tokens, stateFile);
      expect(first.merchants).toHaveLength(MERCHANTS.length);
      expect(first.merchants.every((merchant) => merchant.created && merchant.status === 'active')).toBe(
        true,
      );
      expect(first.rules.every((rule) => rule.created)).toBe(true);
      expect(first.rules).toHaveLength(8);
      expect(first.budgets.map((budget) => budget.balance_minor)).toEqual(
        BUDGETS.map((budget) => budget.amount_minor),
      );
      expect(first.cards).toMatchObject({
        total: CARD_COUNT,
        inserted: CARD_COUNT,
        unchanged: 0,
        rejected: 0,
      });
      expect(first.featured.key_created).toBe(true);
      expect(JSON.parse(readFileSync(stateFile, 'utf8'))).toEqual({
        merchant_id: first.featured.merchant_id,
        secret: first.featured.secret,
      });

      const second = await loadDemoData(api, tokens, stateFile);
      expect(second.merchants.map((merchant) => [merchant.id, merchant.created])).toEqual(
        first.merchants.map((merchant) => [merchant.id, false]),
      );
      expect(second.rules.map((rule) => [rule.rule_id, rule.created])).toEqual(
        first.rules.map((rule) => [rule.rule_id, false]),
      );
      // The funding top-up is replayed by its idempotency key, not paid twice.
      expect(second.budgets).toEqual(first.budgets.map((budget) => ({ ...budget, created: false })));
      expect(second.cards).toMatchObject({ inserted: 0, unchanged: CARD_COUNT, rejected: 0 });
      expect(second.featured).toEqual({ ...first.featured, key_created: false });

      // The checkout `npm start` prints: 9.5折 from the merchant, a further 10 % from the union.
      const basket: Parameters<typeof checkoutBody>[0] = {
        card_number: exampleCards().model_worker.card_number,
        reference: 'E2E-DEMO-1',
        lines: [
          { category: 'food', amount_minor: 12_800 },
          { category: 'general', amount_minor: 4_550 },
        ],
      };
      const captured = await ok(
        api.as(first.featured.secret)['transaction-settlement'].POST('/v1/checkouts', {
          params: { header: idempotencyKey() },
          body: checkoutBody(basket),
        }),
      );
      expect(captured).toMatchObject({
        gross_minor: 17_350,
        merchant_funded_minor: 868,
        union_funded_minor: 1_648,
        net_minor: 14_834,
      });
    });
  });

  it('walks through onboarding, a rule, captures, a refund, settlement and reconciliation', async () => {
    await system.withLogsOnFailure(async () => {
      const report = await walkThrough(api, tokens);
      expect(report.reconciliation.found).toEqual({
        matched: report.reconciliation.expected.matched,
        amount_mismatch: 1,
        missing_in_ledger: 1,
        missing_in_statement: 1,
        duplicate_line: 1,
      });
      expect(report.lines.join('\n')).toMatch(/trial balance: .* → balanced/u);
      process.stderr.write(`${report.lines.join('\n')}\n`);
    });
  });
});
