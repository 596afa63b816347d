/**
 * The alert rules (infra/prometheus/alerts.yml) as promtool sees them: they load (`check rules`),
 * their unit tests pass (`test rules` on alerts.test.yml), and every alert the issue asks for is
 * there with a unit test that fires it and one that does not, a runbook section in
 * docs/alerts.md, and queries on no metric but the ones the services export.
 */
import { parse } from 'yaml';
import { KNOWN_FAMILIES, familyOf } from './lib/metric-names';
import { metricNamesIn } from './lib/promql';
import {
  ALERT_RULES,
  ALERT_TESTS,
  CONFIG_TEMPLATE,
  promtool,
  readRepositoryFile,
  renderTemplate,
} from './lib/prometheus';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

interface AlertTestCase {
  eval_time: string;
  alertname: string;
  exp_alerts?: unknown[];
}

/** What issue 20 names, one alert each (decision 0025 gives their names). */
const REQUIRED_ALERTS = [
  'PuhuiOutboxStuck', // outbox oldest age
  'PuhuiDeadLetterQueueNotEmpty', // DLQ not empty
  'PuhuiConsumerLagHigh', // consumer lag
  'PuhuiHttp5xxRatioHigh', // 5xx ratio
  'PuhuiHttpLatencyP99High', // p99 latency
  'PuhuiBudgetBelowTenPercent', // budget under 10 %
  'PuhuiBudgetExhaustedWithin24h', // exhausted within 24 h at the current rate
  'PuhuiReconciliationExceptionsUnresolved', // unresolved for more than N days
  'PuhuiTargetDown', // a target down
];

function alertRules(): AlertRule[] {
  const document = parse(readFileSync(ALERT_RULES, 'utf8')) as { groups: { rules: AlertRule[] }[] };
  return document.groups.flatMap((group) => group.rules).filter((rule) => rule.alert !== undefined);
}

function alertTestCases(): AlertTestCase[] {
  const document = parse(readFileSync(ALERT_TESTS, 'utf8')) as {
    tests: { alert_rule_test?: AlertTestCase[] }[];
  };
  return document.tests.flatMap((test) => test.alert_rule_test ?? []);
}

/** GitHub's anchor of a markdown heading: lower case, spaces to dashes, punctuation dropped. */
function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /gu, '-');
}

describe('alert rules', () => {
  const rules = alertRules();

  it('holds every alert the issue asks for, each named once', () => {
    const names = rules.map((rule) => rule.alert);
    expect(names.length).toBeGreaterThanOrEqual(REQUIRED_ALERTS.length);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(expect.arrayContaining(REQUIRED_ALERTS));
  });

  it('load in promtool (check rules)', () => {
    const result = promtool(['check', 'rules', ALERT_RULES]);
    expect(result.output).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(result.status).toBe(0);
  });

  it('pass their unit tests (promtool test rules)', () => {
    const result = promtool(['test', 'rules', ALERT_TESTS]);
    expect({ status: result.status, output: result.output }).toEqual({
      status: 0,
      output: expect.stringContaining('SUCCESS') as unknown as string,
    });
  });

  it('fail promtool test rules when an alert no longer fires as its test expects', () => {
    // The unit tests can fail: the outbox alert's threshold moved past the test's ages.
    const directory = mkdtempSync(path.join(tmpdir(), 'puhui-alerts-'));
    try {
      const rulesText = readFileSync(ALERT_RULES, 'utf8');
      const broken = rulesText.replace(
        'max by (service) (puhui_outbox_oldest_unpublished_age_seconds) > 120',
        'max by (service) (puhui_outbox_oldest_unpublished_age_seconds) > 1200',
      );
      expect(broken).not.toBe(rulesText);
      writeFileSync(path.join(directory, 'alerts.yml'), broken);
      writeFileSync(path.join(directory, 'alerts.test.yml'), readFileSync(ALERT_TESTS, 'utf8'));
      const result = promtool(['test', 'rules', path.join(directory, 'alerts.test.yml')]);
      expect(result.status).not.toBe(0);
      expect(result.output).toContain('alertname: PuhuiOutboxStuck');
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it.each(alertRules().map((rule) => rule.alert))(
    '%s has a unit test where it fires and one where it does not',
    (name) => {
      const cases = alertTestCases().filter((test) => test.alertname === name);
      expect(cases.some((test) => (test.exp_alerts ?? []).length > 0)).toBe(true);
      expect(cases.some((test) => (test.exp_alerts ?? []).length === 0)).toBe(true);
    },
  );

  it('label every alert with a severity, a team and a runbook section that exists', () => {
    const runbook = readRepositoryFile('docs', 'alerts.md');
    const anchors = new Set([...runbook.matchAll(/^## (.+)$/gmu)].map((match) => anchorOf(match[1] ?? '')));
    expect(anchors.size).toBeGreaterThan(0);
    for (const rule of rules) {
      expect({ alert: rule.alert, severity: rule.labels?.severity }).toEqual({
        alert: rule.alert,
        severity: expect.stringMatching(/^(page|ticket)$/u) as unknown as string,
      });
      expect(rule.labels?.team).toMatch(/^(payments|finance)$/u);
      expect(rule.annotations?.summary).toBeTruthy();
      expect(rule.annotations?.runbook_url).toBe(`docs/alerts.md#${rule.alert.toLowerCase()}`);
      expect({ alert: rule.alert, section: anchors.has(rule.alert.toLowerCase()) }).toEqual({
        alert: rule.alert,
        section: true,
      });
    }
  });

  it('give each runbook section what it means, the first checks and what to do', () => {
    const runbook = readRepositoryFile('docs', 'alerts.md');
    for (const rule of rules) {
      const start = runbook.indexOf(`## ${rule.alert}\n`);
      expect({ alert: rule.alert, found: start >= 0 }).toEqual({ alert: rule.alert, found: true });
      const next = runbook.indexOf('\n## ', start + 3);
      const section = runbook.slice(start, next === -1 ? undefined : next);
      for (const part of ['**What it means**', '**First checks**', '**What to do**'])
        expect({ alert: rule.alert, part, present: section.includes(part) }).toEqual({
          alert: rule.alert,
          part,
          present: true,
        });
    }
  });

  it('query only metrics the services export', () => {
    const named = rules.flatMap((rule) =>
      metricNamesIn(rule.expr).map((name) => ({ alert: rule.alert, family: familyOf(name) })),
    );
    expect(named.length).toBeGreaterThanOrEqual(rules.length);
    expect(named.filter(({ family }) => !KNOWN_FAMILIES.has(family))).toEqual([]);
  });
});

describe('scrape configuration', () => {
  it('renders from its template into a configuration promtool accepts', () => {
    const directory = mkdtempSync(path.join(tmpdir(), 'puhui-prometheus-config-'));
    try {
      const tokenFile = path.join(directory, 'token');
      writeFileSync(tokenFile, 'not-a-real-token');
      const config = renderTemplate(readFileSync(CONFIG_TEMPLATE, 'utf8'), {
        PROMETHEUS_SCRAPE_INTERVAL: '15s',
        PUHUI_ALERT_RULES: ALERT_RULES,
        METRICS_SCRAPE_TOKEN_FILE: tokenFile,
        MERCHANT_ONBOARDING_TARGETS: "'127.0.0.1:4101'",
        DISCOUNT_RULES_TARGETS: "'127.0.0.1:4102'",
        TRANSACTION_SETTLEMENT_TARGETS: "'127.0.0.1:4103', '127.0.0.1:4113'",
        CONSOLE_TARGETS: "'127.0.0.1:4104'",
      });
      const configFile = path.join(directory, 'prometheus.yml');
      writeFileSync(configFile, config);
      const result = promtool(['check', 'config', configFile]);
      expect(result.output).toContain('SUCCESS');
      expect(result.output).toContain(`SUCCESS: ${alertRules().length} rules found`);
      expect(result.status).toBe(0);
      const jobs = (parse(config) as { scrape_configs: { job_name: string }[] }).scrape_configs.map(
        (job) => job.job_name,
      );
      expect(jobs.sort()).toEqual(
        ['console', 'discount-rules', 'merchant-onboarding', 'transaction-settlement'].sort(),
      );
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('refuses to render with a value missing', () => {
    expect(() =>
      renderTemplate(readFileSync(CONFIG_TEMPLATE, 'utf8'), { PROMETHEUS_SCRAPE_INTERVAL: '15s' }),
    ).toThrow(/no value for \$\{PUHUI_ALERT_RULES\}/u);
  });
});
