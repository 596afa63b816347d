/**
 * What a scenario reports at its end: requests sent, faults injected, invariants checked,
 * what each check read and violations found. Requests are counted at `fetch` (every HTTP
 * request this test process makes to a service, readiness polls included).
 */

/** Whether the long figures of the full suite apply (root `npm run test:chaos`). */
export const FULL = process.env.CHAOS_FULL === '1' || process.env.CHAOS_FULL === 'true';

/** `ci` in the CI subset, `full` when CHAOS_FULL=1. */
export function sized<T>(ci: T, full: T): T {
  return FULL ? full : ci;
}

let requestsSent = 0;
let countingInstalled = false;

/** Counts every request this process sends through the global fetch. */
export function countRequests(): void {
  if (countingInstalled) return;
  countingInstalled = true;
  const original = globalThis.fetch;
  globalThis.fetch = ((...args: Parameters<typeof fetch>) => {
    requestsSent += 1;
    return original(...args);
  }) as typeof fetch;
}

export function requestsSoFar(): number {
  return requestsSent;
}

/** A report line stays readable in a terminal and in CI logs. */
const REPORT_LINE_CHARACTERS_MAX = 160;

/** `read: a 1, b 2, …` wrapped into lines of at most REPORT_LINE_CHARACTERS_MAX characters. */
function readLines(reads: readonly string[]): string[] {
  const lines: string[] = [];
  let line = '  read:';
  for (const [index, read] of reads.entries()) {
    const piece = `${read}${index < reads.length - 1 ? ',' : ''}`;
    if (line.length + piece.length + 1 > REPORT_LINE_CHARACTERS_MAX && line.trim() !== 'read:') {
      lines.push(line);
      line = '   ';
    }
    line = `${line} ${piece}`;
  }
  return reads.length === 0 ? [] : [...lines, line];
}

export class Figures {
  faultsInjected = 0;
  invariantsChecked = 0;
  readonly violations: string[] = [];
  private readonly requestsAtStart = requestsSent;
  private readonly startedAt = Date.now();
  private readonly notes: string[] = [];
  private readonly reads: Array<{ what: string; count: number }> = [];

  constructor(readonly scenario: string) {}

  fault(description: string): void {
    this.faultsInjected += 1;
    this.note(`fault: ${description}`);
  }

  /** Counts `count` checks of an invariant; records a violation for each failure listed. */
  check(invariant: string, count: number, failures: readonly string[] = []): void {
    this.invariantsChecked += count;
    for (const failure of failures.slice(0, 20)) this.violations.push(`${invariant}: ${failure}`);
    if (failures.length > 20) this.violations.push(`${invariant}: … ${failures.length - 20} more`);
  }

  /**
   * Records how much a check read (rows of a table, records of a topic, log lines of a
   * process…). A check over nothing passes whatever it checks, so a zero where the scenario
   * produced something (`expected`) is a violation: the check proved nothing.
   */
  read(what: string, count: number, expected: boolean): void {
    this.reads.push({ what, count });
    if (expected && count === 0) this.violation(`read nothing: ${what}, which the scenario produced`);
  }

  violation(description: string): void {
    this.violations.push(description);
  }

  note(text: string): void {
    this.notes.push(`${((Date.now() - this.startedAt) / 1000).toFixed(1)} s ${text}`);
  }

  get requests(): number {
    return requestsSent - this.requestsAtStart;
  }

  report(): string {
    return [
      `chaos scenario "${this.scenario}" (${FULL ? 'full' : 'CI subset'}, ${((Date.now() - this.startedAt) / 1000).toFixed(1)} s):`,
      `  requests sent: ${this.requests}; faults injected: ${this.faultsInjected}; invariants checked: ${this.invariantsChecked}; violations: ${this.violations.length}`,
      ...this.notes.map((note) => `  ${note}`),
      ...readLines(this.reads.map((read) => `${read.what} ${read.count}`)),
      ...this.violations.map((violation) => `  VIOLATION ${violation}`),
    ].join('\n');
  }

  print(): void {
    console.log(this.report());
  }
}
