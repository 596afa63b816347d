/**
 * discount-rules signs the rate sheets it caches (decision 0015), and its own read-through
 * endpoint — the one settlement falls back to — serves only sheets whose signature holds:
 * a forged or moved sheet is a miss, recomputed from Postgres and cached signed again.
 */
import { openCacheValue } from '@puhui/cache';
import { generateTestPan, tokenizePan } from '@puhui/cards';
import { RULESET_VERSION_KEY, rateSheetKey, rateSheetSchema } from '@puhui/discount';
import { startService } from '@puhui/service';
import { captureLogger } from '@puhui/testing';
import { loadDiscountRulesConfig } from '../src/config';
import { discountRulesService } from '../src/service';
import { cardsCsv, startHarness, supermarketRule } from './support';
import type { Harness } from './support';

let harness: Harness;
const logs = captureLogger('discount-rules', 'warn');
const pan = (serial: number) => generateTestPan(serial, { prefix: '6217', length: 19 });
let tokens: string[];
let ruleId: string;

beforeAll(async () => {
  harness = await startHarness({ logger: logs.logger });
  expect((await harness.upload(cardsCsv(0, 2, pan))).body).toMatchObject({ inserted: 2 });
  tokens = [0, 1].map((serial) => tokenizePan(pan(serial), harness.config.CARD_TOKEN_KEY));
  const created = await harness.call('POST', '/v1/rules', { body: supermarketRule() });
  ruleId = created.body.rule_id as string;
  expect((await harness.call('POST', `/v1/rules/${ruleId}/publish`)).status).toBe(200);
});

afterAll(async () => {
  await harness.close();
});

const refusals = () =>
  logs.lines.filter((line) => String(line.message).startsWith('rate sheet in Redis refused'));

async function served(token: string) {
  const response = await harness.call('GET', `/v1/cards/${token}/rate_sheet`, { token: harness.finance });
  expect(response.status).toBe(200);
  return rateSheetSchema.parse(response.body);
}

describe('signed rate sheets in discount-rules', () => {
  it('caches sheets signed for their key, and serves them', async () => {
    const token = tokens[0] as string;
    const first = await served(token);
    const key = rateSheetKey(Number(await harness.redis.get(RULESET_VERSION_KEY)), token);
    const stored = (await harness.redis.get(key)) ?? '';
    expect(stored.startsWith('ps1.')).toBe(true);
    expect(openCacheValue(harness.config.RATE_SHEET_SIGNING_KEY, key, stored).ok).toBe(true);
    // A hit serves the cached text as it is.
    expect((await served(token)).computed_at).toBe(first.computed_at);
    expect(refusals()).toHaveLength(0);
  });

  it('serves a recomputed sheet instead of a forged or moved one, and caches it signed', async () => {
    const version = Number(await harness.redis.get(RULESET_VERSION_KEY));
    const [card, other] = tokens as [string, string];
    const real = await served(card);
    await served(other);
    const key = rateSheetKey(version, card);
    const forged = JSON.stringify({ ...real, rules: [] });
    for (const [stored, reason] of [
      [forged, 'unsigned'],
      [(await harness.redis.get(rateSheetKey(version, other))) ?? '', 'bad_signature'],
    ] as const) {
      await harness.redis.set(key, stored);
      const before = refusals().length;
      const sheet = await served(card);
      expect(sheet.card.card_token).toBe(card);
      expect(sheet.rules.map((rule) => rule.rule_id)).toEqual([ruleId]);
      expect(refusals().slice(before)).toMatchObject([
        { reason, key: `puhui:rate_sheet:v${version}:<card>` },
      ]);
      const healed = openCacheValue(
        harness.config.RATE_SHEET_SIGNING_KEY,
        key,
        (await harness.redis.get(key)) ?? '',
      );
      expect(healed.ok).toBe(true);
    }
    expect(logs.text()).not.toContain(card);
  });
});

describe('RATE_SHEET_SIGNING_KEY', () => {
  it('needs at least 32 characters, and a non-default one in production', async () => {
    const strong = 'rate-sheet-signing-key-for-production-0001';
    expect(() => loadDiscountRulesConfig({ RATE_SHEET_SIGNING_KEY: 'k'.repeat(31) })).toThrow(
      /RATE_SHEET_SIGNING_KEY/u,
    );
    expect(loadDiscountRulesConfig({ RATE_SHEET_SIGNING_KEY: strong }).RATE_SHEET_SIGNING_KEY).toBe(strong);
    const boot = (environment: Record<string, string>) =>
      startService(discountRulesService(loadDiscountRulesConfig(environment)));
    // Refused before anything is opened.
    await expect(boot({ NODE_ENV: 'production' })).rejects.toThrow(/RATE_SHEET_SIGNING_KEY/u);
    await expect(boot({ NODE_ENV: 'production', RATE_SHEET_SIGNING_KEY: strong })).rejects.not.toThrow(
      /RATE_SHEET_SIGNING_KEY/u,
    );
  });
});
