import { randomUUID } from 'node:crypto';
import { cloudEventEnvelope, formatSequence } from '@puhui/contracts';

const envelope = {
  specversion: '1.0',
  id: randomUUID(),
  source: 'merchant-onboarding',
  type: 'puhui.merchant.approved.v1',
  subject: 'mer_1',
  time: '2026-12-01T22:00:00.000Z',
  datacontenttype: 'application/json',
  sequence: formatSequence(1),
  data: {},
};
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('the envelope’s distributed-tracing extension (decision 0026)', () => {
  it('keeps a W3C traceparent and tracestate, and needs neither', () => {
    const traced = cloudEventEnvelope.parse({ ...envelope, traceparent: TRACEPARENT, tracestate: 'puhui=1' });
    expect(traced).toMatchObject({ traceparent: TRACEPARENT, tracestate: 'puhui=1' });
    const untraced = cloudEventEnvelope.parse(envelope);
    expect(untraced).not.toHaveProperty('traceparent');
    expect(untraced.id).toBe(envelope.id);
  });

  it('drops a malformed trace context instead of refusing the event', () => {
    for (const traceparent of ['00-not-hex-01', 42, `${TRACEPARENT}-extra`, TRACEPARENT.toUpperCase()]) {
      const parsed = cloudEventEnvelope.safeParse({ ...envelope, traceparent, tracestate: 'x'.repeat(513) });
      expect(parsed.success).toBe(true);
      expect(parsed.data?.traceparent).toBeUndefined();
      expect(parsed.data?.tracestate).toBeUndefined();
      expect(parsed.data?.subject).toBe('mer_1');
    }
  });
});
