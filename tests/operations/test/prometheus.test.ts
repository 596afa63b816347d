/**
 * A real Prometheus (Debian's, on 127.0.0.1:9490) scraping the four services as separate
 * processes from `dist/`, two instances of each (the e2e harness, own databases and topics, and
 * a second instance on the same database: lib/instances.ts), with a generated
 * METRICS_SCRAPE_TOKEN that Prometheus sends from a token file, and the committed alert rules
 * loaded. After a little business (tests/operations/test/lib/world.ts) the test reads through
 * Prometheus' HTTP API: every target up, the families of the shared table present with the
 * right `service` and `job`, the budget as settlement's API reports it, every dashboard query
 * accepted, every rule evaluated without error; writes the targets page's screenshot; then
 * stops one instance and sees PuhuiTargetDown go pending for it alone.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { SERVICE_NAMES } from '@puhui/config';
import { waitFor } from '@puhui/testing';
import { PuhuiSystem } from '../../e2e/test/system';
import type { ServiceProcess } from '../../e2e/test/system';
import { dashboardQueries, readDashboard, withVariablesFilled } from './lib/dashboard';
import { BUSINESS_EXTRA_FAMILIES, BUSINESS_FAMILIES, PLATFORM_FAMILIES, familyOf } from './lib/metric-names';
import { ALERT_RULES, CONFIG_TEMPLATE, PrometheusServer, renderTemplate, targetList } from './lib/prometheus';
import { startSecondInstances, stopAll } from './lib/instances';
import { BUDGET_FEN, setUpWorld } from './lib/world';
import type { World } from './lib/world';

const ARTIFACTS = path.resolve(__dirname, '..', 'artifacts');
const SCREENSHOT = path.join(ARTIFACTS, 'prometheus-targets.png');
const CHROMIUM = '/usr/bin/chromium';
const MINUTE_MS = 60_000;
/**
 * A scrape every 2 s: the targets are up, and a rate has two samples, within seconds. 1 s was
 * tried first: with the machine's load average at 15-20 (seven suites on two cores) Prometheus
 * took 3 samples in 8 s, and a 1 s timeout leaves no room for a slow scrape.
 */
const SCRAPE_INTERVAL = '2s';
/** Four services, a world and a few scrapes; the services alone take ~15 s to be ready here. */
const SETUP_TIMEOUT_MS = 4 * MINUTE_MS;
const UP_TIMEOUT_MS = 30_000;

/**
 * Families with no series until something happens that a fresh world does not do (a collector
 * error). They are still checked to be exported (HELP and TYPE) by a service.
 */
const MAY_HAVE_NO_SERIES = new Set<string>(['puhui_metrics_collect_errors_total']);

/**
 * Dashboard panels whose query is rightly empty in this world, and why. Every other query must
 * return data.
 */
const EMPTY_PANELS_EXPECTED: Readonly<Record<string, string>> = {
  "Hours until a budget is empty, at the last hour's rate":
    'shows only budgets whose balance fell between two scrapes; the world captured before Prometheus started',
};

/** Families with a `job` label of their own: the background job, not the scrape job. */
const OWN_JOB_LABEL = new Set(['puhui_job_runs_total', 'puhui_job_leader']);

/** A rate needs two samples in its window: three scrapes of every target leave no doubt. */
const SCRAPES_BEFORE_QUERIES = 3;

let system: PuhuiSystem | undefined;
let prometheus: PrometheusServer | undefined;
let world: World | undefined;
/** The second instance of each service (lib/instances.ts). */
let seconds: ServiceProcess[] = [];
/** Two instances of every service: two targets per job. */
const INSTANCES = 2;
const token = randomBytes(32).toString('hex');

function started(): { system: PuhuiSystem; prometheus: PrometheusServer; world: World } {
  if (system === undefined || prometheus === undefined || world === undefined)
    throw new Error('the system, Prometheus or the world did not start (see beforeAll)');
  return { system, prometheus, world };
}

function prometheusConfig(running: PuhuiSystem): string {
  const targets = (name: (typeof SERVICE_NAMES)[number]) =>
    targetList([running.url(name), ...seconds.filter((each) => each.name === name).map((each) => each.url)]);
  return renderTemplate(readFileSync(CONFIG_TEMPLATE, 'utf8'), {
    PROMETHEUS_SCRAPE_INTERVAL: SCRAPE_INTERVAL,
    PUHUI_ALERT_RULES: ALERT_RULES,
    // Written next to the config by PrometheusServer.start (files below), mode 0600.
    METRICS_SCRAPE_TOKEN_FILE: 'scrape-token',
    MERCHANT_ONBOARDING_TARGETS: targets('merchant-onboarding'),
    DISCOUNT_RULES_TARGETS: targets('discount-rules'),
    TRANSACTION_SETTLEMENT_TARGETS: targets('transaction-settlement'),
    CONSOLE_TARGETS: targets('console'),
  });
}

beforeAll(async () => {
  const running = await PuhuiSystem.start({ environment: { METRICS_SCRAPE_TOKEN: token } });
  system = running;
  world = await running.withLogsOnFailure(() => setUpWorld(running));
  seconds = await startSecondInstances(running);
  prometheus = await PrometheusServer.start(prometheusConfig(running), { 'scrape-token': token });
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await prometheus?.stop();
  await stopAll(seconds);
  await system?.stop();
}, MINUTE_MS);

describe('Prometheus scraping the four services', () => {
  it('refuses a scrape without the token (so that every target up below proves the token works)', async () => {
    const { system: running } = started();
    const response = await fetch(`${running.url('transaction-settlement')}/metrics`, {
      signal: AbortSignal.timeout(10_000),
    });
    await response.text();
    expect(response.status).toBe(401);
  });

  it('sees every target up, one job per service', async () => {
    const { prometheus: server, system: running } = started();
    const targets = await waitFor(
      async () => {
        const active = await server.targets();
        return active.length === INSTANCES * SERVICE_NAMES.length &&
          active.every((target) => target.health === 'up')
          ? active
          : undefined;
      },
      { timeoutMs: UP_TIMEOUT_MS, intervalMs: 250, description: 'every Prometheus target up' },
    ).catch(async (error: unknown) => {
      throw new Error(`${String(error)}\ntargets: ${JSON.stringify(await server.targets(), null, 2)}`);
    });
    const expected = SERVICE_NAMES.flatMap((name) =>
      [running.services[name], ...seconds.filter((each) => each.name === name)].map((instance) => ({
        job: name,
        scrapeUrl: `${instance.url}/metrics`,
      })),
    );
    const byUrl = (a: { scrapeUrl: string }, b: { scrapeUrl: string }) =>
      a.scrapeUrl.localeCompare(b.scrapeUrl);
    expect(
      targets.map((target) => ({ job: target.labels.job, scrapeUrl: target.scrapeUrl })).sort(byUrl),
    ).toEqual(expected.sort(byUrl));
    const up = await server.query('sum by (job) (up)');
    expect(up.map((sample) => [sample.metric.job, sample.value[1]]).sort()).toEqual(
      [...SERVICE_NAMES].sort().map((name) => [name, String(INSTANCES)]),
    );
  });

  it('holds series of every family of the shared table, each labelled with its service', async () => {
    const { prometheus: server } = started();
    // Two scrapes after the world: the business gauges are cached for up to 5 s by the services.
    const names = await waitFor(
      async () => {
        const families = new Set((await server.seriesNames()).map(familyOf));
        return families.has('puhui_budget_remaining_fen') ? families : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500, description: 'the budget gauge scraped' },
    );
    const expected = [...PLATFORM_FAMILIES, ...BUSINESS_FAMILIES, ...BUSINESS_EXTRA_FAMILIES].filter(
      (family) => !MAY_HAVE_NO_SERIES.has(family),
    );
    expect(expected.filter((family) => !names.has(family))).toEqual([]);
    const puhuiSeries = await server.query('count by (__name__, job, service) ({__name__=~"puhui_.+"})');
    expect(puhuiSeries.length).toBeGreaterThan(expected.length);
    for (const { metric } of puhuiSeries) {
      // The job families' own `job` (the background job) is kept (honor_labels, decision 0025).
      const scrapeJob = OWN_JOB_LABEL.has(metric.__name__ ?? '') ? metric.service : metric.job;
      expect({ name: metric.__name__, service: metric.service }).toEqual({
        name: metric.__name__,
        service: scrapeJob,
      });
      expect(SERVICE_NAMES).toContain(metric.service);
    }
    const jobSeries = puhuiSeries.filter(({ metric }) => OWN_JOB_LABEL.has(metric.__name__ ?? ''));
    for (const { metric } of jobSeries) expect(SERVICE_NAMES).not.toContain(metric.job);
  });

  it('exports the families that have no series yet (HELP and TYPE on the owning service)', async () => {
    const { system: running } = started();
    const texts = await Promise.all(
      SERVICE_NAMES.map(async (name) => {
        const response = await fetch(`${running.url(name)}/metrics`, {
          headers: { authorization: `Bearer ${token}` },
          signal: AbortSignal.timeout(10_000),
        });
        expect(response.status).toBe(200);
        return response.text();
      }),
    );
    const all = texts.join('\n');
    expect(all.length).toBeGreaterThan(0);
    for (const family of MAY_HAVE_NO_SERIES) expect(all).toContain(`# TYPE ${family} `);
  });

  it('reads the budget as settlement reports it', async () => {
    const { prometheus: server, system: running, world: business } = started();
    const balance = await running.call('transaction-settlement', 'GET', `/v1/budgets/${business.budgetId}`, {
      token: running.finance,
    });
    expect(balance.status).toBe(200);
    expect(business.unionFundedFen).toBeGreaterThan(0);
    const remaining = Number(balance.body.balance_minor);
    expect(Number.isFinite(remaining)).toBe(true);
    const samples = await waitFor(
      async () => {
        const found = await server.query(`puhui_budget_remaining_fen{budget="${business.budgetId}"}`);
        return found.length === INSTANCES && found.every((sample) => Number(sample.value[1]) === remaining)
          ? found
          : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500, description: `puhui_budget_remaining_fen = ${remaining}` },
    );
    // Both settlement instances read the one budget row: the rules take max, never sum.
    expect(samples.map((sample) => sample.metric.instance).sort()).toEqual(
      [running.url('transaction-settlement'), seconds[SERVICE_NAMES.indexOf('transaction-settlement')]?.url]
        .map((url) => new URL(url ?? '').host)
        .sort(),
    );
    expect(remaining).toBe(BUDGET_FEN - business.unionFundedFen);
    const [limit] = await server.query(`max(puhui_budget_limit_fen{budget="${business.budgetId}"})`);
    const [granted] = await server.query(`max(puhui_budget_granted_fen{budget="${business.budgetId}"})`);
    expect([Number(limit?.value[1]), Number(granted?.value[1])]).toEqual([
      BUDGET_FEN,
      business.unionFundedFen,
    ]);
    const captures = await server.query('max(puhui_business_day_captures)');
    expect(Number(captures[0]?.value[1])).toBeGreaterThanOrEqual(business.captured);
  });

  it('runs every query of the Grafana dashboard, each with data unless it rightly has none', async () => {
    const { prometheus: server } = started();
    await waitFor(
      async () => {
        const scrapes = await server.query('count_over_time(up[1m])');
        return scrapes.length === INSTANCES * SERVICE_NAMES.length &&
          scrapes.every((sample) => Number(sample.value[1]) >= SCRAPES_BEFORE_QUERIES)
          ? true
          : undefined;
      },
      {
        timeoutMs: 60_000,
        intervalMs: 500,
        description: `${SCRAPES_BEFORE_QUERIES} scrapes of every target`,
      },
    );
    const queries = dashboardQueries(readDashboard());
    expect(queries.length).toBeGreaterThan(0);
    const empty: { panel: string; expr: string }[] = [];
    for (const { panel, expr } of queries) {
      const samples = await server.query(withVariablesFilled(expr));
      if (samples.length === 0) empty.push({ panel, expr });
    }
    process.stderr.write(
      `dashboard: ${queries.length - empty.length}/${queries.length} queries with data; empty: ${empty.map(({ panel }) => panel).join('; ')}\n`,
    );
    expect(empty.filter(({ panel }) => EMPTY_PANELS_EXPECTED[panel] === undefined)).toEqual([]);
  });

  it('evaluates every alert rule without error, none firing (the drained budget is pending, below)', async () => {
    const { prometheus: server } = started();
    interface Rule {
      name: string;
      type: string;
      health: string;
      lastError?: string;
      state?: string;
    }
    const rules = await waitFor(
      async () => {
        const data = await server.api<{ groups: { rules: Rule[] }[] }>('/api/v1/rules?type=alert');
        const all = data.groups.flatMap((group) => group.rules);
        return all.length > 0 && all.every((rule) => rule.health !== 'unknown') ? all : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 500, description: 'every alert rule evaluated once' },
    );
    const alertNames = readFileSync(ALERT_RULES, 'utf8').match(/^\s+- alert: (\w+)$/gmu) ?? [];
    expect(rules).toHaveLength(alertNames.length);
    expect(rules.filter((rule) => rule.health !== 'ok')).toEqual([]);
    expect(rules.filter((rule) => rule.state === 'firing').map((rule) => rule.name)).toEqual([]);
  });

  it('raises PuhuiBudgetBelowTenPercent (pending) for the budget the captures drew below 10 %', async () => {
    const { prometheus: server, world: business } = started();
    expect(business.unionFundedFen).toBeGreaterThan(0.9 * BUDGET_FEN);
    const pending = await waitFor(
      async () => {
        const alerts = await server.query('ALERTS{alertname="PuhuiBudgetBelowTenPercent"}');
        return alerts.length > 0 ? alerts : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500, description: 'PuhuiBudgetBelowTenPercent pending' },
    );
    expect(pending.map((sample) => [sample.metric.budget, sample.metric.alertstate])).toEqual([
      [business.budgetId, 'pending'],
    ]);
  });

  it('shows every target up on its targets page (screenshot)', async () => {
    const { prometheus: server } = started();
    rmSync(SCREENSHOT, { force: true });
    mkdirSync(ARTIFACTS, { recursive: true });
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
      ],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      // Debian's Prometheus serves the classic UI (no React UI in the package).
      await page.goto(`${server.url}/classic/targets`, { waitUntil: 'networkidle' });
      const text = await page.locator('body').innerText();
      for (const name of SERVICE_NAMES) expect(text).toContain(`${name} (${INSTANCES}/${INSTANCES} up)`);
      expect(text).not.toMatch(/\bDOWN\b/u);
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
    } finally {
      await browser.close();
    }
    expect(statSync(SCREENSHOT).size).toBeGreaterThan(10_000);
  });

  it('raises PuhuiTargetDown (pending) for an instance that stops answering, and only for it', async () => {
    const { prometheus: server } = started();
    const stopped = seconds[SERVICE_NAMES.indexOf('console')];
    if (stopped === undefined) throw new Error('no second console instance');
    await stopped.stop();
    const pending = await waitFor(
      async () => {
        const alerts = await server.query('ALERTS{alertname="PuhuiTargetDown"}');
        return alerts.length > 0 ? alerts : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500, description: 'PuhuiTargetDown pending for the console' },
    );
    expect(
      pending.map((sample) => [sample.metric.job, sample.metric.instance, sample.metric.alertstate]),
    ).toEqual([['console', new URL(stopped.url).host, 'pending']]);
  });
});
