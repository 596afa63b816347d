/**
 * The web console (services/console/web, built into CONSOLE_WEB_DIR): its files, and index.html
 * for every other GET outside /api, /console/v1 and /.well-known, so that a client route
 * (/inbox, /people) opens on reload. Until the app is built, a short page says how to build it.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import express from 'express';
import type { NextFunction, Request, Response, Router } from 'express';

const NOT_THE_APP = /^\/(api|console\/v1|\.well-known)(\/|$)/u;
/** Vite names built assets by their hash: they never change, so browsers may keep them. */
const ASSET_MAX_AGE_SECONDS = 31_536_000;

/**
 * antd writes its styles at run time (inline <style>), hence 'unsafe-inline' for styles only;
 * scripts come from the console alone, and no other site may frame it.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'self'",
  "form-action 'self'",
].join('; ');

const PLACEHOLDER = `<!DOCTYPE html>
<html lang="en">
  <head><meta charset="UTF-8" /><title>Puhui console</title></head>
  <body>
    <main>
      <h1>Puhui console</h1>
      <p>The web app is not built yet: run <code>npm run build -w @puhui/console</code>.</p>
      <p>The API answers under <code>/console/v1</code>; its document is at <a href="/docs">/docs</a>.</p>
    </main>
  </body>
</html>
`;

function pageHeaders(response: Response): void {
  response.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  response.setHeader('X-Content-Type-Options', 'nosniff');
  response.setHeader('Referrer-Policy', 'same-origin');
  response.setHeader('X-Frame-Options', 'DENY');
}

export function webRoutes(router: Router, webDirectory: string): void {
  const files = express.static(webDirectory, {
    index: false,
    fallthrough: true,
    setHeaders: (response, file) => {
      pageHeaders(response as unknown as Response);
      const immutable = file.includes(`${path.sep}assets${path.sep}`);
      response.setHeader(
        'Cache-Control',
        immutable ? `public, max-age=${ASSET_MAX_AGE_SECONDS}, immutable` : 'no-cache',
      );
    },
  });
  router.use((request: Request, response: Response, next: NextFunction) => {
    if ((request.method !== 'GET' && request.method !== 'HEAD') || NOT_THE_APP.test(request.path)) {
      next();
      return;
    }
    files(request, response, () => {
      pageHeaders(response);
      response.setHeader('Cache-Control', 'no-cache');
      const index = path.resolve(webDirectory, 'index.html');
      // Looked up on each request: the app may be built while the console runs.
      if (existsSync(index)) response.sendFile(index);
      else response.type('html').send(PLACEHOLDER);
    });
  });
}
