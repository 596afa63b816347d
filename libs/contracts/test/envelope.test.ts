import { z } from 'zod';
import {
  EventCatalog,
  TOPICS,
  cloudEventEnvelope,
  defineEvent,
  dlqTopicOf,
  formatSequence,
  parseSequence,
} from '@puhui/contracts';

const envelope = {
  specversion: '1.0',
  id: '0b3e7a1c-9d2e-4f7a-9d2e-1234567890ab',
  source: 'merchant-onboarding',
  type: 'puhui.merchant.approved.v1',
  subject: 'mer_01',
  time: '2026-11-21T09:30:00.000+08:00',
  datacontenttype: 'application/json',
  sequence: formatSequence(3),
  data: { merchant_id: 'mer_01' },
};

describe('CloudEvents envelope', () => {
  it('accepts a well-formed structured event', () => {
    expect(cloudEventEnvelope.parse(envelope)).toEqual(envelope);
  });

  it.each([
    ['specversion', '0.3'],
    ['id', 'not-a-uuid'],
    ['type', 'merchant.approved'],
    ['time', 'yesterday'],
    ['sequence', '3'],
    ['datacontenttype', 'text/plain'],
  ])('rejects a bad %s', (field, value) => {
    expect(cloudEventEnvelope.safeParse({ ...envelope, [field]: value }).success).toBe(false);
  });

  it('orders sequences as strings the way it orders them as numbers', () => {
    const sequences = [1, 9, 10, 100, 2 ** 53].map(formatSequence);
    expect([...sequences].sort()).toEqual(sequences);
    expect(parseSequence(formatSequence(42))).toBe(42n);
  });
});

describe('event catalogue', () => {
  const approved = defineEvent(
    'puhui.merchant.approved.v1',
    TOPICS.merchants,
    z.object({ merchant_id: z.string() }),
  );

  it('finds a definition by type and lists topics', () => {
    const catalog = new EventCatalog([approved]);
    expect(catalog.get('puhui.merchant.approved.v1')).toBe(approved);
    expect(catalog.get('puhui.unknown.v1')).toBeUndefined();
    expect(catalog.topics()).toEqual(['puhui.merchants.v1']);
  });

  it('refuses a type defined twice or named oddly', () => {
    expect(() => new EventCatalog([approved, approved])).toThrow(/defined twice/);
    expect(() => defineEvent('MerchantApproved', TOPICS.merchants, z.object({}))).toThrow(/puhui/);
  });

  it('names the DLQ twin of a topic', () => {
    expect(dlqTopicOf(TOPICS.checkouts)).toBe('puhui.checkouts.v1.dlq');
  });
});
