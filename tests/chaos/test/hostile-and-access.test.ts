/**
 * Issue 9, hostile input and access checks against every operation each service documents at
 * GET /openapi.json:
 *
 * - hostile input: fast-check generates requests certain to be invalid (lib/hostile.ts) with
 *   valid credentials for the operation; every answer must be a 4xx problem+json with a stable
 *   code (`type` = urn:puhui:problem:<code>), never 2xx or 5xx, and nothing may change: every
 *   table of the three databases has the same rows before and after;
 * - access: every operation without a token (401), with an expired token (401), with a token
 *   signed by someone else (401), with the wrong role or a merchant key where only operators
 *   may call (403), and every operation on an object with another merchant's key (404: the
 *   services answer "not found" for other merchants' objects, decision 0003); lists with
 *   another merchant's key show none of the first merchant's objects.
 */
import { createHash, randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { Client } from 'pg';
import { mintOperatorToken, DEVELOPMENT_TOKEN_SECRET } from '@puhui/security';
import { capture, checkoutBody } from '../../e2e/test/puhui';
import { SERVICE_NAMES } from '../../e2e/test/system';
import type { ApiResponse, Json, ServiceName } from '../../e2e/test/system';
import { ChaosRun } from './lib/chaos';
import type { World } from './lib/chaos';
import { sized } from './lib/figures';
import { fillPath, hostileRequests } from './lib/hostile';
import type { HostileRequest } from './lib/hostile';
import { documentedOperations } from './lib/openapi';
import type { DocumentedOperation } from './lib/openapi';

const RUNS_PER_OPERATION = sized(25, 150);
const SEED = Number(process.env.CHAOS_SEED ?? 20_260_921);
const BODY_LIMIT_BYTES: Record<ServiceName, number> = {
  'merchant-onboarding': 100 * 1024,
  'discount-rules': 4 * 1024 * 1024,
  'transaction-settlement': 100 * 1024,
};
const PROBLEM_JSON = /^application\/problem\+json/u;

let run: ChaosRun;
let world: World;
let operations: DocumentedOperation[];
/** Objects of the first merchant, by path parameter, for the path an operation names. */
let objects: { checkoutId: string; refundCheckoutId: string; batchId: string | undefined };

beforeAll(async () => {
  // No automatic settlement run during the checks: it would change the tables by itself.
  run = await ChaosRun.start('hostile input and access checks', {
    services: { 'transaction-settlement': { SETTLEMENT_CHECK_INTERVAL_MS: String(24 * 3600 * 1000) } },
  });
  await run.system.withLogsOnFailure(async () => {
    world = await run.setUpWorld(4);
    const [merchant] = world.merchants;
    if (merchant === undefined) throw new Error('no merchant');
    const card = world.cards[0];
    if (card === undefined) throw new Error('no card');
    const sold = await capture(
      run.system,
      merchant,
      checkoutBody(card, [{ category: 'general', amount_minor: 5000 }]),
    );
    const refunded = await capture(
      run.system,
      merchant,
      checkoutBody(card, [{ category: 'general', amount_minor: 7000 }]),
    );
    await run.system.call('transaction-settlement', 'POST', `/v1/checkouts/${refunded.body.id}/refunds`, {
      token: merchant.secret,
      idempotencyKey: randomUUID(),
      body: { amount_minor: 1000 },
    });
    // A settled business day gives the merchant a settlement batch.
    const current = await run.system.call('transaction-settlement', 'GET', '/v1/business_days/current', {
      token: run.system.finance,
    });
    const day = String(current.body.business_date);
    await run.system.call('transaction-settlement', 'POST', `/v1/business_days/${day}/close`, {
      token: run.system.finance,
      body: {},
    });
    await run.system.call('transaction-settlement', 'POST', '/v1/settlement_runs', {
      token: run.system.finance,
      body: { business_date: day },
    });
    const batches = await run.system.call('transaction-settlement', 'GET', '/v1/settlement_batches', {
      token: merchant.secret,
    });
    objects = {
      checkoutId: String(sold.body.id),
      refundCheckoutId: String(refunded.body.id),
      batchId: (batches.body.data as Json[] | undefined)?.[0]?.id as string | undefined,
    };
    operations = (
      await Promise.all(SERVICE_NAMES.map((name) => documentedOperations(name, run.system.url(name))))
    ).flat();
    await run.checker.waitSettled();
  });
}, 240_000);

afterAll(async () => {
  run?.figures.print();
  await run?.stop();
});

function merchantA() {
  return world.merchants[0] as (typeof world.merchants)[number];
}
function merchantB() {
  return world.merchants[1] as (typeof world.merchants)[number];
}

/** Real ids of the first merchant's objects, so that requests reach their body checks. */
function pathValues(operation: DocumentedOperation): Record<string, string> {
  const path = operation.path;
  const a = merchantA();
  if (path.startsWith('/v1/merchants/')) return { id: a.merchant_id, key_id: a.key_id };
  if (path.startsWith('/v1/checkouts/')) return { id: objects.checkoutId };
  if (path.startsWith('/v1/settlement_batches/')) return { id: objects.batchId ?? 'stl_none' };
  if (path.startsWith('/v1/budgets/')) return { id: world.budgetId };
  if (path.startsWith('/v1/cards/')) return { token: world.cards[0]?.card_token ?? 'x', id: 'imp_none' };
  if (path.startsWith('/v1/rules/')) return { id: world.ruleId };
  if (path.startsWith('/v1/ledger/accounts/')) return { code: `merchant:${a.merchant_id}:card_receivable` };
  if (path.startsWith('/v1/business_days/')) return { date: '2020-01-01' };
  return { id: 'rec_none', item_id: '1' };
}

/** The credential that may call the operation: an operator with its first role, else the merchant. */
function credentialFor(operation: DocumentedOperation): string {
  const role = operation.operatorRoles[0];
  if (role === 'admin') return run.system.admin;
  if (role === 'finance') return run.system.finance;
  return merchantA().secret;
}

async function send(
  service: ServiceName,
  request: HostileRequest,
  token?: string,
): Promise<ApiResponse & { text: string }> {
  const response = await fetch(`${run.system.url(service)}${request.path}`, {
    method: request.method,
    headers: { ...request.headers, ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
    ...(request.body === undefined ? {} : { body: request.body }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  let body: Json;
  try {
    body = JSON.parse(text) as Json;
  } catch {
    body = {};
  }
  return {
    status: response.status,
    body,
    contentType: response.headers.get('content-type'),
    headers: response.headers,
    text,
  };
}

/** Row count and a digest of every row, per table, of the three databases. */
async function fingerprint(): Promise<Map<string, string>> {
  const prints = new Map<string, string>();
  for (const service of SERVICE_NAMES) {
    const client = new Client({ connectionString: run.system.databaseUrl(service) });
    await client.connect();
    try {
      const tables = await client.query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
      );
      for (const { table_name: table } of tables.rows) {
        const { rows } = await client.query<{ row: string }>(
          `SELECT row_to_json(t)::text AS row FROM ${client.escapeIdentifier(table)} t`,
        );
        const digest = createHash('sha256');
        for (const row of rows.map((entry) => entry.row).sort()) digest.update(row).update('\n');
        prints.set(`${service}.${table}`, `${rows.length} rows ${digest.digest('hex').slice(0, 16)}`);
      }
    } finally {
      await client.end();
    }
  }
  return prints;
}

function changedTables(before: Map<string, string>, after: Map<string, string>): string[] {
  return [...after.entries()]
    .filter(([table, print]) => before.get(table) !== print)
    .map(([table, print]) => `${table}: ${before.get(table)} → ${print}`);
}

function problemIssues(
  response: ApiResponse & { text: string },
  expected: (status: number) => boolean,
): string[] {
  const issues: string[] = [];
  if (!expected(response.status)) issues.push(`status ${response.status}`);
  if (!PROBLEM_JSON.test(response.contentType ?? '')) issues.push(`content-type ${response.contentType}`);
  const code = response.body.code;
  if (typeof code !== 'string' || !/^[a-z][a-z0-9_]*$/u.test(code)) issues.push(`code ${String(code)}`);
  else if (response.body.type !== `urn:puhui:problem:${code}`)
    issues.push(`type ${String(response.body.type)}`);
  if (response.body.status !== response.status) issues.push(`body status ${String(response.body.status)}`);
  return issues;
}

it('hostile input to every documented operation: only 4xx problem+json with a stable code, and no state change', async () => {
  const { figures } = run;
  await run.system.withLogsOnFailure(async () => {
    const before = await fingerprint();
    let sent = 0;
    const codes = new Map<string, number>();
    const failures: string[] = [];
    const kinds = new Set<string>();
    let covered = 0;
    for (const [index, operation] of operations.entries()) {
      const service = operation.service as ServiceName;
      const arbitrary = hostileRequests(operation, {
        pathValues,
        bodyLimitBytes: BODY_LIMIT_BYTES[service],
      });
      if (arbitrary === undefined) continue;
      covered += 1;
      const samples = fc.sample(arbitrary, { numRuns: RUNS_PER_OPERATION, seed: SEED + index });
      for (const request of samples) {
        kinds.add(request.kind.replace(/^[^:]*\./u, ''));
        let response: Awaited<ReturnType<typeof send>>;
        try {
          response = await send(service, request, credentialFor(operation));
        } catch (error) {
          failures.push(
            `${operation.method} ${operation.path} [${request.kind}]: no answer (${String(error)})`,
          );
          continue;
        }
        sent += 1;
        const issues = problemIssues(response, (status) => status >= 400 && status < 500);
        const code = String(response.body.code);
        codes.set(code, (codes.get(code) ?? 0) + 1);
        if (issues.length > 0)
          failures.push(
            `${operation.method} ${request.path.slice(0, 120)} [${request.kind}]: ${issues.join(', ')} ${response.text.slice(0, 200)}`,
          );
      }
    }
    figures.check('hostile request answered with a 4xx problem+json and a stable code', sent, failures);
    await run.checker.waitSettled();
    const changed = changedTables(before, await fingerprint());
    figures.check(
      'no state change from hostile input (every table of the three databases)',
      before.size,
      changed,
    );
    figures.note(
      `hostile input: ${sent} requests over ${covered} of ${operations.length} operations (${RUNS_PER_OPERATION} each, fast-check seed ${SEED}); ${kinds.size} kinds of breakage; answers by code: ${[...codes.entries()].map(([code, count]) => `${code}×${count}`).join(', ')}`,
    );
    expect(failures).toEqual([]);
    expect(changed).toEqual([]);
  });
});

/** A request for the operation that is valid but for its credentials (so only auth can stop it). */
function plausibleRequest(operation: DocumentedOperation, values = pathValues(operation)): HostileRequest {
  const path = fillPath(operation, values);
  const needsKey = operation.parameters.some(
    (parameter) => parameter.name.toLowerCase() === 'idempotency-key',
  );
  const headers: Record<string, string> = needsKey ? { 'idempotency-key': randomUUID() } : {};
  let body: string | undefined;
  if (operation.rawBodyType !== undefined) {
    headers['content-type'] = operation.rawBodyType;
    body = 'a,b\n1,2\n';
  } else if (operation.jsonBody !== undefined) {
    headers['content-type'] = 'application/json';
    const card = world.cards[0];
    body = JSON.stringify(
      operation.path.endsWith('/refunds')
        ? { amount_minor: 100 }
        : operation.path.startsWith('/v1/checkouts') && card !== undefined
          ? checkoutBody(card, [{ category: 'general', amount_minor: 1000 }])
          : {},
    );
  }
  return {
    kind: 'plausible',
    method: operation.method,
    path,
    headers,
    ...(body === undefined ? {} : { body }),
  };
}

it('access: no token, an expired or foreign token, the wrong role, another merchant’s key: all denied, nothing changes', async () => {
  const { figures, system } = run;
  await system.withLogsOnFailure(async () => {
    const before = await fingerprint();
    const failures: string[] = [];
    let tried = 0;
    const expectDenied = async (
      operation: DocumentedOperation,
      what: string,
      token: string | undefined,
      statuses: readonly number[],
      request = plausibleRequest(operation),
    ) => {
      const response = await send(operation.service as ServiceName, request, token);
      tried += 1;
      const issues = problemIssues(response, (status) => statuses.includes(status));
      if (issues.length > 0)
        failures.push(
          `${operation.method} ${operation.path} ${what}: ${issues.join(', ')} ${response.text.slice(0, 160)}`,
        );
    };
    const expired = (role: 'admin' | 'finance') =>
      mintOperatorToken(
        { subject: `chaos-expired-${role}`, roles: [role], ttlSeconds: -60 },
        DEVELOPMENT_TOKEN_SECRET,
      );
    const foreign = (role: 'admin' | 'finance') =>
      mintOperatorToken(
        { subject: 'chaos-forger', roles: [role], ttlSeconds: 600 },
        'someone-else-entirely-secret-0123456789',
      );
    const [header, payload] = system.admin.split('.');
    const unsigned = `${header}.${payload}.`;
    const unknownKey = `sk_live_${'A'.repeat(43)}`;
    for (const operation of operations) {
      const role = (operation.operatorRoles[0] ?? 'admin') as 'admin' | 'finance';
      await expectDenied(operation, 'without a token', undefined, [401]);
      await expectDenied(operation, 'with a malformed bearer', 'not-a-token', [401]);
      await expectDenied(operation, 'with an unknown merchant key', unknownKey, [401]);
      if (operation.operatorRoles.length > 0) {
        await expectDenied(operation, 'with an expired token', expired(role), [401]);
        await expectDenied(operation, 'with a token signed by another secret', foreign(role), [401]);
        await expectDenied(operation, 'with an unsigned token', unsigned, [401]);
        const wrong = (['admin', 'finance'] as const).filter(
          (candidate) => !operation.operatorRoles.includes(candidate),
        );
        for (const wrongRole of wrong)
          await expectDenied(
            operation,
            `with role ${wrongRole}`,
            wrongRole === 'admin' ? system.admin : system.finance,
            [403],
          );
        // discount-rules takes no merchant keys at all (none of its operations is a merchant's),
        // so to it a merchant key is no credential: 401 there, 403 where merchants may call.
        if (!operation.merchantKey)
          await expectDenied(operation, 'with a merchant key', merchantA().secret, [401, 403]);
      } else {
        // Settlement answers an operator on a merchant-only route 404 (src/http/auth.ts), by design.
        await expectDenied(operation, 'with an operator token', system.admin, [403, 404]);
        await expectDenied(operation, 'with a finance token', system.finance, [403, 404]);
      }
      // Another merchant's key on the first merchant's object: "not found", never its data.
      if (operation.merchantKey && operation.path.includes('{')) {
        const values =
          operation.path.endsWith('/refunds') || operation.path.endsWith('/void')
            ? { ...pathValues(operation), id: objects.refundCheckoutId }
            : pathValues(operation);
        await expectDenied(
          operation,
          "with another merchant's key",
          merchantB().secret,
          [404],
          plausibleRequest(operation, values),
        );
      }
    }
    // Lists answer another merchant's key with its own objects only.
    for (const list of ['/v1/checkouts?limit=100', '/v1/settlement_batches?limit=100']) {
      const response = await system.call('transaction-settlement', 'GET', list, {
        token: merchantB().secret,
      });
      tried += 1;
      const leaked = ((response.body.data ?? []) as Json[]).filter(
        (item) => item.merchant_id === merchantA().merchant_id || item.id === objects.checkoutId,
      );
      if (response.status !== 200 || leaked.length > 0)
        failures.push(
          `GET ${list} with another merchant's key: ${response.status}, ${leaked.length} of the first merchant's objects`,
        );
    }
    figures.check('every unauthorised request denied (401/403/404 problem+json)', tried, failures);
    await run.checker.waitSettled();
    const changed = changedTables(before, await fingerprint());
    figures.check('no state change from denied requests', before.size, changed);
    figures.note(
      `access: ${tried} unauthorised requests over ${operations.length} operations; denied as expected: ${tried - failures.length}`,
    );
    expect(failures).toEqual([]);
    expect(changed).toEqual([]);
  });
});

it('after the hostile runs: every invariant holds and no card number is anywhere', async () => {
  const violations = await run.system.withLogsOnFailure(() => run.finish());
  expect(violations).toEqual([]);
});
