/**
 * Who leads, read from each instance's `/metrics` (decision 0024): `puhui_outbox_relay_leader`
 * (1: this instance held the relay's lock in its last pass), `puhui_job_leader{job}` and
 * `puhui_job_runs_total{job,outcome}`. Leadership is taken per pass (a transaction-scoped
 * advisory lock), so with two instances up either may show 1; what must hold is that after
 * one is killed the survivor runs every leader pass: its relay leads and publishes and each
 * frequent leader job's `ok` runs go up.
 */

/** One scrape: `name{labels}` → value, labels as exposed (sorted by the exposition). */
export type Scrape = Map<string, number>;

const SCRAPE_TIMEOUT_MS = 5000;
/** `name{a="x",b="y"} 1` or `name 1`, optionally followed by a timestamp. */
const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/u;

export function parseMetrics(text: string): Scrape {
  const samples: Scrape = new Map();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const match = SAMPLE_LINE.exec(line);
    if (match === null) continue;
    samples.set(`${match[1]}${match[2] ?? ''}`, Number(match[3]));
  }
  return samples;
}

/** Throws when /metrics does not answer 200: a leader check that cannot read proves nothing. */
export async function scrape(baseUrl: string): Promise<Scrape> {
  const response = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(SCRAPE_TIMEOUT_MS) });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${baseUrl}/metrics answered ${response.status}`);
  return parseMetrics(text);
}

/** The value of the sample of `name` whose labels include every `labels` pair; undefined if none. */
export function sample(
  samples: Scrape,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const [series, value] of samples) {
    if (series !== name && !series.startsWith(`${name}{`)) continue;
    if (wanted.every((pair) => series.includes(pair))) return value;
  }
  return undefined;
}

/** The sum over every sample of `name` (e.g. published events over all topics). */
export function total(samples: Scrape, name: string): number {
  let sum = 0;
  for (const [series, value] of samples) if (series === name || series.startsWith(`${name}{`)) sum += value;
  return sum;
}

export interface LeaderReading {
  relayLeader: number | undefined;
  published: number;
  /** Per job: its leader gauge and its `ok` runs so far. */
  jobs: Map<string, { leader: number | undefined; ok: number }>;
}

export function leaderReading(samples: Scrape, jobs: readonly string[]): LeaderReading {
  return {
    relayLeader: sample(samples, 'puhui_outbox_relay_leader'),
    published: total(samples, 'puhui_outbox_published_events_total'),
    jobs: new Map(
      jobs.map((job) => [
        job,
        {
          leader: sample(samples, 'puhui_job_leader', { job }),
          ok: sample(samples, 'puhui_job_runs_total', { job, outcome: 'ok' }) ?? 0,
        },
      ]),
    ),
  };
}
