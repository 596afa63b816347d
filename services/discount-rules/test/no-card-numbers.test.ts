/**
 * DESIGN §8: card numbers are never stored or logged. After a workload that sends numbers in
 * every way the API takes them (good, mistyped, repeated, in bulk, inside a broken CSV), no
 * text or JSON column of any table, no log line and no message on the topics the service
 * wrote holds any of them.
 */
import { generateTestPan } from '@puhui/cards';
import { captureLogger, waitFor } from '@puhui/testing';
import type { CapturedLogger } from '@puhui/testing';
import { startHarness, supermarketRule } from './support';
import type { Harness } from './support';

let harness: Harness;
let captured: CapturedLogger;
/** Every card number the test sent, normalised to digits. */
const used = new Set<string>();

const pan = (serial: number) => {
  const number = generateTestPan(serial, { prefix: '6228', length: 19 });
  used.add(number);
  return number;
};
/** A number one check digit away from a card: a mistyped card number is still a card number. */
const mistyped = (serial: number) => {
  const number = generateTestPan(serial, { prefix: '6228', length: 19 });
  const wrong = `${number.slice(0, -1)}${(Number(number.slice(-1)) + 1) % 10}`;
  used.add(wrong);
  return wrong;
};

/** Digit runs shaped like a card number (13 to 19 digits, optionally grouped) that the test used. */
function cardNumbersIn(text: string): string[] {
  const runs = text.match(/\d(?:[ -]?\d){12,18}/gu) ?? [];
  return runs.map((run) => run.replace(/\D/gu, '')).filter((digits) => used.has(digits));
}

beforeAll(async () => {
  captured = captureLogger('discount-rules', 'debug');
  harness = await startHarness({ logger: captured.logger });
});

afterAll(async () => {
  await harness.close();
});

async function workload(): Promise<void> {
  const register = (cardNumber: string, memberId: string) =>
    harness.call('POST', '/v1/cards', {
      body: { card_number: cardNumber, member_id: memberId, union_id: 'union-1', tier: 'standard' },
    });
  const first = pan(1);
  const created = await register(`${first.slice(0, 4)} ${first.slice(4, 8)} ${first.slice(8)}`, 'M1');
  expect(created.status).toBe(201);
  expect((await register(first, 'M1')).status).toBe(200);
  expect((await register(first, 'M2')).status).toBe(409);
  expect((await register(mistyped(2), 'M3')).status).toBe(400);
  expect((await register(`${pan(3)}-9`, 'M4')).status).toBe(400);

  const rows = Array.from(
    { length: 300 },
    (_, index) => `${pan(100 + index)},M${index},union-${index % 3},hardship`,
  );
  rows.push(
    `${mistyped(500)},M-bad,union-1,standard`,
    `${pan(501)},${pan(502)},union-1,gold`,
    `${pan(503)},M-short`,
  );
  const imported = await harness.upload(`card_number,member_id,union_id,tier\n${rows.join('\n')}\n`);
  expect(imported.body).toMatchObject({ inserted: 300, rejected: 3 });
  const broken = await harness.upload(
    `card_number,member_id,union_id,tier\n"${pan(600)},M,u,standard\n${pan(601)},M,u,x\n`,
  );
  expect(broken.body.code).toBe('malformed_csv');

  const token = created.body.card_token as string;
  await harness.call('PATCH', `/v1/cards/${token}`, { body: { tier: 'hardship' } });
  const rule = await harness.call('POST', '/v1/rules', { body: supermarketRule() });
  await harness.call('POST', `/v1/rules/${rule.body.rule_id}/publish`);
  expect((await harness.call('GET', `/v1/cards/${token}/rate_sheet`)).status).toBe(200);
  // A card number where a token belongs: refused, and not to be logged either.
  expect((await harness.call('GET', `/v1/cards/${pan(700)}`)).status).toBe(400);
}

/** Every text and JSON value of every table in the service's database, as text. */
async function databaseText(): Promise<Map<string, string>> {
  const { rows: columns } = await harness.db.query<{ table_name: string; column_name: string }>(
    `SELECT table_name, column_name FROM information_schema.columns
     WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'character', 'json', 'jsonb')
     ORDER BY table_name, ordinal_position`,
  );
  const byTable = new Map<string, string[]>();
  for (const { table_name: table, column_name: column } of columns) {
    byTable.set(table, [...(byTable.get(table) ?? []), column]);
  }
  const texts = new Map<string, string>();
  for (const [table, tableColumns] of byTable) {
    const list = tableColumns.map((column) => `"${column}"::text`).join(', ');
    const { rows } = await harness.db.query<{ line: string | null }>(
      `SELECT concat_ws(' | ', ${list}) AS line FROM "${table}"`,
    );
    texts.set(table, rows.map((row) => row.line ?? '').join('\n'));
  }
  return texts;
}

it('leaves no card number in the database, the logs or the topics', async () => {
  await workload();
  // Everything written to the outbox is on Kafka before the topics are read.
  await waitFor(async () => {
    const { rows } = await harness.db.query<{ count: string }>(
      'SELECT count(*) FROM outbox_events WHERE published_at IS NULL',
    );
    return rows[0]?.count === '0';
  });
  await harness.cards.waitForCount(301);

  const tables = await databaseText();
  expect([...tables.keys()]).toEqual(
    expect.arrayContaining([
      'cards',
      'card_imports',
      'audit_events',
      'outbox_events',
      'rules',
      'rule_versions',
    ]),
  );
  // The scan looks where the cards are: their last 4 digits are there.
  expect(tables.get('cards')).toContain(generateTestPan(1, { prefix: '6228', length: 19 }).slice(-4));
  expect(tables.get('card_imports')).toContain('check digit');
  for (const [table, text] of tables)
    expect({ table, found: cardNumbersIn(text) }).toEqual({ table, found: [] });

  const logs = captured.text();
  expect(logs).toContain('request finished');
  expect(cardNumbersIn(logs)).toEqual([]);

  const topics = [...harness.cards.messages, ...harness.rules.messages].map((message) =>
    JSON.stringify(message),
  );
  expect(topics.length).toBeGreaterThan(300);
  expect(cardNumbersIn(topics.join('\n'))).toEqual([]);

  // The scan itself finds a number when there is one.
  expect(
    cardNumbersIn(`card ${generateTestPan(1, { prefix: '6228', length: 19 }).replace(/(\d{4})/gu, '$1 ')}`),
  ).toHaveLength(1);
  expect(used.size).toBeGreaterThan(300);
});
