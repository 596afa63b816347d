/**
 * Personal information at rest and when shown (issue 15, decision 0016): the contact's name,
 * mobile and e-mail, the legal representative's name and a personal account's holder are stored
 * sealed for their merchant and
 * appear masked in every answer, audit row, approval request, outbox event, Kafka record and log
 * line; an admin reveals a plaintext with a reason, audited; a sealed value pasted onto another
 * merchant does not open.
 */
import { Client } from 'pg';
import { makeResidentId } from '@puhui/kyc';
import { captureLogger, operatorToken } from '@puhui/testing';
import type { CapturedLogger } from '@puhui/testing';
import { ADMIN, approvedMerchant, startHarness } from './support';
import type { Harness } from './support';

let harness: Harness;
let captured: CapturedLogger;
let db: Client;

beforeAll(async () => {
  captured = captureLogger('merchant-onboarding', 'debug');
  harness = await startHarness({ logger: captured.logger });
  db = new Client({ connectionString: harness.databaseUrl });
  await db.connect();
});

afterAll(async () => {
  await db.end();
  await harness.close();
});

/** Values no other test uses, so that finding one anywhere is this test's leak. */
const PERSON = {
  contact: { name: '欧阳娜娜', mobile: '13912345678', email: 'ouyang.nana@example.cn' },
  legal_representative: { name: '司马相如', id_number: makeResidentId('36110219750315123') },
};
/** The holder of the personal account the first merchant changes to: a person's name too. */
const HOLDER = '诸葛孔明';
const PLAINTEXT = [
  PERSON.contact.name,
  PERSON.contact.mobile,
  PERSON.contact.email,
  PERSON.legal_representative.name,
  HOLDER,
];

const auditor = () => operatorToken(['auditor'], { subject: 'auditor-li' });
const reveal = (id: string, body: unknown, token?: string) =>
  harness.call('POST', `/v1/merchants/${id}/personal_data/reveal`, {
    body,
    ...(token === undefined ? {} : { token }),
  });

async function tableText(sql: string, params: unknown[] = []): Promise<string> {
  const { rows } = await db.query(sql, params);
  return JSON.stringify(rows);
}

function expectNoPlaintext(where: string, text: string) {
  for (const value of PLAINTEXT) {
    if (text.includes(value)) throw new Error(`${where} holds the plaintext ${value}`);
  }
}

describe('personal data at rest and when shown', () => {
  let id: string;

  beforeAll(async () => {
    id = await approvedMerchant(harness, PERSON);
    // A change of account to a personal one: the account-change event names the contact to tell.
    const changed = await harness.call('PATCH', `/v1/merchants/${id}`, {
      body: {
        settlement_account: {
          account_type: 'personal',
          account_name: HOLDER,
          account_number: '6217000012345678901',
          bank_name: '中国建设银行上饶分行',
          branch_code: '105431000011',
        },
      },
    });
    expect(changed.status).toBe(200);
    const approved = await harness.call('POST', `/v1/merchants/${id}/approve`, {
      token: operatorToken(['admin'], { subject: 'admin-checker' }),
    });
    expect(approved.status).toBe(200);
    await harness.events.waitForCount(
      1,
      (message) =>
        message.value.subject === id && message.value.type === 'puhui.merchant.settlement_account_changed.v1',
    );
  });

  it('answers admins and the merchant itself masked values only', async () => {
    const shown = await harness.call('GET', `/v1/merchants/${id}`);
    expect(shown.body.contact).toEqual({
      name_masked: '欧阳**',
      mobile_masked: '139****5678',
      email_masked: 'o***@example.cn',
    });
    expect(shown.body.legal_representative).toEqual({
      name_masked: '司马**',
      id_number_masked: expect.stringMatching(/^361\*{11}\d{3}[\dX]$/u),
    });
    expect(shown.body.settlement_account.account_name).toBe('诸葛**');
    const key = await harness.call('POST', `/v1/merchants/${id}/api_keys`);
    const own = await harness.call('GET', `/v1/merchants/${id}`, { token: key.body.secret });
    expect(own.body.contact).toEqual(shown.body.contact);
    const listed = await harness.call('GET', '/v1/merchants?limit=100');
    for (const answer of [shown, own, listed]) expectNoPlaintext('an answer', JSON.stringify(answer.body));
  });

  it('stores none of them in plaintext: merchants, audit trail, approval requests, outbox, Kafka, logs', async () => {
    const merchants = await tableText('SELECT * FROM merchants WHERE merchant_id = $1', [id]);
    expect(merchants).toContain('mobile_sealed');
    expect(merchants).toContain('"account_name":"诸葛**"');
    expect(merchants).toContain('account_name_sealed');
    expectNoPlaintext('the merchants table', merchants);
    const audit = await tableText('SELECT * FROM audit_events WHERE merchant_id = $1', [id]);
    expect(audit).toContain('139****5678');
    expectNoPlaintext('the audit trail', audit);
    expectNoPlaintext('the approval requests', await tableText('SELECT * FROM approval_requests'));
    const outbox = await tableText('SELECT envelope FROM outbox_events');
    expect(outbox).toContain('"name_masked":"欧阳**"');
    expectNoPlaintext('the outbox', outbox);
    expectNoPlaintext('the Kafka records', JSON.stringify(harness.events.messages));
    // The replicas' snapshot carries the holder masked, and sealed for settlement's payment file.
    const snapshots = harness.events.messages
      .filter((message) => message.value.subject === id && message.value.type === 'puhui.merchant.updated.v1')
      .map(
        (message) =>
          (message.value.data as { merchant: { settlement_account: Record<string, unknown> } }).merchant,
      );
    expect(snapshots.at(-1)?.settlement_account).toMatchObject({
      account_type: 'personal',
      account_name: '诸葛**',
      account_name_sealed: expect.stringMatching(/^v2\./u),
    });
    expect(captured.lines.length).toBeGreaterThan(0);
    expectNoPlaintext('the log', captured.text());
  });

  it('the sealing guards refuse a plaintext contact written around the code', async () => {
    const written = await db
      .query(`UPDATE merchants SET contact = $2 WHERE merchant_id = $1`, [id, JSON.stringify(PERSON.contact)])
      .catch((error: { constraint?: string }) => error.constraint);
    expect(written).toBe('merchants_contact_sealed');
    const holder = await db
      .query(
        `UPDATE merchants SET settlement_account = (settlement_account - 'account_name_sealed')
           || jsonb_build_object('account_name', $2::text) WHERE merchant_id = $1`,
        [id, HOLDER],
      )
      .catch((error: { constraint?: string }) => error.constraint);
    expect(holder).toBe('merchants_personal_account_holder_sealed');
  });

  it('reveals a personal account holder to an admin; a corporate account has no sealed holder', async () => {
    const reason = '核对个人结算账户户名';
    const answer = await reveal(id, { fields: ['settlement_account.account_name'], reason });
    expect(answer.status).toBe(200);
    expect(answer.body.fields).toEqual({ 'settlement_account.account_name': HOLDER });
    const corporate = await approvedMerchant(harness);
    const stored = await tableText(`SELECT settlement_account FROM merchants WHERE merchant_id = $1`, [
      corporate,
    ]);
    expect(stored).not.toContain('account_name_sealed');
    const none = await reveal(corporate, { fields: ['settlement_account.account_name'], reason });
    expect(none.body.fields).toEqual({ 'settlement_account.account_name': null });
  });
});

describe('revealing personal data', () => {
  let id: string;

  beforeAll(async () => {
    id = await approvedMerchant(harness, PERSON);
  });

  it('answers an admin the plaintext, uncached, and audits who, when, which fields and why — not the values', async () => {
    const reason = '致电联系人核实结算账户变更';
    const answer = await reveal(id, {
      fields: [
        'contact.mobile',
        'contact.name',
        'legal_representative.name',
        'settlement_account.account_number',
      ],
      reason,
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      merchant_id: id,
      fields: {
        'contact.mobile': '13912345678',
        'contact.name': '欧阳娜娜',
        'legal_representative.name': '司马相如',
        'settlement_account.account_number': '6222021234567890123',
      },
      revealed_at: expect.any(String),
    });
    const response = await fetch(`${harness.url}/v1/merchants/${id}/personal_data/reveal`, {
      method: 'POST',
      headers: { authorization: `Bearer ${harness.admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ fields: ['contact.email'], reason }),
    });
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toMatchObject({ fields: { 'contact.email': 'ouyang.nana@example.cn' } });

    const { rows } = await db.query(
      `SELECT actor, request_id, before, after, occurred_at FROM audit_events
       WHERE merchant_id = $1 AND action = 'personal_data_revealed' ORDER BY audit_id`,
      [id],
    );
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({
      actor: `operator:${ADMIN}`,
      request_id: expect.any(String),
      before: null,
      after: {
        fields: [
          'contact.mobile',
          'contact.name',
          'legal_representative.name',
          'settlement_account.account_number',
        ],
        reason,
        revealed_at: answer.body.revealed_at,
      },
    });
    expectNoPlaintext('the reveal audit rows', JSON.stringify(rows));
    expect(JSON.stringify(rows)).not.toContain('6222021234567890123');
  });

  it('refuses an auditor, the merchant itself, and an admin without a reason, revealing and auditing nothing', async () => {
    const body = { fields: ['contact.mobile'], reason: '致电联系人核实结算账户变更' };
    const reveals = async () =>
      (
        await db.query(
          `SELECT count(*)::int AS count FROM audit_events WHERE merchant_id = $1 AND action = 'personal_data_revealed'`,
          [id],
        )
      ).rows[0].count as number;
    const before = await reveals();
    const key = await harness.call('POST', `/v1/merchants/${id}/api_keys`, {
      body: { scopes: ['checkout', 'keys'] },
    });
    const staff = operatorToken(['merchant_staff'], { subject: 'staff-wang', merchantId: id });
    const refusals = [
      await reveal(id, body, auditor()),
      await reveal(id, body, key.body.secret),
      await reveal(id, body, staff),
      await reveal(id, { fields: ['contact.mobile'] }),
      await reveal(id, { fields: ['contact.mobile'], reason: '看看' }),
      await reveal(id, { fields: [], reason: body.reason }),
      await reveal(id, { fields: ['legal_representative.id_number'], reason: body.reason }),
    ];
    expect(refusals.map((answer) => answer.status)).toEqual([403, 403, 403, 400, 400, 400, 400]);
    for (const answer of refusals) expect(JSON.stringify(answer.body)).not.toContain('13912345678');
    expect(await reveals()).toBe(before);
  });

  it('answers 404 for a merchant that does not exist', async () => {
    const answer = await reveal('mer_0000000000000000000000000', {
      fields: ['contact.mobile'],
      reason: '致电联系人核实结算账户变更',
    });
    expect(answer.status).toBe(404);
  });
});

describe('a sealed value belongs to its merchant', () => {
  it('does not open when pasted onto another merchant (409, nothing revealed)', async () => {
    const a = await approvedMerchant(harness, { contact: { ...PERSON.contact, mobile: '13700001111' } });
    const b = await approvedMerchant(harness);
    await db.query(
      `UPDATE merchants SET
         contact = jsonb_set(contact, '{mobile_sealed}', (SELECT contact -> 'mobile_sealed' FROM merchants WHERE merchant_id = $2)),
         settlement_account = jsonb_set(settlement_account, '{account_number_sealed}',
           (SELECT settlement_account -> 'account_number_sealed' FROM merchants WHERE merchant_id = $2))
       WHERE merchant_id = $1`,
      [b, a],
    );
    const reason = '核对粘贴的密文是否能打开';
    for (const field of ['contact.mobile', 'settlement_account.account_number']) {
      const answer = await reveal(b, { fields: [field], reason });
      expect(answer.status).toBe(409);
      expect(answer.body).toMatchObject({ code: 'personal_data_unreadable', fields: [field] });
      expect(JSON.stringify(answer.body)).not.toContain('13700001111');
    }
    // The untouched fields of B still open, and A's own values too.
    expect((await reveal(b, { fields: ['contact.name'], reason })).status).toBe(200);
    expect((await reveal(a, { fields: ['contact.mobile'], reason })).body.fields).toEqual({
      'contact.mobile': '13700001111',
    });
  });
});
