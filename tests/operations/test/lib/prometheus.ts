/**
 * Debian's Prometheus and promtool (/usr/bin, installed by scripts/ensure-prometheus.sh) as the
 * tests use them: promtool runs to completion; the server runs as a child process on
 * 127.0.0.1:9490 (the port issue 20 gives this part's tests) with the config rendered from
 * infra/prometheus/prometheus.yml.template and its own data directory, removed on stop. Debian's
 * systemd unit is never started.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { waitFor } from '@puhui/testing';

export const REPOSITORY_ROOT = path.resolve(__dirname, '../../../..');
export const PROMETHEUS_DIRECTORY = path.join(REPOSITORY_ROOT, 'infra', 'prometheus');
export const ALERT_RULES = path.join(PROMETHEUS_DIRECTORY, 'alerts.yml');
export const ALERT_TESTS = path.join(PROMETHEUS_DIRECTORY, 'alerts.test.yml');
export const CONFIG_TEMPLATE = path.join(PROMETHEUS_DIRECTORY, 'prometheus.yml.template');
export const PROMETHEUS = '/usr/bin/prometheus';
export const PROMTOOL = '/usr/bin/promtool';
export const PROMETHEUS_PORT = 9490;

/** promtool's checks take under a second here; 60 s leave room for a loaded CI machine. */
const PROMTOOL_TIMEOUT_MS = 60_000;
/** Prometheus is ready in ~30 ms on an empty data directory; 30 s for a loaded machine. */
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
const LOG_LINES_KEPT = 500;

export interface CommandResult {
  status: number | null;
  output: string;
}

export function promtool(args: readonly string[]): CommandResult {
  const result = spawnSync(PROMTOOL, [...args], {
    cwd: REPOSITORY_ROOT,
    encoding: 'utf8',
    timeout: PROMTOOL_TIMEOUT_MS,
  });
  if (result.error !== undefined) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/**
 * The template with every `${NAME}` replaced; a name without a value, or a value given for no
 * name, is an error (a typo would otherwise leave `${…}` in the YAML, or a target unscraped).
 */
export function renderTemplate(template: string, values: Readonly<Record<string, string>>): string {
  const used = new Set<string>();
  const rendered = template.replace(/\$\{([A-Z0-9_]+)\}/gu, (_whole, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`no value for \${${name}} in the Prometheus template`);
    used.add(name);
    return value;
  });
  const unused = Object.keys(values).filter((name) => !used.has(name));
  if (unused.length > 0) throw new Error(`the Prometheus template has no \${${unused.join('}, ${')}}`);
  return rendered;
}

/** `'127.0.0.1:4101', '127.0.0.1:4111'` for the template's `*_TARGETS`. */
export function targetList(urls: readonly string[]): string {
  return urls.map((url) => `'${new URL(url).host}'`).join(', ');
}

export interface PrometheusTarget {
  labels: Record<string, string>;
  scrapeUrl: string;
  health: 'up' | 'down' | 'unknown';
  lastError: string;
}

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

/** A Prometheus server of this test run. */
export class PrometheusServer {
  readonly url = `http://127.0.0.1:${PROMETHEUS_PORT}`;
  private readonly lines: string[] = [];
  private readonly exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    readonly directory: string,
  ) {
    for (const stream of [child.stdout, child.stderr]) {
      if (stream === null) continue;
      readline.createInterface({ input: stream }).on('line', (line) => {
        this.lines.push(line);
        if (this.lines.length > LOG_LINES_KEPT) this.lines.shift();
      });
    }
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Writes `config` (and any `files`) into a fresh directory and starts Prometheus on it. */
  static async start(
    config: string,
    files: Readonly<Record<string, string>> = {},
  ): Promise<PrometheusServer> {
    const directory = mkdtempSync(path.join(tmpdir(), 'puhui-prometheus-'));
    for (const [name, content] of Object.entries(files))
      writeFileSync(path.join(directory, name), content, { mode: 0o600 });
    const configFile = path.join(directory, 'prometheus.yml');
    writeFileSync(configFile, config);
    const child = spawn(
      PROMETHEUS,
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${path.join(directory, 'data')}`,
        `--web.listen-address=127.0.0.1:${PROMETHEUS_PORT}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const server = new PrometheusServer(child, directory);
    try {
      const outcome = await waitFor(
        async () => {
          if (!server.running) return 'exited';
          const response = await fetch(`${server.url}/-/ready`, { signal: AbortSignal.timeout(2000) });
          return response.status === 200 ? 'ready' : undefined;
        },
        { timeoutMs: READY_TIMEOUT_MS, intervalMs: 100, description: `prometheus ready on ${server.url}` },
      );
      // Exited before it served: most often another Prometheus holds 127.0.0.1:9490.
      if (outcome === 'exited') throw new Error(`prometheus exited before it was ready:\n${server.logs()}`);
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  logs(): string {
    return this.lines.join('\n');
  }

  async api<T>(pathAndQuery: string): Promise<T> {
    const response = await fetch(`${this.url}${pathAndQuery}`, { signal: AbortSignal.timeout(10_000) });
    const body = (await response.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`${pathAndQuery}: ${body.error ?? response.status}`);
    return body.data;
  }

  async targets(): Promise<PrometheusTarget[]> {
    const data = await this.api<{ activeTargets: PrometheusTarget[] }>('/api/v1/targets?state=active');
    return data.activeTargets;
  }

  /** An instant query; throws when Prometheus refuses the expression. */
  async query(expression: string): Promise<Sample[]> {
    const data = await this.api<{ resultType: string; result: Sample[] }>(
      `/api/v1/query?query=${encodeURIComponent(expression)}`,
    );
    return data.resultType === 'vector' ? data.result : [];
  }

  /** Every series name Prometheus holds (`/api/v1/label/__name__/values`). */
  async seriesNames(): Promise<string[]> {
    return this.api<string[]>('/api/v1/label/__name__/values');
  }

  async stop(): Promise<void> {
    if (this.running) {
      this.child.kill('SIGTERM');
      const late = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await this.exited;
      clearTimeout(late);
    }
    rmSync(this.directory, { recursive: true, force: true });
  }
}

export function readRepositoryFile(...parts: string[]): string {
  return readFileSync(path.join(REPOSITORY_ROOT, ...parts), 'utf8');
}
