/**
 * Callers that fail to authenticate, counted per client address (decision 0018). Every answer
 * 401 (no credentials, an unknown key, a forged or expired token, no session), and every key
 * answered `not_yet_available` by the caller check, counts against the address it went to; an address that collected `perAddressMax` of them within a window of
 * `windowMs` gets 429 with Retry-After for everything but the probes and the docs until that
 * window ends, valid credentials included (as GitHub's API does), so that a guessing script
 * stops costing a key lookup or a signature check per guess.
 *
 * In the process, not in Redis: the console has no Redis, a count in Redis would fail open
 * while Redis is away, and a count per instance only multiplies the allowance by the number of
 * instances (a few, not thousands). Memory is bounded: at most `addressesMax`
 * addresses are remembered, the least recently failed forgotten first.
 */
import { isIPv6 } from 'node:net';

export interface FailedAuthenticationLimits {
  /** 401 answers one address may get per window before it is refused. */
  perAddressMax: number;
  windowMs: number;
  /** Addresses remembered at once. */
  addressesMax: number;
}

interface Window {
  startedAt: number;
  failures: number;
}

/** IPv4-mapped IPv6 as IPv4; other IPv6 by its /64, the block one subscriber is handed. */
export function addressKey(remoteAddress: string | undefined): string {
  const address = remoteAddress ?? 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/iu.exec(address);
  if (mapped?.[1] !== undefined) return mapped[1];
  if (!isIPv6(address)) return address;
  const [head = '', tail] = address.split('::');
  const groups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const full = [...groups, ...Array<string>(8 - groups.length - tailGroups.length).fill('0'), ...tailGroups];
  return `${full
    .slice(0, 4)
    .map((group) => group.toLowerCase().replace(/^0+(?=.)/u, ''))
    .join(':')}::/64`;
}

export class FailedAuthenticationGate {
  /** Insertion order is recency: a failure moves its address to the end. */
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly limits: FailedAuthenticationLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until `address` may try again, or undefined while it may. */
  refusedFor(address: string): number | undefined {
    const window = this.current(address);
    if (window === undefined || window.failures < this.limits.perAddressMax) return undefined;
    return Math.max(1, Math.ceil((window.startedAt + this.limits.windowMs - this.now()) / 1000));
  }

  recordFailure(address: string): void {
    const window = this.current(address) ?? { startedAt: this.now(), failures: 0 };
    window.failures += 1;
    this.windows.delete(address);
    this.windows.set(address, window);
    while (this.windows.size > this.limits.addressesMax) {
      const oldest = this.windows.keys().next().value;
      if (oldest === undefined) break;
      this.windows.delete(oldest);
    }
  }

  /** Addresses remembered (for tests of the bound). */
  get size(): number {
    return this.windows.size;
  }

  private current(address: string): Window | undefined {
    const window = this.windows.get(address);
    if (window === undefined) return undefined;
    if (this.now() - window.startedAt < this.limits.windowMs) return window;
    this.windows.delete(address);
    return undefined;
  }
}
