/**
 * The merchants replica hears only merchant-onboarding (DESIGN §3, §8): a well-formed merchant
 * event on puhui.merchants.v1 that claims another service, or one nobody knows, goes to the
 * topic's DLQ unapplied and is logged without its payload, and the consumer keeps going.
 */
import { TOPICS, dlqTopicOf, merchantApproved, newId } from '@puhui/contracts';
import { captureLogger, recordTopic, waitFor } from '@puhui/testing';
import type { TopicRecorder } from '@puhui/testing';
import { merchantSnapshot, startHarness } from './support';
import type { Harness } from './support';

const captured = captureLogger('discount-rules', 'info');
let harness: Harness;
let dlq: TopicRecorder;

beforeAll(async () => {
  harness = await startHarness({ logger: captured.logger });
  dlq = await recordTopic(`${harness.topicPrefix}${dlqTopicOf(TOPICS.merchants)}`);
});

afterAll(async () => {
  await dlq.stop();
  await harness.close();
});

const approval = (merchantId: string) =>
  merchantApproved.data.parse({
    merchant: merchantSnapshot(merchantId, 'supermarket'),
    approved_at: new Date().toISOString(),
    approved_by: 'operator:admin.li',
  });

async function replicated(merchantId: string): Promise<boolean> {
  const { rows } = await harness.db.query('SELECT 1 FROM merchants WHERE merchant_id = $1', [merchantId]);
  return rows.length > 0;
}

it('refuses a merchant event from another source to the DLQ and applies the genuine one after it', async () => {
  const claimedBySettlement = newId('mer');
  const claimedByStranger = newId('mer');
  const genuine = newId('mer');
  await harness.publishMerchant(
    claimedBySettlement,
    merchantApproved.type,
    approval(claimedBySettlement),
    'transaction-settlement',
  );
  await harness.publishMerchant(
    claimedByStranger,
    merchantApproved.type,
    approval(claimedByStranger),
    'intruder',
  );
  // One partition: once the genuine approval after them is applied, both were dealt with.
  await harness.publishMerchant(genuine, merchantApproved.type, approval(genuine));
  await waitFor(() => replicated(genuine), { description: 'the genuine approval applied' });

  expect(await replicated(claimedBySettlement)).toBe(false);
  expect(await replicated(claimedByStranger)).toBe(false);
  const refused = await dlq.waitForCount(2);
  expect(
    refused.map((message) => [
      message.key,
      message.value.source,
      message.headers['puhui-dlq-reason'],
      message.headers['puhui-dlq-consumer-group'],
    ]),
  ).toEqual([
    [claimedBySettlement, 'transaction-settlement', 'unexpected_source', 'discount-rules.merchants'],
    [claimedByStranger, 'intruder', 'unexpected_source', 'discount-rules.merchants'],
  ]);
  expect(dlq.messages).toHaveLength(2);

  // A warning names the event, the topic and the claimed source, and carries no payload.
  const warnings = captured.lines.filter(
    (line) => line.message === 'event refused: its source is not the topic’s producer',
  );
  expect(warnings.map((line) => [line.level, line.topic, line.source, line.expected_source])).toEqual([
    ['warn', TOPICS.merchants, 'transaction-settlement', 'merchant-onboarding'],
    ['warn', TOPICS.merchants, 'intruder', 'merchant-onboarding'],
  ]);
  expect(warnings.map((line) => line.event_id)).toEqual(refused.map((message) => message.value.id));
  expect(captured.text()).not.toContain(merchantSnapshot(claimedBySettlement, 'supermarket').legal_name);
});
