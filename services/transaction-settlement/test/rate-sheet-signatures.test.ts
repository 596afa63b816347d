/**
 * Rate sheets in Redis are signed (decision 0015): a sheet settlement did not get from
 * discount-rules' signature — forged straight into Redis, or copied from another card's key —
 * is a miss, read through from discount-rules, and logged without the card token.
 */
import { randomUUID } from 'node:crypto';
import { startService } from '@puhui/service';
import { loadTransactionSettlementConfig } from '../src/config';
import { transactionSettlementService } from '../src/service';
import { SettlementHarness, percentOffRule, useHarness } from './support';
import type { TestCard, TestMerchant } from './support';

const harness = new SettlementHarness();
let merchant: TestMerchant;
let card: TestCard;
let other: TestCard;
const rule = percentOffRule({ category: 'supermarket', bps: 500 });
/** What a forger would like a card to get: 90 % off. */
const generous = percentOffRule({ category: 'supermarket', bps: 9000, name: 'forged 90 % off' });

useHarness(harness, async () => {
  merchant = await harness.addMerchant('supermarket');
  card = await harness.addCard(30, [rule]);
  // Another card with the generous rule, as discount-rules signed it under its own key.
  other = await harness.addCard(31, [generous]);
});

const body = (cardNumber: string) => ({
  card_number: cardNumber,
  currency: 'CNY',
  reference: `R-${randomUUID()}`,
  lines: [{ category: 'general', amount_minor: 3555 }],
});
const quote = (cardNumber: string) =>
  harness.call('POST', '/v1/checkouts/quote', { token: merchant.secret, body: body(cardNumber) });
const capture = (cardNumber: string) =>
  harness.call('POST', '/v1/checkouts', {
    token: merchant.secret,
    body: body(cardNumber),
    idempotencyKey: randomUUID(),
  });

const refusals = () =>
  harness.logs.lines.filter((line) => String(line.message).startsWith('rate sheet in Redis refused'));

/** The sheet discount-rules would serve for `card`, with `rules` instead of its own. */
function sheetWith(target: TestCard, rules: unknown[]): string {
  const { card_number: _cardNumber, ...facts } = target;
  return JSON.stringify({ card: facts, ruleset_version: 1, computed_at: new Date().toISOString(), rules });
}

describe('signed rate sheets', () => {
  it('uses a correctly signed sheet from Redis (a hit: discount-rules is not asked)', async () => {
    const calls = harness.rules.calls;
    const quoted = await quote(card.card_number);
    expect(quoted.status).toBe(200);
    expect(quoted.body.discount_minor).toBe(178);
    expect(harness.rules.calls).toBe(calls);
    expect(refusals()).toHaveLength(0);
  });

  it.each([
    ['unsigned, as it would be written straight into Redis', 'unsigned', (json: string) => json],
    ['with a made-up signature', 'bad_signature', (json: string) => `ps1.${'A'.repeat(43)}.${json}`],
  ])('ignores a forged sheet %s: the checkout uses the read-through sheet', async (_how, reason, forge) => {
    const saved = await harness.storedSheet(card.card_token);
    await harness.storeRawSheet(card.card_token, forge(sheetWith(card, [generous])));
    try {
      const before = refusals().length;
      const calls = harness.rules.calls;
      const quoted = await quote(card.card_number);
      expect(quoted.status).toBe(200);
      expect(quoted.body.discount_minor).toBe(178);
      const captured = await capture(card.card_number);
      expect(captured.status).toBe(201);
      expect(captured.body.discount_minor).toBe(178);
      expect(harness.rules.calls).toBe(calls + 2);
      // One warning per refused read, naming the key without the card token or the sheet.
      const logged = refusals().slice(before);
      expect(logged).toHaveLength(2);
      expect(logged[0]).toMatchObject({ level: 'warn', key: 'puhui:rate_sheet:v1:<card>', reason });
      expect(harness.logs.text()).not.toContain(card.card_token);
      expect(harness.logs.text()).not.toContain('forged 90 % off');
    } finally {
      await harness.storeRawSheet(card.card_token, saved ?? '');
    }
  });

  it("refuses a sheet copied from another card's key", async () => {
    const saved = await harness.storedSheet(card.card_token);
    const copied = await harness.storedSheet(other.card_token);
    expect(copied).not.toBeNull();
    await harness.storeRawSheet(card.card_token, copied ?? '');
    try {
      const before = refusals().length;
      const calls = harness.rules.calls;
      const quoted = await quote(card.card_number);
      expect(quoted.status).toBe(200);
      expect(quoted.body.discount_minor).toBe(178);
      expect(harness.rules.calls).toBe(calls + 1);
      expect(refusals().slice(before)).toMatchObject([{ reason: 'bad_signature' }]);
      // The copied sheet is still good under its own key.
      const own = await quote(other.card_number);
      expect(own.body.discount_minor).toBe(3200);
      expect(harness.rules.calls).toBe(calls + 1);
    } finally {
      await harness.storeRawSheet(card.card_token, saved ?? '');
    }
  });
});

describe('RATE_SHEET_SIGNING_KEY', () => {
  it('needs at least 32 characters, and a non-default one in production', async () => {
    const strong = 'rate-sheet-signing-key-for-production-0001';
    expect(() => loadTransactionSettlementConfig({ RATE_SHEET_SIGNING_KEY: 'k'.repeat(31) })).toThrow(
      /RATE_SHEET_SIGNING_KEY/u,
    );
    expect(loadTransactionSettlementConfig({ RATE_SHEET_SIGNING_KEY: strong }).RATE_SHEET_SIGNING_KEY).toBe(
      strong,
    );
    const boot = (environment: Record<string, string>) =>
      startService(transactionSettlementService(loadTransactionSettlementConfig(environment)));
    // Refused before anything is opened.
    await expect(boot({ NODE_ENV: 'production' })).rejects.toThrow(/RATE_SHEET_SIGNING_KEY/u);
    await expect(boot({ NODE_ENV: 'production', RATE_SHEET_SIGNING_KEY: strong })).rejects.not.toThrow(
      /RATE_SHEET_SIGNING_KEY/u,
    );
  });
});
