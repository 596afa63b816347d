/**
 * The ledger invariant checker. It reads the services' databases directly (tests may; the
 * services never read each other's) and the run's Kafka topics, and checks what must hold
 * after any fault, once the system has settled:
 *
 * - every transfer balanced (positive amount between two different accounts), the trial
 *   balance zero, every account's totals equal to the sum of its entries, every budget ≥ 0;
 * - each checkout's capture transfers equal its net, union- and merchant-funded amounts;
 * - each idempotency key that was answered names exactly one checkout / refund / top-up, and
 *   each of those has exactly one key; no key is left half-claimed;
 * - what the clients were told: every acknowledged capture is stored as acknowledged, exactly
 *   one checkout per request, none the clients did not ask for (so a scenario that captured
 *   must pass its clients);
 * - every committed outbox row published, and its event id on its Kafka topic; nothing on
 *   the topics that no outbox holds;
 * - every event a consumer group subscribes to is in its inbox (applied once: the inbox key
 *   is unique and written with the effect), and the replicas match their sources (merchants'
 *   status, API key hashes and their end, budgets with their ledger accounts).
 *
 * Each check also reports how much it read (rows per table, records per topic, clients): a
 * check over nothing passes whatever it checks, so a zero where the scenario produced
 * something (its `Produced` list) is a violation.
 */
import { Client } from 'pg';
import { TOPICS } from '@puhui/contracts';
import { waitFor } from '@puhui/testing';
import type { EventLog, KafkaRecord } from '../../../e2e/test/events';
import type { PuhuiSystem, ServiceName } from '../../../e2e/test/system';
import type { Figures } from './figures';

type Row = Record<string, unknown>;

async function query<T extends Row = Row>(url: string, sql: string, values: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

/** What a client was told about one capture it asked for (with its Idempotency-Key). */
export interface ClientCapture {
  idempotencyKey: string;
  merchantId: string;
  reference: string;
  /** The 201 body, when the client got one. */
  acknowledged?: { id: string; gross_minor: number; discount_minor: number; net_minor: number };
}

/** Which consumer group subscribes to which events of which publisher. */
export const SUBSCRIPTIONS: ReadonlyArray<{
  consumer: ServiceName;
  group: string;
  publisher: ServiceName;
  types: readonly string[];
}> = [
  {
    consumer: 'transaction-settlement',
    group: 'transaction-settlement.merchants',
    publisher: 'merchant-onboarding',
    types: [
      'puhui.merchant.approved.v1',
      'puhui.merchant.updated.v1',
      'puhui.merchant.suspended.v1',
      'puhui.merchant.reinstated.v1',
      'puhui.merchant.terminated.v1',
      'puhui.merchant.api_key.created.v1',
      'puhui.merchant.api_key.revoked.v1',
    ],
  },
  {
    consumer: 'transaction-settlement',
    group: 'transaction-settlement.budgets',
    publisher: 'discount-rules',
    types: ['puhui.budget.created.v1'],
  },
  {
    consumer: 'discount-rules',
    group: 'discount-rules.merchants',
    publisher: 'merchant-onboarding',
    types: [
      'puhui.merchant.approved.v1',
      'puhui.merchant.updated.v1',
      'puhui.merchant.suspended.v1',
      'puhui.merchant.reinstated.v1',
      'puhui.merchant.terminated.v1',
    ],
  },
];

/**
 * What a scenario did that leaves rows and events behind. Each one names reads that cannot be
 * empty afterwards (the `…_BY` tables below): a check that read none of them proved nothing.
 * `ChaosRun.setUpWorld` produces merchants, cards, a funded budget and a rule; passing clients
 * to `finish` says captures; a scenario says anything else at `ChaosRun.start` (`produces`).
 */
export type Produced =
  'merchants' | 'cards' | 'rules' | 'funded budgets' | 'captures' | 'refunds' | 'settlement runs';

/** What leaves outbox rows in each service's database. */
const OUTBOX_ROWS_BY = {
  'merchant-onboarding': ['merchants'],
  'discount-rules': ['cards', 'rules', 'funded budgets'],
  'transaction-settlement': ['captures', 'refunds', 'settlement runs'],
} as const satisfies Partial<Record<ServiceName, readonly Produced[]>>;
/** The services with an outbox: the console declares no Kafka (decision 0010) and has none. */
const PUBLISHING_SERVICES = Object.keys(OUTBOX_ROWS_BY) as Array<keyof typeof OUTBOX_ROWS_BY>;

/** What puts records on each topic (budgets are announced on the rules topic). */
const TOPIC_RECORDS_BY: Readonly<Record<keyof typeof TOPICS, readonly Produced[]>> = {
  merchants: ['merchants'],
  cards: ['cards'],
  rules: ['rules', 'funded budgets'],
  checkouts: ['captures', 'refunds'],
  settlements: ['settlement runs'],
};

/** What publishes the events each consumer group subscribes to. */
const SUBSCRIBED_EVENTS_BY: Readonly<Record<string, readonly Produced[]>> = {
  'transaction-settlement.merchants': ['merchants'],
  'transaction-settlement.budgets': ['funded budgets'],
  'discount-rules.merchants': ['merchants'],
};

function eventIdOf(record: KafkaRecord): string | undefined {
  try {
    const id = (JSON.parse(record.value ?? 'null') as { id?: unknown } | null)?.id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

export class InvariantChecker {
  /** The run's service topics: the event log may also read scratch topics of the run. */
  private readonly serviceTopics: ReadonlyMap<string, keyof typeof TOPICS>;

  constructor(
    private readonly system: PuhuiSystem,
    private readonly events: EventLog,
    private readonly figures: Figures,
    /** What the scenario produced so far (the run adds to it). */
    private readonly produced: ReadonlySet<Produced>,
  ) {
    this.serviceTopics = new Map(
      (Object.keys(TOPICS) as Array<keyof typeof TOPICS>).map((name) => [system.topic(name), name]),
    );
  }

  private url(service: ServiceName): string {
    return this.system.databaseUrl(service);
  }

  /** Records a read; a zero is a violation when the scenario produced any of `producers`. */
  private read(what: string, count: number, producers: readonly Produced[]): void {
    this.figures.read(
      what,
      count,
      producers.some((producer) => this.produced.has(producer)),
    );
  }

  /** The records of the run's service topics (not the scratch topics the event log also reads). */
  private serviceRecords(): KafkaRecord[] {
    return this.events.records.filter((record) => this.serviceTopics.has(record.topic));
  }

  /** Waits until outboxes are drained, topics hold their events and inboxes caught up. */
  async waitSettled(timeoutMs = 90_000): Promise<number> {
    const startedAt = Date.now();
    await waitFor(async () => (await this.unsettled()).length === 0, {
      timeoutMs,
      intervalMs: 500,
      description: 'outboxes drained, events on Kafka and consumers caught up',
    }).catch(async (error: unknown) => {
      this.figures.note(`not settled after ${timeoutMs} ms: ${(await this.unsettled()).join('; ')}`);
      throw error;
    });
    return Date.now() - startedAt;
  }

  private async unsettled(): Promise<string[]> {
    const pending: string[] = [];
    const seen = this.eventIdsOnKafka();
    for (const service of PUBLISHING_SERVICES) {
      const rows = await query<{ event_id: string; published: boolean }>(
        this.url(service),
        'SELECT event_id::text, published_at IS NOT NULL AS published FROM outbox_events',
      );
      const unpublished = rows.filter((row) => !row.published).length;
      const missing = rows.filter((row) => !seen.has(row.event_id)).length;
      if (unpublished > 0) pending.push(`${service}: ${unpublished} unpublished`);
      if (missing > 0) pending.push(`${service}: ${missing} not yet seen on Kafka`);
    }
    for (const subscription of SUBSCRIPTIONS) {
      const { missing } = await this.inboxOf(subscription);
      if (missing.length > 0) pending.push(`${subscription.group}: ${missing.length} not in its inbox`);
    }
    return pending;
  }

  private eventIdsOnKafka(): Set<string> {
    const ids = new Set<string>();
    for (const record of this.serviceRecords()) {
      const id = eventIdOf(record);
      if (id !== undefined) ids.add(id);
    }
    return ids;
  }

  /** The events a group subscribes to, how many its inbox holds, and those it does not. */
  private async inboxOf(
    subscription: (typeof SUBSCRIPTIONS)[number],
  ): Promise<{ published: number; inbox: number; missing: string[] }> {
    const published = await query<{ event_id: string }>(
      this.url(subscription.publisher),
      'SELECT event_id::text FROM outbox_events WHERE event_type = ANY($1)',
      [subscription.types],
    );
    const inbox = new Set(
      (
        await query<{ event_id: string }>(
          this.url(subscription.consumer),
          'SELECT event_id::text FROM inbox_events WHERE consumer_group = $1',
          [subscription.group],
        )
      ).map((row) => row.event_id),
    );
    return {
      published: published.length,
      inbox: inbox.size,
      missing: published.map((row) => row.event_id).filter((id) => !inbox.has(id)),
    };
  }

  /** Runs every check; violations go to the figures. */
  async checkAll(clients: readonly ClientCapture[] = []): Promise<void> {
    await this.checkTransfers();
    await this.checkAccounts();
    await this.checkCheckoutPostings();
    await this.checkIdempotency();
    await this.checkClients(clients);
    await this.checkOutboxes();
    await this.checkInboxes();
    await this.checkMerchantReplicas();
    await this.checkKeyAndBudgetReplicas();
  }

  /** Every transfer balanced, and the trial balance zero (with the accounts' totals). */
  async checkTransfers(): Promise<void> {
    const url = this.url('transaction-settlement');
    const transfers = await query<{
      transfer_id: string;
      amount_minor: string;
      debit_account: string;
      credit_account: string;
    }>(
      url,
      'SELECT transfer_id::text, amount_minor::text, debit_account, credit_account FROM ledger_transfers',
    );
    this.read('ledger transfers', transfers.length, ['funded budgets', 'captures', 'refunds']);
    this.figures.check(
      'every transfer balanced',
      transfers.length,
      transfers
        .filter((row) => !(BigInt(row.amount_minor) > 0n && row.debit_account !== row.credit_account))
        .map((row) => `transfer ${row.transfer_id}`),
    );
    const [totals] = await query<{ debits: string; credits: string }>(
      url,
      `SELECT coalesce(sum(debits_minor), 0)::text AS debits, coalesce(sum(credits_minor), 0)::text AS credits
       FROM ledger_accounts`,
    );
    const debits = BigInt(totals?.debits ?? '0');
    const credits = BigInt(totals?.credits ?? '0');
    const moved = transfers.reduce((sum, row) => sum + BigInt(row.amount_minor), 0n);
    this.figures.check(
      'trial balance zero',
      1,
      debits === credits && debits === moved
        ? []
        : [`debits ${debits}, credits ${credits}, transfers ${moved}`],
    );
  }

  /** Every account's totals equal the sum of its entries; no budget below its minimum. */
  async checkAccounts(): Promise<void> {
    const accounts = await query<{
      account_code: string;
      normal_side: string;
      debits_minor: string;
      credits_minor: string;
      normal_balance_min_minor: string | null;
      entry_debits: string;
      entry_credits: string;
    }>(
      this.url('transaction-settlement'),
      `SELECT a.account_code, a.normal_side, a.debits_minor::text, a.credits_minor::text,
              a.normal_balance_min_minor::text,
              coalesce((SELECT sum(amount_minor) FROM ledger_transfers WHERE debit_account = a.account_code), 0)::text AS entry_debits,
              coalesce((SELECT sum(amount_minor) FROM ledger_transfers WHERE credit_account = a.account_code), 0)::text AS entry_credits
       FROM ledger_accounts a`,
    );
    this.read('ledger accounts', accounts.length, ['merchants', 'funded budgets', 'captures']);
    this.figures.check(
      'account totals equal the sum of their entries',
      accounts.length,
      accounts
        .filter((row) => row.debits_minor !== row.entry_debits || row.credits_minor !== row.entry_credits)
        .map(
          (row) =>
            `${row.account_code}: ${row.debits_minor}/${row.credits_minor} vs entries ${row.entry_debits}/${row.entry_credits}`,
        ),
    );
    const limited = accounts.filter(
      (row) => row.normal_balance_min_minor !== null || row.account_code.startsWith('budget:'),
    );
    this.read('limited (budget) accounts', limited.length, ['funded budgets']);
    this.figures.check(
      'budget (and every limited account) never below its minimum',
      limited.length,
      limited
        .filter((row) => {
          const balance =
            row.normal_side === 'debit'
              ? BigInt(row.debits_minor) - BigInt(row.credits_minor)
              : BigInt(row.credits_minor) - BigInt(row.debits_minor);
          return balance < BigInt(row.normal_balance_min_minor ?? '0');
        })
        .map((row) => `${row.account_code}: ${row.debits_minor}/${row.credits_minor}`),
    );
  }

  /** Each checkout's capture transfers equal its net, union- and merchant-funded amounts. */
  async checkCheckoutPostings(): Promise<void> {
    const checkouts = await query<{
      checkout_id: string;
      net_minor: string;
      union_funded_minor: string;
      merchant_funded_minor: string;
      posted_net: string;
      posted_union: string;
      posted_merchant: string;
    }>(
      this.url('transaction-settlement'),
      `SELECT c.checkout_id, c.net_minor::text, c.union_funded_minor::text, c.merchant_funded_minor::text,
              coalesce(sum(t.amount_minor) FILTER (WHERE t.kind = 'capture_net'), 0)::text AS posted_net,
              coalesce(sum(t.amount_minor) FILTER (WHERE t.kind = 'capture_subsidy'), 0)::text AS posted_union,
              coalesce(sum(t.amount_minor) FILTER (WHERE t.kind = 'capture_merchant_funded'), 0)::text AS posted_merchant
       FROM checkouts c LEFT JOIN ledger_transfers t ON t.checkout_id = c.checkout_id
       GROUP BY c.checkout_id`,
    );
    this.read('checkouts', checkouts.length, ['captures']);
    this.figures.check(
      "each checkout's capture transfers equal its amounts",
      checkouts.length * 3,
      checkouts
        .filter(
          (row) =>
            row.net_minor !== row.posted_net ||
            row.union_funded_minor !== row.posted_union ||
            row.merchant_funded_minor !== row.posted_merchant,
        )
        .map(
          (row) =>
            `${row.checkout_id}: net ${row.net_minor}/${row.posted_net}, union ${row.union_funded_minor}/${row.posted_union}, merchant ${row.merchant_funded_minor}/${row.posted_merchant}`,
        ),
    );
  }

  /**
   * Every stored Idempotency-Key names what it made, and every object was made by exactly one
   * key. A checkout or a refund is made by its key's 201. A top-up and a payout are two steps
   * (dual control, issue 16): the key's 202 names an approval request, and a top-up's transfer
   * posts only when a second admin approves it, the approved request's outcome naming the
   * top-up. So each such request has exactly one key, each top-up in the ledger exactly one
   * approved request (and through it one key), and a request not approved moved nothing.
   */
  async checkIdempotency(): Promise<void> {
    const url = this.url('transaction-settlement');
    const keys = await query<{
      scope: string;
      idempotency_key: string;
      response_status: number;
      id: string | null;
      approval_request_id: string | null;
    }>(
      url,
      `SELECT scope, idempotency_key, response_status, response_body->>'id' AS id,
              response_body->'approval_request'->>'id' AS approval_request_id
         FROM idempotency_keys`,
    );
    this.read('idempotency keys', keys.length, ['funded budgets', 'captures', 'refunds']);
    this.figures.check(
      'no idempotency key left half-claimed',
      keys.length,
      keys.filter((row) => row.response_status === 0).map((row) => `${row.scope}/${row.idempotency_key}`),
    );
    const checkouts = await query<{ id: string }>(url, 'SELECT checkout_id AS id FROM checkouts');
    const refunds = await query<{ id: string }>(url, 'SELECT refund_id AS id FROM refunds');
    const topUps = await query<{ id: string }>(
      url,
      'SELECT DISTINCT top_up_id AS id FROM ledger_transfers WHERE top_up_id IS NOT NULL',
    );
    const approvals = await query<{ id: string; action: string; status: string; outcome_id: string | null }>(
      url,
      `SELECT id::text, action, status, outcome->>'id' AS outcome_id FROM approval_requests
        WHERE action IN ('budget_top_up', 'settlement_batch_payout')`,
    );
    this.read('refunds', refunds.length, ['refunds']);
    this.read('budget top-ups', topUps.length, ['funded budgets']);
    this.read('top-up approval requests', approvals.filter((row) => row.action === 'budget_top_up').length, [
      'funded budgets',
    ]);
    const objects = [...checkouts, ...refunds, ...topUps].map((row) => row.id);
    const existing = new Set(objects);
    const creating = keys.filter(
      (row) => row.response_status === 201 && /^(chk|ref|top)_/u.test(row.id ?? ''),
    );
    const requesting = keys.filter((row) => row.response_status === 202 && row.approval_request_id !== null);
    const approvalById = new Map(approvals.map((row) => [row.id, row]));
    const keysPerObject = new Map<string, number>();
    const keysPerApproval = new Map<string, number>();
    const count = (map: Map<string, number>, id: string) => map.set(id, (map.get(id) ?? 0) + 1);
    for (const row of creating) count(keysPerObject, row.id ?? '');
    const failures: string[] = [];
    for (const row of requesting) {
      const approval = approvalById.get(row.approval_request_id ?? '');
      if (approval === undefined) {
        failures.push(`key ${row.idempotency_key} names missing approval request ${row.approval_request_id}`);
        continue;
      }
      count(keysPerApproval, approval.id);
      // The key made the top-up through its approved request.
      if (approval.action === 'budget_top_up' && approval.status === 'approved')
        count(keysPerObject, approval.outcome_id ?? '');
    }
    for (const approval of approvals) {
      const top = approval.action === 'budget_top_up';
      if (top && approval.status === 'approved' && !existing.has(approval.outcome_id ?? ''))
        failures.push(
          `approval request ${approval.id} approved, yet its top-up ${approval.outcome_id} is not in the ledger`,
        );
      if (top && approval.status !== 'approved' && approval.outcome_id !== null)
        failures.push(
          `approval request ${approval.id} is ${approval.status}, yet names ${approval.outcome_id}`,
        );
    }
    this.figures.check(
      'each accepted idempotency key posted exactly once',
      creating.length + requesting.length + approvals.length + objects.length,
      [
        ...creating
          .filter((row) => !existing.has(row.id ?? ''))
          .map((row) => `key ${row.idempotency_key} names missing ${row.id}`),
        ...failures,
        ...approvals
          .filter((approval) => keysPerApproval.get(approval.id) !== 1)
          .map(
            (approval) =>
              `approval request ${approval.id} (${approval.action}) has ${keysPerApproval.get(approval.id) ?? 0} keys`,
          ),
        ...objects
          .filter((id) => keysPerObject.get(id) !== 1)
          .map((id) => `${id} has ${keysPerObject.get(id) ?? 0} keys`),
      ],
    );
  }

  /**
   * What the clients were told against what is stored. Every checkout must belong to a client's
   * request, so a scenario that captured and passed no clients fails here instead of skipping.
   */
  async checkClients(clients: readonly ClientCapture[]): Promise<void> {
    const stored = await query<{
      checkout_id: string;
      merchant_id: string;
      reference: string;
      gross_minor: string;
      discount_minor: string;
      net_minor: string;
    }>(
      this.url('transaction-settlement'),
      `SELECT checkout_id, merchant_id, reference, gross_minor::text, discount_minor::text, net_minor::text
       FROM checkouts`,
    );
    const acknowledgedCount = clients.filter((client) => client.acknowledged !== undefined).length;
    this.read('clients', clients.length, ['captures']);
    this.read('acknowledged clients', acknowledgedCount, ['captures']);
    const byReference = new Map<string, typeof stored>();
    for (const row of stored)
      byReference.set(row.reference, [...(byReference.get(row.reference) ?? []), row]);
    const asked = new Set(clients.map((client) => client.reference));
    this.read(
      "checkouts with the clients' references",
      stored.filter((row) => asked.has(row.reference)).length,
      ['captures'],
    );
    const lost: string[] = [];
    const duplicated: string[] = [];
    for (const client of clients) {
      const rows = byReference.get(client.reference) ?? [];
      if (rows.length > 1) duplicated.push(`${client.reference}: ${rows.length} checkouts`);
      const acknowledged = client.acknowledged;
      if (acknowledged === undefined) continue;
      const row = rows.find((candidate) => candidate.checkout_id === acknowledged.id);
      if (
        row === undefined ||
        Number(row.gross_minor) !== acknowledged.gross_minor ||
        Number(row.discount_minor) !== acknowledged.discount_minor ||
        Number(row.net_minor) !== acknowledged.net_minor
      )
        lost.push(`${client.reference} acknowledged as ${acknowledged.id}`);
    }
    this.figures.check('zero lost acknowledged captures', acknowledgedCount, lost);
    this.figures.check('zero duplicate captures', clients.length, duplicated);
    this.figures.check(
      'no checkout that no client asked for (a scenario that captured passes its clients)',
      stored.length,
      stored
        .filter((row) => !asked.has(row.reference))
        .map((row) => `${row.checkout_id} (reference ${row.reference})`),
    );
  }

  async checkOutboxes(): Promise<void> {
    const records = this.serviceRecords();
    const perTopic = new Map<string, number>();
    for (const record of records) perTopic.set(record.topic, (perTopic.get(record.topic) ?? 0) + 1);
    for (const [topic, name] of this.serviceTopics)
      this.read(`topic ${TOPICS[name]} records`, perTopic.get(topic) ?? 0, TOPIC_RECORDS_BY[name]);
    const onKafka = new Map<string, string[]>();
    const unreadable: string[] = [];
    for (const record of records) {
      const id = eventIdOf(record);
      if (id === undefined) unreadable.push(`${record.topic}[${record.partition}]@${record.offset}`);
      else onKafka.set(id, [...(onKafka.get(id) ?? []), record.topic]);
    }
    const committed = new Set<string>();
    for (const service of PUBLISHING_SERVICES) {
      const rows = await query<{ event_id: string; topic: string; published: boolean }>(
        this.url(service),
        'SELECT event_id::text, topic, published_at IS NOT NULL AS published FROM outbox_events',
      );
      this.read(`outbox rows (${service})`, rows.length, OUTBOX_ROWS_BY[service]);
      for (const row of rows) committed.add(row.event_id);
      this.figures.check(
        `every committed outbox event published (${service})`,
        rows.length,
        rows.filter((row) => !row.published).map((row) => row.event_id),
      );
      this.figures.check(
        `every published event on its Kafka topic (${service})`,
        rows.length,
        rows
          .filter(
            (row) => !(onKafka.get(row.event_id) ?? []).includes(`${this.system.topicPrefix}${row.topic}`),
          )
          .map((row) => `${row.event_id} (${row.topic})`),
      );
    }
    const phantoms = [...onKafka.keys()].filter((id) => !committed.has(id));
    this.figures.check('nothing on Kafka that no outbox committed', records.length, [
      ...phantoms,
      ...unreadable.map((where) => `${where}: no event id`),
    ]);
  }

  /** Every event a consumer group subscribes to is in its inbox. */
  async checkInboxes(): Promise<void> {
    for (const subscription of SUBSCRIPTIONS) {
      const { published, inbox, missing } = await this.inboxOf(subscription);
      const producers = SUBSCRIBED_EVENTS_BY[subscription.group] ?? [];
      this.read(`events subscribed by ${subscription.group}`, published, producers);
      this.read(`inbox rows (${subscription.group})`, inbox, producers);
      this.figures.check(
        `every subscribed event applied by ${subscription.group}`,
        published,
        missing.map((id) => `event ${id}`),
      );
    }
  }

  /** The merchant replicas of settlement and discount-rules match merchant-onboarding. */
  async checkMerchantReplicas(): Promise<void> {
    const sourceMerchants = await query<{ merchant_id: string; status: string }>(
      this.url('merchant-onboarding'),
      `SELECT m.merchant_id, m.status FROM merchants m
       WHERE EXISTS (SELECT 1 FROM outbox_events o WHERE o.event_type = 'puhui.merchant.approved.v1'
                     AND o.subject = m.merchant_id)`,
    );
    this.read('approved merchants (merchant-onboarding)', sourceMerchants.length, ['merchants']);
    for (const service of ['transaction-settlement', 'discount-rules'] as const) {
      const replica = new Map(
        (
          await query<{ merchant_id: string; status: string }>(
            this.url(service),
            'SELECT merchant_id, status FROM merchants',
          )
        ).map((row) => [row.merchant_id, row.status]),
      );
      this.read(`merchant replica (${service})`, replica.size, ['merchants']);
      this.figures.check(
        `${service} merchant replica matches merchant-onboarding`,
        sourceMerchants.length,
        sourceMerchants
          .filter((row) => replica.get(row.merchant_id) !== row.status)
          .map((row) => `${row.merchant_id}: ${row.status} vs ${replica.get(row.merchant_id) ?? 'missing'}`),
      );
    }
  }

  /** Settlement's API key replica and its budgets (with their accounts) match their sources. */
  async checkKeyAndBudgetReplicas(): Promise<void> {
    const settlement = this.url('transaction-settlement');
    const sourceKeys = await query<{ key_id: string; key_hash: string; expires_at: string | null }>(
      this.url('merchant-onboarding'),
      `SELECT k.key_id, k.key_hash, k.expires_at::text FROM merchant_api_keys k
       WHERE EXISTS (SELECT 1 FROM outbox_events o WHERE o.event_type = 'puhui.merchant.api_key.created.v1'
                     AND o.envelope->'data'->>'key_id' = k.key_id)`,
    );
    const replicaKeys = new Map(
      (
        await query<{ key_id: string; key_hash: string; works_until: string | null }>(
          settlement,
          'SELECT key_id, key_hash, works_until::text FROM merchant_api_keys',
        )
      ).map((row) => [row.key_id, row]),
    );
    this.read('API keys (merchant-onboarding)', sourceKeys.length, ['merchants']);
    this.read('API key replica (transaction-settlement)', replicaKeys.size, ['merchants']);
    this.figures.check(
      'settlement API key replica matches merchant-onboarding',
      sourceKeys.length,
      sourceKeys
        .filter((row) => {
          const replica = replicaKeys.get(row.key_id);
          return (
            replica === undefined ||
            replica.key_hash !== row.key_hash ||
            (row.expires_at === null) !== (replica.works_until === null)
          );
        })
        .map((row) => row.key_id),
    );
    const sourceBudgets = await query<{ budget_id: string }>(
      this.url('discount-rules'),
      'SELECT budget_id FROM budgets',
    );
    const replicaBudgets = new Map(
      (
        await query<{ budget_id: string; account: string | null }>(
          settlement,
          `SELECT b.budget_id, a.account_code AS account FROM budgets b
           LEFT JOIN ledger_accounts a ON a.account_code = b.account_code`,
        )
      ).map((row) => [row.budget_id, row.account]),
    );
    this.read('budgets (discount-rules)', sourceBudgets.length, ['funded budgets']);
    this.read('budget replica (transaction-settlement)', replicaBudgets.size, ['funded budgets']);
    this.figures.check(
      'settlement budgets (with their ledger accounts) match discount-rules',
      sourceBudgets.length + 1,
      [
        ...sourceBudgets.filter((row) => !replicaBudgets.get(row.budget_id)).map((row) => row.budget_id),
        ...(replicaBudgets.size === sourceBudgets.length
          ? []
          : [`${replicaBudgets.size} replicas for ${sourceBudgets.length} budgets`]),
      ],
    );
  }
}
