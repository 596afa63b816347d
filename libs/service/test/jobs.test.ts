import { setTimeout as sleep } from 'node:timers/promises';
import { createPool } from '@puhui/postgres';
import type { Pool } from '@puhui/postgres';
import { JobRunner } from '@puhui/service';
import type { Job } from '@puhui/service';
import { captureLogger, createTestDatabase, waitFor } from '@puhui/testing';
import type { TestDatabase } from '@puhui/testing';

let database: TestDatabase;
let pools: Pool[];

beforeAll(async () => {
  database = await createTestDatabase('jobs');
});
afterAll(async () => {
  await database.drop();
});
beforeEach(() => {
  pools = [];
});
afterEach(async () => {
  await Promise.all(pools.map((pool) => pool.end()));
});

/** A runner as one instance of a service would have it: its own lock pool on the shared database. */
function runner(jobs: Job[]) {
  const pool = createPool({
    connectionString: database.url,
    connectionsMax: 2,
    applicationName: 'jobs-test',
  });
  pools.push(pool);
  const captured = captureLogger('jobs-test', 'debug');
  return { runner: new JobRunner({ jobs, lockPool: pool, logger: captured.logger }), lines: captured.lines };
}

const job = (overrides: Partial<Job> & Pick<Job, 'run'>): Job => ({
  name: 'test job',
  intervalMs: 5,
  timeoutMs: 5_000,
  ...overrides,
});

describe('JobRunner', () => {
  it('runs a leader job on one of two instances at a time', async () => {
    let running = 0;
    let overlaps = 0;
    const passes = { first: 0, second: 0 };
    const leaderJob = (instance: keyof typeof passes) =>
      job({
        name: 'settle',
        leader: true,
        run: async () => {
          running += 1;
          if (running > 1) overlaps += 1;
          passes[instance] += 1;
          await sleep(30);
          running -= 1;
        },
      });
    const first = runner([leaderJob('first')]);
    const second = runner([leaderJob('second')]);
    await Promise.all([first.runner.start(), second.runner.start()]);
    await waitFor(() => passes.first + passes.second >= 15, { description: 'fifteen passes' });
    await Promise.all([first.runner.stop(), second.runner.stop()]);
    expect(overlaps).toBe(0);
    // The instance that lost the lock skipped its pass and said so, without counting a failure.
    const skipped = [...first.lines, ...second.lines].filter((line) =>
      String(line.message).includes('skipped'),
    );
    expect(skipped.length).toBeGreaterThan(0);
    expect([...first.lines, ...second.lines].filter((line) => line.level === 'warn')).toEqual([]);
  });

  it('abandons a pass that overruns its timeout, logs it, and runs the next pass', async () => {
    let passes = 0;
    let abortedSignals = 0;
    const { runner: jobs, lines } = runner([
      job({
        name: 'stuck once',
        timeoutMs: 50,
        run: async (signal) => {
          passes += 1;
          if (passes === 1) {
            await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
            abortedSignals += 1;
          }
        },
      }),
    ]);
    await jobs.start();
    await waitFor(() => passes >= 3, { description: 'passes after the stuck one' });
    await jobs.stop();
    expect(abortedSignals).toBe(1);
    const warnings = lines.filter((line) => line.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ job: 'stuck once', failures: 1, message: 'job failed; will retry' });
    expect(JSON.stringify(warnings[0]?.err)).toContain('still running after 50 ms');
    expect(lines.some((line) => line.message === 'job recovered')).toBe(true);
  });

  it('stops only after the pass under way ended, and starts no further pass', async () => {
    let passes = 0;
    let finished = 0;
    const { runner: jobs } = runner([
      job({
        name: 'slow',
        intervalMs: 1,
        run: async () => {
          passes += 1;
          await sleep(150);
          finished += 1;
        },
      }),
    ]);
    await jobs.start();
    await waitFor(() => passes >= 1, { description: 'a pass under way' });
    await jobs.stop();
    expect(finished).toBe(passes);
    await sleep(50);
    expect(passes).toBe(finished);
  });

  it('awaits the first pass of a beforeStart job in start', async () => {
    let passes = 0;
    const { runner: jobs } = runner([
      job({
        name: 'warm the cache',
        intervalMs: 60_000,
        beforeStart: true,
        run: async () => {
          await sleep(20);
          passes += 1;
        },
      }),
    ]);
    await jobs.start();
    expect(passes).toBe(1);
    await jobs.stop();
    expect(passes).toBe(1);
  });

  it('logs the first failure of a run of failures, not every one, and then that it recovered', async () => {
    let passes = 0;
    const { runner: jobs, lines } = runner([
      job({
        name: 'flaky',
        run: async () => {
          passes += 1;
          if (passes <= 5) throw new Error(`redis away (pass ${passes})`);
        },
      }),
    ]);
    await jobs.start();
    await waitFor(() => lines.some((line) => line.message === 'job recovered'), { description: 'recovery' });
    await jobs.stop();
    const logged = lines.filter((line) => line.level === 'warn' || line.message === 'job recovered');
    expect(logged.map((line) => [line.message, line.failures])).toEqual([
      ['job failed; will retry', 1],
      ['job recovered', undefined],
    ]);
    expect(JSON.stringify(logged[0]?.err)).toContain('redis away (pass 1)');
  });

  it('refuses two jobs of one name', () => {
    const run = async () => undefined;
    expect(() => runner([job({ run }), job({ run })])).toThrow(/unique/u);
  });
});
