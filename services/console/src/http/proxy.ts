/**
 * `/api/<service>/<path>` → `<service url>/<path>`, for a signed-in person: the browser's
 * Cookie, Authorization and CSRF headers stay here and a 5-minute token for this person and
 * this service (aud) goes instead. Mounted ahead of the body parser, so request and answer
 * bodies (CSV uploads and downloads) stream through without being buffered. No token ever
 * reaches the browser.
 */
import http from 'node:http';
import https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import type { Request, Response, Router } from 'express';
import { NotFound, ServiceUnavailable } from '@puhui/errors';
import { labelOperation, requestIdOf } from '@puhui/http';
import type { ConsoleConfig, ProxiedService } from '../config';
import { PROXIED_SERVICES, serviceUrlOf } from '../config';
import { operatorTokenFor } from '../commands/tokens';
import { signedIn } from './session-guard';

/** Hop-by-hop headers (RFC 9110 §7.6.1) and those that are the console's own business. */
const NOT_FORWARDED = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'cookie',
  'authorization',
  'x-csrf-token',
  'origin',
  'referer',
]);
const NOT_RETURNED = new Set([...NOT_FORWARDED, 'set-cookie']);
/** How long the service may take to start answering. */
const UPSTREAM_TIMEOUT_MS = 30_000;

function forwardedHeaders(headers: IncomingHttpHeaders, drop: ReadonlySet<string>) {
  return Object.fromEntries(
    Object.entries(headers).filter(([name, value]) => !drop.has(name) && value !== undefined),
  );
}

function isProxied(name: string | undefined): name is ProxiedService {
  return PROXIED_SERVICES.includes(name as ProxiedService);
}

function forward(
  config: ConsoleConfig,
  request: Request,
  response: Response,
  service: ProxiedService,
  token: string,
) {
  const target = new URL(
    `${serviceUrlOf(config, service)}${request.url.startsWith('/') ? request.url : `/${request.url}`}`,
  );
  const transport = target.protocol === 'https:' ? https : http;
  const requestId = requestIdOf(response);
  return new Promise<void>((resolve, reject) => {
    const upstream = transport.request(
      target,
      {
        method: request.method,
        headers: {
          ...forwardedHeaders(request.headers, NOT_FORWARDED),
          authorization: `Bearer ${token}`,
          ...(requestId === null ? {} : { 'x-request-id': requestId }),
          'x-forwarded-for': request.socket.remoteAddress ?? '',
          ...(request.headers['transfer-encoding'] === undefined ? {} : { 'transfer-encoding': 'chunked' }),
        },
        timeout: UPSTREAM_TIMEOUT_MS,
      },
      (answer) => {
        response.status(answer.statusCode ?? 502);
        for (const [name, value] of Object.entries(forwardedHeaders(answer.headers, NOT_RETURNED)))
          response.setHeader(name, value as string | string[]);
        answer.pipe(response);
        answer.on('end', () => resolve());
        answer.on('error', reject);
      },
    );
    upstream.on('timeout', () => upstream.destroy(new Error(`${service} did not answer in time`)));
    upstream.on('error', (error) => {
      if (response.headersSent) {
        response.destroy(error);
        resolve();
      } else
        reject(
          new ServiceUnavailable(
            'dependency_unavailable',
            `${service} is not answering; try again shortly.`,
            error,
          ),
        );
    });
    // A browser that goes away takes the upstream request with it.
    response.on('close', () => {
      if (!response.writableFinished) upstream.destroy();
    });
    request.pipe(upstream);
  });
}

/** `puhui_http_requests_total{operation}` of proxied calls: one bounded label per service (the service counts the operation). */
const PROXY_LABELS = new Map(
  PROXIED_SERVICES.map((service) => [service, labelOperation(`proxy_${service.replaceAll('-', '_')}`)]),
);

export function proxyRoutes(router: Router, config: ConsoleConfig): void {
  router.use('/api/:service', async (request: Request, response: Response) => {
    const { service } = request.params as { service?: string };
    if (!isProxied(service)) throw new NotFound(`The service ${String(service)}`);
    PROXY_LABELS.get(service)?.(request, response, () => undefined);
    const { account } = signedIn(response);
    await forward(config, request, response, service, operatorTokenFor(config, account, service));
  });
}
