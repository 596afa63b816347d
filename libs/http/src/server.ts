/**
 * Starting and stopping an HTTP server. On SIGTERM or SIGINT: mark not-ready, stop
 * accepting, let in-flight requests finish (bounded by the grace period), then close
 * pools and producers in the order given.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@puhui/logging';
import type { AppHandle } from './app';

const IDLE_SWEEP_INTERVAL_MS = 50;
const REQUEST_TIMEOUT_MS_DEFAULT = 30_000;

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
  /** Longest a request may take, upload included (a streamed CSV import needs minutes). */
  requestTimeoutMs?: number;
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
  const server = handle.app.listen(options.port, options.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  // Node's defaults keep idle sockets 5 s; proxies in front usually time out at 60 s.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS_DEFAULT;
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host}:${port}`;
  logger.info({ url }, 'listening');

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
