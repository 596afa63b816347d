import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { openCacheValue } from '@puhui/cache';
import { generateTestPan, tokenizePan } from '@puhui/cards';
import { RULESET_EPOCH_KEY, RULESET_VERSION_KEY, rateSheetKey, rateSheetSchema } from '@puhui/discount';
import type { RateSheet } from '@puhui/discount';
import { DEVELOPMENT_SERVICE_CREDENTIAL } from '@puhui/security';
import { operatorToken, waitFor } from '@puhui/testing';
import { cardsCsv, startHarness, supermarketRule } from './support';
import type { Harness } from './support';

let harness: Harness;
const CARDS = 200;
const pan = (serial: number) => generateTestPan(serial, { prefix: '6217', length: 19 });
let tokens: string[];

beforeAll(async () => {
  harness = await startHarness();
  const imported = await harness.upload(cardsCsv(0, CARDS, pan));
  expect(imported.body).toMatchObject({ inserted: CARDS });
  tokens = Array.from({ length: CARDS }, (_, serial) =>
    tokenizePan(pan(serial), harness.config.CARD_TOKEN_KEY),
  );
});

afterAll(async () => {
  await harness.close();
});

async function sheetOf(token: string, bearer = harness.finance): Promise<RateSheet> {
  const response = await harness.call('GET', `/v1/cards/${token}/rate_sheet`, { token: bearer });
  expect(response.status).toBe(200);
  return rateSheetSchema.parse(response.body);
}

/**
 * Every card's sheet, at most `concurrency` requests at a time, each through the harness's
 * client, which checks the answer against the OpenAPI document (200 cards: the checks cost
 * milliseconds beside the requests).
 */
async function allSheets(concurrency = 25): Promise<RateSheet[]> {
  const sheets: RateSheet[] = [];
  for (let start = 0; start < tokens.length; start += concurrency) {
    const batch = tokens.slice(start, start + concurrency);
    sheets.push(...(await Promise.all(batch.map((token) => sheetOf(token)))));
  }
  return sheets;
}

async function publish(body: Record<string, unknown>): Promise<string> {
  const created = await harness.call('POST', '/v1/rules', { body });
  expect((await harness.call('POST', `/v1/rules/${created.body.rule_id}/publish`)).status).toBe(200);
  return created.body.rule_id as string;
}

const rulesetVersion = async () => Number(await harness.redis.get(RULESET_VERSION_KEY));

describe('rate sheets', () => {
  it('switches every cached sheet to a new publish at once', async () => {
    const base = await publish(supermarketRule());
    const before = await allSheets();
    const version = await rulesetVersion();
    expect(
      before.every(
        (sheet) =>
          sheet.ruleset_version === version && sheet.rules.map((rule) => rule.rule_id).join() === base,
      ),
    ).toBe(true);
    // Cached, as settlement will find them.
    const key = rateSheetKey(version, tokens[7] as string);
    const opened = openCacheValue(
      harness.config.RATE_SHEET_SIGNING_KEY,
      key,
      (await harness.redis.get(key)) ?? '',
    );
    if (!opened.ok) throw new Error(`cached sheet refused: ${opened.reason}`);
    expect(rateSheetSchema.parse(JSON.parse(opened.value)).card.card_token).toBe(tokens[7]);

    const hardship = await publish(
      supermarketRule({
        name: '困难职工加折',
        eligibility: { card_tiers: ['hardship'] },
        stacking: 'stackable',
      }),
    );
    // The very first reads after the publish answered are all new: no stale sheet is served.
    // (How fast a publish reaches checkout is a benchmark figure: `npm run bench`, propagation.)
    const after = await allSheets();
    expect(await rulesetVersion()).toBe(version + 1);
    after.forEach((sheet, index) => {
      expect(sheet.ruleset_version).toBe(version + 1);
      const expected = sheet.card.tier === 'hardship' ? [base, hardship].sort() : [base];
      expect(sheet.rules.map((rule) => rule.rule_id).sort()).toEqual(expected);
      expect(sheet.card.card_token).toBe(tokens[index]);
    });
    // Serials 2, 5, 8, ..., 197 are hardship cards.
    expect(after.filter((sheet) => sheet.card.tier === 'hardship')).toHaveLength(66);

    await harness.call('POST', `/v1/rules/${hardship}/retire`);
    const retired = await sheetOf(tokens[2] as string);
    expect(retired.rules.map((rule) => rule.rule_id)).toEqual([base]);
  });

  it('grants a frozen card nothing, and drops its cached sheet when it changes', async () => {
    const token = tokens[10] as string;
    const active = await sheetOf(token);
    expect(active.rules.length).toBeGreaterThan(0);
    const key = rateSheetKey(await rulesetVersion(), token);
    expect(await harness.redis.exists(key)).toBe(1);
    await harness.call('PATCH', `/v1/cards/${token}`, { body: { status: 'frozen' } });
    expect(await harness.redis.exists(key)).toBe(0);
    const frozen = await sheetOf(token);
    expect(frozen).toMatchObject({ card: { status: 'frozen' }, rules: [] });
    await harness.call('PATCH', `/v1/cards/${token}`, { body: { status: 'active' } });
    expect((await sheetOf(token)).rules.length).toBe(active.rules.length);
  });

  it('heals a Redis ruleset version that fell behind Postgres', async () => {
    const version = await rulesetVersion();
    // As if the service crashed between a publish's commit and its Redis write.
    await harness.redis.del(RULESET_VERSION_KEY);
    await waitFor(async () => (await rulesetVersion()) === version, {
      timeoutMs: 3 * harness.config.BACKGROUND_INTERVAL_MS,
    });
    // Behind again, and this card has no sheet under the older version: the miss is answered
    // from Postgres's version, and moves Redis forward at once.
    const token = tokens[3] as string;
    await harness.redis.set(RULESET_VERSION_KEY, String(version - 1));
    await harness.redis.del(rateSheetKey(version - 1, token));
    expect((await sheetOf(token)).ruleset_version).toBe(version);
    expect(await rulesetVersion()).toBe(version);
  });

  it("drops every sheet of another database's ruleset, and of a later state than Postgres's", async () => {
    const version = await rulesetVersion();
    const { rows } = await harness.db.query<{ epoch: string }>('SELECT epoch FROM ruleset_head');
    const epoch = rows[0]?.epoch as string;
    expect(await harness.redis.get(RULESET_EPOCH_KEY)).toBe(epoch);
    // A database created again counts its versions from 1: Redis still holds the old one's
    // sheets under the same numbers, naming budgets and rules this database never had.
    const token = tokens[30] as string;
    await sheetOf(token);
    const key = rateSheetKey(version, token);
    expect(await harness.redis.exists(key)).toBe(1);
    await harness.redis.set(RULESET_EPOCH_KEY, randomUUID());
    await waitFor(async () => (await harness.redis.get(RULESET_EPOCH_KEY)) === epoch, {
      timeoutMs: 3 * harness.config.BACKGROUND_INTERVAL_MS,
    });
    expect(await harness.redis.exists(key)).toBe(0);
    expect(await rulesetVersion()).toBe(version);
    // A restored database is behind Redis: the later version's sheets go, the version comes back.
    const later = rateSheetKey(version + 5, token);
    await harness.redis.set(later, 'a sheet of a state this database never reached');
    await harness.redis.set(RULESET_VERSION_KEY, String(version + 5));
    await waitFor(async () => (await rulesetVersion()) === version, {
      timeoutMs: 3 * harness.config.BACKGROUND_INTERVAL_MS,
    });
    expect(await harness.redis.exists(later)).toBe(0);
    expect((await sheetOf(token)).ruleset_version).toBe(version);
  });

  it('drops sheets whose card changed while Redis could not be told', async () => {
    const token = tokens[20] as string;
    await sheetOf(token);
    const key = rateSheetKey(await rulesetVersion(), token);
    await harness.db.query('INSERT INTO card_sheet_invalidations (card_token) VALUES ($1)', [token]);
    await waitFor(async () => (await harness.redis.exists(key)) === 0, {
      timeoutMs: 3 * harness.config.BACKGROUND_INTERVAL_MS,
    });
    await waitFor(async () => {
      const { rowCount } = await harness.db.query(
        'SELECT 1 FROM card_sheet_invalidations WHERE card_token = $1',
        [token],
      );
      return rowCount === 0;
    });
  });

  it('serves admins and finance (settlement), nobody else', async () => {
    const token = tokens[0] as string;
    expect((await sheetOf(token, harness.admin)).card.card_token).toBe(token);
    expect((await harness.call('GET', `/v1/cards/${token}/rate_sheet`, { token: '' })).status).toBe(401);
    const unknown = tokenizePan(pan(999_999), harness.config.CARD_TOKEN_KEY);
    expect((await harness.call('GET', `/v1/cards/${unknown}/rate_sheet`)).status).toBe(404);
    await sleep(10);
  });

  it("serves settlement's service credential and auditors, and the credential nothing else", async () => {
    const token = tokens[1] as string;
    expect((await sheetOf(token, DEVELOPMENT_SERVICE_CREDENTIAL)).card.card_token).toBe(token);
    expect((await sheetOf(token, operatorToken(['auditor']))).card.card_token).toBe(token);
    const asService = { token: DEVELOPMENT_SERVICE_CREDENTIAL };
    expect((await harness.call('GET', '/v1/rules', asService)).status).toBe(403);
    expect((await harness.call('GET', `/v1/cards/${token}`, asService)).status).toBe(403);
    const created = await harness.call('POST', '/v1/rules', { ...asService, body: supermarketRule() });
    expect(created.status).toBe(403);
    const auditor = operatorToken(['auditor']);
    expect((await harness.call('GET', '/v1/rules', { token: auditor })).status).toBe(200);
    const audited = await harness.call('POST', '/v1/rules', { token: auditor, body: supermarketRule() });
    expect(audited.body.code).toBe('read_only_role');
    const wrong = await harness.call('GET', `/v1/cards/${token}/rate_sheet`, {
      token: `svc_${'w'.repeat(43)}`,
    });
    expect(wrong.status).toBe(401);
    const staff = operatorToken(['merchant_staff'], { merchantId: 'mer_01JDRK9V6A5Z3X1W2Q4R6T8Y0B' });
    expect((await harness.call('GET', `/v1/cards/${token}/rate_sheet`, { token: staff })).status).toBe(403);
  });
});

describe('without Redis', () => {
  it('still registers cards and serves rate sheets, from Postgres', async () => {
    const cacheless = await startHarness({ environment: { REDIS_URL: 'redis://127.0.0.1:1' } });
    try {
      const registered = await cacheless.call('POST', '/v1/cards', {
        body: { card_number: pan(5_000), member_id: 'M5000', union_id: 'union-1', tier: 'standard' },
      });
      expect(registered.status).toBe(201);
      const created = await cacheless.call('POST', '/v1/rules', { body: supermarketRule() });
      expect((await cacheless.call('POST', `/v1/rules/${created.body.rule_id}/publish`)).status).toBe(200);
      const sheet = await cacheless.call('GET', `/v1/cards/${registered.body.card_token}/rate_sheet`);
      expect(sheet.status).toBe(200);
      expect(rateSheetSchema.parse(sheet.body)).toMatchObject({
        ruleset_version: 1,
        rules: [{ rule_id: created.body.rule_id }],
      });
      const frozen = await cacheless.call('PATCH', `/v1/cards/${registered.body.card_token}`, {
        body: { status: 'frozen' },
      });
      expect(frozen.status).toBe(200);
    } finally {
      await cacheless.close();
    }
  });
});
