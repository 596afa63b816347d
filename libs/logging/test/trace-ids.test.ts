import { ROOT_CONTEXT, TraceFlags, context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { createLogger, maskCardNumbers, memoryDestination } from '@puhui/logging';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
/** A span id with no hex letter, which the card-number mask would otherwise take for a card. */
const DIGITS_ONLY_SPAN_ID = '4111111111111111';

function inSpan<T>(spanId: string, work: () => T): T {
  const span = trace.wrapSpanContext({ traceId: TRACE_ID, spanId, traceFlags: TraceFlags.SAMPLED });
  return context.with(trace.setSpan(ROOT_CONTEXT, span), work);
}

describe('log lines and traces', () => {
  afterEach(() => context.disable());

  it('carry no trace ids while tracing is off, even inside what would be a span', () => {
    const { destination, lines } = memoryDestination();
    const logger = createLogger({ service: 'test-service', destination });
    inSpan('00f067aa0ba902b7', () => logger.info('inside'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toHaveProperty('trace_id');
    expect(lines[0]).not.toHaveProperty('span_id');
  });

  it('carry the active span’s trace_id and span_id, and only inside the span', async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const { destination, lines } = memoryDestination();
    const logger = createLogger({ service: 'test-service', destination });
    await inSpan('00f067aa0ba902b7', async () => {
      await new Promise((resolve) => setImmediate(resolve));
      logger.info('deep inside the request');
    });
    logger.info('outside');
    expect(lines.map((line) => [line.trace_id, line.span_id])).toEqual([
      [TRACE_ID, '00f067aa0ba902b7'],
      [undefined, undefined],
    ]);
  });

  it('keep a span id made only of digits, while a card number beside it is still masked', () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const { destination, lines } = memoryDestination();
    const logger = createLogger({ service: 'test-service', destination });
    inSpan(DIGITS_ONLY_SPAN_ID, () => logger.info({ note: `card ${DIGITS_ONLY_SPAN_ID}` }, 'checked'));
    expect(lines[0]).toMatchObject({ span_id: DIGITS_ONLY_SPAN_ID, note: 'card ****1111' });
    expect(maskCardNumbers(`{"other_id":"${DIGITS_ONLY_SPAN_ID}"}`)).toBe('{"other_id":"****1111"}');
  });
});
