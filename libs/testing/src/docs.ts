/**
 * The documentation check every service's suite runs: the OpenAPI document it serves is the
 * committed copy (docs/api/, bar the server URL), its event catalogue is docs/events/'s, and
 * /docs serves Swagger UI with its assets from node_modules.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { waitFor } from './basics';

const REPOSITORY_ROOT = path.join(__dirname, '..', '..', '..');

/** JSON with sorted keys: the same document compares equal whatever realm or order built it. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item !== null && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => a.localeCompare(b)))
      : item,
  );
}

function isSame(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

async function fetchOk(url: string): Promise<Response> {
  const response = await fetch(url);
  if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
  return response;
}

function committed(relative: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(REPOSITORY_ROOT, relative), 'utf8')) as Record<string, unknown>;
}

/** A service's committed OpenAPI document, to read what a generated client would show. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a document is read by path, as JSON
export function committedDocument(service: string): any {
  return committed(`docs/api/${service}.openapi.json`);
}

export async function expectDocsServed(url: string, service: string): Promise<void> {
  const openapi = (await (await fetchOk(`${url}/openapi.json`)).json()) as Record<string, unknown>;
  const { servers, ...served } = openapi;
  const { servers: _committedServers, ...expected } = committed(`docs/api/${service}.openapi.json`);
  if (!isSame(servers, [{ url, description: 'This service' }]))
    throw new Error(`/openapi.json names servers ${JSON.stringify(servers)}, not ${url}`);
  if (!isSame(served, expected))
    throw new Error(`/openapi.json differs from docs/api/${service}.openapi.json: run npm run docs`);
  const asyncapi = await (await fetchOk(`${url}/asyncapi.json`)).json();
  if (!isSame(asyncapi, committed('docs/events/asyncapi.json')))
    throw new Error('/asyncapi.json differs from docs/events/asyncapi.json: run npm run docs');
  const page = await (await fetchOk(`${url}/docs`)).text();
  for (const asset of ['/docs/assets/swagger-ui-bundle.js', '/docs/assets/swagger-ui.css', '/docs/init.js']) {
    if (!page.includes(asset)) throw new Error(`/docs does not load ${asset}`);
    const response = await fetchOk(`${url}${asset}`);
    if ((await response.arrayBuffer()).byteLength === 0) throw new Error(`${asset} is empty`);
  }
}

/** What a docs suite needs of the service it starts: where it answers, and how to stop it. */
export interface RunningDocs {
  url: string;
  close: () => Promise<void>;
}

/**
 * The docs suite's frame: `start` runs before the file's tests and its harness closes after
 * them, and the first test checks the documents it serves (`expectDocsServed`). Answers the
 * running harness, for the suite's own tests.
 */
export function describeServedDocs<Harness extends RunningDocs>(
  service: string,
  start: () => Promise<Harness>,
): () => Harness {
  let harness: Harness | undefined;
  const running = (): Harness => {
    if (harness === undefined) throw new Error(`${service}'s harness has not started`);
    return harness;
  };
  beforeAll(async () => {
    harness = await start();
  });
  afterAll(async () => {
    await harness?.close();
  });
  it('serves its committed OpenAPI document with its own URL, the event catalogue and Swagger UI at /docs', async () => {
    await expectDocsServed(running().url, service);
  });
  return running;
}

/** `/healthz` answers 200 at once and `/readyz` 200 once the service's dependencies answer. */
export async function expectHealthyAndReady(
  get: (path: string) => Promise<{ status: number }>,
): Promise<void> {
  expect((await get('/healthz')).status).toBe(200);
  await waitFor(async () => (await get('/readyz')).status === 200, { description: 'ready' });
}
