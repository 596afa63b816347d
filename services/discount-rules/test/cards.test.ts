import { generateTestPan, tokenizePan } from '@puhui/cards';
import { auditTrail } from '@puhui/testing';
import { ADMIN, startHarness } from './support';
import type { Harness } from './support';

let harness: Harness;
let serial = 9_000;
/** A fresh, valid UnionPay number for each call. */
const nextPan = () => generateTestPan((serial += 1), { prefix: '6212', length: 19 });

beforeAll(async () => {
  harness = await startHarness();
});

afterAll(async () => {
  await harness.close();
});

const registration = (pan: string, overrides: Record<string, unknown> = {}) => ({
  card_number: pan,
  member_id: 'M-361100-0001',
  union_id: 'union-361102',
  tier: 'standard',
  ...overrides,
});

async function cardCount(): Promise<number> {
  const { rows } = await harness.db.query<{ count: string }>('SELECT count(*) FROM cards');
  return Number(rows[0]?.count);
}

describe('registering a card', () => {
  it('keeps only the token and last 4, announces the card and audits it', async () => {
    const pan = nextPan();
    const spaced = `${pan.slice(0, 4)} ${pan.slice(4, 8)} ${pan.slice(8)}`;
    const response = await harness.call('POST', '/v1/cards', { body: registration(spaced) });
    expect(response.status).toBe(201);
    const token = tokenizePan(pan, harness.config.CARD_TOKEN_KEY);
    expect(response.body).toEqual({
      card_token: token,
      card_last4: pan.slice(-4),
      member_id: 'M-361100-0001',
      union_id: 'union-361102',
      tier: 'standard',
      status: 'active',
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    expect(response.text).not.toContain(pan);

    const [event] = await harness.cards.waitForCount(1, (message) => message.key === token);
    expect(event?.value).toMatchObject({
      type: 'puhui.card.registered.v1',
      source: 'discount-rules',
      subject: token,
      sequence: '00000000000000000001',
      data: { card: { card_token: token, card_last4: pan.slice(-4), tier: 'standard', status: 'active' } },
    });
    expect(JSON.stringify(event)).not.toContain(pan);

    const audit = await harness.call('GET', `/v1/audit_events?card_token=${token}`);
    expect(audit.body.data).toEqual([
      expect.objectContaining({
        action: 'card_registered',
        actor: `operator:${ADMIN}`,
        card_token: token,
      }),
    ]);
    expect((await harness.call('GET', `/v1/cards/${token}`, { token: harness.finance })).body).toEqual(
      response.body,
    );
  });

  it('answers a repeated identical registration with the card (200), and other details with 409', async () => {
    const pan = nextPan();
    const first = await harness.call('POST', '/v1/cards', { body: registration(pan) });
    expect(first.status).toBe(201);
    const again = await harness.call('POST', '/v1/cards', { body: registration(pan) });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    const other = await harness.call('POST', '/v1/cards', { body: registration(pan, { member_id: 'M-2' }) });
    expect(other.status).toBe(409);
    expect(other.body).toMatchObject({ code: 'card_already_registered', card_token: first.body.card_token });
    expect(other.text).not.toContain(pan);
  });

  it.each([
    [
      'a failed check digit',
      `${generateTestPan(1).slice(0, 15)}${(Number(generateTestPan(1).slice(-1)) + 1) % 10}`,
      'check digit',
    ],
    ['a card that is not UnionPay', '4111111111111111', 'UnionPay'],
    ['too few digits', '62000000003', '16 to 19 digits'],
    ['letters', '6200-0000-0000-000X', 'only digits'],
  ])('refuses %s with 400 naming card_number, storing nothing', async (_what, number, reason) => {
    const before = await cardCount();
    const response = await harness.call('POST', '/v1/cards', { body: registration(number) });
    expect(response.status).toBe(400);
    expect(response.contentType).toMatch(/application\/problem\+json/);
    expect(response.body.invalid_params).toEqual([
      expect.objectContaining({ name: 'card_number', reason: expect.stringContaining(reason) }),
    ]);
    expect(response.text).not.toContain(number);
    expect(await cardCount()).toBe(before);
  });

  it('names every bad field at once', async () => {
    const response = await harness.call('POST', '/v1/cards', {
      body: { ...registration(nextPan(), { tier: 'gold', union_id: 'has spaces' }), member_id: '', extra: 1 },
    });
    expect(response.status).toBe(400);
    const names = response.body.invalid_params.map((param: { name: string }) => param.name).sort();
    expect(names).toEqual(['extra', 'member_id', 'tier', 'union_id']);
  });

  it('needs an admin to register and an operator to read', async () => {
    const body = registration(nextPan());
    expect((await harness.call('POST', '/v1/cards', { body, token: '' })).status).toBe(401);
    expect((await harness.call('POST', '/v1/cards', { body, token: harness.finance })).status).toBe(403);
    expect((await harness.call('POST', '/v1/cards', { body, token: 'sk_live_notarealkey' })).status).toBe(
      401,
    );
  });
});

describe('changing a card', () => {
  it('changes tier and status, audits and announces each change, and keeps cancelled final', async () => {
    const created = await harness.call('POST', '/v1/cards', { body: registration(nextPan()) });
    const token = created.body.card_token as string;
    const path = `/v1/cards/${token}`;

    const upgraded = await harness.call('PATCH', path, { body: { tier: 'model_worker' } });
    expect(upgraded.status).toBe(200);
    expect(upgraded.body).toMatchObject({ tier: 'model_worker', status: 'active' });
    const frozen = await harness.call('PATCH', path, { body: { status: 'frozen', tier: 'model_worker' } });
    expect(frozen.body).toMatchObject({ tier: 'model_worker', status: 'frozen' });
    const unchanged = await harness.call('PATCH', path, { body: { status: 'frozen' } });
    expect(unchanged.status).toBe(200);
    const cancelled = await harness.call('PATCH', path, { body: { status: 'cancelled' } });
    expect(cancelled.body.status).toBe('cancelled');

    const revived = await harness.call('PATCH', path, { body: { status: 'active' } });
    expect(revived.status).toBe(409);
    expect(revived.body).toMatchObject({ code: 'card_cancelled', current_status: 'cancelled' });

    const updates = await harness.cards.waitForCount(
      3,
      (message) => message.key === token && message.value.type === 'puhui.card.updated.v1',
    );
    expect(
      updates.map((message) => (message.value.data as { changed_fields: string[] }).changed_fields),
    ).toEqual([['tier'], ['status'], ['status']]);
    const audit = await auditTrail(harness, `card_token=${token}`);
    expect(audit.actions).toEqual(['card_registered', 'card_updated', 'card_updated', 'card_updated']);
    expect(audit.entries[2]).toMatchObject({ before: { status: 'active' }, after: { status: 'frozen' } });
  });

  it('refuses a database update that un-cancels a card', async () => {
    const created = await harness.call('POST', '/v1/cards', { body: registration(nextPan()) });
    const token = created.body.card_token as string;
    await harness.call('PATCH', `/v1/cards/${token}`, { body: { status: 'cancelled' } });
    await expect(
      harness.db.query(`UPDATE cards SET status = 'active' WHERE card_token = $1`, [token]),
    ).rejects.toThrow(/cancelled for good/);
  });

  it('answers 404 for an unknown token and 400 for something that is not a token', async () => {
    const unknown = tokenizePan(nextPan(), harness.config.CARD_TOKEN_KEY);
    expect((await harness.call('GET', `/v1/cards/${unknown}`)).status).toBe(404);
    expect((await harness.call('PATCH', `/v1/cards/${unknown}`, { body: { tier: 'hardship' } })).status).toBe(
      404,
    );
    expect((await harness.call('GET', `/v1/cards/${unknown}/rate_sheet`)).status).toBe(404);
    const notToken = await harness.call('GET', '/v1/cards/not-a-token');
    expect(notToken.status).toBe(400);
    expect(notToken.body.invalid_params).toEqual([expect.objectContaining({ in: 'path', name: 'token' })]);
  });
});
