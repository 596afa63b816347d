/**
 * A round-robin TCP balancer in front of the instances of one service, as a load balancer with
 * passive health checks sits in front of pods: each new connection goes to the next instance in
 * turn, and an instance that refuses the connection (killed: nothing listens on its port) is
 * skipped for the next one. The services' URLs of each other (settlement → discount-rules, the
 * console's JWKS) and the test's clients point at the balancers, so a kill -9 of one instance
 * costs the connections it held, never the service.
 */
import { Socket, createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * While no instance accepts (all starting, or the balancer has none yet), a connection waits and
 * tries again for this long: a restart takes a few seconds, a client's own timeout is longer.
 */
const NO_INSTANCE_WAIT_MS = 10_000;
const RETRY_INTERVAL_MS = 100;

export class ClusterBalancer {
  /** Connections accepted, and how many were sent to another instance after one refused. */
  connections = 0;
  failovers = 0;
  private readonly ports: number[] = [];
  private next = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(
    readonly name: string,
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(name: string): Promise<ClusterBalancer> {
    const created: { balancer?: ClusterBalancer } = {};
    const server = createServer((client) => created.balancer?.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    const balancer = new ClusterBalancer(name, server, (server.address() as AddressInfo).port);
    created.balancer = balancer;
    return balancer;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The instance ports it sends to, in turn. */
  add(port: number): void {
    if (!this.ports.includes(port)) this.ports.push(port);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  private accept(client: Socket): void {
    this.connections += 1;
    client.on('error', () => undefined);
    this.track(client);
    client.pause();
    void this.connectUpstream(client);
  }

  /** Tries each instance once per round, rounds until one accepts or NO_INSTANCE_WAIT_MS passed. */
  private async connectUpstream(client: Socket): Promise<void> {
    const deadline = Date.now() + NO_INSTANCE_WAIT_MS;
    let refused = 0;
    while (!client.destroyed) {
      const count = this.ports.length;
      for (let tried = 0; tried < count && !client.destroyed; tried += 1) {
        const port = this.ports[this.next % count] as number;
        this.next += 1;
        const upstream = await this.open(port);
        if (upstream === undefined) {
          refused += 1;
          continue;
        }
        if (refused > 0) this.failovers += 1;
        this.splice(client, upstream);
        return;
      }
      if (Date.now() > deadline) break;
      await sleep(RETRY_INTERVAL_MS);
    }
    client.resetAndDestroy();
  }

  private open(port: number): Promise<Socket | undefined> {
    return new Promise((resolve) => {
      const upstream = new Socket();
      const refused = () => {
        upstream.destroy();
        resolve(undefined);
      };
      upstream.once('error', refused);
      upstream.connect(port, '127.0.0.1', () => {
        upstream.off('error', refused);
        resolve(upstream);
      });
    });
  }

  private splice(client: Socket, upstream: Socket): void {
    this.track(upstream);
    // A reset on either side resets the other: the client sees its instance die.
    upstream.on('error', () => client.resetAndDestroy());
    client.on('error', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
    client.once('close', () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
  }
}
