/**
 * Issue 9, crashes: each service is killed with SIGKILL in turn (no shutdown code runs) while
 * terminals send checkouts concurrently and retry with their Idempotency-Keys, and while an
 * admin keeps onboarding merchants and registering cards. Then: zero lost acknowledged
 * captures, zero duplicates, and every ledger, outbox and inbox invariant holds.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { generateTestPan } from '@puhui/cards';
import { CONSUMER_REJOIN_BOUND_MS } from '@puhui/events';
import { onboardMerchant } from '../../e2e/test/puhui';
import type { ServiceName } from '../../e2e/test/system';
import { ChaosRun } from './lib/chaos';
import type { World } from './lib/chaos';
import { ConsumerGroupWatcher } from './lib/consumer-groups';
import { sized } from './lib/figures';
import { runCheckoutLoad, summary } from './lib/load';

const CHECKOUTS = sized(300, 1000);
const CONCURRENCY = sized(20, 50);
const CARDS = sized(20, 40);
/**
 * Kill schedule, by share of captures answered: each service once in the CI subset, twice in the
 * full run. A kill marked `whileJoining` lands 1 s after the service is ready again from its
 * previous kill, while its consumers are still joining their groups (the double kill within 6 s
 * that issue 22 found never settling); any other kill of a service waits until its consumers
 * are back from the previous one (so each rejoin is measured). Every kill listed happens.
 */
const KILLS: ReadonlyArray<{ at: number; service: ServiceName; whileJoining?: true }> = sized(
  [
    { at: 0.15, service: 'merchant-onboarding' },
    { at: 0.3, service: 'discount-rules' },
    { at: 0.3, service: 'discount-rules', whileJoining: true },
    { at: 0.55, service: 'transaction-settlement' },
  ],
  [
    { at: 0.1, service: 'merchant-onboarding' },
    { at: 0.2, service: 'discount-rules' },
    { at: 0.2, service: 'discount-rules', whileJoining: true },
    { at: 0.3, service: 'transaction-settlement' },
    { at: 0.3, service: 'transaction-settlement', whileJoining: true },
    { at: 0.5, service: 'transaction-settlement' },
    { at: 0.65, service: 'discount-rules' },
    { at: 0.8, service: 'merchant-onboarding' },
  ],
);
/**
 * Replicas catch up within the rejoin bound plus the backlog's processing: a few hundred events
 * at the consumers' pace (≥ 50/s on a loaded machine) take well under this.
 */
const BACKLOG_PROCESSING_MS = 15_000;
/** How long a killed service stays down before it is started again. */
const DOWN_MS = 1000;
/** A `whileJoining` kill waits this long after the service is ready: its consumers start with it and are joining. */
const KILL_WHILE_JOINING_AFTER_READY_MS = 1_000;

let run: ChaosRun;
let world: World;
let groups: ConsumerGroupWatcher;

beforeAll(async () => {
  run = await ChaosRun.start('crashes: kill -9 each service during concurrent checkouts');
  world = await run.system.withLogsOnFailure(() => run.setUpWorld(CARDS));
  groups = new ConsumerGroupWatcher(run.system.kafkaBrokers, run.system.topicPrefix);
}, 180_000);

afterAll(async () => {
  run?.figures.print();
  await groups?.close();
  await run?.stop();
});

it('kill -9 of each service in turn during concurrent retried checkouts loses and duplicates nothing', async () => {
  const { system, figures } = run;
  await system.withLogsOnFailure(async () => {
    let adminRunning = true;
    let adminActions = 0;
    let adminFailures = 0;
    let serial = 0;
    // An admin keeps working meanwhile, so kills of onboarding and rules land mid-write.
    const admin = (async () => {
      while (adminRunning) {
        try {
          if (serial % 2 === 0) {
            await onboardMerchant(system, 'supermarket');
          } else {
            const cardNumber = generateTestPan(95_000 + serial, { length: 16 });
            run.knownPans.add(cardNumber);
            await system.call('discount-rules', 'POST', '/v1/cards', {
              token: system.admin,
              body: {
                card_number: cardNumber,
                member_id: `chaos-${serial}`,
                union_id: 'union-e2e',
                tier: 'standard',
              },
            });
          }
          adminActions += 1;
        } catch {
          adminFailures += 1;
        }
        serial += 1;
        await sleep(200);
      }
    })();

    const pending = [...KILLS];
    /** Per service: its last kill, when it was ready again after it, and when its consumers were back. */
    const lastKillAt = new Map<ServiceName, number>();
    const lastReady = new Map<ServiceName, Promise<unknown>>();
    const lastRejoined = new Map<ServiceName, Promise<unknown>>();
    const faults: Array<Promise<void>> = [];
    const rejoinTimes: Array<{ service: ServiceName; group: string; ms: number | undefined }> = [];
    let kills = 0;
    const killAndRestart = async (service: ServiceName, acknowledged: number) => {
      const serviceProcess = system.services[service];
      const before = await groups.membersOf(service);
      const killedAt = Date.now();
      const previousKillAt = lastKillAt.get(service);
      lastKillAt.set(service, killedAt);
      const again =
        previousKillAt === undefined ? '' : `, ${killedAt - previousKillAt} ms after its last kill`;
      figures.fault(
        `kill -9 ${service} (pid ${serviceProcess.pid}) after ${acknowledged} acknowledged captures${again}`,
      );
      await serviceProcess.kill('SIGKILL');
      kills += 1;
      await sleep(DOWN_MS);
      serviceProcess.start();
      const readyMs = await serviceProcess.waitReady();
      figures.note(
        `${service} back ${Date.now() - killedAt} ms after the kill (ready ${readyMs} ms after start)`,
      );
      return { before, killedAt };
    };
    // Waited for longer than the bound, so that a miss reports the time it did take.
    const measureRejoin = async (
      service: ServiceName,
      { before, killedAt }: { before: Map<string, Set<string>>; killedAt: number },
    ): Promise<void> => {
      const superseded = (): boolean => lastKillAt.get(service) !== killedAt;
      const times = await groups.waitRejoined(before, killedAt, 4 * CONSUMER_REJOIN_BOUND_MS, superseded);
      if (times === 'superseded') {
        figures.note(`${service}'s consumers not yet back when it was killed again`);
        return;
      }
      for (const [group, ms] of times) {
        rejoinTimes.push({ service, group, ms });
        figures.note(
          `${group} back in its group ${ms === undefined ? 'never (60 s)' : `${ms} ms`} after the kill`,
        );
      }
    };
    const load = await runCheckoutLoad({
      system,
      merchants: world.merchants,
      cards: world.cards,
      total: CHECKOUTS,
      concurrency: CONCURRENCY,
      label: 'crash',
      onAnswer: ({ acknowledged, total }) => {
        const due = pending[0];
        if (due === undefined || acknowledged < due.at * total) return;
        pending.shift();
        const { service } = due;
        const turn = due.whileJoining
          ? (lastReady.get(service) ?? Promise.resolve()).then(() => sleep(KILL_WHILE_JOINING_AFTER_READY_MS))
          : (lastRejoined.get(service) ?? Promise.resolve());
        const killed = turn.then(() => killAndRestart(service, acknowledged));
        const rejoined = killed.then((kill) => measureRejoin(service, kill));
        lastReady.set(service, killed);
        lastRejoined.set(service, rejoined);
        faults.push(rejoined);
      },
    });
    await Promise.all(faults);
    figures.check(
      'every scheduled kill done',
      KILLS.length,
      kills === KILLS.length ? [] : [`${kills} of ${KILLS.length} kills done`],
    );
    const longestRejoinMs = Math.max(...rejoinTimes.map((rejoin) => rejoin.ms ?? Infinity));
    figures.note(
      `longest consumer rejoin after a kill: ${longestRejoinMs} ms (bound ${CONSUMER_REJOIN_BOUND_MS} ms)`,
    );
    figures.check(
      `every consumer back in its group within ${CONSUMER_REJOIN_BOUND_MS} ms of a kill`,
      rejoinTimes.length,
      rejoinTimes
        .filter((rejoin) => rejoin.ms === undefined || rejoin.ms > CONSUMER_REJOIN_BOUND_MS)
        .map((rejoin) => `${rejoin.group} (${rejoin.service}) took ${rejoin.ms ?? 'over 60,000'} ms`),
    );
    adminRunning = false;
    await admin;
    figures.note(`checkouts: ${summary(load)}`);
    figures.note(`admin actions meanwhile: ${adminActions} done, ${adminFailures} cut short by a kill`);
    figures.check('every capture answered (the terminals retried through every crash)', load.clients.length, [
      ...load.unanswered.map((client) => `${client.reference} unanswered`),
      ...load.refused.map((refusal) => `${refusal.reference} refused ${refusal.status} ${refusal.code}`),
    ]);
    const unclean = [...load.statuses.entries()].filter(([status]) => status >= 500 && status !== 503);
    figures.check(
      'no 5xx other than 503 while a dependency was down',
      load.attempts,
      unclean.map(([status, count]) => `${count} answers ${status}`),
    );
    const violations = await run.finish(load.clients, CONSUMER_REJOIN_BOUND_MS + BACKLOG_PROCESSING_MS);
    expect(violations).toEqual([]);
    expect(load.clients.every((client) => client.acknowledged !== undefined)).toBe(true);
  });
});
