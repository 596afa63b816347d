/**
 * Retention (decision 0017): a terminated merchant's personal data is erased once
 * PERSONAL_DATA_RETENTION_DAYS have passed since its termination — the sealed contact, the
 * mobile's hash, the legal representative's sealed name, a personal account's number — with an
 * audit entry; masked forms, the ID number's hash and a corporate account stay; live merchants
 * and recent terminations are untouched; the service runs it by itself as a leader job.
 */
import { Client } from 'pg';
import { DAY_MS } from '@puhui/config';
import { TOPICS } from '@puhui/contracts';
import { createPool } from '@puhui/postgres';
import type { Pool } from '@puhui/postgres';
import { startService } from '@puhui/service';
import {
  captureLogger,
  operatorToken,
  readAnswer,
  recordTopic,
  sendJson,
  startTestService,
  testPostgresUrl,
  waitFor,
} from '@puhui/testing';
import { loadMerchantOnboardingConfig } from '../src/config';
import { ERASED_KEYS, erasePersonalDataDue } from '../src/jobs/personal-data-retention';
import { merchantOnboardingService } from '../src/service';
import { ADMIN, approvedMerchant } from './support';
import type { ApiResponse, Harness } from './support';

const RETENTION_DAYS = 30;
/** The job's own passes: often enough for a test to see one. */
const INTERVAL_MS = 200;
const logs = captureLogger('merchant-onboarding', 'info');

let harness: Harness;
let databaseUrl: string;
let pool: Pool;

beforeAll(async () => {
  const running = await startTestService(
    (environment) =>
      startService(merchantOnboardingService(loadMerchantOnboardingConfig(environment)), {
        logger: logs.logger,
      }),
    {
      PERSONAL_DATA_RETENTION_DAYS: String(RETENTION_DAYS),
      PERSONAL_DATA_RETENTION_INTERVAL_MS: String(INTERVAL_MS),
    },
  );
  const url = new URL(testPostgresUrl());
  url.pathname = `/${running.environment.DATABASE_NAME ?? ''}`;
  databaseUrl = url.toString();
  pool = createPool({ connectionString: databaseUrl, connectionsMax: 2, applicationName: 'retention-test' });
  const admin = () => operatorToken(['admin'], { subject: ADMIN });
  // approvedMerchant takes a whole harness; this file reads the merchants topic nowhere else.
  const events = await recordTopic(`${running.topicPrefix}${TOPICS.merchants}`);
  harness = {
    url: running.url,
    databaseUrl,
    events,
    get admin() {
      return admin();
    },
    call: async (method, path, options = {}): Promise<ApiResponse> => {
      const response = await sendJson(`${running.url}${path}`, method, {
        token: options.token ?? admin(),
        body: options.body,
      });
      return readAnswer(response);
    },
    close: async () => {
      await events.stop();
      await running.close();
    },
  };
});

afterAll(async () => {
  await pool?.end();
  await harness?.close();
});

async function query<Row extends Record<string, unknown>>(
  sql: string,
  values: unknown[] = [],
): Promise<Row[]> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query<Row>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

async function terminated(overrides: Record<string, unknown> = {}): Promise<string> {
  const id = await approvedMerchant(harness, overrides);
  const answer = await harness.call('POST', `/v1/merchants/${id}/terminate`, {
    body: { reason: '合同到期' },
  });
  expect(answer.body.status).toBe('terminated');
  return id;
}

interface StoredRow extends Record<string, unknown> {
  contact: Record<string, unknown> | null;
  legal_representative: Record<string, unknown> | null;
  settlement_account: Record<string, unknown> | null;
}

async function stored(merchantId: string): Promise<StoredRow> {
  const [row] = await query<StoredRow>(
    'SELECT contact, legal_representative, settlement_account FROM merchants WHERE merchant_id = $1',
    [merchantId],
  );
  return row as StoredRow;
}

interface AuditRow extends Record<string, unknown> {
  actor: string;
  request_id: string | null;
  before: unknown;
  after: { personal_data_erased?: unknown };
}

async function auditOf(merchantId: string, action: string): Promise<AuditRow[]> {
  return query<AuditRow>(
    'SELECT actor, request_id, before, after FROM audit_events WHERE merchant_id = $1 AND action = $2',
    [merchantId, action],
  );
}

const daysFromNow = (days: number) => () => new Date(Date.now() + days * DAY_MS);

describe('the personal data retention', () => {
  it('keeps a terminated merchant’s personal data until its retention has passed, then erases it once, audited', async () => {
    const gone = await terminated();
    const live = await approvedMerchant(harness);
    const before = await stored(gone);
    expect(before.contact).toHaveProperty('mobile_sealed');

    // A day before the retention ends, nothing; a minute after, the terminated merchant only.
    expect(
      await erasePersonalDataDue(pool, {
        retentionDays: RETENTION_DAYS,
        now: daysFromNow(RETENTION_DAYS - 1),
      }),
    ).not.toContain(gone);
    const erased = await erasePersonalDataDue(pool, {
      retentionDays: RETENTION_DAYS,
      now: daysFromNow(RETENTION_DAYS + 1 / 1440),
    });
    expect(erased).toContain(gone);
    expect(erased).not.toContain(live);

    const after = await stored(gone);
    // The sealed values and the mobile's hash are gone; the masked forms stay, marked.
    expect(Object.keys(after.contact ?? {}).sort()).toEqual([
      'email_masked',
      'erased_at',
      'mobile_masked',
      'name_masked',
    ]);
    expect(after.contact).toMatchObject({
      name_masked: before.contact?.name_masked,
      mobile_masked: '138****8000',
      email_masked: before.contact?.email_masked,
    });
    // The ID number's hash stays, for matching a representative who applies again.
    expect(after.legal_representative).toEqual({
      name_masked: before.legal_representative?.name_masked,
      id_number_masked: before.legal_representative?.id_number_masked,
      id_number_hash: before.legal_representative?.id_number_hash,
      erased_at: expect.any(String),
    });
    // A corporate account is the company's, not personal data: unchanged.
    expect(after.settlement_account).toEqual(before.settlement_account);
    const text = JSON.stringify(after);
    for (const value of [
      before.contact?.name_sealed,
      before.contact?.mobile_sealed,
      before.contact?.mobile_hash,
      before.contact?.email_sealed,
      before.legal_representative?.name_sealed,
    ]) {
      expect(typeof value).toBe('string');
      expect(text).not.toContain(value as string);
    }
    expect((await stored(live)).contact).toHaveProperty('mobile_sealed');

    const [entry, ...more] = await auditOf(gone, 'personal_data_erased');
    expect(more).toEqual([]);
    expect(entry).toMatchObject({ actor: 'service:merchant-onboarding', request_id: null });
    expect(entry?.after.personal_data_erased).toEqual({
      reason: 'retention',
      terminated_at: expect.any(String),
      retention_days: RETENTION_DAYS,
      erased_keys: ERASED_KEYS,
    });
    // The entry holds masked values only.
    const audited = JSON.stringify(entry);
    expect(audited).toContain('138****8000');
    for (const plaintext of ['13800138000', '王芳', '李强', 'wang.fang@example.cn']) {
      expect(audited).not.toContain(plaintext);
    }

    // The merchant still reads, masked; a second pass erases nothing.
    const read = await harness.call('GET', `/v1/merchants/${gone}`);
    expect(read.status).toBe(200);
    expect(read.body.contact).toMatchObject({ mobile_masked: '138****8000' });
    expect(
      await erasePersonalDataDue(pool, {
        retentionDays: RETENTION_DAYS,
        now: daysFromNow(RETENTION_DAYS + 2),
      }),
    ).not.toContain(gone);
    expect(await auditOf(gone, 'personal_data_erased')).toHaveLength(1);
  });

  it('erases a personal settlement account’s sealed number and sealed holder, keeping it masked', async () => {
    const gone = await terminated({
      settlement_account: {
        account_type: 'personal',
        account_name: '欧阳建国',
        account_number: '6222021234567890456',
        bank_name: '中国工商银行上饶分行',
        branch_code: '102431000015',
      },
    });
    const before = await stored(gone);
    expect(before.settlement_account).toHaveProperty('account_number_sealed');
    expect(before.settlement_account).toHaveProperty('account_name_sealed');
    await erasePersonalDataDue(pool, { retentionDays: RETENTION_DAYS, now: daysFromNow(RETENTION_DAYS + 1) });
    const {
      account_number_sealed: _sealed,
      account_name_sealed: _holderSealed,
      account_name_hash: _holderHash,
      account_name: _name,
      ...kept
    } = before.settlement_account ?? {};
    expect((await stored(gone)).settlement_account).toEqual({
      ...kept,
      account_name: '欧阳**',
      erased_at: expect.any(String),
    });
    expect(JSON.stringify(await stored(gone))).not.toContain('欧阳建国');
  });

  it('runs by itself in the service, as a leader job, for a termination older than the retention', async () => {
    const gone = await terminated();
    // As if it had been terminated 31 days ago: the audit trail is append-only, so its guard
    // is lifted for this one statement of the test (a superuser can; the service cannot).
    await query(`
      ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only;
      UPDATE audit_events SET occurred_at = occurred_at - interval '${RETENTION_DAYS + 1} days'
        WHERE merchant_id = '${gone}' AND action = 'terminate';
      ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only;`);
    await waitFor(async () => (await auditOf(gone, 'personal_data_erased')).length === 1, {
      timeoutMs: 20 * INTERVAL_MS + 5_000,
      description: 'the retention job erased the merchant',
    });
    expect((await stored(gone)).contact).not.toHaveProperty('mobile_sealed');
    // The pass logs each merchant it erased once it ends.
    await waitFor(
      () =>
        logs.lines.some(
          (line) => line.message === 'personal data erased (retention)' && line.merchant_id === gone,
        ),
      { timeoutMs: 5_000, description: 'the erasure logged' },
    );
  });
});
