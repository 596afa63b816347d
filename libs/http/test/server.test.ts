import { Writable } from 'node:stream';
import { createApp, route, startHttpServer } from '@puhui/http';
import { createLogger } from '@puhui/logging';

const silentLogger = createLogger({
  service: 'server-test',
  destination: new Writable({ write: (_chunk, _encoding, done) => done() }),
});

describe('graceful shutdown', () => {
  it('stops accepting, lets in-flight requests finish, then closes dependencies in order', async () => {
    const closed: string[] = [];
    let releaseSlowRequest: () => void = () => undefined;
    const handle = createApp({
      service: 'server-test',
      logger: silentLogger,
      bodyLimitBytes: 1024,
      routes: (router) =>
        route(router, '/slow', {
          get: async (_request, response) => {
            await new Promise<void>((resolve) => {
              releaseSlowRequest = resolve;
            });
            response.json({ finished: true });
          },
        }),
    });
    const running = await startHttpServer({
      handle,
      port: 0,
      host: '127.0.0.1',
      logger: silentLogger,
      shutdownGraceMs: 5000,
      closers: [
        { name: 'relay', close: async () => closed.push('relay') },
        { name: 'pool', close: async () => closed.push('pool') },
      ],
    });

    const inFlight = fetch(`${running.url}/slow`).then((response) => response.json());
    await new Promise((resolve) => setTimeout(resolve, 100));
    const startedAt = Date.now();
    const shutdown = running.shutdown('test');
    await new Promise((resolve) => setTimeout(resolve, 50));

    await expect(fetch(`${running.url}/healthz`)).rejects.toThrow();
    expect(closed).toEqual([]);

    releaseSlowRequest();
    await expect(inFlight).resolves.toEqual({ finished: true });
    await shutdown;
    expect(Date.now() - startedAt).toBeLessThan(1000);
    expect(closed).toEqual(['relay', 'pool']);
  });

  it('closes connections that outlive the grace period', async () => {
    const handle = createApp({
      service: 'server-test',
      logger: silentLogger,
      bodyLimitBytes: 1024,
      routes: (router) => route(router, '/hang', { get: () => new Promise(() => undefined) }),
    });
    const running = await startHttpServer({
      handle,
      port: 0,
      host: '127.0.0.1',
      logger: silentLogger,
      shutdownGraceMs: 200,
    });
    const hanging = fetch(`${running.url}/hang`).catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const startedAt = Date.now();
    await running.shutdown('test');
    expect(Date.now() - startedAt).toBeLessThan(2000);
    // fetch rejects with a TypeError from another realm, so compare by text.
    expect(String(await hanging)).toMatch(/fetch failed/);
  });
});
