/**
 * Security headers on every answer (helmet, decision 0018): nosniff, no framing by another
 * site (frame-ancestors 'none' and X-Frame-Options), no referrer, and HSTS only when the
 * service is told it is served over TLS (HTTP_SERVED_OVER_TLS): on plain http://127.0.0.1 a
 * browser ignores it, and a developer who tried https://localhost once would be locked out of
 * plain http for a year. JSON answers get a policy that allows nothing (`default-src 'none'`);
 * /docs (Swagger UI) may load its own scripts and styles and fetch /openapi.json; a page that
 * sets its own Content-Security-Policy (the console's web app) replaces the one set here.
 */
import type { RequestHandler } from 'express';
import helmet from 'helmet';

/** One year, with subdomains: the usual preload requirement. */
const HSTS_MAX_AGE_SECONDS = 365 * 24 * 3600;

const API_POLICY = {
  'default-src': ["'none'"],
  'frame-ancestors': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'none'"],
};

/**
 * Swagger UI: its bundle and init.js from here (no inline script), inline style attributes
 * (it sets them at run time), its icons as data: URIs, and /openapi.json fetched from here.
 */
export const DOCS_CONTENT_SECURITY_POLICY = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'", "'unsafe-inline'"],
  'img-src': ["'self'", 'data:'],
  'font-src': ["'self'", 'data:'],
  'connect-src': ["'self'"],
  'object-src': ["'none'"],
  'frame-ancestors': ["'none'"],
  'base-uri': ["'self'"],
  'form-action': ["'self'"],
};

export function securityHeaders(options: { servedOverTls: boolean }): RequestHandler {
  const common = {
    strictTransportSecurity: options.servedOverTls
      ? { maxAge: HSTS_MAX_AGE_SECONDS, includeSubDomains: true }
      : false,
    frameguard: { action: 'deny' as const },
    referrerPolicy: { policy: 'no-referrer' as const },
  };
  const api = helmet({ ...common, contentSecurityPolicy: { useDefaults: false, directives: API_POLICY } });
  const docs = helmet({
    ...common,
    contentSecurityPolicy: { useDefaults: false, directives: DOCS_CONTENT_SECURITY_POLICY },
  });
  return (request, response, next) => {
    const onDocs = request.path === '/docs' || request.path.startsWith('/docs/');
    (onDocs ? docs : api)(request, response, next);
  };
}
