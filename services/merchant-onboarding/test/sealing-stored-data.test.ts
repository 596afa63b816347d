/**
 * The boot step that seals what was stored before decision 0016: plaintext contacts and
 * representative names, v1 account seals (no owner) and personal accounts' holders (0005), as a
 * database migrated before 0004 holds them. Migration 0004's masking of old audit rows is checked by the same kind of row.
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { maskMobile } from '@puhui/kyc';
import { createPool, databaseUrl, dropDatabase, ensureDatabase, migrate } from '@puhui/postgres';
import type { Pool } from '@puhui/postgres';
import {
  DEVELOPMENT_FIELD_KEY,
  DEVELOPMENT_IDENTITY_HASH_KEY,
  maskEmail,
  maskPersonName,
  openField,
} from '@puhui/security';
import { sealStoredPersonalData } from '../src/commands/personal-data-sealing';
import { approvedMerchant, startHarness } from './support';
import type { Harness } from './support';

let harness: Harness;
let db: Client;
let pool: Pool;
const secrets = { fieldKey: DEVELOPMENT_FIELD_KEY, identityHashKey: DEVELOPMENT_IDENTITY_HASH_KEY };
const GUARDS = [
  'merchants_contact_sealed',
  'merchants_legal_representative_sealed',
  'merchants_pending_legal_representative_sealed',
  'merchants_settlement_account_sealed_v2',
  'merchants_personal_account_holder_sealed',
  'merchants_pending_personal_account_holder_sealed',
];

beforeAll(async () => {
  harness = await startHarness();
  db = new Client({ connectionString: harness.databaseUrl });
  await db.connect();
  pool = createPool({
    connectionString: harness.databaseUrl,
    connectionsMax: 2,
    applicationName: 'sealing-test',
  });
});

afterAll(async () => {
  await pool.end();
  await db.end();
  await harness.close();
});

/** The v1 format: AES-256-GCM under the field key without an owner, as sealed before decision 0016. */
function legacySeal(plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(DEVELOPMENT_FIELD_KEY, 'base64'), iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [
    'v1',
    iv.toString('base64url'),
    cipher.getAuthTag().toString('base64url'),
    ciphertext.toString('base64url'),
  ].join('.');
}

/**
 * Runs `write` as if before migration 0004 (no guards), then adds the guards back as 0004 adds
 * them to a database holding such rows: NOT VALID, until the boot step validates them.
 */
async function beforeMigration0004(write: () => Promise<void>) {
  const { rows } = await db.query(
    `SELECT conname, pg_get_constraintdef(oid) AS definition FROM pg_constraint
     WHERE conrelid = 'merchants'::regclass AND conname = ANY($1)`,
    [GUARDS],
  );
  for (const row of rows) await db.query(`ALTER TABLE merchants DROP CONSTRAINT ${row.conname}`);
  await write();
  for (const row of rows)
    await db.query(`ALTER TABLE merchants ADD CONSTRAINT ${row.conname} ${row.definition} NOT VALID`);
}

async function guardsValid(): Promise<Record<string, boolean>> {
  const { rows } = await db.query(
    `SELECT conname, convalidated FROM pg_constraint WHERE conrelid = 'merchants'::regclass AND conname = ANY($1)`,
    [GUARDS],
  );
  return Object.fromEntries(rows.map((row) => [row.conname, row.convalidated]));
}

it('seals plaintext contacts and names and re-seals v1 accounts for their merchant, announcing live ones', async () => {
  const id = await approvedMerchant(harness);
  const draft = (
    await harness.call('POST', '/v1/merchants', { body: { legal_name: '上饶市草稿商户有限公司' } })
  ).body.id as string;
  const { rows: before } = await db.query(
    'SELECT settlement_account, settlement_account_changed_at, updated_at FROM merchants WHERE merchant_id = $1',
    [id],
  );
  const v1 = legacySeal('6222021234567890123');
  // The rows as they were stored before decision 0016.
  await beforeMigration0004(async () => {
    await db.query(
      `UPDATE merchants SET contact = $2, legal_representative = (legal_representative - 'name_masked' - 'name_sealed') || $3::jsonb,
         settlement_account = jsonb_set(settlement_account, '{account_number_sealed}', to_jsonb($4::text))
       WHERE merchant_id = $1`,
      [
        id,
        JSON.stringify({ name: '诸葛孔明', mobile: '13655556666', email: 'kongming@example.cn' }),
        JSON.stringify({ name: '刘备' }),
        v1,
      ],
    );
    await db.query(`UPDATE merchants SET contact = $2 WHERE merchant_id = $1`, [
      draft,
      JSON.stringify({ name: '关羽', mobile: '13577778888', email: 'guanyu@example.cn' }),
    ]);
  });
  expect(Object.values(await guardsValid())).toEqual(GUARDS.map(() => false));
  const outboxBefore = (await db.query('SELECT max(position) AS position FROM outbox_events')).rows[0]
    .position;

  expect(await sealStoredPersonalData(pool, secrets)).toBe(2);

  const { rows } = await db.query(
    'SELECT merchant_id, contact, legal_representative, settlement_account, settlement_account_changed_at, updated_at FROM merchants WHERE merchant_id = ANY($1) ORDER BY merchant_id = $2 DESC',
    [[id, draft], id],
  );
  const [live, drafted] = rows;
  expect(live.contact).toMatchObject({
    name_masked: '诸葛**',
    mobile_masked: '136****6666',
    email_masked: 'k***@example.cn',
  });
  expect(live.legal_representative).toMatchObject({
    name_masked: '刘*',
    id_number_masked: expect.any(String),
  });
  expect(JSON.stringify(rows)).not.toMatch(/诸葛孔明|13655556666|kongming@|刘备|关羽|13577778888/u);
  expect(openField(live.contact.mobile_sealed, DEVELOPMENT_FIELD_KEY, id)).toBe('13655556666');
  expect(openField(drafted.contact.name_sealed, DEVELOPMENT_FIELD_KEY, draft)).toBe('关羽');
  const resealed = live.settlement_account.account_number_sealed as string;
  expect(resealed).toMatch(/^v2\./u);
  expect(openField(resealed, DEVELOPMENT_FIELD_KEY, id)).toBe('6222021234567890123');
  expect(() => openField(resealed, DEVELOPMENT_FIELD_KEY, draft)).toThrow();
  // Only its seal changed: no new cooling-off, no new update time.
  expect(live.settlement_account_changed_at).toEqual(before[0].settlement_account_changed_at);
  expect(live.updated_at).toEqual(before[0].updated_at);

  // The reveal answers what was stored; the audit trail says the row was sealed.
  const revealed = await harness.call('POST', `/v1/merchants/${id}/personal_data/reveal`, {
    body: { fields: ['contact.mobile', 'legal_representative.name'], reason: '核对迁移后的联系人数据' },
  });
  expect(revealed.body.fields).toEqual({
    'contact.mobile': '13655556666',
    'legal_representative.name': '刘备',
  });
  const sealedAudit = await db.query(
    `SELECT actor, after FROM audit_events WHERE action = 'personal_data_sealed' ORDER BY merchant_id = $1 DESC`,
    [id],
  );
  expect(sealedAudit.rows.map((row) => row.after.fields)).toEqual([
    ['contact', 'legal_representative', 'settlement_account'],
    ['contact'],
  ]);
  expect(sealedAudit.rows[0].actor).toBe('service:merchant-onboarding');

  // The live merchant is announced again, so that settlement's replica holds the v2 seal.
  const { rows: announced } = await db.query(
    'SELECT event_type, envelope FROM outbox_events WHERE position > $1 ORDER BY position',
    [outboxBefore],
  );
  expect(announced.map((row) => row.event_type)).toEqual(['puhui.merchant.updated.v1']);
  expect(announced[0].envelope.data.merchant.settlement_account.account_number_sealed).toBe(resealed);
  expect(announced[0].envelope.data.changed_fields).toEqual(['settlement_account']);

  // Nothing is left: the guards are valid, a second pass seals nothing.
  expect(Object.values(await guardsValid())).toEqual(GUARDS.map(() => true));
  expect(await sealStoredPersonalData(pool, secrets)).toBe(0);
});

it("seals a personal account's plaintext holder (stored before 0005) and announces the masked, sealed holder", async () => {
  const holder = '黄月英';
  const id = await approvedMerchant(harness, {
    settlement_account: {
      account_type: 'personal',
      account_name: '马良',
      account_number: '6217000012345678901',
      bank_name: '中国建设银行上饶分行',
      branch_code: '105431000011',
    },
  });
  const { rows: before } = await db.query(
    'SELECT settlement_account_changed_at FROM merchants WHERE merchant_id = $1',
    [id],
  );
  await beforeMigration0004(async () => {
    await db.query(
      `UPDATE merchants SET settlement_account = (settlement_account - 'account_name_sealed' - 'account_name_hash')
         || jsonb_build_object('account_name', $2::text) WHERE merchant_id = $1`,
      [id, holder],
    );
  });
  expect((await guardsValid()).merchants_personal_account_holder_sealed).toBe(false);
  const outboxBefore = (await db.query('SELECT max(position) AS position FROM outbox_events')).rows[0]
    .position;

  expect(await sealStoredPersonalData(pool, secrets)).toBe(1);

  const { rows } = await db.query(
    'SELECT settlement_account, settlement_account_changed_at FROM merchants WHERE merchant_id = $1',
    [id],
  );
  const account = rows[0].settlement_account;
  expect(account.account_name).toBe('黄**');
  expect(openField(account.account_name_sealed, DEVELOPMENT_FIELD_KEY, id)).toBe(holder);
  expect(rows[0].settlement_account_changed_at).toEqual(before[0].settlement_account_changed_at);
  const { rows: announced } = await db.query(
    'SELECT envelope FROM outbox_events WHERE position > $1 ORDER BY position',
    [outboxBefore],
  );
  expect(announced).toHaveLength(1);
  expect(announced[0].envelope.data.merchant.settlement_account).toMatchObject({
    account_name: '黄**',
    account_name_sealed: account.account_name_sealed,
  });
  expect(JSON.stringify(announced)).not.toContain(holder);
  expect(Object.values(await guardsValid())).toEqual(GUARDS.map(() => true));
});

it('migration 0004 masks old audit rows with the rules the code masks with, keeping the trail append-only', async () => {
  const server = process.env.POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432';
  const name = `test_mask_${process.pid}_${Date.now()}`;
  const migrations = path.join(__dirname, '..', 'migrations');
  const before0004 = await mkdtemp(path.join(tmpdir(), 'migrations-'));
  for (const file of (await readdir(migrations)).filter((file) => file < '0004')) {
    await copyFile(path.join(migrations, file), path.join(before0004, file));
  }
  await ensureDatabase(server, name);
  const url = databaseUrl(server, name);
  const old = new Client({ connectionString: url });
  try {
    await migrate({ connectionString: url, directory: before0004, table: 'pgmigrations' });
    await old.connect();
    const names = ['张三', '王小明', '欧阳娜娜', ' 李 ', 'John Smith', '𠀋𠀌'];
    const emails = ['zhang.san@example.com', 'w@example.cn', 'not-an-address', 'zhang@'];
    const views = names.map((person, index) => ({
      contact: { name: person, mobile: '13912345678', email: emails[index % emails.length] },
      legal_representative: { name: person, id_number_masked: '361***********1234' },
    }));
    for (const view of views)
      await old.query(
        `INSERT INTO audit_events (merchant_id, action, actor, before, after) VALUES ('mer_x', 'merchant_updated', 'x', $1, $2)`,
        [
          JSON.stringify(view),
          JSON.stringify({ request: { after: view }, notify: { name: view.contact.name } }),
        ],
      );
    await migrate({ connectionString: url, directory: migrations, table: 'pgmigrations' });
    const { rows } = await old.query('SELECT before, after FROM audit_events ORDER BY audit_id');
    expect(rows.map((row) => row.before)).toEqual(
      views.map((view) => ({
        contact: {
          name_masked: maskPersonName(view.contact.name),
          mobile_masked: maskMobile(view.contact.mobile),
          email_masked: maskEmail(view.contact.email as string),
        },
        legal_representative: {
          name_masked: maskPersonName(view.contact.name),
          id_number_masked: '361***********1234',
        },
      })),
    );
    expect(rows.map((row) => row.after.notify)).toEqual(
      views.map((view) => ({ name_masked: maskPersonName(view.contact.name) })),
    );
    expect(JSON.stringify(rows)).not.toMatch(/13912345678|欧阳娜娜|zhang\.san@/u);
    await expect(old.query(`UPDATE audit_events SET action = 'rewritten'`)).rejects.toThrow(/append-only/u);
  } finally {
    await old.end();
    await dropDatabase(server, name);
    await rm(before0004, { recursive: true, force: true });
  }
});
