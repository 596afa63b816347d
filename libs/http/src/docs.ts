/**
 * A service's own documentation, served without credentials: `GET /openapi.json`,
 * `GET /docs` (Swagger UI from the swagger-ui-dist package, served from node_modules so it
 * works offline) and `GET /asyncapi.json` (the event catalogue).
 */
import path from 'node:path';
import express from 'express';
import type { Express } from 'express';
import { labelOperation } from './metrics';
import type { Operation } from './operations';

export interface ApiDocs {
  /** The service's operations; every route it mounts must be one of them and vice versa. */
  operations: readonly Operation[];
  /** Built on first request: the server's own URL is known only once it listens. */
  openapi: () => Record<string, unknown>;
  asyncapi?: () => Record<string, unknown>;
}

const SWAGGER_UI_DIRECTORY = path.dirname(require.resolve('swagger-ui-dist/package.json'));
const SWAGGER_UI_ASSETS = ['swagger-ui.css', 'swagger-ui-bundle.js', 'favicon-32x32.png'];

const DOCS_PAGE = `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8" />
    <title>API reference</title>
    <link rel="stylesheet" href="/docs/assets/swagger-ui.css" />
    <link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="/docs/assets/swagger-ui-bundle.js"></script>
    <script src="/docs/init.js"></script>
  </body>
</html>
`;

const DOCS_INIT = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
});
`;

function memoized<T>(build: () => T): () => T {
  let value: { built: T } | undefined;
  return () => (value ??= { built: build() }).built;
}

export function mountDocs(app: Express, docs: ApiDocs): void {
  const openapi = memoized(docs.openapi);
  app.use(['/openapi.json', '/asyncapi.json', '/docs'], labelOperation('docs'));
  app.get('/openapi.json', (_request, response) => {
    response.json(openapi());
  });
  if (docs.asyncapi !== undefined) {
    const asyncapi = memoized(docs.asyncapi);
    app.get('/asyncapi.json', (_request, response) => {
      response.json(asyncapi());
    });
  }
  app.get('/docs', (_request, response) => {
    response.type('html').send(DOCS_PAGE);
  });
  app.get('/docs/init.js', (_request, response) => {
    response.type('text/javascript').send(DOCS_INIT);
  });
  const assets = express.static(SWAGGER_UI_DIRECTORY, { index: false, fallthrough: true, maxAge: '1h' });
  app.use('/docs/assets', (request, response, next) => {
    // Only the files the page uses: the package also ships a demo page pointing elsewhere.
    if (SWAGGER_UI_ASSETS.includes(request.path.slice(1))) assets(request, response, next);
    else next();
  });
}

interface Mounted {
  method: string;
  path: string;
  operation: Operation | undefined;
}

/** Every mounted route is a listed operation, and every listed operation is mounted. */
export function verifyDocumented(mounted: readonly Mounted[], operations: readonly Operation[]): void {
  const problems = [
    ...mounted
      .filter((route) => route.operation === undefined || !operations.includes(route.operation))
      .map((route) => `${route.method.toUpperCase()} ${route.path} is mounted but not documented`),
    ...operations
      .filter((operation) => !mounted.some((route) => route.operation === operation))
      .map((operation) => `${operation.operationId} is documented but not mounted`),
  ];
  if (problems.length > 0) throw new Error(`The API and its document disagree:\n${problems.join('\n')}`);
}
