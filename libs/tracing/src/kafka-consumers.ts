/**
 * Our own kafkajs consumer instrumentation: each message a consumer's `eachMessage` handles runs
 * inside a `process <topic>` CONSUMER span whose parent is the record's `traceparent` header, so
 * the handler's Postgres spans continue the trace of the request that wrote the event.
 *
 * Why not @opentelemetry/instrumentation-kafkajs: it also wraps every producer's `send` and
 * `sendBatch`, starting one span per message in the *active* context and writing that span into
 * the record's headers. The outbox relay publishes a batch of events written by many requests in
 * one `sendBatch`, from a polling loop that has no active span, so that instrumentation would
 * overwrite each record's `traceparent` with a fresh root trace. The relay makes its own
 * per-event publish spans instead (libs/events/src/relay.ts), parented by the envelope's
 * `traceparent`; only the consumer side is left to do here.
 */
import { SpanKind, SpanStatusCode, ROOT_CONTEXT, context, propagation, trace } from '@opentelemetry/api';
import type { Attributes, TextMapGetter, Tracer } from '@opentelemetry/api';
import { InstrumentationBase, InstrumentationNodeModuleDefinition } from '@opentelemetry/instrumentation';
import type { InstrumentationConfig } from '@opentelemetry/instrumentation';

/** kafkajs' record headers: a header may repeat (an array) and arrive as bytes. */
type Headers = Record<string, Buffer | string | (Buffer | string)[] | undefined>;

interface EachMessagePayloadLike {
  topic: string;
  partition: number;
  message: { key?: Buffer | string | null; offset: string; headers?: Headers };
}
type EachMessage = (payload: EachMessagePayloadLike) => Promise<void>;
interface RunConfigLike {
  eachMessage?: EachMessage;
}
interface ConsumerLike {
  run: (config?: RunConfigLike) => Promise<void>;
}
interface ConsumerConfigLike {
  groupId?: string;
}
type ConsumerFactory = (config: ConsumerConfigLike) => ConsumerLike;
interface KafkajsModule {
  Kafka: { prototype: { consumer: ConsumerFactory } };
}

const headerGetter: TextMapGetter<Headers> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key];
    if (value === undefined) return undefined;
    return Array.isArray(value) ? value.map(String) : String(value);
  },
};

/** Runs `handle` for one record inside its CONSUMER span, parented by the record's headers. */
export function processInTrace(
  tracer: Tracer,
  groupId: string | undefined,
  payload: EachMessagePayloadLike,
  handle: () => Promise<void>,
): Promise<void> {
  const parent = propagation.extract(ROOT_CONTEXT, payload.message.headers ?? {}, headerGetter);
  const attributes: Attributes = {
    'messaging.system': 'kafka',
    'messaging.operation.type': 'process',
    'messaging.operation.name': 'process',
    'messaging.destination.name': payload.topic,
    'messaging.destination.partition.id': String(payload.partition),
    'messaging.kafka.offset': payload.message.offset,
    ...(groupId === undefined ? {} : { 'messaging.consumer.group.name': groupId }),
  };
  const span = tracer.startSpan(`process ${payload.topic}`, { kind: SpanKind.CONSUMER, attributes }, parent);
  return context.with(trace.setSpan(parent, span), handle).then(
    () => span.end(),
    (error: unknown) => {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: String((error as Error).message ?? error) });
      span.end();
      throw error;
    },
  );
}

export class KafkaConsumerInstrumentation extends InstrumentationBase {
  constructor(config: InstrumentationConfig = {}) {
    super('@puhui/tracing/kafka-consumers', '1.0.0', config);
  }

  protected init(): InstrumentationNodeModuleDefinition[] {
    return [
      new InstrumentationNodeModuleDefinition(
        'kafkajs',
        ['>=2.0.0 <3'],
        (moduleExports: KafkajsModule) => {
          this._wrap(moduleExports.Kafka.prototype, 'consumer', this.wrapConsumerFactory());
          return moduleExports;
        },
        (moduleExports: KafkajsModule) => {
          this._unwrap(moduleExports.Kafka.prototype, 'consumer');
        },
      ),
    ];
  }

  /** Wraps `kafka.consumer(config)` so that the consumer it makes runs each message in a span. */
  wrapConsumerFactory() {
    const tracer = () => this.tracer;
    return (original: ConsumerFactory): ConsumerFactory =>
      function consumer(this: unknown, config: ConsumerConfigLike): ConsumerLike {
        const made = original.call(this, config);
        const run = made.run.bind(made);
        made.run = (runConfig?: RunConfigLike) => {
          const eachMessage = runConfig?.eachMessage;
          if (eachMessage === undefined) return run(runConfig);
          return run({
            ...runConfig,
            eachMessage: (payload) =>
              processInTrace(tracer(), config?.groupId, payload, () => eachMessage(payload)),
          });
        };
        return made;
      };
  }
}
