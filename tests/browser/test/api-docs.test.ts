/**
 * Decision 0018: /docs carries its own Content-Security-Policy (scripts and styles from the
 * service only, no inline script), and Swagger UI still works under it in Chromium: every
 * operation of a service's committed OpenAPI document is listed, one opens, and the browser
 * reports no policy violation or script error.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { Browser } from 'playwright-core';
import { createApp, startHttpServer } from '@puhui/http';
import type { RunningServer } from '@puhui/http';
import { createLogger } from '@puhui/logging';
import { ARTIFACTS, launchChromium } from './browser';

const DOCUMENT = path.resolve(__dirname, '../../../docs/api/discount-rules.openapi.json');

let browser: Browser;
let running: RunningServer;
let operations: number;

beforeAll(async () => {
  const document = JSON.parse(readFileSync(DOCUMENT, 'utf8')) as { paths: Record<string, object> };
  operations = Object.values(document.paths).reduce(
    (count, methods) => count + Object.keys(methods).length,
    0,
  );
  const logger = createLogger({
    service: 'docs-check',
    destination: new Writable({ write: (_chunk, _encoding, done) => done() }),
  });
  // The served document is the committed one; the page and its policy are what every service serves.
  const handle = createApp({
    service: 'docs-check',
    logger,
    bodyLimitBytes: 1024,
    docs: { operations: [], openapi: () => document },
  });
  running = await startHttpServer({ handle, port: 0, host: '127.0.0.1', logger, shutdownGraceMs: 100 });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await running?.shutdown('test');
});

it('renders Swagger UI under the /docs policy without a violation or a script error', async () => {
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || /Content Security Policy/iu.test(message.text()))
      problems.push(`${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  const answer = await page.goto(`${running.url}/docs`);
  const policy = answer?.headers()['content-security-policy'] ?? '';
  expect(policy).toContain("script-src 'self'");
  expect(policy).not.toContain("'unsafe-eval'");
  expect(policy).toContain("frame-ancestors 'none'");
  await page.waitForSelector('.opblock', { timeout: 20_000 });
  expect(await page.locator('.opblock').count()).toBe(operations);
  await page.locator('.opblock-summary').first().click();
  await page.getByRole('button', { name: 'Try it out' }).first().waitFor();
  await page.screenshot({ path: path.join(ARTIFACTS, 'api-docs.png') });
  expect(problems).toEqual([]);
  await page.close();
}, 60_000);
