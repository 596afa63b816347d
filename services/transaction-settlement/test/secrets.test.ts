/**
 * Settlement's secrets (decision 0020): the real entry point refuses to start in production —
 * which an unset NODE_ENV means — on the development defaults, and refuses a field key that does
 * not decode to 32 bytes in any NODE_ENV, before it touches a database; idempotency request
 * hashes are keyed by IDEMPOTENCY_REQUEST_HASH_KEY, their own secret, and the identity hash key
 * is not even parsed here.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { requestHash } from '@puhui/idempotency';
import { loadTransactionSettlementConfig } from '../src/config';
import { merchantCardHandle } from '../src/views/checkout';
import { runMain } from './run-node';
import { SettlementHarness, percentOffRule, useHarness } from './support';

const REQUEST_HASH_KEY = randomBytes(32).toString('base64');
const CARD_HANDLE_KEY = randomBytes(32).toString('base64');

describe('the real entry point', () => {
  it('refuses to start without NODE_ENV on the development secrets, naming each, before any log line', async () => {
    const result = await runMain({});
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'Set FIELD_ENCRYPTION_KEY, IDEMPOTENCY_REQUEST_HASH_KEY, CARD_TOKEN_KEY, CARD_HANDLE_KEY, RATE_SHEET_SIGNING_KEY, SERVICE_CREDENTIAL: development defaults are refused in production',
    );
    // Nothing was started: no database, broker or port was touched.
    expect(result.stdout).toBe('');
  });

  it('refuses a 5-byte FIELD_ENCRYPTION_KEY even in development, instead of a 500 at the first payment file', async () => {
    const key = randomBytes(5).toString('base64');
    const result = await runMain({ NODE_ENV: 'development', FIELD_ENCRYPTION_KEY: key });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /FIELD_ENCRYPTION_KEY: must decode to exactly 32 bytes \(AES-256\), not 5/u,
    );
    expect(result.stderr).not.toContain(key);
    expect(result.stdout).toBe('');
  });
});

describe('keys split off other purposes', () => {
  const harness = new SettlementHarness();
  // The harness's service reads the test's environment (libs/testing startTestService).
  process.env.IDEMPOTENCY_REQUEST_HASH_KEY = REQUEST_HASH_KEY;
  process.env.CARD_HANDLE_KEY = CARD_HANDLE_KEY;
  process.env.IDENTITY_HASH_KEY = randomBytes(32).toString('base64');
  useHarness(harness);

  it('are keyed by IDEMPOTENCY_REQUEST_HASH_KEY; IDENTITY_HASH_KEY is not settlement’s to read', async () => {
    const config = loadTransactionSettlementConfig(process.env);
    expect(config.IDEMPOTENCY_REQUEST_HASH_KEY).toBe(REQUEST_HASH_KEY);
    expect(Object.keys(config)).not.toContain('IDENTITY_HASH_KEY');

    const budgetId = await harness.addBudget('职工互助补贴');
    const key = randomUUID();
    const request = { amount_minor: 50_000, reference: 'TU-SECRETS-0001' };
    const asked = await harness.call('POST', `/v1/budgets/${budgetId}/top_ups`, {
      token: harness.admin,
      idempotencyKey: key,
      body: request,
    });
    expect(asked.status).toBe(202);
    const rows = await harness.query<{ request_hash: string }>(
      'SELECT request_hash FROM idempotency_keys WHERE idempotency_key = $1',
      [key],
    );
    expect(rows).toEqual([
      {
        request_hash: requestHash(REQUEST_HASH_KEY, {
          path: `POST /v1/budgets/${budgetId}/top_ups`,
          request,
        }),
      },
    ]);
  });

  it('key the card handle a merchant sees by CARD_HANDLE_KEY, not by the card token key', async () => {
    const shop = await harness.addMerchant('supermarket');
    const card = await harness.addCard(77, [percentOffRule({ category: 'supermarket', bps: 500 })]);
    const captured = await harness.call('POST', '/v1/checkouts', {
      token: shop.secret,
      idempotencyKey: randomUUID(),
      body: {
        card_number: card.card_number,
        currency: 'CNY',
        reference: `R-${randomUUID()}`,
        lines: [{ category: 'general', amount_minor: 10_000 }],
      },
    });
    expect(captured.status).toBe(201);
    expect(captured.body.card_handle).toBe(
      merchantCardHandle(CARD_HANDLE_KEY, shop.merchant_id, card.card_token),
    );
  });
});
