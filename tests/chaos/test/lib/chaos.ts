/**
 * One chaos run: the e2e harness's three service processes (tests/e2e/test/system.ts), with
 * optionally Postgres and Redis behind fault proxies and Kafka as a private broker behind one
 * (see kafka-broker.ts), every line of their output scanned for card numbers as it arrives,
 * an event log of the run's topics, the figures, and at the end the invariant checker and the
 * card-number scan of every table, log line and Kafka record.
 */
import { Client } from 'pg';
import { TOPICS } from '@puhui/contracts';
import { createRedis } from '@puhui/cache';
import { testPostgresUrl, testRedisUrl, waitFor } from '@puhui/testing';
import { EventLog } from '../../../e2e/test/events';
import {
  createRule,
  fundedBudget,
  onboardMerchant,
  publishRule,
  registerCard,
  waitUntilSettlementAccepts,
} from '../../../e2e/test/puhui';
import type { Card, Merchant } from '../../../e2e/test/puhui';
import { PuhuiSystem, SERVICE_NAMES } from '../../../e2e/test/system';
import type { SystemOptions } from '../../../e2e/test/system';
import { CardScanner } from './card-scan';
import { Figures, countRequests } from './figures';
import { InvariantChecker } from './invariants';
import type { ClientCapture } from './invariants';
import { PrivateKafka } from './kafka-broker';
import { FaultProxy } from './proxy';

export interface ChaosOptions extends Omit<SystemOptions, 'onOutput'> {
  /** Put Postgres behind a fault proxy (the services' pools and start-up go through it). */
  proxyPostgres?: boolean;
  proxyRedis?: boolean;
  /** Run Kafka as a private broker behind a fault proxy instead of the shared broker. */
  privateKafka?: boolean;
}

function hostPort(url: string, defaultPort: number): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: parsed.port === '' ? defaultPort : Number(parsed.port) };
}

function viaProxy(url: string, proxy: FaultProxy): string {
  const parsed = new URL(url);
  parsed.hostname = '127.0.0.1';
  parsed.port = String(proxy.port);
  return parsed.toString().replace(/\/$/u, '');
}

export interface World {
  merchants: Merchant[];
  cards: Card[];
  budgetId: string;
  ruleId: string;
}

export class ChaosRun {
  /** Card numbers this run sent; none may appear anywhere afterwards. */
  readonly knownPans = new Set<string>();
  readonly scanner = new CardScanner(this.knownPans);
  readonly checker: InvariantChecker;
  logLines = 0;

  private constructor(
    readonly system: PuhuiSystem,
    readonly events: EventLog,
    readonly figures: Figures,
    readonly postgres: FaultProxy | undefined,
    readonly redis: FaultProxy | undefined,
    readonly kafka: PrivateKafka | undefined,
  ) {
    this.checker = new InvariantChecker(system, events, figures);
  }

  static async start(scenario: string, options: ChaosOptions = {}): Promise<ChaosRun> {
    countRequests();
    const figures = new Figures(scenario);
    let postgres: FaultProxy | undefined;
    let redis: FaultProxy | undefined;
    let kafka: PrivateKafka | undefined;
    let system: PuhuiSystem | undefined;
    // Whatever fails on the way, nothing started may be left open: an open proxy or process
    // would keep Jest (and CI) from ever exiting.
    try {
      if (options.proxyPostgres)
        postgres = await FaultProxy.start('postgres', hostPort(testPostgresUrl(), 5432));
      if (options.proxyRedis) redis = await FaultProxy.start('redis', hostPort(testRedisUrl(), 6379));
      if (options.privateKafka) kafka = await PrivateKafka.start();
      if (kafka !== undefined) figures.note(`private Kafka broker ready in ${kafka.startedInMs} ms`);
      const lines: Array<{ service: string; line: string }> = [];
      const ready: { run?: ChaosRun } = {};
      const started = await PuhuiSystem.start({
        ...options,
        environment: {
          ...(postgres === undefined ? {} : { POSTGRES_URL: viaProxy(testPostgresUrl(), postgres) }),
          ...(redis === undefined ? {} : { REDIS_URL: viaProxy(testRedisUrl(), redis) }),
          ...(kafka === undefined ? {} : { KAFKA_BROKERS: kafka.brokers.join(',') }),
          ...options.environment,
        },
        onOutput: (service, line) => {
          if (ready.run === undefined) lines.push({ service, line });
          else ready.run.scanLogLine(service, line);
        },
      });
      system = started;
      const events = await EventLog.start(
        Object.keys(TOPICS).map((name) => started.topic(name as keyof typeof TOPICS)),
        kafka?.brokers,
      );
      const run = new ChaosRun(started, events, figures, postgres, redis, kafka);
      for (const { service, line } of lines) run.scanLogLine(service, line);
      ready.run = run;
      return run;
    } catch (error) {
      await system?.stop();
      await Promise.all([postgres?.close(), redis?.close(), kafka?.stop()]);
      throw error;
    }
  }

  scanLogLine(service: string, line: string): void {
    this.logLines += 1;
    this.scanner.scan(line, `log of ${service}`);
  }

  /**
   * Two merchants with keys known to settlement, `cardCount` cards, a funded budget and a
   * published rule: 10 % off at the first merchant, half funded by the union from the budget.
   */
  async setUpWorld(cardCount: number, budgetMinor = 5_000_000): Promise<World> {
    const { system } = this;
    const merchants = [
      await onboardMerchant(system, 'supermarket'),
      await onboardMerchant(system, 'pharmacy'),
    ];
    for (const merchant of merchants) await waitUntilSettlementAccepts(system, merchant);
    const cards: Card[] = [];
    for (let serial = 0; serial < cardCount; serial += 1) {
      const card = await registerCard(system, 90_000 + serial);
      this.knownPans.add(card.card_number);
      cards.push(card);
    }
    const budgetId = await fundedBudget(system, budgetMinor);
    const rule = await createRule(system, {
      name: '混沌测试超市9折',
      scope: { merchant_categories: null, merchant_ids: merchants.map((merchant) => merchant.merchant_id) },
      benefit: { type: 'percent_off', bps: 1000 },
      union_share_bps: 5000,
      budget_id: budgetId,
      schedule: { valid_from: '2025-01-01T00:00:00+08:00' },
    });
    const ruleId = rule.body.rule_id as string;
    await publishRule(system, ruleId);
    return { merchants, cards, budgetId, ruleId };
  }

  /** Settles, then runs every invariant check and the card scan; returns the violations. */
  async finish(clients: readonly ClientCapture[] = [], settleTimeoutMs?: number): Promise<string[]> {
    const { figures } = this;
    if (this.postgres?.mode !== 'open') this.postgres?.restore();
    if (this.redis?.mode !== 'open') this.redis?.restore();
    if (this.kafka !== undefined && this.kafka.proxy.mode !== 'open') this.kafka.proxy.restore();
    try {
      const settledMs = await this.checker.waitSettled(settleTimeoutMs);
      figures.note(`settled (outboxes drained, events delivered, inboxes caught up) in ${settledMs} ms`);
    } catch (error) {
      figures.violation(String(error));
    }
    await this.checker.checkAll(clients);
    await this.scanEverything();
    return figures.violations;
  }

  /** Every row of every table of the three databases, and every record of the run's topics. */
  async scanEverything(): Promise<void> {
    let rows = 0;
    for (const service of SERVICE_NAMES) {
      const client = new Client({ connectionString: this.system.databaseUrl(service) });
      await client.connect();
      try {
        const tables = await client.query<{ table_name: string }>(
          "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
        );
        for (const { table_name: table } of tables.rows) {
          const result = await client.query<{ row: string }>(
            `SELECT row_to_json(t)::text AS row FROM ${client.escapeIdentifier(table)} t`,
          );
          for (const { row } of result.rows) this.scanner.scan(row, `${service} table ${table}`);
          rows += result.rows.length;
        }
      } finally {
        await client.end();
      }
    }
    for (const record of this.events.records) {
      this.scanner.scan(
        [record.key ?? '', record.value ?? '', JSON.stringify(record.headers)].join('\n'),
        `topic ${record.topic}`,
      );
    }
    const findings = this.scanner.findings;
    this.figures.check(
      'no card number in any table, log line or Kafka record',
      rows + this.logLines + this.events.records.length,
      findings.map((finding) => `${finding.kind} ${finding.masked} in ${finding.where}`),
    );
    this.figures.note(
      `card scan: ${rows} rows, ${this.logLines} log lines, ${this.events.records.length} Kafka records (${(this.scanner.charactersScanned / 1e6).toFixed(1)} MB); ${this.knownPans.size} test card numbers looked for; findings: ${findings.length}`,
    );
  }

  /** Deletes only this run's Redis keys (never FLUSHALL: the Redis is shared). */
  async flushRedisPrefix(): Promise<number> {
    const redis = createRedis({ url: testRedisUrl() });
    try {
      if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
      let cursor = '0';
      let deleted = 0;
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${this.system.redisPrefix}*`, 'COUNT', 1000);
        if (keys.length > 0) deleted += await redis.del(...keys);
        cursor = next;
      } while (cursor !== '0');
      return deleted;
    } finally {
      redis.disconnect();
    }
  }

  async redisKeys(pattern = '*'): Promise<number> {
    const redis = createRedis({ url: testRedisUrl() });
    try {
      if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
      let cursor = '0';
      let count = 0;
      do {
        const [next, keys] = await redis.scan(
          cursor,
          'MATCH',
          `${this.system.redisPrefix}${pattern}`,
          'COUNT',
          1000,
        );
        count += keys.length;
        cursor = next;
      } while (cursor !== '0');
      return count;
    } finally {
      redis.disconnect();
    }
  }

  /** Polls every service's /readyz until all answer 200. */
  async waitAllReady(timeoutMs = 60_000): Promise<number> {
    const startedAt = Date.now();
    for (const name of SERVICE_NAMES) {
      await waitFor(
        async () => {
          const response = await fetch(`${this.system.url(name)}/readyz`, {
            signal: AbortSignal.timeout(2000),
          });
          await response.arrayBuffer();
          return response.status === 200;
        },
        { timeoutMs, intervalMs: 200, description: `${name} ready` },
      );
    }
    return Date.now() - startedAt;
  }

  async stop(): Promise<void> {
    await this.events.stop().catch(() => undefined);
    await this.system.stop();
    await Promise.all([this.postgres?.close(), this.redis?.close(), this.kafka?.stop()]);
  }
}
