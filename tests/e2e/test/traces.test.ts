/**
 * Issue 20, decision 0026: one trace across processes. The four services run as processes with
 * `OTEL_TRACES_EXPORTER=otlp`, posting to an OTLP/HTTP receiver this test runs. A caller's W3C
 * `traceparent` is continued by the service it calls; the request that writes an event, the
 * relay's publish of that event and every consumer that applies it (its Postgres spans
 * included) are one trace, in several services.
 *
 * - Merchant approval: the checker's approval at merchant-onboarding writes
 *   `merchant.approved`; discount-rules' and settlement's merchant replicas apply it.
 * - The console's proxy: a signed-in person's call through `/api/merchant-onboarding/…` is the
 *   console's server span, its client span, and merchant-onboarding's server span under that.
 * - Capture: the checkout request at settlement holds its Postgres and Redis spans and the
 *   relay's publish of `checkout.captured`. Nothing consumes `puhui.checkouts.v1` today, so that
 *   trace ends at the publish.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { Pool } from 'pg';
import { idempotencyKey } from '@puhui/api-clients';
import { waitFor } from '@puhui/testing';
import {
  checkerToken,
  checkoutBody,
  merchantApplication,
  registerCard,
  waitUntilSettlementAccepts,
} from './puhui';
import type { Merchant } from './puhui';
import { EventLog, checkCloudEvent } from './events';
import { PuhuiSystem, looseAnswer } from './system';
import type { ApiResponse, ServiceName } from './system';
import { demoPassword, ensureDemoPeople } from '../../../services/console/src';

/** OTLP's span kinds as its JSON encoding numbers them. */
const SPAN_KIND = { server: 2, client: 3, producer: 4, consumer: 5 } as const;
/** How long the services' batch processors wait before posting: short, so the test waits little. */
const SPAN_EXPORT_DELAY_MS = 100;
const TRACE_COMPLETE_TIMEOUT_MS = 30_000;
/** The receiver keeps at most this many spans: a run makes a few thousand. */
const SPANS_KEPT_MAX = 200_000;
const REQUEST_BODY_BYTES_MAX = 16 * 1024 * 1024;

interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
}

/** OTLP/JSON ids are hex; a receiver that also takes base64 (protobuf-JSON style) costs one line. */
function hexId(id: unknown): string | undefined {
  if (typeof id !== 'string' || id === '') return undefined;
  return /^[\da-f]+$/u.test(id) ? id : Buffer.from(id, 'base64').toString('hex');
}

type OtlpValue = {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
};
type OtlpAttribute = { key: string; value: OtlpValue };
function attributesOf(list: OtlpAttribute[] | undefined): Record<string, unknown> {
  return Object.fromEntries(
    (list ?? []).map(({ key, value }) => [
      key,
      value.stringValue ?? value.intValue ?? value.boolValue ?? value.doubleValue,
    ]),
  );
}

interface OtlpRequest {
  resourceSpans?: {
    resource?: { attributes?: OtlpAttribute[] };
    scopeSpans?: {
      spans?: {
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind: number;
        attributes?: OtlpAttribute[];
      }[];
    }[];
  }[];
}

/** An OTLP/HTTP receiver (JSON, what the services' exporter posts) that keeps every span in memory. */
class OtlpReceiver {
  private readonly received: ReceivedSpan[] = [];
  requests = 0;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly posted: OtlpRequest[],
  ) {}

  static async start(): Promise<OtlpReceiver> {
    const posted: OtlpRequest[] = [];
    const server = createServer((request, response) => {
      void readBody(request).then(
        (body) => {
          if (request.method !== 'POST' || request.url !== '/v1/traces') {
            response.writeHead(404).end();
            return;
          }
          posted.push(JSON.parse(body) as OtlpRequest);
          response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        },
        () => response.writeHead(400).end(),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return new OtlpReceiver(server, `http://127.0.0.1:${port}`, posted);
  }

  /** The spans received so far, flattened out of the requests posted since the last look. */
  get spans(): ReceivedSpan[] {
    for (const request of this.posted.splice(0)) this.keep(request);
    return this.received;
  }

  trace(traceId: string): ReceivedSpan[] {
    return this.spans.filter((span) => span.traceId === traceId);
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private keep(request: OtlpRequest): void {
    this.requests += 1;
    for (const resourceSpans of request.resourceSpans ?? []) {
      const service = String(attributesOf(resourceSpans.resource?.attributes)['service.name']);
      for (const scope of resourceSpans.scopeSpans ?? []) {
        for (const span of scope.spans ?? []) {
          if (this.received.length >= SPANS_KEPT_MAX) return;
          this.received.push({
            service,
            traceId: hexId(span.traceId) ?? '',
            spanId: hexId(span.spanId) ?? '',
            parentSpanId: hexId(span.parentSpanId),
            name: span.name,
            kind: span.kind,
            attributes: attributesOf(span.attributes),
          });
        }
      }
    }
  }
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of request) {
    bytes += (chunk as Buffer).length;
    if (bytes > REQUEST_BODY_BYTES_MAX) throw new Error('OTLP request too large');
    chunks.push(chunk as Buffer);
  }
  const body = Buffer.concat(chunks);
  return (request.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body).toString('utf8');
}

function expectStatus(response: ApiResponse, status: number, what: string): ApiResponse {
  if (response.status !== status)
    throw new Error(`${what}: expected ${status}, got ${response.status} ${JSON.stringify(response.body)}`);
  return response;
}

/** A caller's own trace context: a fresh trace id and the caller's span id, sampled. */
function callerTraceContext(): { traceId: string; callerSpanId: string; traceparent: string } {
  const traceId = randomBytes(16).toString('hex');
  const callerSpanId = randomBytes(8).toString('hex');
  return { traceId, callerSpanId, traceparent: `00-${traceId}-${callerSpanId}-01` };
}

/** Whether `ancestor` is `span` or above it in its trace. */
function descendsFrom(span: ReceivedSpan, ancestor: ReceivedSpan, spans: readonly ReceivedSpan[]): boolean {
  const byId = new Map(spans.map((candidate) => [candidate.spanId, candidate]));
  let current: ReceivedSpan | undefined = span;
  for (let depth = 0; current !== undefined && depth < spans.length; depth += 1) {
    if (current.spanId === ancestor.spanId) return true;
    current = current.parentSpanId === undefined ? undefined : byId.get(current.parentSpanId);
  }
  return false;
}

/** A statement sent to Postgres (not the pool's connect); attributes as the stable database semconv names them. */
const isPgQuery = (span: ReceivedSpan) =>
  span.attributes['db.system.name'] === 'postgresql' && span.name.startsWith('pg.query');
const isRedisCommand = (span: ReceivedSpan) => span.attributes['db.system.name'] === 'redis';

/** The trace as a tree of lines (service, kind, name), for the failure message when it is incomplete. */
function describeTrace(traceId: string): string {
  const spans = receiver.trace(traceId);
  return spans
    .map(
      (span) =>
        `${span.service} kind=${span.kind} ${span.name} id=${span.spanId} parent=${span.parentSpanId ?? '-'}`,
    )
    .join('\n');
}

/** waitFor, and on a timeout the spans the trace did have. */
async function waitForTrace<T>(traceId: string, what: string, complete: () => T | undefined): Promise<T> {
  try {
    return await waitFor(complete, {
      timeoutMs: TRACE_COMPLETE_TIMEOUT_MS,
      intervalMs: 100,
      description: what,
    });
  } catch (error) {
    throw new Error(`${String(error)}; the trace has:\n${describeTrace(traceId)}`);
  }
}

let receiver: OtlpReceiver;
let system: PuhuiSystem;
let events: EventLog;
const logLines: { service: ServiceName; entry: Record<string, unknown> }[] = [];
let merchant: Merchant;

beforeAll(async () => {
  receiver = await OtlpReceiver.start();
  system = await PuhuiSystem.start({
    environment: {
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: String(SPAN_EXPORT_DELAY_MS),
    },
    onOutput: (service, line) => {
      try {
        logLines.push({ service, entry: JSON.parse(line) as Record<string, unknown> });
      } catch {
        // Not a log line (a stack trace's continuation): nothing to read a trace id from.
      }
    },
  });
  events = await EventLog.start([system.topic('merchants')]);
}, 120_000);

afterAll(async () => {
  await events?.stop();
  await system?.stop();
  await receiver?.stop();
});

function e2e(name: string, body: () => Promise<void>): void {
  it(name, () => system.withLogsOnFailure(body), 120_000);
}

/** Onboards a merchant up to its approval request; the checker's approval is the test's. */
async function merchantAwaitingApproval(): Promise<{ merchantId: string; approvalRequestId: string }> {
  const onboarding = system.clients(system.admin)['merchant-onboarding'];
  const created = expectStatus(
    looseAnswer(await onboarding.POST('/v1/merchants', { body: merchantApplication('supermarket') })),
    201,
    'application',
  );
  const merchantId = created.body.id as string;
  const id = { params: { path: { id: merchantId } } };
  for (const step of ['/v1/merchants/{id}/submit', '/v1/merchants/{id}/start_review'] as const)
    expectStatus(looseAnswer(await onboarding.POST(step, id)), 200, step);
  const asked = expectStatus(
    looseAnswer(await onboarding.POST('/v1/merchants/{id}/approve', id)),
    202,
    'approval request',
  );
  return { merchantId, approvalRequestId: asked.body.approval_request.id as string };
}

e2e('one trace spans the merchant approval and both services’ replicas that apply its event', async () => {
  const { merchantId, approvalRequestId } = await merchantAwaitingApproval();
  const { traceId, callerSpanId, traceparent } = callerTraceContext();
  const approved = await system
    .clients(checkerToken())
    ['merchant-onboarding'].POST('/v1/approval_requests/{id}/approve', {
      params: { path: { id: approvalRequestId } },
      body: {},
      headers: { traceparent },
    });
  expectStatus(looseAnswer(approved), 200, 'approval');

  const merchantsTopic = system.topic('merchants');
  const complete = await waitForTrace(traceId, `trace ${traceId} reaching both replicas`, () => {
    const spans = receiver.trace(traceId);
    const request = spans.find(
      (span) =>
        span.service === 'merchant-onboarding' &&
        span.kind === SPAN_KIND.server &&
        span.parentSpanId === callerSpanId,
    );
    const publishes = spans.filter(
      (span) => span.name === `publish ${merchantsTopic}` && span.service === 'merchant-onboarding',
    );
    const consumers = (service: ServiceName) =>
      spans.filter(
        (span) =>
          span.service === service &&
          span.kind === SPAN_KIND.consumer &&
          span.name === `process ${merchantsTopic}`,
      );
    const applied = (service: ServiceName) =>
      consumers(service).filter((consumer) =>
        spans.some((span) => isPgQuery(span) && descendsFrom(span, consumer, spans)),
      );
    if (request === undefined || publishes.length === 0) return undefined;
    if (applied('discount-rules').length === 0 || applied('transaction-settlement').length === 0)
      return undefined;
    return { spans, request, publishes, consumers };
  });
  const { spans, request, publishes, consumers } = complete;
  // The approval's own work is inside its request span, Postgres included, and so is each publish.
  expect(
    spans.some(
      (span) =>
        span.service === 'merchant-onboarding' && isPgQuery(span) && descendsFrom(span, request, spans),
    ),
  ).toBe(true);
  for (const publish of publishes) {
    expect(publish.kind).toBe(SPAN_KIND.producer);
    expect(descendsFrom(publish, request, spans)).toBe(true);
  }
  // Each replica's handling is a child of a publish: the record's header carried it across Kafka.
  for (const service of ['discount-rules', 'transaction-settlement'] as const) {
    const handled = consumers(service);
    expect(handled.length).toBeGreaterThan(0);
    for (const consumer of handled)
      expect(publishes.map((publish) => publish.spanId)).toContain(consumer.parentSpanId);
  }
  expect(new Set(spans.map((span) => span.service))).toEqual(
    new Set(['merchant-onboarding', 'discount-rules', 'transaction-settlement']),
  );
  // The record: its envelope carries the writer's trace context (the CloudEvents distributed-tracing
  // extension, read by the official SDK), its header the relay's publish span.
  const [record] = await events.waitFor(
    merchantsTopic,
    (envelope) => envelope.subject === merchantId && envelope.type === 'puhui.merchant.approved.v1',
  );
  if (record === undefined) throw new Error('no merchant.approved record');
  const { event } = checkCloudEvent(record, system.topicPrefix);
  expect(String(event.traceparent)).toMatch(new RegExp(`^00-${traceId}-[\\da-f]{16}-01$`, 'u'));
  const publishOfRecord = publishes.find(
    (span) => record.headers.traceparent === `00-${traceId}-${span.spanId}-01`,
  );
  expect(publishOfRecord).toBeDefined();
  expect(String(event.traceparent).split('-')[2]).toBe(publishOfRecord?.parentSpanId);
  // The approval's request log line names the trace. (The replicas write no line when they apply
  // a merchant event; libs/tracing's propagation test shows a consumer's lines carry it.)
  const requestLine = logLines.find(
    (line) =>
      line.service === 'merchant-onboarding' &&
      line.entry.message === 'request finished' &&
      line.entry.trace_id === traceId,
  );
  expect(requestLine?.entry).toMatchObject({ method: 'POST', status: 200, span_id: request.spanId });
  merchant = await keyOf(merchantId);
});

/** An API key of the approved merchant (settlement accepts it once its replica has the merchant). */
async function keyOf(merchantId: string): Promise<Merchant> {
  const key = expectStatus(
    looseAnswer(
      await system.clients(system.admin)['merchant-onboarding'].POST('/v1/merchants/{id}/api_keys', {
        params: { path: { id: merchantId } },
        body: {},
      }),
    ),
    201,
    'API key',
  );
  return { merchant_id: merchantId, key_id: key.body.id as string, secret: key.body.secret as string };
}

e2e(
  'a capture’s trace holds its Postgres and Redis spans and the relay’s publish of checkout.captured',
  async () => {
    expect(merchant).toBeDefined();
    await waitUntilSettlementAccepts(system, merchant);
    const card = await registerCard(system, 70_201);
    const { traceId, callerSpanId, traceparent } = callerTraceContext();
    const captured = await system.clients(merchant.secret)['transaction-settlement'].POST('/v1/checkouts', {
      params: { header: idempotencyKey(randomUUID()) },
      body: checkoutBody(card, [{ category: 'general', amount_minor: 12_345 }]),
      headers: { traceparent },
    });
    const checkoutId = expectStatus(looseAnswer(captured), 201, 'capture').body.id as string;

    const checkoutsTopic = system.topic('checkouts');
    const { spans, request, publish } = await waitForTrace(traceId, `trace ${traceId} of the capture`, () => {
      const traceSpans = receiver.trace(traceId);
      const server = traceSpans.find(
        (span) =>
          span.service === 'transaction-settlement' &&
          span.kind === SPAN_KIND.server &&
          span.parentSpanId === callerSpanId,
      );
      const published = traceSpans.find((span) => span.name === `publish ${checkoutsTopic}`);
      return server === undefined || published === undefined
        ? undefined
        : { spans: traceSpans, request: server, publish: published };
    });
    const inRequest = spans.filter((span) => descendsFrom(span, request, spans) && span !== request);
    expect(inRequest.filter(isPgQuery).length).toBeGreaterThan(0);
    expect(inRequest.filter(isRedisCommand).length).toBeGreaterThan(0);
    expect(publish).toMatchObject({ service: 'transaction-settlement', kind: SPAN_KIND.producer });
    expect(descendsFrom(publish, request, spans)).toBe(true);
    // The whole trace hangs off the capture request: settlement's own spans, and discount-rules'
    // when the capture read a rate sheet through from it over HTTP (undici's traceparent). No
    // service consumes puhui.checkouts.v1 yet, so no consumer span follows the publish.
    for (const span of spans) expect(descendsFrom(span, request, spans)).toBe(true);
    expect(spans.filter((span) => span.kind === SPAN_KIND.consumer)).toEqual([]);
    for (const span of spans.filter((candidate) => candidate.service !== 'transaction-settlement')) {
      expect(span.service).toBe('discount-rules');
    }
    const logged = logLines.filter(
      (line) => line.service === 'transaction-settlement' && line.entry.trace_id === traceId,
    );
    expect(logged.length).toBeGreaterThan(0);
    const shape = [...new Set(spans.map((span) => `${span.service}: ${span.name.split(' ', 1)[0]}`))];
    process.stderr.write(`capture trace span names: ${shape.join(', ')}\n`);
    process.stderr.write(
      `capture ${checkoutId}: trace ${traceId} has ${spans.length} spans (${inRequest.filter(isPgQuery).length} pg, ${inRequest.filter(isRedisCommand).length} redis, publish ${publish.name}); receiver got ${receiver.requests} posts, ${receiver.spans.length} spans\n`,
    );
  },
);

/** The demo auditor (password only, no second factor), signed in at the console: its cookie and CSRF token. */
async function signedInAuditor(consoleUrl: string): Promise<{ cookie: string; csrf: string }> {
  const pool = new Pool({ connectionString: system.databaseUrl('console'), max: 1 });
  try {
    await ensureDemoPeople(pool);
  } finally {
    await pool.end();
  }
  const response = await fetch(`${consoleUrl}/console/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: consoleUrl },
    body: JSON.stringify({ username: 'auditor', password: demoPassword('auditor') }),
  });
  const body = (await response.json()) as { stage?: string; csrf_token?: string };
  const cookie = response.headers.getSetCookie().find((candidate) => candidate.startsWith('puhui_session='));
  if (
    response.status !== 200 ||
    body.stage !== 'signed_in' ||
    cookie === undefined ||
    body.csrf_token === undefined
  )
    throw new Error(`the auditor could not sign in: ${response.status} ${JSON.stringify(body)}`);
  return { cookie: cookie.split(';', 1)[0] ?? '', csrf: body.csrf_token };
}

e2e('the console’s proxy continues a person’s trace into the service it forwards to', async () => {
  const consoleUrl = system.url('console');
  const { cookie, csrf } = await signedInAuditor(consoleUrl);
  const { traceId, callerSpanId, traceparent } = callerTraceContext();
  const response = await fetch(`${consoleUrl}/api/merchant-onboarding/v1/merchants?limit=1`, {
    headers: { cookie, 'x-csrf-token': csrf, origin: consoleUrl, traceparent },
  });
  expect(response.status).toBe(200);
  const { spans, inbound, forwarded, upstream } = await waitForTrace(
    traceId,
    `trace ${traceId} through the console`,
    () => {
      const traceSpans = receiver.trace(traceId);
      const consoleServer = traceSpans.find(
        (span) =>
          span.service === 'console' && span.kind === SPAN_KIND.server && span.parentSpanId === callerSpanId,
      );
      const consoleClient = traceSpans.find(
        (span) =>
          span.service === 'console' &&
          span.kind === SPAN_KIND.client &&
          span.attributes['http.request.method'] === 'GET',
      );
      const serviceServer = traceSpans.find(
        (span) => span.service === 'merchant-onboarding' && span.kind === SPAN_KIND.server,
      );
      if (consoleServer === undefined || consoleClient === undefined || serviceServer === undefined)
        return undefined;
      return { spans: traceSpans, inbound: consoleServer, forwarded: consoleClient, upstream: serviceServer };
    },
  );
  // The proxy's request is the console's client span, and it sent that span on as the traceparent.
  expect(descendsFrom(forwarded, inbound, spans)).toBe(true);
  expect(upstream.parentSpanId).toBe(forwarded.spanId);
  expect(spans.some((span) => span.service === 'merchant-onboarding' && isPgQuery(span))).toBe(true);
});
