/**
 * Issue 14: merchant keys have scopes and an end, and a suspension stops them minting keys.
 * Shown on a running system before: a POS key minted new keys for its merchant that survived
 * the revocation of the original key, and a suspended merchant could still mint keys.
 */
import { approvedMerchant, startHarness } from './support';
import type { Harness } from './support';

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness();
});

afterAll(async () => {
  await harness.close();
});

const DAY_MS = 24 * 3600 * 1000;

describe('merchant key scopes', () => {
  it('gives a new key the checkout scope only and a one-year end, announced with both', async () => {
    const merchant = await approvedMerchant(harness);
    const key = await harness.call('POST', `/v1/merchants/${merchant}/api_keys`);
    expect(key.status).toBe(201);
    expect(key.body.scopes).toEqual(['checkout']);
    const lifetimeMs = Date.parse(key.body.expires_at) - Date.parse(key.body.created_at);
    expect(lifetimeMs).toBe(365 * DAY_MS);
    const listed = await harness.call('GET', `/v1/merchants/${merchant}/api_keys`);
    expect(listed.body.data).toEqual([
      expect.objectContaining({ id: key.body.id, status: 'active', scopes: ['checkout'] }),
    ]);
    const [created] = await harness.events.waitForCount(
      1,
      (message) =>
        message.value.subject === merchant && message.value.type === 'puhui.merchant.api_key.created.v1',
    );
    expect(created?.value.data).toMatchObject({ scopes: ['checkout'], expires_at: key.body.expires_at });
  });

  it('refuses key management to a checkout-only key: it cannot mint, list or revoke keys', async () => {
    const merchant = await approvedMerchant(harness);
    const pos = await harness.call('POST', `/v1/merchants/${merchant}/api_keys`);
    const mint = await harness.call('POST', `/v1/merchants/${merchant}/api_keys`, { token: pos.body.secret });
    expect(mint.status).toBe(403);
    expect(mint.body.detail).toMatch(/keys scope/);
    const list = await harness.call('GET', `/v1/merchants/${merchant}/api_keys`, { token: pos.body.secret });
    expect(list.status).toBe(403);
    const revoke = await harness.call('DELETE', `/v1/merchants/${merchant}/api_keys/${pos.body.id}`, {
      token: pos.body.secret,
    });
    expect(revoke.status).toBe(403);
    const keys = await harness.call('GET', `/v1/merchants/${merchant}/api_keys`);
    expect(keys.body.data).toHaveLength(1);
  });

  it('lets a keys-only key mint keys no more powerful than itself', async () => {
    const merchant = await approvedMerchant(harness);
    const manager = await harness.call('POST', `/v1/merchants/${merchant}/api_keys`, {
      body: { scopes: ['keys'] },
    });
    const greedy = await harness.call('POST', `/v1/merchants/${merchant}/api_keys`, {
      token: manager.body.secret,
      body: { scopes: ['checkout', 'keys'] },
    });
    expect(greedy.status).toBe(403);
    expect(greedy.body).toMatchObject({ code: 'scope_exceeds_key' });
    const checkoutKey = await harness.call('POST', `/v1/merchants/${merchant}/api_keys`, {
      token: manager.body.secret,
      body: { scopes: ['checkout'] },
    });
    expect(checkoutKey.status).toBe(403);
    const peer = await harness.call('POST', `/v1/merchants/${merchant}/api_keys`, {
      token: manager.body.secret,
      body: { scopes: ['keys'] },
    });
    expect(peer.status).toBe(201);
    expect(peer.body.scopes).toEqual(['keys']);
  });

  it('refuses repeated or unknown scopes with a 400 naming the field', async () => {
    const merchant = await approvedMerchant(harness);
    for (const scopes of [['checkout', 'checkout'], ['refunds'], []]) {
      const response = await harness.call('POST', `/v1/merchants/${merchant}/api_keys`, { body: { scopes } });
      expect(response.status).toBe(400);
      expect(response.body.invalid_params[0].name).toMatch(/^scopes/);
    }
  });

  it('mints no key for a suspended merchant, by admin or by its own key, and names the status', async () => {
    const merchant = await approvedMerchant(harness);
    const manager = await harness.call('POST', `/v1/merchants/${merchant}/api_keys`, {
      body: { scopes: ['checkout', 'keys'] },
    });
    const suspended = await harness.call('POST', `/v1/merchants/${merchant}/suspend`, {
      body: { reason: '涉嫌套取补贴' },
    });
    expect(suspended.status).toBe(200);
    for (const token of [undefined, manager.body.secret as string]) {
      const response = await harness.call('POST', `/v1/merchants/${merchant}/api_keys`, {
        ...(token === undefined ? {} : { token }),
      });
      expect(response.status).toBe(403);
      expect(response.body).toMatchObject({ code: 'merchant_not_active', current_status: 'suspended' });
    }
  });
});
