/**
 * A TCP proxy between the services and one piece of infrastructure (Postgres, Redis, a Kafka
 * broker) that only this run's services use, so an outage can be injected for them without
 * touching what other test runs on the machine share:
 *
 * - `cut()`: every open connection is reset and new ones are refused (the server went away,
 *   as a crash or a restart looks to a client);
 * - `blackhole()`: connections stay open but nothing passes and new ones hang (a partition);
 * - `restore()`: back to normal.
 */
import { Socket, createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';

export type ProxyMode = 'open' | 'cut' | 'blackhole';

export class FaultProxy {
  mode: ProxyMode = 'open';
  /** Connections accepted and faults injected, for the figures. */
  connections = 0;
  faults = 0;
  private readonly pairs = new Set<{ client: Socket; upstream: Socket | undefined }>();

  private constructor(
    readonly name: string,
    private readonly server: Server,
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  /** Listens on a free port of 127.0.0.1 (or `port`) and forwards to `target`. */
  static async start(name: string, target: { host: string; port: number }, port = 0): Promise<FaultProxy> {
    const created: { proxy?: FaultProxy } = {};
    const server = createServer((client) => created.proxy?.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    const proxy = new FaultProxy(name, server, (server.address() as AddressInfo).port, target);
    created.proxy = proxy;
    return proxy;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Resets every connection and refuses new ones until `restore()`. */
  cut(): void {
    this.mode = 'cut';
    this.faults += 1;
    for (const pair of this.pairs) {
      pair.client.resetAndDestroy();
      pair.upstream?.destroy();
    }
    this.pairs.clear();
  }

  /** Keeps connections open but passes nothing, in either direction, until `restore()`. */
  blackhole(): void {
    this.mode = 'blackhole';
    this.faults += 1;
    for (const pair of this.pairs) {
      pair.client.pause();
      pair.upstream?.pause();
    }
  }

  restore(): void {
    const wasBlackholed = this.mode === 'blackhole';
    this.mode = 'open';
    if (wasBlackholed) {
      // What was held during the partition is dropped: a partition that heals finds the
      // old connections dead (their peers timed out), as TCP keepalive would.
      for (const pair of this.pairs) {
        pair.client.resetAndDestroy();
        pair.upstream?.destroy();
      }
      this.pairs.clear();
    }
  }

  async close(): Promise<void> {
    for (const pair of this.pairs) {
      pair.client.destroy();
      pair.upstream?.destroy();
    }
    this.pairs.clear();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private accept(client: Socket): void {
    client.on('error', () => undefined);
    if (this.mode === 'cut') {
      client.resetAndDestroy();
      return;
    }
    this.connections += 1;
    const pair: { client: Socket; upstream: Socket | undefined } = { client, upstream: undefined };
    this.pairs.add(pair);
    const forget = () => {
      this.pairs.delete(pair);
      client.destroy();
      pair.upstream?.destroy();
    };
    client.once('close', forget);
    if (this.mode === 'blackhole') {
      client.pause();
      return;
    }
    this.connectUpstream(pair, forget);
  }

  private connectUpstream(pair: { client: Socket; upstream: Socket | undefined }, forget: () => void): void {
    const { client } = pair;
    const upstream = new Socket();
    pair.upstream = upstream;
    upstream.on('error', () => client.resetAndDestroy());
    upstream.once('close', forget);
    upstream.connect(this.target.port, this.target.host, () => {
      client.pipe(upstream);
      upstream.pipe(client);
    });
  }
}
