/**
 * Issue 9, crashes: each service is killed with SIGKILL in turn (no shutdown code runs) while
 * terminals send checkouts concurrently and retry with their Idempotency-Keys, and while an
 * admin keeps onboarding merchants and registering cards. Then: zero lost acknowledged
 * captures, zero duplicates, and every ledger, outbox and inbox invariant holds.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { generateTestPan } from '@puhui/cards';
import { onboardMerchant } from '../../e2e/test/puhui';
import type { ServiceName } from '../../e2e/test/system';
import { ChaosRun } from './lib/chaos';
import type { World } from './lib/chaos';
import { sized } from './lib/figures';
import { runCheckoutLoad, summary } from './lib/load';

const CHECKOUTS = sized(300, 1000);
const CONCURRENCY = sized(20, 50);
const CARDS = sized(20, 40);
/** Kill schedule: each service once in the CI subset, twice in the full run, by share of captures answered. */
const KILLS: ReadonlyArray<{ at: number; service: ServiceName }> = sized(
  [
    { at: 0.15, service: 'merchant-onboarding' },
    { at: 0.35, service: 'discount-rules' },
    { at: 0.55, service: 'transaction-settlement' },
  ],
  [
    { at: 0.1, service: 'merchant-onboarding' },
    { at: 0.2, service: 'discount-rules' },
    { at: 0.3, service: 'transaction-settlement' },
    { at: 0.5, service: 'transaction-settlement' },
    { at: 0.65, service: 'discount-rules' },
    { at: 0.8, service: 'merchant-onboarding' },
  ],
);
/** How long a killed service stays down before it is started again. */
const DOWN_MS = 1000;

let run: ChaosRun;
let world: World;

beforeAll(async () => {
  run = await ChaosRun.start('crashes: kill -9 each service during concurrent checkouts');
  world = await run.system.withLogsOnFailure(() => run.setUpWorld(CARDS));
}, 180_000);

afterAll(async () => {
  run?.figures.print();
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
    const restarts: Array<Promise<unknown>> = [];
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
        const service = system.services[due.service];
        if (!service.running) return;
        figures.fault(
          `kill -9 ${due.service} (pid ${service.pid}) after ${acknowledged} acknowledged captures`,
        );
        restarts.push(
          (async () => {
            const killedAt = Date.now();
            await service.kill('SIGKILL');
            await sleep(DOWN_MS);
            service.start();
            const readyMs = await service.waitReady();
            figures.note(
              `${due.service} back ${Date.now() - killedAt} ms after the kill (ready ${readyMs} ms after start)`,
            );
          })(),
        );
      },
    });
    await Promise.all(restarts);
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
    const violations = await run.finish(load.clients);
    expect(violations).toEqual([]);
    expect(load.clients.every((client) => client.acknowledged !== undefined)).toBe(true);
  });
});
