/**
 * The cluster test's faults and what it measures after each: a broker killed (partitions led
 * by the two left, the relay publishing again, the groups Stable, then the broker back and
 * every partition in sync on three again) and one instance of a service killed (its groups
 * rebalanced onto the survivor, the survivor leading the relay and the leader jobs, the
 * service answering through its balancer). Every figure goes to the run's Figures and to
 * `records`, which the test writes to its results file.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { CONSUMER_REJOIN_BOUND_MS } from '@puhui/events';
import type { ServiceName, ServiceProcess } from '../../../e2e/test/system';
import type { ClusterRun } from './cluster';
import type { ClusterGroupWatcher, GroupSnapshot } from './cluster-groups';
import { CLUSTER_NODE_IDS } from './cluster-kafka';
import { leaderReading, scrape } from './cluster-leaders';
import type { LeaderReading } from './cluster-leaders';
import { consumerGroupsOf } from './consumer-groups';

/** Waited for longer than the bound, so that a miss reports the time it did take. */
const RECOVERY_WAIT_MS = 4 * CONSUMER_REJOIN_BOUND_MS;
/** A broker restart, and its replicas catching up, on a loaded 2-core machine. */
const BROKER_BACK_WAIT_MS = 120_000;
const POLL_INTERVAL_MS = 200;
/** Where the groups' coordinators are: the leader of the group's partition of this topic. */
const OFFSETS_TOPIC = '__consumer_offsets';
/**
 * Leader jobs that pass every second in this run (cluster.ts sets their intervals) and so must
 * be seen running on the survivor; the console's only leader job prunes every 10 minutes.
 */
export const FREQUENT_LEADER_JOBS: Readonly<Record<ServiceName, readonly string[]>> = {
  'merchant-onboarding': ['event retention', 'personal data retention'],
  'discount-rules': ['event retention', 'publish due rules', 'retry rate sheet drops'],
  'transaction-settlement': ['event retention'],
  console: [],
};

export interface FaultRecord {
  fault: string;
  atMs: number;
  acknowledgedBefore: number;
  /** Name → milliseconds after the kill (undefined: not within the wait). */
  recoveredMs: Record<string, number | undefined>;
}

/** Polls `check` until it returns true; the milliseconds from `since`, or undefined after `timeoutMs`. */
async function timeUntil(
  since: number,
  timeoutMs: number,
  check: () => Promise<boolean>,
): Promise<number | undefined> {
  while (Date.now() - since < timeoutMs) {
    if (await check().catch(() => false)) return Date.now() - since;
    await sleep(POLL_INTERVAL_MS);
  }
  return undefined;
}

/**
 * Outbox rows of `service`'s database published after `since` (epoch ms; Postgres runs on this
 * machine's clock): read from the table, so it holds whatever the metrics expose.
 */
export async function publishedSince(databaseUrl: string, since: number): Promise<number> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ count: string }>(
      'SELECT count(*) AS count FROM outbox_events WHERE published_at > to_timestamp($1 / 1000.0)',
      [since],
    );
    return Number(rows[0]?.count ?? 0);
  } finally {
    await client.end();
  }
}

/** Services with an outbox: their relay must be seen publishing on the survivor. */
const PUBLISHERS: ReadonlySet<ServiceName> = new Set([
  'merchant-onboarding',
  'discount-rules',
  'transaction-settlement',
]);

function everyGroup(): string[] {
  return (['merchant-onboarding', 'discount-rules', 'transaction-settlement', 'console'] as const).flatMap(
    (service) => consumerGroupsOf(service),
  );
}

export class ClusterFaults {
  readonly records: FaultRecord[] = [];
  private readonly startedAt = Date.now();

  constructor(
    private readonly cluster: ClusterRun,
    private readonly groups: ClusterGroupWatcher,
    /** Every topic of the run (the event topics and their `.dlq` twins). */
    private readonly topics: readonly string[],
  ) {}

  private record(fault: string, acknowledged: number, recoveredMs: Record<string, number | undefined>): void {
    this.records.push({
      fault,
      atMs: Date.now() - this.startedAt,
      acknowledgedBefore: acknowledged,
      recoveredMs,
    });
    const { figures } = this.cluster.run;
    for (const [what, ms] of Object.entries(recoveredMs))
      figures.note(`  ${what}: ${ms === undefined ? `not within ${RECOVERY_WAIT_MS} ms` : `${ms} ms`}`);
  }

  /** The broker leading partition 0 of the checkouts topic: the kill moves the hottest leader. */
  async busiestBroker(checkoutsTopic: string): Promise<number> {
    const partitions = await this.cluster.cluster.partitions([checkoutsTopic]);
    const leader = partitions.find((partition) => partition.partition === 0)?.leader;
    return CLUSTER_NODE_IDS.find((id) => id === leader) ?? 1;
  }

  async killBroker(nodeId: number, acknowledged: number): Promise<void> {
    const { cluster, run } = this.cluster;
    const groupsBefore = await this.groups.snapshot(everyGroup());
    const settlementDatabase = run.system.databaseUrl('transaction-settlement');
    const killedAt = Date.now();
    const pid = await cluster.kill(nodeId);
    run.figures.fault(
      `kill -9 Kafka broker ${nodeId} (pid ${pid}) after ${acknowledged} acknowledged captures`,
    );
    // Measured side by side from the kill. The groups' coordinators live on __consumer_offsets'
    // partitions: a group can only be Stable again once they have leaders on the brokers left.
    const [led, publishing, rejoined] = await Promise.all([
      timeUntil(killedAt, RECOVERY_WAIT_MS, async () =>
        (await cluster.partitions([...this.topics, OFFSETS_TOPIC])).every(
          (partition) =>
            partition.leader !== nodeId && partition.leader >= 0 && !partition.isr.includes(nodeId),
        ),
      ),
      // Captures go on, so settlement's relay has events to publish all along.
      timeUntil(
        killedAt,
        RECOVERY_WAIT_MS,
        async () => (await publishedSince(settlementDatabase, killedAt)) > 0,
      ),
      this.groups.waitRebalanced(groupsBefore, killedAt, RECOVERY_WAIT_MS, (old) => old.members.size, true),
    ]);
    const restartedMs = await cluster.restartMissing();
    const inSync = await timeUntil(killedAt, BROKER_BACK_WAIT_MS, async () =>
      (await cluster.partitions(this.topics)).every((partition) => partition.isr.length === 3),
    );
    this.record(`kill -9 broker ${nodeId}`, acknowledged, {
      'every partition (the run’s topics and __consumer_offsets) led by the two brokers left, the dead one out of every ISR':
        led,
      "settlement's relay publishing again": publishing,
      ...Object.fromEntries(
        [...rejoined].map(([group, ms]) => [
          `after the kill: group ${group} Stable, every partition held`,
          ms,
        ]),
      ),
      // The bound of decision 0008 runs from when the group has a coordinator again.
      ...Object.fromEntries(
        [...rejoined].map(([group, ms]) => [
          `group ${group} Stable once its coordinator moved`,
          ms === undefined || led === undefined ? undefined : Math.max(0, ms - led),
        ]),
      ),
      [`broker ${nodeId} started again by infra up --brokers 3 (took ${restartedMs} ms), every partition in sync on 3`]:
        inSync,
    });
  }

  /** Both instances' leader readings; undefined for one that does not answer. */
  async readLeaders(service: ServiceName): Promise<Array<LeaderReading | undefined>> {
    const jobs = FREQUENT_LEADER_JOBS[service];
    return Promise.all(
      this.cluster.instances[service].map(async (instance) =>
        instance.running ? leaderReading(await scrape(instance.url), jobs) : undefined,
      ),
    );
  }

  /** The instance to kill: the one that led the most in its last passes (the first on a tie). */
  async leaderInstance(service: ServiceName): Promise<0 | 1> {
    const score = (reading: LeaderReading | undefined) =>
      reading === undefined
        ? -1
        : (reading.relayLeader ?? 0) +
          [...reading.jobs.values()].reduce((sum, job) => sum + (job.leader ?? 0), 0);
    const [first, second] = await this.readLeaders(service);
    return score(second) > score(first) ? 1 : 0;
  }

  async killInstance(service: ServiceName, index: 0 | 1, acknowledged: number): Promise<ServiceProcess> {
    const { run, instances, balancers } = this.cluster;
    const victim = instances[service][index];
    const survivor = instances[service][index === 0 ? 1 : 0];
    const groups = consumerGroupsOf(service);
    const groupsBefore = await this.groups.snapshot(groups);
    const survivorBefore = leaderReading(await scrape(survivor.url), FREQUENT_LEADER_JOBS[service]);
    const killedAt = Date.now();
    const pid = victim.pid;
    await victim.kill('SIGKILL');
    run.figures.fault(
      `kill -9 ${service} instance ${index + 1} (pid ${pid}) after ${acknowledged} acknowledged captures`,
    );
    const rejoined = await this.groups.waitRebalanced(
      groupsBefore,
      killedAt,
      RECOVERY_WAIT_MS,
      (old) => old.members.size - 1,
    );
    const answering = await timeUntil(killedAt, RECOVERY_WAIT_MS, async () => {
      const response = await fetch(`${balancers[service].url}/readyz`, { signal: AbortSignal.timeout(2000) });
      return response.status === 200;
    });
    const leads = await this.survivorLeads(service, survivor, survivorBefore, killedAt);
    this.record(`kill -9 ${service} instance ${index + 1}`, acknowledged, {
      ...Object.fromEntries(
        [...rejoined].map(([group, ms]) => [`group ${group} rebalanced onto the survivor`, ms]),
      ),
      [`${service} answering /readyz through its balancer`]: answering,
      ...leads,
    });
    return victim;
  }

  /** How long until the survivor led the relay and ran each frequent leader job as leader. */
  private async survivorLeads(
    service: ServiceName,
    survivor: ServiceProcess,
    before: LeaderReading,
    killedAt: number,
  ): Promise<Record<string, number | undefined>> {
    const jobs = FREQUENT_LEADER_JOBS[service];
    const led: Record<string, number | undefined> = {};
    if (PUBLISHERS.has(service)) {
      const databaseUrl = this.cluster.run.system.databaseUrl(service);
      led['the survivor relays the outbox (a row published after the kill)'] = await timeUntil(
        killedAt,
        RECOVERY_WAIT_MS,
        async () => (await publishedSince(databaseUrl, killedAt)) > 0,
      );
    }
    // The relay's gauges move once its observer is wired (a published count above 0): until
    // then puhui_outbox_relay_leader is registered at 0 and says nothing; the row check above holds.
    if (before.relayLeader !== undefined && before.published > 0) {
      led['the survivor leads the outbox relay'] = await timeUntil(killedAt, RECOVERY_WAIT_MS, async () => {
        const now = leaderReading(await scrape(survivor.url), jobs);
        return now.relayLeader === 1;
      });
    }
    for (const job of jobs) {
      const okBefore = before.jobs.get(job)?.ok ?? 0;
      if (before.jobs.get(job)?.leader === undefined) {
        // The survivor had passed this job every second since its start: no series, no metric.
        this.cluster.run.figures.note(`  ${survivor.name}'s /metrics has no puhui_job_leader{job="${job}"}`);
        led[`the survivor runs "${job}" as leader`] = undefined;
        continue;
      }
      led[`the survivor runs "${job}" as leader`] = await timeUntil(killedAt, RECOVERY_WAIT_MS, async () => {
        const now = leaderReading(await scrape(survivor.url), jobs).jobs.get(job);
        return now?.leader === 1 && now.ok > okBefore;
      });
    }
    return led;
  }

  /** Whether each figure was within `boundMs`; the failures, named. */
  late(boundMs: number, matching: (what: string) => boolean): string[] {
    return this.records.flatMap((record) =>
      Object.entries(record.recoveredMs)
        .filter(([what, ms]) => matching(what) && (ms === undefined || ms > boundMs))
        .map(
          ([what, ms]) =>
            `${record.fault}: ${what} took ${ms ?? `over ${RECOVERY_WAIT_MS}`} ms (bound ${boundMs} ms)`,
        ),
    );
  }
}

export type { GroupSnapshot };
