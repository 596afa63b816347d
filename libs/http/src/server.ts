/**
 * Starting and stopping an HTTP server. On SIGTERM or SIGINT: mark not-ready, stop
 * accepting, let in-flight requests finish (bounded by the grace period), then close
 * pools and producers in the order given.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@puhui/logging';
import type { AppHandle } from './app';

const IDLE_SWEEP_INTERVAL_MS = 50;
const HEADERS_TIMEOUT_MS_DEFAULT = 10_000;
const CONNECTIONS_MAX_DEFAULT = 1024;
/**
 * How often Node checks headersTimeout and requestTimeout (its default is 30 s, which would let a
 * slowloris hold a socket up to 40 s past a 10 s headers timeout).
 */
const CONNECTIONS_CHECKING_INTERVAL_MS = 1000;
/** Node's defaults keep idle sockets 5 s; proxies in front usually time out at 60 s. */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

export interface Closer {
  name: string;
  close: () => Promise<unknown>;
}

export interface ServerOptions {
  handle: AppHandle;
  port: number;
  host: string;
  logger: Logger;
  shutdownGraceMs: number;
  /**
   * Longest the request line and headers may take (slowloris): 10 s unless said. The body's
   * deadline is its route's (RouteOptions.timeoutMs); Node's requestTimeout is set to the
   * longest of them as a backstop.
   */
  headersTimeoutMs?: number;
  /** Open connections at most (server.maxConnections); further sockets are closed at once. */
  connectionsMax?: number;
  /** Closed in order after the last request finished: consumers and relays first, pools last. */
  closers?: readonly Closer[];
  /** Install SIGTERM/SIGINT handlers that shut down and exit (services: yes; tests: no). */
  handleSignals?: boolean;
}

export interface RunningServer {
  server: Server;
  port: number;
  url: string;
  shutdown: (reason?: string) => Promise<void>;
}

export async function startHttpServer(options: ServerOptions): Promise<RunningServer> {
  const { handle, logger } = options;
  const headersTimeoutMs = options.headersTimeoutMs ?? HEADERS_TIMEOUT_MS_DEFAULT;
  const server = createServer(
    {
      headersTimeout: headersTimeoutMs,
      requestTimeout: Math.max(handle.requestTimeoutMsMax, headersTimeoutMs),
      keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
      connectionsCheckingInterval: CONNECTIONS_CHECKING_INTERVAL_MS,
    },
    handle.app,
  );
  server.maxConnections = options.connectionsMax ?? CONNECTIONS_MAX_DEFAULT;
  server.listen(options.port, options.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host}:${port}`;
  logger.info(
    { url, headers_timeout_ms: headersTimeoutMs, connections_max: server.maxConnections },
    'listening',
  );

  let shuttingDown: Promise<void> | undefined;
  const shutdown = (reason = 'shutdown requested'): Promise<void> => {
    shuttingDown ??= (async () => {
      logger.info({ reason }, 'shutting down: draining requests');
      handle.markDraining();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Keep-alive sockets become idle as their last response ends; close them as they do.
      server.closeIdleConnections();
      const idleSweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_INTERVAL_MS);
      const graceTimer = setTimeout(() => {
        logger.warn({ grace_ms: options.shutdownGraceMs }, 'grace period over: closing open connections');
        server.closeAllConnections();
      }, options.shutdownGraceMs);
      await closed;
      clearTimeout(graceTimer);
      clearInterval(idleSweep);
      for (const closer of options.closers ?? []) {
        try {
          await closer.close();
          logger.info({ closer: closer.name }, 'closed');
        } catch (error) {
          logger.error({ err: error, closer: closer.name }, 'close failed');
        }
      }
      logger.info('shut down');
    })();
    return shuttingDown;
  };

  if (options.handleSignals === true) {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        void shutdown(signal).then(
          () => process.exit(0),
          () => process.exit(1),
        );
      });
    }
  }
  return { server, port, url, shutdown };
}
