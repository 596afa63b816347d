/**
 * What a scenario reports at its end: requests sent, faults injected, invariants checked and
 * violations found. Requests are counted at `fetch` (every HTTP request this test process
 * makes to a service, readiness polls included).
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

export class Figures {
  faultsInjected = 0;
  invariantsChecked = 0;
  readonly violations: string[] = [];
  private readonly requestsAtStart = requestsSent;
  private readonly startedAt = Date.now();
  private readonly notes: string[] = [];

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
      ...this.violations.map((violation) => `  VIOLATION ${violation}`),
    ].join('\n');
  }

  print(): void {
    console.log(this.report());
  }
}
