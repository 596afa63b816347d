/**
 * The committed Grafana dashboard (infra/grafana/puhui-overview.json) as the tests read it: its
 * rows, panels and every PromQL expression, with the dashboard's variables replaced the way
 * Grafana would for "all services" so that a real Prometheus can run them.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPOSITORY_ROOT } from './prometheus';

export const DASHBOARD_FILE = path.join(REPOSITORY_ROOT, 'infra', 'grafana', 'puhui-overview.json');

export interface DashboardTarget {
  expr: string;
  refId: string;
  legendFormat?: string;
  datasource?: { type?: string; uid?: string };
}

export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type?: string; uid?: string };
  targets?: DashboardTarget[];
  fieldConfig?: {
    defaults: {
      unit?: string;
      thresholds?: { mode: string };
      custom?: { drawStyle?: string; showPoints?: string; stacking?: { mode: string } };
    };
  };
  options?: {
    legend?: { displayMode: string; placement: string };
    tooltip?: { mode: string; sort: string };
    colorMode?: string;
    graphMode?: string;
    justifyMode?: string;
    textMode?: string;
    orientation?: string;
  };
}

export interface DashboardVariable {
  type: string;
  name: string;
  query: string | { query: string };
  definition?: string;
}

export interface DashboardDocument {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: DashboardPanel[];
  templating: { list: DashboardVariable[] };
}

export function readDashboard(): DashboardDocument {
  return JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as DashboardDocument;
}

/** Every panel's query, with its panel's title. */
export function dashboardQueries(dashboard: DashboardDocument): { panel: string; expr: string }[] {
  return dashboard.panels.flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr })),
  );
}

/**
 * The variables as Grafana fills them for "All": `$service` is the regex `.*`,
 * `$__rate_interval` a minute (four scrapes of 15 s).
 */
export function withVariablesFilled(expression: string): string {
  return expression.replace(/\$__rate_interval/gu, '1m').replace(/\$\{service\}|\$service/gu, '.*');
}
