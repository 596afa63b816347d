/**
 * Issue 20, several instances on a Kafka cluster (decision 0027): two instances of every
 * service against the three-broker KRaft cluster of `infra up --brokers 3` (topics with three
 * copies, min.insync.replicas 2, acks=all), under retried checkout load and an admin at work,
 * while one broker is killed with SIGKILL and brought back, then one instance of each service
 * (the one leading, when the metrics tell). Then: every capture acknowledged, none lost or
 * duplicated, every event published once and applied once (the invariant checker), each
 * group rebalanced onto the survivor within the bound of decision 0008, the relay and the
 * leader jobs running on the survivor, and the figures in tests/chaos/results/.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateTestPan } from '@puhui/cards';
import { TOPICS, dlqTopicOf } from '@puhui/contracts';
import { CONSUMER_REJOIN_BOUND_MS } from '@puhui/events';
import { onboardMerchant } from '../../e2e/test/puhui';
import { SERVICE_NAMES } from '../../e2e/test/system';
import type { ServiceName } from '../../e2e/test/system';
import type { World } from './lib/chaos';
import { ClusterRun } from './lib/cluster';
import { ClusterFaults } from './lib/cluster-faults';
import { ClusterGroupWatcher } from './lib/cluster-groups';
import { KafkaCluster } from './lib/cluster-kafka';
import { consumerGroupsOf } from './lib/consumer-groups';
import { FULL, sized } from './lib/figures';
import { runCheckoutLoad, summary } from './lib/load';

const CARDS = sized(10, 30);
const CONCURRENCY = sized(8, 20);
/** Captures acknowledged between two faults, so that every fault lands in load. */
const ACKNOWLEDGED_BETWEEN_FAULTS = sized(40, 200);
/** CI: one broker and one instance of each service. Full: that twice, the killed instances started again in between. */
const ROUNDS = sized(1, 2);
/** An upper bound on the load (it runs until the faults are done), so that it can never run away. */
const CAPTURES_MAX = 20_000;
/** Replicas catch up within the rejoin bound plus the backlog: a few hundred events at ≥ 50/s. */
const BACKLOG_PROCESSING_MS = 15_000;
const ADMIN_PAUSE_MS = 300;
/** Over the suite's 10 minutes in the full run: two rounds, the killed instances started again. */
const TEST_TIMEOUT_MS = sized(10, 25) * 60_000;
const RESULTS_DIRECTORY = path.resolve(__dirname, '..', 'results');

let cluster: KafkaCluster;
let clusterRun: ClusterRun;
let groups: ClusterGroupWatcher;
let world: World;
let clusterNote = '';

beforeAll(async () => {
  cluster = await KafkaCluster.ensure();
  clusterRun = await ClusterRun.start(
    'cluster: two instances of each service, kill -9 a broker and an instance of each',
    cluster,
  );
  const { run } = clusterRun;
  run.figures.note(
    cluster.startedHere
      ? `cluster started by the test in ${cluster.startedInMs} ms`
      : 'cluster already running',
  );
  world = await run.system.withLogsOnFailure(() => run.setUpWorld(CARDS));
  groups = new ClusterGroupWatcher(cluster.brokers, run.system.topicPrefix);
}, 300_000);

afterAll(async () => {
  clusterRun?.run.figures.print();
  await groups?.close();
  await clusterRun?.stop();
  clusterNote = (await cluster?.close()) ?? '';
  if (clusterNote !== '') process.stderr.write(`cluster: ${clusterNote}\n`);
}, 120_000);

function runTopics(): string[] {
  const { system } = clusterRun.run;
  return Object.keys(TOPICS).flatMap((name) => {
    const topic = system.topic(name as keyof typeof TOPICS);
    return [topic, dlqTopicOf(topic)];
  });
}

/** Three copies of every partition, all in sync, and min.insync.replicas 2 on every topic. */
async function checkReplication(topics: readonly string[]): Promise<void> {
  const { figures } = clusterRun.run;
  const partitions = await cluster.partitions(topics);
  figures.read('partitions of the run’s topics', partitions.length, true);
  figures.check(
    'every partition of the run’s topics has 3 replicas, all in sync',
    partitions.length,
    partitions
      .filter((partition) => partition.replicas.length !== 3 || partition.isr.length !== 3)
      .map((p) => `${p.topic}/${p.partition}: replicas ${p.replicas.join(',')}, ISR ${p.isr.join(',')}`),
  );
  const minInsync = await cluster.minInsyncReplicas(topics);
  figures.check(
    'every topic of the run has min.insync.replicas 2',
    topics.length,
    topics
      .filter((topic) => minInsync.get(topic) !== '2')
      .map((topic) => `${topic}: ${minInsync.get(topic)}`),
  );
}

it(
  'two instances of each service lose and duplicate nothing when a broker and then an instance of each die',
  async () => {
    const { run, system } = clusterRun;
    const { figures } = run;
    const topics = runTopics();
    await run.system.withLogsOnFailure(async () => {
      await checkReplication(topics);
      const faults = new ClusterFaults(clusterRun, groups, topics);
      let acknowledged = 0;
      let stopping = false;
      const admin = adminAtWork(() => stopping);
      const load = runCheckoutLoad({
        system,
        merchants: world.merchants,
        cards: world.cards,
        total: CAPTURES_MAX,
        concurrency: CONCURRENCY,
        label: 'cluster',
        stop: () => stopping,
        onAnswer: (progress) => {
          acknowledged = progress.acknowledged;
        },
      });
      const untilMore = async () => {
        const target = acknowledged + ACKNOWLEDGED_BETWEEN_FAULTS;
        while (acknowledged < target) await sleep(50);
      };
      let kills = 0;
      try {
        for (let round = 0; round < ROUNDS; round += 1) {
          await untilMore();
          const broker = await faults.busiestBroker(system.topic('checkouts'));
          await faults.killBroker(broker, acknowledged);
          kills += 1;
          for (const service of SERVICE_NAMES) {
            await untilMore();
            const index = await faults.leaderInstance(service);
            const victim = await faults.killInstance(service, index, acknowledged);
            kills += 1;
            if (round < ROUNDS - 1) await restartInstance(service, victim);
          }
        }
        await untilMore();
      } finally {
        stopping = true;
      }
      const result = await load;
      const adminCounts = await admin;
      figures.note(`checkouts: ${summary(result)}`);
      figures.note(
        `admin actions meanwhile: ${adminCounts.done} done, ${adminCounts.failed} cut short by a kill`,
      );
      figures.note(
        `balancers: ${SERVICE_NAMES.map((name) => `${name} ${clusterRun.balancers[name].connections} connections, ${clusterRun.balancers[name].failovers} sent on after a refusal`).join('; ')}`,
      );
      figures.check(
        'every scheduled kill done',
        1,
        kills === ROUNDS * (1 + SERVICE_NAMES.length) ? [] : [`${kills} kills`],
      );
      figures.check(
        'every capture answered (the terminals retried through every kill)',
        result.clients.length,
        [
          ...result.unanswered.map((client) => `${client.reference} unanswered`),
          ...result.refused.map(
            (refusal) => `${refusal.reference} refused ${refusal.status} ${refusal.code}`,
          ),
        ],
      );
      const unclean = [...result.statuses.entries()].filter(([status]) => status >= 500 && status !== 503);
      figures.check(
        'no 5xx other than 503',
        result.attempts,
        unclean.map(([status, count]) => `${count} answers ${status}`),
      );
      const rejoins = faults.records.flatMap((record) =>
        Object.keys(record.recoveredMs).filter((what) => what.startsWith('group ')),
      );
      figures.check(
        `every consumer group Stable, its partitions held, within ${CONSUMER_REJOIN_BOUND_MS} ms of each kill`,
        rejoins.length,
        faults.late(CONSUMER_REJOIN_BOUND_MS, (what) => what.startsWith('group ')),
      );
      const leads = faults.records.flatMap((record) =>
        Object.keys(record.recoveredMs).filter((what) => what.startsWith('the survivor')),
      );
      figures.read('leader moves measured', leads.length, true);
      figures.check(
        `the relay and every frequent leader job run on the survivor within ${CONSUMER_REJOIN_BOUND_MS} ms`,
        leads.length,
        faults.late(CONSUMER_REJOIN_BOUND_MS, (what) => what.startsWith('the survivor')),
      );
      figures.check(
        'the cluster recovered from the broker kill (partitions led, relays publishing, broker back in sync)',
        ROUNDS,
        faults.late(Infinity, (what) => !what.startsWith('group ') && !what.startsWith('the survivor')),
      );
      await checkReplication(topics);
      const violations = await run.finish(result.clients, CONSUMER_REJOIN_BOUND_MS + BACKLOG_PROCESSING_MS);
      writeResults(faults, summary(result), result.attempts, violations);
      expect(violations).toEqual([]);
      expect(result.clients.length).toBeGreaterThan(0);
      expect(result.clients.every((client) => client.acknowledged !== undefined)).toBe(true);
    });
  },
  TEST_TIMEOUT_MS,
);

/** A killed instance started again (full mode, between rounds); its members join the groups. */
async function restartInstance(
  service: ServiceName,
  victim: ClusterRun['instances'][ServiceName][number],
): Promise<void> {
  const startedAt = Date.now();
  victim.start();
  const readyMs = await victim.waitReady();
  clusterRun.run.figures.note(`${service} instance started again: ready in ${readyMs} ms`);
  const before = await groups.snapshot(consumerGroupsOf(service));
  const joined = await groups.waitRebalanced(before, startedAt, 4 * CONSUMER_REJOIN_BOUND_MS, () => 2, true);
  for (const [group, ms] of joined)
    clusterRun.run.figures.note(`  group ${group} back to two members ${ms ?? 'never'} ms after the start`);
}

/** Onboards merchants and registers cards through the balancers until told to stop. */
async function adminAtWork(stop: () => boolean): Promise<{ done: number; failed: number }> {
  const { system, run } = clusterRun;
  let done = 0;
  let failed = 0;
  for (let serial = 0; !stop(); serial += 1) {
    try {
      if (serial % 2 === 0) await onboardMerchant(system, 'supermarket');
      else {
        const cardNumber = generateTestPan(96_000 + serial, { length: 16 });
        run.knownPans.add(cardNumber);
        await system.call('discount-rules', 'POST', '/v1/cards', {
          token: system.admin,
          body: {
            card_number: cardNumber,
            member_id: `cluster-${serial}`,
            union_id: 'union-e2e',
            tier: 'standard',
          },
        });
      }
      done += 1;
    } catch {
      failed += 1;
    }
    await sleep(ADMIN_PAUSE_MS);
  }
  return { done, failed };
}

function writeResults(
  faults: ClusterFaults,
  load: string,
  attempts: number,
  violations: readonly string[],
): void {
  const { figures } = clusterRun.run;
  mkdirSync(RESULTS_DIRECTORY, { recursive: true });
  const file = path.join(RESULTS_DIRECTORY, `cluster-${FULL ? 'full' : 'ci'}.json`);
  const results = {
    scenario: figures.scenario,
    mode: FULL ? 'full' : 'ci',
    finishedAt: new Date().toISOString(),
    instancesPerService: 2,
    brokers: cluster.brokers,
    requestsSent: figures.requests,
    captureAttempts: attempts,
    load,
    faultsInjected: figures.faultsInjected,
    faults: faults.records,
    invariantsChecked: figures.invariantsChecked,
    violations,
  };
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  figures.note(`results written to ${path.relative(process.cwd(), file)}`);
}
