/**
 * A service's background jobs (DESIGN §9, decision 0010): each runs a pass at start and then
 * `intervalMs` after the previous pass ended, bounded by `timeoutMs`. A `leader` job runs on one
 * instance at a time: every pass first takes a Postgres advisory lock inside a transaction on a
 * connection of its own, and an instance that does not get the lock skips that pass.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { MINUTE_MS } from '@puhui/config';
import type { Logger } from '@puhui/logging';
import type { Pool, PoolClient } from '@puhui/postgres';

export interface Job {
  /** Unique within the service; names the leader lock and the job's log lines. */
  name: string;
  /** The wait between the end of one pass and the start of the next. */
  intervalMs: number;
  /**
   * A pass still running after this long is abandoned: logged as a failure, its signal aborted,
   * and the next pass scheduled. A leader job keeps its lock until the abandoned pass ends.
   */
  timeoutMs: number;
  /** Runs on one instance at a time (work that must not run twice at once across instances). */
  leader?: boolean;
  /** The first pass runs, and is awaited, before the service answers HTTP. */
  beforeStart?: boolean;
  /** Aborted when the pass times out or the service stops; a pass that can, stops early. */
  run: (signal: AbortSignal) => Promise<void>;
}

/** How a pass ended: `not_leader` when another instance held a leader job's lock. */
export type JobOutcome = 'ok' | 'failed' | 'timed_out' | 'not_leader';

/** What the runner reports for metrics (puhui_job_runs_total, puhui_job_leader). */
export interface JobObserver {
  passed(job: string, outcome: JobOutcome): void;
  /** A leader job's pass asked for its lock: whether this instance got it. */
  leading(job: string, leader: boolean): void;
}

export interface JobRunnerSettings {
  jobs: readonly Job[];
  /** Where leader jobs take their locks: one connection per leader pass under way. */
  lockPool: Pool;
  logger: Logger;
  observer?: JobObserver;
}

class PassAbandoned extends Error {}

/** While a job keeps failing: its first failure, then one a minute (one in 60 at 1 s passes). */
const FAILURE_LOG_INTERVAL_MS = MINUTE_MS;
/**
 * The first key of the two-key advisory locks jobs take, so that they never meet the one-key
 * locks the services take on their own (settlement's `settle:<day>`).
 */
const JOB_LOCK_NAMESPACE = 1_247_000_013;

export class JobRunner {
  private readonly stopping = new AbortController();
  private readonly failures = new Map<string, number>();
  private readonly loops: Promise<void>[] = [];

  constructor(private readonly settings: JobRunnerSettings) {
    const names = settings.jobs.map((job) => job.name);
    assert.equal(new Set(names).size, names.length, `job names must be unique: ${names.join(', ')}`);
  }

  /** Runs the first pass of the `beforeStart` jobs and then schedules every job. */
  async start(): Promise<void> {
    const { jobs } = this.settings;
    await Promise.all(jobs.filter((job) => job.beforeStart === true).map((job) => this.pass(job)));
    for (const job of jobs) this.loops.push(this.loop(job));
  }

  /** No further pass starts; resolves once the passes under way ended or were abandoned. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await Promise.all(this.loops);
  }

  private async loop(job: Job): Promise<void> {
    if (job.beforeStart === true) await this.pause(job);
    while (!this.stopping.signal.aborted) {
      await this.pass(job);
      await this.pause(job);
    }
  }

  private pause(job: Job): Promise<void> {
    return sleep(job.intervalMs, undefined, { signal: this.stopping.signal }).catch(() => undefined);
  }

  /** One pass: never throws; its failure or timeout is counted and logged. */
  private async pass(job: Job): Promise<void> {
    // The pass's own signal, not AbortSignal.any: that would tie one signal per pass to the
    // runner's for the life of the process.
    const controller = new AbortController();
    const abort = () => controller.abort();
    this.stopping.signal.addEventListener('abort', abort, { once: true });
    const { signal } = controller;
    const work = (async () => (job.leader === true ? this.asLeader(job, signal) : job.run(signal)))();
    let timer: NodeJS.Timeout | undefined;
    const abandoned = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        abort();
        reject(new PassAbandoned(`pass abandoned: still running after ${job.timeoutMs} ms`));
      }, job.timeoutMs);
    });
    const { observer } = this.settings;
    try {
      if ((await Promise.race([work, abandoned])) !== 'skipped') {
        this.succeeded(job);
        observer?.passed(job.name, 'ok');
      } else observer?.passed(job.name, 'not_leader');
    } catch (error) {
      this.failed(job, error);
      observer?.passed(job.name, error instanceof PassAbandoned ? 'timed_out' : 'failed');
    } finally {
      clearTimeout(timer);
      this.stopping.signal.removeEventListener('abort', abort);
    }
  }

  /** Runs the pass if this instance gets the job's lock; the lock ends with the pass. */
  private async asLeader(job: Job, signal: AbortSignal): Promise<'ran' | 'skipped'> {
    const { observer } = this.settings;
    // Without a connection there is no lock: the gauge must not keep saying this instance leads.
    const client = await this.settings.lockPool.connect().catch((error: unknown) => {
      observer?.leading(job.name, false);
      throw error;
    });
    let broken: Error | undefined;
    // A checked-out client whose connection drops emits 'error'; unheard, it would crash the process.
    const onError = (error: Error) => {
      broken = error;
    };
    client.on('error', onError);
    try {
      const rows = await this.tryLock(client, job).catch((error: unknown) => {
        observer?.leading(job.name, false);
        throw error;
      });
      observer?.leading(job.name, rows[0]?.leader === true);
      if (rows[0]?.leader !== true) {
        this.settings.logger.debug({ job: job.name }, 'job pass skipped: another instance holds its lock');
        return 'skipped';
      }
      await job.run(signal);
      return 'ran';
    } finally {
      // The transaction took nothing but the lock; ending it releases the lock. A connection that
      // cannot end it is discarded, which releases the lock too.
      await client.query('ROLLBACK').catch((error: Error) => {
        broken ??= error;
      });
      client.off('error', onError);
      client.release(broken);
    }
  }

  private async tryLock(client: PoolClient, job: Job): Promise<{ leader: boolean }[]> {
    await client.query('BEGIN');
    const { rows } = await client.query<{ leader: boolean }>(
      'SELECT pg_try_advisory_xact_lock($1, hashtext($2)) AS leader',
      [JOB_LOCK_NAMESPACE, job.name],
    );
    return rows;
  }

  private succeeded(job: Job): void {
    if ((this.failures.get(job.name) ?? 0) > 0) this.settings.logger.info({ job: job.name }, 'job recovered');
    this.failures.set(job.name, 0);
  }

  private failed(job: Job, error: unknown): void {
    const failures = (this.failures.get(job.name) ?? 0) + 1;
    this.failures.set(job.name, failures);
    const logEvery = Math.max(1, Math.round(FAILURE_LOG_INTERVAL_MS / job.intervalMs));
    if (failures === 1 || failures % logEvery === 0) {
      this.settings.logger.warn({ err: error, job: job.name, failures }, 'job failed; will retry');
    }
  }
}
