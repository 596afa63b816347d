/**
 * Issue 16, end to end across processes: the sequence the issue shows — one admin changes a live
 * merchant's settlement account to a personal account and approves it himself — is refused by
 * merchant-onboarding, the account and the event stream unchanged; approved by a second admin,
 * the change is announced (masked, with the contact to tell) and reaches settlement, whose
 * payment file then holds the new account back for the cooling-off period.
 */
import { waitFor } from '@puhui/testing';
import { EventLog } from './events';
import {
  approveAsChecker,
  capture,
  checkoutBody,
  onboardMerchant,
  registerCard,
  waitUntilSettlementAccepts,
} from './puhui';
import type { Merchant } from './puhui';
import { PuhuiSystem } from './system';

const PERSONAL_ACCOUNT_NUMBER = '6217000012345678901';
const HOUR_MS = 3_600_000;

let system: PuhuiSystem;
let events: EventLog;
let merchant: Merchant;

beforeAll(async () => {
  system = await PuhuiSystem.start();
  events = await EventLog.start([system.topic('merchants')]);
  merchant = await onboardMerchant(system, 'supermarket');
  await waitUntilSettlementAccepts(system, merchant);
}, 120_000);

afterAll(async () => {
  await events?.stop();
  await system?.stop();
});

const onboarding = (path: string, options: Parameters<PuhuiSystem['call']>[3] = {}) =>
  system.call('merchant-onboarding', options.body === undefined ? 'GET' : 'POST', path, options);

/** Closes and settles the current business day; answers the merchant's batch. */
async function settledBatch(): Promise<string> {
  const settlement = (method: string, path: string, body?: unknown) =>
    system.call('transaction-settlement', method, path, { token: system.finance, body });
  const day = await settlement('GET', '/v1/business_days/current');
  const businessDate = day.body.business_date as string;
  expect([200, 201]).toContain(
    (await settlement('POST', `/v1/business_days/${businessDate}/close`, {})).status,
  );
  expect((await settlement('POST', '/v1/settlement_runs', { business_date: businessDate })).status).toBe(201);
  const batches = await system.call('transaction-settlement', 'GET', '/v1/settlement_batches', {
    token: merchant.secret,
  });
  const [batch] = batches.body.data as Array<{ id: string }>;
  if (batch === undefined) throw new Error('the merchant has no settlement batch');
  return batch.id;
}

it('refuses the self-approved redirect of a live merchant’s payouts; a second admin’s approval is announced and cools off', async () => {
  await system.withLogsOnFailure(async () => {
    const card = await registerCard(system, 1_601);
    const captured = await capture(
      system,
      merchant,
      checkoutBody(card, [{ category: 'general', amount_minor: 8_800 }]),
    );
    expect(captured.status).toBe(201);

    const id = merchant.merchant_id;
    const changed = await system.call('merchant-onboarding', 'PATCH', `/v1/merchants/${id}`, {
      token: system.admin,
      body: {
        settlement_account: {
          account_type: 'personal',
          account_name: '张伟',
          account_number: PERSONAL_ACCOUNT_NUMBER,
          bank_name: '中国建设银行上饶分行',
          branch_code: '105431000011',
        },
      },
    });
    expect(changed.status).toBe(200);
    const requestId = (changed.body.pending_approval as { approval_request_id: string }).approval_request_id;
    for (const path of [`/v1/merchants/${id}/approve`, `/v1/approval_requests/${requestId}/approve`]) {
      const own = await onboarding(path, { token: system.admin, body: {} });
      expect(own.status).toBe(403);
      expect(own.body.code).toBe('self_approval_refused');
    }
    const unchanged = await onboarding(`/v1/merchants/${id}`, { token: system.admin });
    expect(unchanged.body).toMatchObject({
      settlement_account: { account_type: 'corporate', account_number_masked: '**** **** 0123' },
      settlement_account_changed_at: null,
    });

    await approveAsChecker(system, 'merchant-onboarding', requestId, 'the account change');
    const [notice] = await events.waitFor(
      system.topic('merchants'),
      (envelope) =>
        envelope.type === 'puhui.merchant.settlement_account_changed.v1' && envelope.subject === id,
    );
    const announced = JSON.parse(notice?.value ?? '{}') as { data: Record<string, unknown> };
    expect(announced.data).toMatchObject({
      merchant_id: id,
      before: { account_type: 'corporate', account_number_masked: '**** **** 0123' },
      after: { account_type: 'personal', account_number_masked: '**** **** 8901' },
      notify: { mobile_masked: '138****8000' },
    });
    expect(notice?.value).not.toContain(PERSONAL_ACCOUNT_NUMBER);
    // Nothing before it said so: the refused attempts announced nothing.
    const earlier = events
      .matching(system.topic('merchants'), (envelope) => envelope.subject === id)
      .map((record) => (JSON.parse(record.value ?? '{}') as { type: string }).type);
    expect(earlier.filter((type) => type === 'puhui.merchant.updated.v1')).toHaveLength(1);

    // Settlement learns of the change from merchant.updated: the payment file waits out the cooling-off.
    const batchId = await settledBatch();
    const refused = await waitFor(
      async () => {
        const exported = await system.call(
          'transaction-settlement',
          'GET',
          `/v1/settlement_batches/${batchId}/export.csv`,
          { token: system.finance },
        );
        return exported.status === 409 ? exported : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 200, description: 'the payment file refuses the new account' },
    );
    expect(refused.body).toMatchObject({ code: 'settlement_account_cooling_off', merchant_id: id });
    const changedAt = Date.parse(announced.data.changed_at as string);
    expect(Date.parse(refused.body.available_at as string)).toBe(changedAt + 24 * HOUR_MS);
  });
});
