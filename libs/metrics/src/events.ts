/**
 * The event pipeline's families: what the consumers and the outbox relay report as they work
 * (counters, the relay's leadership), and what is read at scrape time — the outbox backlog from
 * Postgres, the groups' lag and the DLQs' depth from Kafka — through cachedReading (collect.ts).
 * The methods match libs/events' ConsumerObserver and RelayObserver and libs/service's
 * JobObserver without importing them: this library depends on prom-client alone.
 */
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import { cachedReading } from './collect';

function maxAge(maxAgeMs: number | undefined): { maxAgeMs?: number } {
  return maxAgeMs === undefined ? {} : { maxAgeMs };
}

/** The outcomes a consumer's series start at 0 with (`ignored` appears when it happens). */
const CONSUMED_OUTCOMES = ['applied', 'duplicate', 'dead_lettered'] as const;
const JOB_OUTCOMES = ['ok', 'failed', 'timed_out'] as const;

export class EventMetrics {
  private readonly consumedTotal: Counter<'group' | 'topic' | 'outcome'>;
  private readonly publishedTotal: Counter<'topic'>;
  private readonly relayLeader: Gauge;
  private readonly consumedChildren = new Map<string, { inc: (value?: number) => void }>();

  constructor(registry: Registry) {
    this.consumedTotal = new Counter({
      name: 'puhui_events_consumed_total',
      help: 'Messages a consumer group handled, by outcome (applied, duplicate, dead_lettered, ignored: a type the group does not read).',
      labelNames: ['group', 'topic', 'outcome'],
      registers: [registry],
    });
    this.publishedTotal = new Counter({
      name: 'puhui_outbox_published_events_total',
      help: 'Outbox events Kafka acknowledged and the relay marked published, by topic.',
      labelNames: ['topic'],
      registers: [registry],
    });
    this.relayLeader = new Gauge({
      name: 'puhui_outbox_relay_leader',
      help: "1 when this instance held the outbox relay's lock in its last pass, else 0.",
      registers: [registry],
    });
  }

  /**
   * Starts a consumer group's series at 0 on each topic it reads, and each topic's published
   * count: a series born at 1 shows no increase(), so an alert on the first dead letter would miss it.
   */
  expect(
    consumers: readonly { group: string; topics: readonly string[] }[],
    published: readonly string[],
  ): void {
    for (const { group, topics } of consumers)
      for (const topic of topics)
        for (const outcome of CONSUMED_OUTCOMES) this.childOf(group, topic, outcome).inc(0);
    for (const topic of published) this.publishedTotal.labels(topic).inc(0);
  }

  consumed(group: string, topic: string, outcome: string): void {
    this.childOf(group, topic, outcome).inc();
  }

  private childOf(group: string, topic: string, outcome: string): { inc: (value?: number) => void } {
    const key = `${group} ${topic} ${outcome}`;
    let child = this.consumedChildren.get(key);
    if (child === undefined) {
      child = this.consumedTotal.labels(group, topic, outcome);
      this.consumedChildren.set(key, child);
    }
    return child;
  }

  passed(leader: boolean): void {
    this.relayLeader.set(leader ? 1 : 0);
  }

  published(topic: string, events: number): void {
    this.publishedTotal.labels(topic).inc(events);
  }
}

export class JobMetrics {
  private readonly runs: Counter<'job' | 'outcome'>;
  private readonly leader: Gauge<'job'>;

  constructor(registry: Registry) {
    this.runs = new Counter({
      name: 'puhui_job_runs_total',
      help: "Background job passes, by outcome (ok, failed, timed_out, not_leader: another instance held the job's lock).",
      labelNames: ['job', 'outcome'],
      registers: [registry],
    });
    this.leader = new Gauge({
      name: 'puhui_job_leader',
      help: "1 when this instance held the leader job's lock in its last pass, else 0.",
      labelNames: ['job'],
      registers: [registry],
    });
  }

  /** Starts each job's series at 0 (and a leader job's `not_leader` and leader gauge), as EventMetrics.expect. */
  expect(jobs: readonly { name: string; leader?: boolean }[]): void {
    for (const job of jobs) {
      for (const outcome of JOB_OUTCOMES) this.runs.labels(job.name, outcome).inc(0);
      if (job.leader === true) {
        this.runs.labels(job.name, 'not_leader').inc(0);
        this.leader.labels(job.name).set(0);
      }
    }
  }

  passed(job: string, outcome: string): void {
    this.runs.labels(job, outcome).inc();
  }

  leading(job: string, leader: boolean): void {
    this.leader.labels(job).set(leader ? 1 : 0);
  }
}

export interface OutboxReading {
  backlogEvents: number;
  oldestUnpublishedAgeSeconds: number;
}

/** puhui_outbox_backlog_events and puhui_outbox_oldest_unpublished_age_seconds, read by `read` at scrape. */
export function outboxGauges(
  registry: Registry,
  read: () => Promise<OutboxReading>,
  maxAgeMs?: number,
): void {
  const reading = cachedReading({ registry, collector: 'outbox', read, ...maxAge(maxAgeMs) });
  new Gauge({
    name: 'puhui_outbox_backlog_events',
    help: 'Outbox rows not yet published to Kafka (counted up to a bound: see decision 0024).',
    registers: [registry],
    async collect() {
      const value = await reading();
      if (value !== undefined) this.set(value.backlogEvents);
    },
  });
  new Gauge({
    name: 'puhui_outbox_oldest_unpublished_age_seconds',
    help: 'Age of the oldest unpublished outbox row by the database clock; 0 when none waits.',
    registers: [registry],
    async collect() {
      const value = await reading();
      if (value !== undefined) this.set(value.oldestUnpublishedAgeSeconds);
    },
  });
}

export interface GroupPartitionLag {
  group: string;
  topic: string;
  partition: number;
  lagMessages: number;
}

/** puhui_kafka_consumer_lag_messages{group,topic,partition}, read by `read` at scrape. */
export function consumerLagGauge(
  registry: Registry,
  read: () => Promise<GroupPartitionLag[]>,
  maxAgeMs?: number,
): void {
  const reading = cachedReading({ registry, collector: 'kafka_consumer_lag', read, ...maxAge(maxAgeMs) });
  new Gauge({
    name: 'puhui_kafka_consumer_lag_messages',
    help: "Messages past each consumer group's committed offset, per partition (read from Kafka at scrape).",
    labelNames: ['group', 'topic', 'partition'],
    registers: [registry],
    async collect() {
      const lags = await reading();
      if (lags === undefined) return;
      // Partitions no longer read (a topic dropped from a consumer) disappear instead of freezing.
      this.reset();
      for (const lag of lags)
        this.set({ group: lag.group, topic: lag.topic, partition: String(lag.partition) }, lag.lagMessages);
    },
  });
}

/** puhui_dlq_messages{topic} (Σ high − low watermark of each `.dlq` topic), read by `read` at scrape. */
export function deadLetterGauge(
  registry: Registry,
  read: () => Promise<{ topic: string; messages: number }[]>,
  maxAgeMs?: number,
): void {
  const reading = cachedReading({ registry, collector: 'kafka_dlq', read, ...maxAge(maxAgeMs) });
  new Gauge({
    name: 'puhui_dlq_messages',
    help: "Messages held in each `.dlq` topic of the topics this service consumes (Kafka's watermarks at scrape).",
    labelNames: ['topic'],
    registers: [registry],
    async collect() {
      const depths = await reading();
      if (depths === undefined) return;
      this.reset();
      for (const depth of depths) this.set({ topic: depth.topic }, depth.messages);
    },
  });
}
