/**
 * The browser side of the real-browser suite: Debian's Chromium (/usr/bin/chromium, installed by
 * scripts/ensure-chromium.sh) driven by playwright-core, one browser per run and one context (own
 * cookies and storage) per person; every page a test looks at is checked with axe (WCAG 2 A and
 * AA: no serious or critical violation) and written as a full-page screenshot to
 * tests/browser/artifacts/<name>.png.
 */
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = path.resolve(__dirname, '..', 'artifacts');

/** What the suite asks of Chromium: headless, no sandbox (root in CI), and no traffic of its own. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Playwright's launch gives the browser a fresh temporary user-data-dir, removed on close. */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/** One person's browser: own cookies and localStorage, the console as base URL, Shanghai time. */
export async function personContext(browser: Browser, baseURL: string): Promise<BrowserContext> {
  const context = await browser.newContext({
    baseURL,
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    viewport: { width: 1280, height: 800 },
  });
  context.setDefaultTimeout(15_000);
  context.setDefaultNavigationTimeout(20_000);
  return context;
}

export interface AxeViolation {
  id: string;
  impact?: string | null;
  help: string;
  helpUrl: string;
  nodes: { target: unknown; failureSummary?: string; html: string }[];
}

const BLOCKING_IMPACTS = new Set(['serious', 'critical']);

/** The serious and critical WCAG 2 A/AA violations axe finds on the page as it is now. */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze();
  return (results.violations as AxeViolation[]).filter((violation) =>
    BLOCKING_IMPACTS.has(violation.impact ?? ''),
  );
}

export function describeViolations(pageName: string, violations: readonly AxeViolation[]): string {
  return violations
    .map((violation) => {
      const nodes = violation.nodes
        .slice(0, 5)
        .map(
          (node) =>
            `    at ${JSON.stringify(node.target)}: ${(node.failureSummary ?? '').replace(/\s+/gu, ' ')}\n      ${node.html.slice(0, 200)}`,
        )
        .join('\n');
      return `  [${violation.impact}] ${violation.id} on ${pageName}: ${violation.help} (${violation.helpUrl})\n${nodes}`;
    })
    .join('\n');
}

/** What antd shows while a page's data is still on its way. */
export const LOADING_SELECTOR = '.ant-skeleton, .ant-spin-spinning, .ant-card-loading';

/**
 * Waits until nothing on the page is loading any more (a page that never loads fails here, with
 * its name, rather than leaving a screenshot of skeleton bars), then for antd's fade-ins to end.
 */
export async function waitForData(page: Page, timeoutMs = 15_000): Promise<void> {
  try {
    // The page's CSP forbids eval, so a function, not text; this workspace has no DOM types.
    await page.waitForFunction(
      (selector) =>
        (
          globalThis as unknown as { document: { querySelector(selector: string): unknown } }
        ).document.querySelector(selector) === null,
      LOADING_SELECTOR,
      { timeout: timeoutMs, polling: 100 },
    );
  } catch (error) {
    const still = await page
      .locator(LOADING_SELECTOR)
      .evaluateAll((nodes) => nodes.map((node) => node.className).slice(0, 5))
      .catch(() => []);
    throw new Error(
      `${page.url()} still shows loading placeholders after ${timeoutMs} ms: ${JSON.stringify(still)}`,
      {
        cause: error,
      },
    );
  }
  await page.waitForLoadState('networkidle').catch(() => undefined);
  // antd's motion (cards and tables fading in, ~0.3 s) ends before the screenshot.
  await page.waitForTimeout(400);
}

/**
 * Every page checked in the run, by name. `checkPage` records instead of throwing at once, so one
 * page's violations do not hide the next page's; the suite's last test asserts none was found.
 */
export class PageChecks {
  readonly checked: string[] = [];
  readonly failures = new Map<string, AxeViolation[]>();

  /** Empties tests/browser/artifacts/: what is there afterwards is this run's. */
  constructor() {
    rmSync(ARTIFACTS, { recursive: true, force: true });
    mkdirSync(ARTIFACTS, { recursive: true });
  }

  /**
   * Waits for the page to settle (its `<h1>` shown, no request in flight, its data shown: no antd
   * skeleton, spinner or loading card left), writes the screenshot `<name>.png` and runs axe. A
   * name already checked is checked again under `<name>-2`, …
   */
  async checkPage(page: Page, name: string): Promise<void> {
    await page.locator('h1').first().waitFor({ state: 'visible' });
    await page.waitForLoadState('networkidle').catch(() => undefined);
    await waitForData(page);
    let unique = name;
    for (let index = 2; this.checked.includes(unique); index += 1) unique = `${name}-${index}`;
    this.checked.push(unique);
    await page.screenshot({ path: path.join(ARTIFACTS, `${unique}.png`), fullPage: true });
    const violations = await seriousViolations(page);
    if (violations.length > 0) {
      this.failures.set(unique, violations);
      process.stderr.write(
        `axe: serious or critical violations on ${unique}:\n${describeViolations(unique, violations)}\n`,
      );
    }
  }

  report(): string {
    return [...this.failures.entries()]
      .map(([name, violations]) => describeViolations(name, violations))
      .join('\n');
  }
}
