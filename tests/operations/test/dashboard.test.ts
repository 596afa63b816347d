/**
 * The Grafana dashboard (infra/grafana/puhui-overview.json): Grafana 10's dashboard schema (the
 * `@grafana/schema` 10.4 type, checked by tsc, and its enums at run time), the three rows the
 * issue names, the data source as a variable, a grid without overlaps, and PromQL that names
 * only metrics the services export.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import {
  BigValueColorMode,
  BigValueGraphMode,
  BigValueJustifyMode,
  BigValueTextMode,
  GraphDrawStyle,
  LegendDisplayMode,
  SortOrder,
  StackingMode,
  ThresholdsMode,
  TooltipDisplayMode,
  VisibilityMode,
  VizOrientation,
} from '@grafana/schema';
import { dashboardQueries, readDashboard } from './lib/dashboard';
import type { DashboardPanel } from './lib/dashboard';
import { TABLE_FAMILIES, familyOf } from './lib/metric-names';
import { metricNamesIn } from './lib/promql';
import { REPOSITORY_ROOT } from './lib/prometheus';

const ROWS = ['Checkout health', 'Money flows', 'Event pipeline'];
/** Grafana 10.0 writes schemaVersion 38, 10.4 writes 39. */
const GRAFANA_10_SCHEMA_VERSIONS = [38, 39];
/** tsc on one file and the schema's types takes ~8 s here; room for a loaded machine. */
const TSC_TIMEOUT_MS = 120_000;

/** The panels of each row, in order (Grafana 10 keeps an expanded row's panels after it). */
function panelsByRow(panels: readonly DashboardPanel[]): Map<string, DashboardPanel[]> {
  const rows = new Map<string, DashboardPanel[]>();
  let current: DashboardPanel[] | undefined;
  for (const panel of panels) {
    if (panel.type === 'row') {
      current = [];
      rows.set(panel.title, current);
    } else {
      expect({ panel: panel.title, inRow: current !== undefined }).toEqual({
        panel: panel.title,
        inRow: true,
      });
      current?.push(panel);
    }
  }
  return rows;
}

describe('the Grafana dashboard', () => {
  const dashboard = readDashboard();

  it('fits Grafana 10’s dashboard schema (tsc against @grafana/schema 10.4)', () => {
    expect(GRAFANA_10_SCHEMA_VERSIONS).toContain(dashboard.schemaVersion);
    const result = spawnSync(
      process.execPath,
      [
        path.join(REPOSITORY_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
        '-p',
        path.join(__dirname, '..', 'tsconfig.dashboard.json'),
        '--noEmit',
      ],
      { encoding: 'utf8', timeout: TSC_TIMEOUT_MS },
    );
    expect({ status: result.status, output: `${result.stdout}${result.stderr}` }).toEqual({
      status: 0,
      output: '',
    });
  });

  it('uses only values of the schema’s enums', () => {
    const allowed = (values: object) => new Set(Object.values(values) as string[]);
    const checks: { panel: string; field: string; value: string | undefined; values: Set<string> }[] = [];
    for (const panel of dashboard.panels.filter((each) => each.type !== 'row')) {
      const { defaults } = panel.fieldConfig ?? { defaults: {} };
      const { options } = panel;
      const add = (field: string, value: string | undefined, values: object) =>
        checks.push({ panel: panel.title, field, value, values: allowed(values) });
      if (defaults.thresholds !== undefined) add('thresholds.mode', defaults.thresholds.mode, ThresholdsMode);
      if (defaults.custom?.stacking !== undefined)
        add('stacking.mode', defaults.custom.stacking.mode, StackingMode);
      if (defaults.custom?.drawStyle !== undefined)
        add('drawStyle', defaults.custom.drawStyle, GraphDrawStyle);
      if (defaults.custom?.showPoints !== undefined)
        add('showPoints', defaults.custom.showPoints, VisibilityMode);
      if (options?.legend !== undefined)
        add('legend.displayMode', options.legend.displayMode, LegendDisplayMode);
      if (options?.tooltip !== undefined) {
        add('tooltip.mode', options.tooltip.mode, TooltipDisplayMode);
        add('tooltip.sort', options.tooltip.sort, SortOrder);
      }
      if (panel.type === 'stat') {
        add('colorMode', options?.colorMode, BigValueColorMode);
        add('graphMode', options?.graphMode, BigValueGraphMode);
        add('justifyMode', options?.justifyMode, BigValueJustifyMode);
        add('textMode', options?.textMode, BigValueTextMode);
        add('orientation', options?.orientation, VizOrientation);
      }
    }
    expect(checks.length).toBeGreaterThan(dashboard.panels.length);
    expect(
      checks
        .filter(({ value, values }) => value === undefined || !values.has(value))
        .map(({ values, ...rest }) => ({
          ...rest,
          allowed: [...values],
        })),
    ).toEqual([]);
  });

  it('has the three rows, each with its panels', () => {
    const rows = panelsByRow(dashboard.panels);
    expect([...rows.keys()]).toEqual(ROWS);
    for (const title of ROWS) expect(rows.get(title)?.length ?? 0).toBeGreaterThanOrEqual(5);
  });

  it('takes its data source from a variable, in every panel and query', () => {
    const variable = dashboard.templating.list.find((each) => each.type === 'datasource');
    expect(variable).toMatchObject({ name: 'datasource', query: 'prometheus' });
    const panels = dashboard.panels.filter((panel) => panel.type !== 'row');
    expect(panels.length).toBeGreaterThan(0);
    for (const panel of panels) {
      expect({ panel: panel.title, datasource: panel.datasource }).toEqual({
        panel: panel.title,
        datasource: { type: 'prometheus', uid: '${datasource}' },
      });
      expect(panel.targets?.length ?? 0).toBeGreaterThan(0);
      for (const target of panel.targets ?? [])
        expect(target.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
    }
  });

  it('lays its panels out on the 24-column grid without overlaps, ids unique', () => {
    const ids = dashboard.panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Map<string, string>();
    const problems: string[] = [];
    for (const { title, gridPos } of dashboard.panels) {
      if (gridPos.x + gridPos.w > 24 || Math.min(gridPos.w, gridPos.h) <= 0)
        problems.push(`${title}: ${JSON.stringify(gridPos)} is off the grid`);
      for (let x = gridPos.x; x < gridPos.x + gridPos.w; x += 1)
        for (let y = gridPos.y; y < gridPos.y + gridPos.h; y += 1) {
          const taken = cells.get(`${x},${y}`);
          if (taken !== undefined) problems.push(`${title} overlaps ${taken} at ${x},${y}`);
          cells.set(`${x},${y}`, title);
        }
    }
    expect(cells.size).toBeGreaterThan(24 * 3);
    expect(problems).toEqual([]);
  });

  it('queries only metrics of the shared table (decision 0024)', () => {
    const queries = dashboardQueries(dashboard);
    const variableQueries = dashboard.templating.list
      .filter((variable) => variable.type === 'query')
      .map((variable) => (typeof variable.query === 'string' ? variable.query : variable.query.query));
    const named = [
      ...queries.flatMap(({ panel, expr }) => metricNamesIn(expr).map((name) => ({ panel, name }))),
      ...variableQueries.flatMap((query) =>
        [...query.matchAll(/label_values\(\s*([A-Za-z_:][A-Za-z0-9_:]*)/gu)].map((match) => ({
          panel: 'variable',
          name: match[1] ?? '',
        })),
      ),
    ];
    expect(queries.length).toBeGreaterThan(30);
    expect(variableQueries.length).toBeGreaterThan(0);
    // Each query names at least one metric: one that named none would be a parse slip here.
    for (const { panel, expr } of queries)
      expect({ panel, expr, names: metricNamesIn(expr).length > 0 }).toEqual({ panel, expr, names: true });
    expect(named.filter(({ name }) => !TABLE_FAMILIES.has(familyOf(name)))).toEqual([]);
    // The dashboard covers the families both parts deliver, not a few of them.
    const families = new Set(named.map(({ name }) => familyOf(name)));
    for (const family of [
      'puhui_http_request_duration_seconds',
      'puhui_outbox_oldest_unpublished_age_seconds',
      'puhui_kafka_consumer_lag_messages',
      'puhui_dlq_messages',
      'puhui_budget_remaining_fen',
      'puhui_business_day_discount_fen',
      'puhui_reconciliation_exceptions_unresolved',
      'puhui_subsidy_held_fen',
    ])
      expect(families).toContain(family);
  });
});

describe('metricNamesIn', () => {
  it.each([
    ['up == 0', ['up']],
    [
      'histogram_quantile(0.99, sum by (service, le) (rate(puhui_http_request_duration_seconds_bucket{operation!~"healthz|readyz"}[5m]))) > 1',
      ['puhui_http_request_duration_seconds_bucket'],
    ],
    [
      'max by (budget) (puhui_budget_remaining_fen) / (-deriv(max by (budget) (puhui_budget_remaining_fen)[1h:]) > 0) / 3600',
      ['puhui_budget_remaining_fen'],
    ],
    ['sum(rate(x_total{service=~"$service"}[$__rate_interval])) / on (job) group_left y', ['x_total', 'y']],
    ['1e3 * foo offset 5m and bool bar', ['foo', 'bar']],
  ])('reads %s', (expression, names) => {
    expect(metricNamesIn(expression).sort()).toEqual([...names].sort());
  });
});
