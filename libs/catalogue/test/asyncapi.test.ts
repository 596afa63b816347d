import { COMPACTED_TOPICS, TOPICS, dlqTopicOf } from '@puhui/contracts';
import { ALL_EVENTS, asyncApiDocument, messageName } from '@puhui/catalogue';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const document = asyncApiDocument() as any;

describe('the AsyncAPI event catalogue', () => {
  it('has every topic and its .dlq twin as a channel with Kafka bindings', () => {
    const addresses = Object.values(document.channels).map((channel: any) => channel.address); // eslint-disable-line @typescript-eslint/no-explicit-any
    for (const topic of Object.values(TOPICS)) {
      expect(addresses).toContain(topic);
      expect(addresses).toContain(dlqTopicOf(topic));
    }
    expect(document.channels.rules.bindings.kafka.topicConfiguration['cleanup.policy']).toEqual(['compact']);
    expect(COMPACTED_TOPICS.has(document.channels.merchants.address)).toBe(false);
    expect(document.channels.merchants.bindings.kafka.topicConfiguration['cleanup.policy']).toEqual([
      'delete',
    ]);
  });

  it('has every event type as a message whose payload is the envelope with that type and its data', () => {
    expect(Object.keys(document.components.messages)).toHaveLength(ALL_EVENTS.length);
    for (const definition of ALL_EVENTS) {
      const message = document.components.messages[messageName(definition.type)];
      expect(message.name).toBe(definition.type);
      expect(message.payload.properties.type).toEqual({ type: 'string', const: definition.type });
      expect(message.payload.required).toEqual(
        expect.arrayContaining(['specversion', 'id', 'data', 'sequence']),
      );
      expect(message.bindings.kafka.key.description).toBeTruthy();
    }
  });

  it('names who sends each topic and who receives which events', () => {
    const operations = Object.values(document.operations) as any[]; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(operations.filter((operation) => operation.action === 'send')).toHaveLength(
      Object.keys(TOPICS).length,
    );
    expect(document.operations.transactionSettlementBudgetsReceivesRules.messages).toEqual([
      { $ref: '#/channels/rules/messages/budgetCreatedV1' },
    ]);
    expect(document.operations.merchantOnboardingPublishesMerchants.messages).toHaveLength(8);
  });
});
