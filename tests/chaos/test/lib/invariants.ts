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
 *   one checkout per request, none the clients did not ask for;
 * - every committed outbox row published, and its event id on its Kafka topic; nothing on
 *   the topics that no outbox holds;
 * - every event a consumer group subscribes to is in its inbox (applied once: the inbox key
 *   is unique and written with the effect), and the replicas match their sources (merchants'
 *   status, API key hashes and their end, budgets with their ledger accounts).
 */
import { Client } from 'pg';
import { waitFor } from '@puhui/testing';
import type { EventLog } from '../../../e2e/test/events';
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

const SERVICES: readonly ServiceName[] = ['merchant-onboarding', 'discount-rules', 'transaction-settlement'];

export class InvariantChecker {
  constructor(
    private readonly system: PuhuiSystem,
    private readonly events: EventLog,
    private readonly figures: Figures,
  ) {}

  private url(service: ServiceName): string {
    return this.system.databaseUrl(service);
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
    for (const service of SERVICES) {
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
      const missing = await this.missingFromInbox(subscription);
      if (missing.length > 0) pending.push(`${subscription.group}: ${missing.length} not in its inbox`);
    }
    return pending;
  }

  private eventIdsOnKafka(): Set<string> {
    const ids = new Set<string>();
    for (const record of this.events.records) {
      try {
        const id = (JSON.parse(record.value ?? 'null') as { id?: unknown } | null)?.id;
        if (typeof id === 'string') ids.add(id);
      } catch {
        // not JSON: reported by checkEvents
      }
    }
    return ids;
  }

  private async missingFromInbox(subscription: (typeof SUBSCRIPTIONS)[number]): Promise<string[]> {
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
    return published.map((row) => row.event_id).filter((id) => !inbox.has(id));
  }

  /** Runs every check; violations go to the figures. */
  async checkAll(clients: readonly ClientCapture[] = []): Promise<void> {
    await this.checkLedger();
    await this.checkIdempotency();
    await this.checkClients(clients);
    await this.checkOutboxes();
    await this.checkInboxesAndReplicas();
  }

  async checkLedger(): Promise<void> {
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
    this.figures.check(
      'every transfer balanced',
      transfers.length,
      transfers
        .filter((row) => !(BigInt(row.amount_minor) > 0n && row.debit_account !== row.credit_account))
        .map((row) => `transfer ${row.transfer_id}`),
    );
    const accounts = await query<{
      account_code: string;
      normal_side: string;
      debits_minor: string;
      credits_minor: string;
      normal_balance_min_minor: string | null;
      entry_debits: string;
      entry_credits: string;
    }>(
      url,
      `SELECT a.account_code, a.normal_side, a.debits_minor::text, a.credits_minor::text,
              a.normal_balance_min_minor::text,
              coalesce((SELECT sum(amount_minor) FROM ledger_transfers WHERE debit_account = a.account_code), 0)::text AS entry_debits,
              coalesce((SELECT sum(amount_minor) FROM ledger_transfers WHERE credit_account = a.account_code), 0)::text AS entry_credits
       FROM ledger_accounts a`,
    );
    let debits = 0n;
    let credits = 0n;
    for (const account of accounts) {
      debits += BigInt(account.debits_minor);
      credits += BigInt(account.credits_minor);
    }
    const moved = transfers.reduce((sum, row) => sum + BigInt(row.amount_minor), 0n);
    this.figures.check(
      'trial balance zero',
      1,
      debits === credits && debits === moved
        ? []
        : [`debits ${debits}, credits ${credits}, transfers ${moved}`],
    );
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
    const checkouts = await query<{
      checkout_id: string;
      net_minor: string;
      union_funded_minor: string;
      merchant_funded_minor: string;
      posted_net: string;
      posted_union: string;
      posted_merchant: string;
    }>(
      url,
      `SELECT c.checkout_id, c.net_minor::text, c.union_funded_minor::text, c.merchant_funded_minor::text,
              coalesce(sum(t.amount_minor) FILTER (WHERE t.kind = 'capture_net'), 0)::text AS posted_net,
              coalesce(sum(t.amount_minor) FILTER (WHERE t.kind = 'capture_subsidy'), 0)::text AS posted_union,
              coalesce(sum(t.amount_minor) FILTER (WHERE t.kind = 'capture_merchant_funded'), 0)::text AS posted_merchant
       FROM checkouts c LEFT JOIN ledger_transfers t ON t.checkout_id = c.checkout_id
       GROUP BY c.checkout_id`,
    );
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

  async checkIdempotency(): Promise<void> {
    const url = this.url('transaction-settlement');
    const keys = await query<{
      scope: string;
      idempotency_key: string;
      response_status: number;
      id: string | null;
    }>(
      url,
      "SELECT scope, idempotency_key, response_status, response_body->>'id' AS id FROM idempotency_keys",
    );
    this.figures.check(
      'no idempotency key left half-claimed',
      keys.length,
      keys.filter((row) => row.response_status === 0).map((row) => `${row.scope}/${row.idempotency_key}`),
    );
    const objects = [
      ...(await query<{ id: string }>(url, 'SELECT checkout_id AS id FROM checkouts')).map((row) => row.id),
      ...(await query<{ id: string }>(url, 'SELECT refund_id AS id FROM refunds')).map((row) => row.id),
      ...(
        await query<{ id: string }>(
          url,
          'SELECT DISTINCT top_up_id AS id FROM ledger_transfers WHERE top_up_id IS NOT NULL',
        )
      ).map((row) => row.id),
    ];
    const creating = keys.filter(
      (row) => row.response_status === 201 && /^(chk|ref|top)_/u.test(row.id ?? ''),
    );
    const keysPerObject = new Map<string, number>();
    for (const row of creating) keysPerObject.set(row.id ?? '', (keysPerObject.get(row.id ?? '') ?? 0) + 1);
    const existing = new Set(objects);
    this.figures.check(
      'each accepted idempotency key posted exactly once',
      creating.length + objects.length,
      [
        ...creating
          .filter((row) => !existing.has(row.id ?? ''))
          .map((row) => `key ${row.idempotency_key} names missing ${row.id}`),
        ...objects
          .filter((id) => keysPerObject.get(id) !== 1)
          .map((id) => `${id} has ${keysPerObject.get(id) ?? 0} keys`),
      ],
    );
  }

  async checkClients(clients: readonly ClientCapture[]): Promise<void> {
    if (clients.length === 0) return;
    const references = clients.map((client) => client.reference);
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
       FROM checkouts WHERE reference = ANY($1)`,
      [references],
    );
    const byReference = new Map<string, typeof stored>();
    for (const row of stored)
      byReference.set(row.reference, [...(byReference.get(row.reference) ?? []), row]);
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
    const acknowledgedCount = clients.filter((client) => client.acknowledged !== undefined).length;
    this.figures.check('zero lost acknowledged captures', acknowledgedCount, lost);
    this.figures.check('zero duplicate captures', clients.length, duplicated);
  }

  async checkOutboxes(): Promise<void> {
    const onKafka = new Map<string, string[]>();
    for (const record of this.events.records) {
      try {
        const id = (JSON.parse(record.value ?? 'null') as { id?: unknown } | null)?.id;
        if (typeof id === 'string') onKafka.set(id, [...(onKafka.get(id) ?? []), record.topic]);
      } catch {
        // counted below as a phantom
      }
    }
    const committed = new Set<string>();
    for (const service of SERVICES) {
      const rows = await query<{ event_id: string; topic: string; published: boolean }>(
        this.url(service),
        'SELECT event_id::text, topic, published_at IS NOT NULL AS published FROM outbox_events',
      );
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
    this.figures.check('nothing on Kafka that no outbox committed', onKafka.size, phantoms);
  }

  async checkInboxesAndReplicas(): Promise<void> {
    for (const subscription of SUBSCRIPTIONS) {
      const published = await query(
        this.url(subscription.publisher),
        'SELECT 1 FROM outbox_events WHERE event_type = ANY($1)',
        [subscription.types],
      );
      this.figures.check(
        `every subscribed event applied by ${subscription.group}`,
        published.length,
        (await this.missingFromInbox(subscription)).map((id) => `event ${id}`),
      );
    }
    const onboarding = this.url('merchant-onboarding');
    const settlement = this.url('transaction-settlement');
    const rules = this.url('discount-rules');
    const sourceMerchants = await query<{ merchant_id: string; status: string }>(
      onboarding,
      `SELECT m.merchant_id, m.status FROM merchants m
       WHERE EXISTS (SELECT 1 FROM outbox_events o WHERE o.event_type = 'puhui.merchant.approved.v1'
                     AND o.subject = m.merchant_id)`,
    );
    for (const [service, url] of [
      ['transaction-settlement', settlement],
      ['discount-rules', rules],
    ] as const) {
      const replica = new Map(
        (
          await query<{ merchant_id: string; status: string }>(
            url,
            'SELECT merchant_id, status FROM merchants',
          )
        ).map((row) => [row.merchant_id, row.status]),
      );
      this.figures.check(
        `${service} merchant replica matches merchant-onboarding`,
        sourceMerchants.length,
        sourceMerchants
          .filter((row) => replica.get(row.merchant_id) !== row.status)
          .map((row) => `${row.merchant_id}: ${row.status} vs ${replica.get(row.merchant_id) ?? 'missing'}`),
      );
    }
    const sourceKeys = await query<{ key_id: string; key_hash: string; expires_at: string | null }>(
      onboarding,
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
    const sourceBudgets = await query<{ budget_id: string }>(rules, 'SELECT budget_id FROM budgets');
    const replicaBudgets = new Map(
      (
        await query<{ budget_id: string; account: string | null }>(
          settlement,
          `SELECT b.budget_id, a.account_code AS account FROM budgets b
           LEFT JOIN ledger_accounts a ON a.account_code = b.account_code`,
        )
      ).map((row) => [row.budget_id, row.account]),
    );
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
