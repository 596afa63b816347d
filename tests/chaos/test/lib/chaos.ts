/**
 * One chaos run: the e2e harness's three service processes (tests/e2e/test/system.ts), with
 * optionally Postgres and Redis behind fault proxies and Kafka as a private broker behind one
 * (see kafka-broker.ts), every line of their output scanned for card numbers as it arrives,
 * an event log of the run's topics, the figures, and at the end the invariant checker and the
 * card-number and personal-data scans of every table, log line and Kafka record. The scans
 * first plant a test card number, a mobile and a resident ID number in a table, a log line and
 * a Kafka record of their own, and fail unless they find all of them: a scan that cannot see a
 * place proves nothing about it. The personal-data scan also fails unless it saw the seeded
 * merchants' mobile and ID number masked somewhere: a run that stored no personal data would
 * pass it vacuously.
 */
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { generateTestPan } from '@puhui/cards';
import { makeResidentId } from '@puhui/kyc';
import { TOPICS } from '@puhui/contracts';
import { createRedis } from '@puhui/cache';
import { testPostgresUrl, testRedisUrl, waitFor } from '@puhui/testing';
import { EventLog } from '../../../e2e/test/events';
import {
  createRule,
  fundedBudget,
  merchantApplication,
  onboardMerchant,
  publishRule,
  registerCard,
  waitUntilSettlementAccepts,
} from '../../../e2e/test/puhui';
import type { Card, Merchant } from '../../../e2e/test/puhui';
import { PuhuiSystem, SERVICE_NAMES } from '../../../e2e/test/system';
import type { ServiceName, SystemOptions } from '../../../e2e/test/system';
import { CardScanner, groupedPan } from './card-scan';
import { Figures, countRequests } from './figures';
import { InvariantChecker } from './invariants';
import { PiiScanner } from './pii-scan';
import type { ClientCapture, Produced } from './invariants';
import { PrivateKafka } from './kafka-broker';
import { FaultProxy } from './proxy';

export interface ChaosOptions extends Omit<SystemOptions, 'onOutput'> {
  /** Put Postgres behind a fault proxy (the services' pools and start-up go through it). */
  proxyPostgres?: boolean;
  proxyRedis?: boolean;
  /** Run Kafka as a private broker behind a fault proxy instead of the shared broker. */
  privateKafka?: boolean;
  /**
   * What the scenario produces besides what `setUpWorld` and the clients passed to `finish`
   * say (see `Produced`): the checks must read some of each, or they fail.
   */
  produces?: readonly Produced[];
}

/**
 * The card number the scan plants. Prefix 6299 is used by nothing else in a run (cards are
 * generateTestPan's default 62… numbers), so it can only be found where it was planted.
 */
const PLANTED_PAN = generateTestPan(1, { prefix: '6299', length: 19 });
/**
 * The mobile and ID number the personal-data scan plants: used by nothing else in a run (the
 * merchants' applications carry 13800138000 and a 361102… ID), written in 3-4-4 groups in the
 * table and the log line, as written in the Kafka record.
 */
const PLANTED_MOBILE = '19912345678';
const PLANTED_RESIDENT_ID = makeResidentId('11010519491231002');
/**
 * What every merchant of a run is onboarded with (tests/e2e merchantApplication): the contact's
 * mobile and the legal representative's ID number, looked for anywhere and their masked forms
 * counted.
 */
function seededPersonalData() {
  const application = merchantApplication('supermarket');
  return {
    mobiles: new Set([application.contact.mobile]),
    residentIds: new Set([application.legal_representative.id_number]),
  };
}
/** The planted mobile as people print it. */
const PLANTED_MOBILE_GROUPED = `${PLANTED_MOBILE.slice(0, 3)}-${PLANTED_MOBILE.slice(3, 7)}-${PLANTED_MOBILE.slice(7)}`;

/** The scratch table that holds the planted row, in settlement's database, dropped after the scan. */
const PLANT_TABLE = 'chaos_card_scan_plant';
const PLANT_DATABASE: ServiceName = 'transaction-settlement';
/** The scratch topic (under the run's prefix, so the run's clean-up deletes it) the event log also reads. */
function plantTopicOf(topicPrefix: string): string {
  return `${topicPrefix}chaos.card-scan-plant`;
}
/** The planted log line is attributed to this process's output. */
const PLANT_LOG_SERVICE: ServiceName = 'transaction-settlement';
/** The event log reads a record within a second on a loaded machine; 10 s leave room for a slow broker. */
const PLANT_SEEN_TIMEOUT_MS = 10_000;

/** Creates the run's scratch topic before the event log subscribes to it. */
async function createPlantTopic(topic: string, brokers: readonly string[]): Promise<void> {
  const admin = new Kafka({
    clientId: 'chaos-card-scan',
    brokers: [...brokers],
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    // On a cluster kafkajs' waitForLeaders may ask a broker that does not know the topic yet and
    // give up; waitUntilEveryBrokerKnows waits for it there.
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: brokers.length < 2 });
  } finally {
    await admin.disconnect();
  }
}

/** A new topic reaches every broker's metadata within a second; 30 s leave room for a loaded cluster. */
const TOPICS_KNOWN_TIMEOUT_MS = 30_000;

/**
 * On a cluster (cluster.test.ts), waits until each broker, asked on its own, knows every topic
 * with a leader for each partition: a topic created through one broker reaches the others'
 * metadata a moment later, and a consumer subscribing through one that does not know it yet
 * fails with "This server does not host this topic-partition".
 */
async function waitUntilEveryBrokerKnows(
  topics: readonly string[],
  brokers: readonly string[],
): Promise<void> {
  if (brokers.length < 2) return;
  for (const broker of brokers) {
    const admin = new Kafka({
      clientId: 'chaos-topics',
      brokers: [broker],
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
    try {
      await waitFor(
        async () => {
          const { topics: described } = await admin.fetchTopicMetadata({ topics: [...topics] });
          return (
            described.length === topics.length &&
            described.every(
              (topic) =>
                topic.partitions.length > 0 && topic.partitions.every((partition) => partition.leader >= 0),
            )
          );
        },
        {
          timeoutMs: TOPICS_KNOWN_TIMEOUT_MS,
          intervalMs: 200,
          description: `every topic known to ${broker}`,
        },
      );
    } finally {
      await admin.disconnect();
    }
  }
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
  readonly knownPans = new Set<string>([PLANTED_PAN]);
  readonly scanner = new CardScanner(this.knownPans);
  /** Mobiles and resident ID numbers in the clear (decision 0016), beside the card scan. */
  readonly personalData = new PiiScanner(seededPersonalData());
  readonly checker: InvariantChecker;
  /** What the scenario produced so far: the checks must read some of each. */
  readonly produced = new Set<Produced>();
  /** Lines of output scanned, per process. */
  readonly logLines = new Map<string, number>(SERVICE_NAMES.map((name) => [name, 0]));

  private constructor(
    readonly system: PuhuiSystem,
    readonly events: EventLog,
    readonly figures: Figures,
    readonly postgres: FaultProxy | undefined,
    readonly redis: FaultProxy | undefined,
    readonly kafka: PrivateKafka | undefined,
  ) {
    this.checker = new InvariantChecker(system, events, figures, this.produced);
  }

  /** The run's scratch topic for the planted Kafka record. */
  get plantTopic(): string {
    return plantTopicOf(this.system.topicPrefix);
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
      const plantTopic = plantTopicOf(started.topicPrefix);
      await createPlantTopic(plantTopic, started.kafkaBrokers);
      // The brokers the services use: the private one, the cluster (cluster.test.ts) or the shared one.
      const logged = [
        ...Object.keys(TOPICS).map((name) => started.topic(name as keyof typeof TOPICS)),
        plantTopic,
      ];
      await waitUntilEveryBrokerKnows(logged, started.kafkaBrokers);
      const events = await EventLog.start(logged, [...started.kafkaBrokers]);
      const run = new ChaosRun(started, events, figures, postgres, redis, kafka);
      for (const produced of options.produces ?? []) run.produced.add(produced);
      for (const { service, line } of lines) run.scanLogLine(service, line);
      ready.run = run;
      return run;
    } catch (error) {
      await system?.stop();
      await Promise.all([postgres?.close(), redis?.close(), kafka?.stop()]);
      throw error;
    }
  }

  /** Every line of every process's output comes here (`onOutput` of the system) as it arrives. */
  scanLogLine(service: string, line: string): void {
    this.logLines.set(service, (this.logLines.get(service) ?? 0) + 1);
    this.scanner.scan(line, `log of ${service}`);
    this.personalData.scan(line, `log of ${service}`);
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
    for (const produced of ['merchants', 'cards', 'funded budgets', 'rules'] as const)
      this.produced.add(produced);
    return { merchants, cards, budgetId, ruleId };
  }

  /**
   * Settles, then runs every invariant check and the card scan; returns the violations.
   * `clients` are every capture the scenario asked for: passing any says it captured.
   */
  async finish(clients: readonly ClientCapture[] = [], settleTimeoutMs?: number): Promise<string[]> {
    const { figures } = this;
    if (clients.length > 0) this.produced.add('captures');
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

  /**
   * Every row of every table of the three databases, every log line and every record of the
   * run's topics, after planting a card number in each of the three kinds of place.
   */
  async scanEverything(): Promise<void> {
    const { figures, scanner } = this;
    await this.plantTableRow();
    this.plantLogLine();
    await this.plantKafkaRecord();
    let rows: Map<ServiceName, number>;
    try {
      rows = await this.scanTables();
    } finally {
      await this.databaseQuery(PLANT_DATABASE, `DROP TABLE IF EXISTS ${PLANT_TABLE}`);
    }
    for (const record of this.events.records) {
      const text = [record.key ?? '', record.value ?? '', JSON.stringify(record.headers)].join('\n');
      scanner.scan(text, `topic ${record.topic}`);
      this.personalData.scan(text, `topic ${record.topic}`);
    }
    for (const [service, count] of rows) figures.read(`table rows (${service})`, count, true);
    for (const [service, count] of this.logLines) figures.read(`log lines (${service})`, count, true);
    figures.read('Kafka records (all topics read)', this.events.records.length, true);
    const missing = scanner.missingPlants();
    figures.check(
      'the card scan finds the card number planted in a table, a log line and a Kafka record',
      scanner.planted.length,
      missing.map((where) => `not found in ${where}: the scan did not read it`),
    );
    const findings = scanner.findings;
    const rowCount = [...rows.values()].reduce((sum, count) => sum + count, 0);
    const lineCount = [...this.logLines.values()].reduce((sum, count) => sum + count, 0);
    figures.check(
      'no card number in any table, log line or Kafka record',
      rowCount + lineCount + this.events.records.length,
      findings.map((finding) => `${finding.kind} ${finding.masked} in ${finding.where}`),
    );
    this.checkPersonalData(rowCount + lineCount + this.events.records.length);
    figures.note(
      `card scan: ${rowCount} rows, ${lineCount} log lines, ${this.events.records.length} Kafka records (${(scanner.charactersScanned / 1e6).toFixed(1)} MB); ${this.knownPans.size} test card numbers looked for; plants found: ${scanner.planted.map((plant) => `${plant.where} (${plant.foundAs.join(', ') || 'not found'})`).join('; ')}; findings: ${findings.length}`,
    );
  }

  /**
   * The personal-data scan's verdicts: its plants found, no mobile or ID number in the clear,
   * and the seeded ones seen masked somewhere (else the run stored none and proved nothing).
   */
  private checkPersonalData(pieces: number): void {
    const { figures, personalData } = this;
    figures.check(
      'the personal-data scan finds the mobile and ID number planted in a table, a log line and a Kafka record',
      personalData.planted.length,
      personalData.missingPlants().map((where) => `not found in ${where}: the scan did not read it`),
    );
    figures.check(
      'no unmasked mobile or resident ID number in any table, log line or Kafka record',
      pieces,
      personalData.findings.map(
        (finding) =>
          `${finding.kind} ${finding.masked} in ${finding.where}${finding.context === undefined ? '' : ` (${finding.context})`}`,
      ),
    );
    const sightings = personalData.maskedSightings;
    figures.check(
      'the seeded merchants’ mobile and ID number are seen masked',
      1,
      sightings > 0 || !this.produced.has('merchants')
        ? []
        : [
            `none of ${[...personalData.maskedSeen.keys()].join(', ')} in ${pieces} pieces: the run stored no personal data the scan could recognise`,
          ],
    );
    figures.note(
      `personal-data scan: ${personalData.piecesScanned} pieces (${(personalData.charactersScanned / 1e6).toFixed(1)} MB); masked forms seen ${sightings} times (${[...personalData.maskedSeen].map(([form, count]) => `${form} ${count}`).join(', ')}) in ${[...personalData.maskedSeenIn].slice(0, 6).join('; ')}; plants found: ${personalData.planted.map((plant) => `${plant.where} (${plant.foundAs.join(', ') || 'not found'})`).join('; ')}; findings: ${personalData.findings.length}`,
    );
  }

  /** Rows scanned per database. */
  private async scanTables(): Promise<Map<ServiceName, number>> {
    const rows = new Map<ServiceName, number>();
    for (const service of SERVICE_NAMES) {
      const client = new Client({ connectionString: this.system.databaseUrl(service) });
      await client.connect();
      try {
        const tables = await client.query<{ table_name: string }>(
          "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
        );
        let count = 0;
        for (const { table_name: table } of tables.rows) {
          const result = await client.query<{ row: string }>(
            `SELECT row_to_json(t)::text AS row FROM ${client.escapeIdentifier(table)} t`,
          );
          for (const { row } of result.rows) {
            this.scanner.scan(row, `${service} table ${table}`);
            this.personalData.scan(row, `${service} table ${table}`);
          }
          count += result.rows.length;
        }
        rows.set(service, count);
      } finally {
        await client.end();
      }
    }
    return rows;
  }

  private async databaseQuery(service: ServiceName, sql: string, values: unknown[] = []): Promise<void> {
    const client = new Client({ connectionString: this.system.databaseUrl(service) });
    await client.connect();
    try {
      await client.query(sql, values);
    } finally {
      await client.end();
    }
  }

  /** The planted number, written with dashes, in a row of a scratch table of its own. */
  private async plantTableRow(): Promise<void> {
    await this.databaseQuery(PLANT_DATABASE, `CREATE TABLE ${PLANT_TABLE} (note text NOT NULL)`);
    await this.databaseQuery(PLANT_DATABASE, `INSERT INTO ${PLANT_TABLE} (note) VALUES ($1)`, [
      `card scan plant: card ${groupedPan(PLANTED_PAN, '-')}, mobile ${PLANTED_MOBILE_GROUPED}, ID ${PLANTED_RESIDENT_ID}`,
    ]);
    const where = `${PLANT_DATABASE} table ${PLANT_TABLE}`;
    this.scanner.plant(PLANTED_PAN, where);
    this.personalData.plant(PLANTED_MOBILE, where);
    this.personalData.plant(PLANTED_RESIDENT_ID, where);
  }

  /**
   * The planted number, written with spaces, as a line of a service's output, through the
   * handler every line the services print goes through (the system's `onOutput`). The pipe
   * itself cannot take a write from here (Node's child stdio is a socket pair, which
   * /proc/<pid>/fd/1 cannot open); that the pipe reaches the handler at all is shown by the
   * lines read per process, each of which must be more than zero.
   */
  private plantLogLine(): void {
    this.scanner.plant(PLANTED_PAN, `log of ${PLANT_LOG_SERVICE}`);
    this.personalData.plant(PLANTED_MOBILE, `log of ${PLANT_LOG_SERVICE}`);
    this.personalData.plant(PLANTED_RESIDENT_ID, `log of ${PLANT_LOG_SERVICE}`);
    this.scanLogLine(
      PLANT_LOG_SERVICE,
      JSON.stringify({
        msg: `card scan plant: card ${groupedPan(PLANTED_PAN, ' ')}, mobile ${PLANTED_MOBILE_GROUPED.replaceAll('-', ' ')}, ID ${PLANTED_RESIDENT_ID}`,
      }),
    );
  }

  /** The planted number in a record of the run's scratch topic, once the event log has read it. */
  private async plantKafkaRecord(): Promise<void> {
    const topic = this.plantTopic;
    this.scanner.plant(PLANTED_PAN, `topic ${topic}`);
    this.personalData.plant(PLANTED_MOBILE, `topic ${topic}`);
    this.personalData.plant(PLANTED_RESIDENT_ID, `topic ${topic}`);
    const producer = new Kafka({
      clientId: 'chaos-card-scan',
      brokers: [...this.system.kafkaBrokers],
      logLevel: logLevel.NOTHING,
    }).producer();
    await producer.connect();
    try {
      await producer.send({
        topic,
        acks: -1,
        messages: [
          {
            key: 'card-scan-plant',
            value: JSON.stringify({
              card_number: PLANTED_PAN,
              mobile: PLANTED_MOBILE,
              id_number: PLANTED_RESIDENT_ID,
            }),
          },
        ],
      });
    } finally {
      await producer.disconnect();
    }
    // Not seen in time: the scan then reports the plant missing, which is the failure to show.
    await waitFor(() => this.events.records.some((record) => record.topic === topic), {
      timeoutMs: PLANT_SEEN_TIMEOUT_MS,
      description: `the planted record on ${topic}`,
    }).catch(() => undefined);
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
