/**
 * One trace from a writing request to the consumer that applies its event, through the real
 * Postgres outbox and the real Kafka (decision 0026): the outbox stamps the request's trace
 * context into the envelope, the relay publishes each event in a span of that trace and puts the
 * span into the record's `traceparent` header, and a consumer handles the record in a span under it.
 * The SDK is set up by hand here (an in-memory exporter): jest loads modules through its own
 * registry, which the SDK's require hooks never see, so the kafkajs patch is applied directly.
 */
import { ROOT_CONTEXT, context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import * as kafkajs from 'kafkajs';
import { z } from 'zod';
import { defineEvent } from '@puhui/contracts';
import type { CloudEvent } from '@puhui/contracts';
import { EventConsumer, appendEvent, createKafka, ensureTopics, onEvent, OutboxRelay } from '@puhui/events';
import { EVENTS_MIGRATIONS_DIRECTORY, EVENTS_MIGRATIONS_TABLE } from '@puhui/events';
import { createPool, migrate, withTransaction } from '@puhui/postgres';
import type { Pool } from '@puhui/postgres';
import {
  captureLogger,
  createTestDatabase,
  recordTopic,
  testKafkaBrokers,
  uniqueSuffix,
  waitFor,
} from '@puhui/testing';
import type { TestDatabase, TopicRecorder } from '@puhui/testing';
import { KafkaConsumerInstrumentation } from '../src/kafka-consumers';

const TOPIC = 'puhui.traced_things.v1';
const SOURCE = 'tracing-test';
const thingTraced = defineEvent('puhui.thing.traced.v1', TOPIC, z.strictObject({ thing_id: z.string() }));

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const tracer = provider.getTracer('tracing-test');
const { logger, lines } = captureLogger('tracing-test', 'debug');

let database: TestDatabase;
let pool: Pool;
let relay: OutboxRelay;
let consumer: EventConsumer;
let recorder: TopicRecorder;
let topicPrefix: string;
/** What the consumer's handler saw: the active span's ids while it applied the event. */
const handled = new Map<string, { traceId: string; spanId: string }>();

function kafkaConsumerPatch(): void {
  const instrumentation = new KafkaConsumerInstrumentation();
  instrumentation.setTracerProvider(provider);
  const [definition] = (
    instrumentation as unknown as { init(): { patch(exports: unknown): unknown }[] }
  ).init();
  definition?.patch(kafkajs);
}

beforeAll(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  kafkaConsumerPatch();
  database = await createTestDatabase('tracing_propagation');
  await migrate({
    connectionString: database.url,
    directory: EVENTS_MIGRATIONS_DIRECTORY,
    table: EVENTS_MIGRATIONS_TABLE,
  });
  pool = createPool({ connectionString: database.url, connectionsMax: 4, applicationName: 'tracing-test' });
  const kafka = createKafka({ brokers: testKafkaBrokers(), clientId: 'tracing-test', logger });
  topicPrefix = `test.${uniqueSuffix()}.`;
  await ensureTopics(kafka, [TOPIC], { partitions: 2, replicationFactor: 1, prefix: topicPrefix });
  relay = new OutboxRelay({ pool, kafka, logger, batchSizeMax: 100, pollIntervalMs: 20, topicPrefix });
  consumer = new EventConsumer({
    kafka,
    pool,
    logger,
    groupId: `traced-things-${uniqueSuffix()}`,
    topicPrefix,
    producers: { [TOPIC]: SOURCE },
    handlers: [
      onEvent(thingTraced, async (event, client) => {
        await client.query('SELECT 1');
        const spanContext = trace.getActiveSpan()?.spanContext();
        if (spanContext !== undefined) handled.set(event.data.thing_id, spanContext);
        logger.info({ thing_id: event.data.thing_id }, 'thing applied');
      }),
    ],
  });
  recorder = await recordTopic(`${topicPrefix}${TOPIC}`);
  await consumer.start();
  await consumer.joined();
  relay.start();
});

afterAll(async () => {
  await relay?.stop();
  await consumer?.stop();
  await recorder?.stop();
  await pool?.end();
  await database?.drop();
  trace.disable();
  context.disable();
  propagation.disable();
});

/** Writes the event in a transaction, as a request handler would, inside `parent`'s context. */
async function writeThing(thingId: string, parentContext = ROOT_CONTEXT): Promise<CloudEvent<unknown>> {
  return context.with(parentContext, () =>
    withTransaction(pool, (client) =>
      appendEvent(client, SOURCE, { definition: thingTraced, subject: thingId, data: { thing_id: thingId } }),
    ),
  );
}

function spansNamed(name: string): ReadableSpan[] {
  return exporter.getFinishedSpans().filter((span) => span.name === name);
}

describe('a trace from the writing request to the consumer', () => {
  it('stamps the request’s traceparent into the envelope, and continues it in the publish and the handling', async () => {
    const request = tracer.startSpan('POST /things');
    const requestContext = trace.setSpan(ROOT_CONTEXT, request);
    const { traceId, spanId: requestSpanId } = request.spanContext();
    const envelope = await writeThing('thing-traced', requestContext);
    request.end();
    expect(envelope.traceparent).toBe(`00-${traceId}-${requestSpanId}-01`);
    const { rows } = await pool.query<{ envelope: Record<string, unknown> }>(
      "SELECT envelope FROM outbox_events WHERE subject = 'thing-traced'",
    );
    expect(rows[0]?.envelope.traceparent).toBe(envelope.traceparent);

    const [record] = await recorder.waitForCount(1, (message) => message.value.subject === 'thing-traced');
    const publish = spansNamed(`publish ${topicPrefix}${TOPIC}`).find(
      (span) => span.attributes['messaging.message.id'] === envelope.id,
    );
    expect(publish).toBeDefined();
    expect(publish?.spanContext().traceId).toBe(traceId);
    expect(publish?.parentSpanContext?.spanId).toBe(requestSpanId);
    // The record carries the publish span, so a consumer's span is the publish's child.
    expect(record?.headers.traceparent).toBe(`00-${traceId}-${publish?.spanContext().spanId}-01`);
    expect(record?.value.traceparent).toBe(envelope.traceparent);

    const seen = await waitFor(() => handled.get('thing-traced'), { description: 'the event applied' });
    expect(seen.traceId).toBe(traceId);
    const processing = spansNamed(`process ${topicPrefix}${TOPIC}`).find(
      (span) => span.spanContext().spanId === seen.spanId,
    );
    expect(processing?.parentSpanContext?.spanId).toBe(publish?.spanContext().spanId);
    // The consumer's log line names the trace, so a trace's lines can be found in the logs.
    const line = lines.find(
      (entry) => entry.message === 'thing applied' && entry.thing_id === 'thing-traced',
    );
    expect(line).toMatchObject({ trace_id: traceId, span_id: seen.spanId });
  });

  it('leaves an event written outside any trace without a traceparent, in the envelope and the record', async () => {
    const envelope = await writeThing('thing-untraced');
    expect(envelope).not.toHaveProperty('traceparent');
    const [record] = await recorder.waitForCount(1, (message) => message.value.subject === 'thing-untraced');
    expect(record?.headers).not.toHaveProperty('traceparent');
    expect(record?.value).not.toHaveProperty('traceparent');
    // The consumer still handles it, in a trace of its own (a root span: no parent).
    const seen = await waitFor(() => handled.get('thing-untraced'), { description: 'the event applied' });
    const processing = spansNamed(`process ${topicPrefix}${TOPIC}`).find(
      (span) => span.spanContext().spanId === seen.spanId,
    );
    expect(processing).toBeDefined();
    expect(processing?.parentSpanContext).toBeUndefined();
  });
});
