/**
 * Issue 16 in a real browser: people sign in to the console's web app (Debian's Chromium driven by
 * playwright-core) against the console and the three services as separate processes (the e2e
 * harness, tests/e2e/test/system.ts), each run on its own databases and topics. Wrong password,
 * lockout, TOTP enrolment and sign-in, sign-out, session expiry, role-based denial (page and API),
 * and one dual-control round trip through the inbox; axe on every page visited (no serious or
 * critical WCAG 2 A/AA violation) and a screenshot of each in tests/browser/artifacts/.
 *
 * The page's words are the web app's own (its zh-CN messages, the default language), so a
 * reworded label changes the test with it.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { operatorToken, waitFor } from '@puhui/testing';
import { en } from '../../../services/console/web/src/i18n/en';
import { zhCN } from '../../../services/console/web/src/i18n/zh-CN';
import { merchantApplication } from '../../e2e/test/puhui';
import { PuhuiSystem } from '../../e2e/test/system';
import { ARTIFACTS, PageChecks, launchChromium, personContext } from './browser';
import {
  Authenticator,
  SESSION_COOKIE,
  callConsole,
  onConsoleDatabase,
  secretFromEnrolmentText,
} from './console';
import { CAST, seedPeople } from './people';
import type { Person } from './people';

let system: PuhuiSystem;
let browser: Browser;
let people: Record<string, Person>;
const checks = new PageChecks();
const contexts: BrowserContext[] = [];
const authenticators = new Map<string, Authenticator>();
/** Admin A, signed in with a TOTP code: the dual-control test goes on as this A. */
let signedInAdminA: Page | undefined;
/** How long each sign-in took, request to last byte, as Chromium measured it (printed at the end). */
const signInLatencies = new Map<number, number[]>();

const SIGN_IN = /\/sign-in$/u;
/** Where a person whose session ended under them is sent: sign-in, saying why. */
const SIGN_IN_EXPIRED = /\/sign-in\?reason=expired$/u;
const SIGN_IN_TOTP = /\/sign-in\/totp$/u;
const HOME = /:\d+\/$/u;

/**
 * A button's accessible name: antd puts a space between the two characters of a two-character
 * Chinese label ("登 录"), so the characters may be spaced.
 */
function buttonName(text: string): RegExp {
  const escaped = [...text].map((character) => character.replace(/[.*+?^${}()|[\]\\]/gu, '\\$&'));
  return new RegExp(escaped.join('\\s*'), 'u');
}

beforeAll(async () => {
  [system, browser] = await Promise.all([PuhuiSystem.start(), launchChromium()]);
  people = await seedPeople(system);
}, 120_000);

afterAll(async () => {
  await Promise.all(contexts.map((context) => context.close().catch(() => undefined)));
  await browser?.close();
  await system?.stop();
  process.stderr.write(
    `browser screenshots in ${ARTIFACTS}: ${checks.checked.map((name) => `${name}.png`).join(', ')}\n`,
  );
  const latencies = [...signInLatencies.entries()].map(([status, ms]) => `${status}: ${ms.join(', ')} ms`);
  process.stderr.write(
    `sign-in (POST /console/v1/session) as the browser timed it, by status: ${latencies.join('; ')}\n`,
  );
});

let failures = 0;

/** A test whose failure prints the services' logs and leaves a screenshot of every open page. */
function browserTest(name: string, body: () => Promise<void>, timeoutMs = 90_000): void {
  it(
    name,
    () =>
      system.withLogsOnFailure(async () => {
        try {
          await body();
        } catch (error) {
          failures += 1;
          const pages = contexts.flatMap((context) => context.pages());
          await Promise.all(
            pages.map((page, index) =>
              page
                .screenshot({
                  path: path.join(ARTIFACTS, `failed-${failures}-${index + 1}.png`),
                  fullPage: true,
                })
                .catch(() => undefined),
            ),
          );
          throw error;
        }
      }),
    timeoutMs,
  );
}

function person(username: string): Person {
  const found = people[username];
  if (found === undefined) throw new Error(`no seeded person ${username}`);
  return found;
}

async function newPage(): Promise<Page> {
  const context = await personContext(browser, system.url('console'));
  contexts.push(context);
  return context.newPage();
}

function pathOf(page: Page): string {
  return new URL(page.url()).pathname;
}

/** Opens /sign-in (unless there) and submits a username and password; checks the page when named. */
async function submitPassword(
  page: Page,
  username: string,
  password: string,
  pageName?: string,
): Promise<number> {
  if (!SIGN_IN.test(pathOf(page))) await page.goto('/sign-in');
  if (pageName !== undefined) await checks.checkPage(page, pageName);
  await page.getByLabel(zhCN.signIn.username, { exact: true }).fill(username);
  await page.getByLabel(zhCN.signIn.password, { exact: true }).fill(password);
  const answered = page.waitForResponse(
    (response) => response.url().endsWith('/console/v1/session') && response.request().method() === 'POST',
  );
  await page.getByRole('button', { name: buttonName(zhCN.signIn.submit) }).click();
  const response = await answered;
  await response.finished();
  const latencies = signInLatencies.get(response.status()) ?? [];
  latencies.push(Math.round(response.request().timing().responseEnd));
  signInLatencies.set(response.status(), latencies);
  return response.status();
}

async function submitTotp(page: Page, code: string): Promise<void> {
  await page.getByLabel(zhCN.totp.code, { exact: true }).fill(code);
  await page.getByRole('button', { name: buttonName(zhCN.totp.submit) }).click();
}

/** Reads the secret the enrolment page shows beside its QR code, as a person would type it. */
async function enrolmentSecret(page: Page): Promise<string> {
  await page.getByRole('img', { name: zhCN.totp.qrAlt }).waitFor();
  const shown = await page.locator('code').allInnerTexts();
  const secret = secretFromEnrolmentText(shown.join('\n'));
  if (secret === undefined) {
    throw new Error(`no TOTP secret on the enrolment page:\n${await page.locator('body').innerText()}`);
  }
  return secret;
}

/** First sign-in of an admin or finance person: password, then TOTP enrolment; ends on the home page. */
async function signInEnrolling(
  page: Page,
  username: string,
  pageNames: { totp?: string; home?: string } = {},
): Promise<void> {
  await submitPassword(page, username, person(username).password);
  await page.waitForURL(SIGN_IN_TOTP);
  await page.locator('h1', { hasText: zhCN.totp.enrolTitle }).waitFor();
  const secret = await enrolmentSecret(page);
  if (pageNames.totp !== undefined) await checks.checkPage(page, pageNames.totp);
  const authenticator = new Authenticator(secret);
  authenticators.set(username, authenticator);
  await submitTotp(page, await authenticator.nextCode());
  await page.waitForURL(HOME);
  await page.locator('h1', { hasText: zhCN.home.title }).waitFor();
  if (pageNames.home !== undefined) await checks.checkPage(page, pageNames.home);
}

/** Sign-in of someone enrolled in this run: password, then a fresh code from their authenticator. */
async function signInWithTotp(page: Page, username: string, totpPageName?: string): Promise<void> {
  const authenticator = authenticators.get(username);
  if (authenticator === undefined) throw new Error(`${username} has not enrolled TOTP in this run`);
  await submitPassword(page, username, person(username).password);
  await page.waitForURL(SIGN_IN_TOTP);
  await page.locator('h1', { hasText: zhCN.totp.enterTitle }).waitFor();
  if (totpPageName !== undefined) await checks.checkPage(page, totpPageName);
  await submitTotp(page, await authenticator.nextCode());
  await page.waitForURL(HOME);
}

/** Sign-in of an auditor (no second factor asked): ends on the home page. */
async function signInWithPassword(page: Page, username: string): Promise<void> {
  await submitPassword(page, username, person(username).password);
  await page.waitForURL(HOME);
  await page.locator('h1', { hasText: zhCN.home.title }).waitFor();
}

async function sessionCookie(page: Page): Promise<string | undefined> {
  const cookies = await page.context().cookies();
  return cookies.find((candidate) => candidate.name === SESSION_COOKIE)?.value;
}

async function signedInCookie(page: Page): Promise<string> {
  const cookie = await sessionCookie(page);
  if (cookie === undefined) throw new Error(`no ${SESSION_COOKIE} cookie after signing in`);
  return cookie;
}

/** The sign-in page's error alert, once it says `text`. */
async function alertSaying(page: Page, text: string | RegExp): Promise<string> {
  const alert = page.getByRole('alert').filter({ hasText: text }).first();
  await alert.waitFor();
  return alert.innerText();
}

browserTest('a wrong password shows an error and stays on the sign-in page', async () => {
  const page = await newPage();
  await submitPassword(page, CAST.auditor, 'not-the-password-at-all', 'sign-in');
  await alertSaying(page, zhCN.errors.invalid_credentials);
  expect(pathOf(page)).toBe('/sign-in');
  await checks.checkPage(page, 'sign-in-wrong-password');
  expect(await sessionCookie(page)).toBeUndefined();
});

browserTest(
  'the console speaks Chinese by default and switches to English, which it keeps after a reload',
  async () => {
    const page = await newPage();
    await page.goto('/sign-in');
    await page.locator('h1', { hasText: zhCN.signIn.title }).waitFor();
    await expect(page.locator('html').getAttribute('lang')).resolves.toBe('zh-CN');
    await page.getByRole('combobox', { name: zhCN.language.label }).click();
    // antd's visible options are plain items (its role=option elements are the screen reader's, hidden).
    await page.locator('.ant-select-item-option').filter({ hasText: en.language.en }).click();
    await page.locator('h1', { hasText: en.signIn.title }).waitFor();
    await page.reload();
    await page.locator('h1', { hasText: en.signIn.title }).waitFor();
    await expect(page.getByLabel(en.signIn.username, { exact: true }).count()).resolves.toBe(1);
    await expect(page.locator('html').getAttribute('lang')).resolves.toBe('en');
    await checks.checkPage(page, 'sign-in-english');
  },
);

browserTest(
  'after five failures the account is locked: even the right password then shows the locked message',
  async () => {
    const page = await newPage();
    for (let failure = 1; failure <= 5; failure += 1) {
      expect([401, 429]).toContain(await submitPassword(page, CAST.lockedOut, `wrong-password-${failure}`));
    }
    await submitPassword(page, CAST.lockedOut, person(CAST.lockedOut).password);
    await alertSaying(page, /账户已锁定/u);
    expect(pathOf(page)).toBe('/sign-in');
    expect(await sessionCookie(page)).toBeUndefined();
    await checks.checkPage(page, 'sign-in-locked');
    const answer = await callConsole(system, 'POST', '/console/v1/session', {
      body: { username: CAST.lockedOut, password: person(CAST.lockedOut).password },
    });
    expect(answer.status).toBe(429);
    expect(answer.body.code).toBe('sign_in_locked');
  },
);

browserTest(
  'an admin enrols TOTP on the first sign-in (the secret read from the page) and lands on the home page',
  async () => {
    const page = await newPage();
    await signInEnrolling(page, CAST.adminA, { totp: 'sign-in-totp-enrolment', home: 'home-admin' });
    const session = await callConsole(system, 'GET', '/console/v1/session', {
      cookie: await signedInCookie(page),
    });
    expect(session.status).toBe(200);
    expect(session.body.stage).toBe('signed_in');
    expect(session.body.account.totp_enrolled).toBe(true);
    // The person locked out above shows as locked, until when (Beijing time).
    await page.goto('/people');
    const locked = page.getByTestId('person-row').filter({ hasText: CAST.lockedOut });
    await expect(locked.innerText()).resolves.toMatch(
      new RegExp(
        `${zhCN.people.statuses.locked}[\\s\\S]*${zhCN.people.lockedUntil.split('{{time}}')[0]}\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}`,
        'u',
      ),
    );
    await expect(
      page.getByTestId('person-row').filter({ hasText: CAST.auditor }).innerText(),
    ).resolves.not.toContain(zhCN.people.statuses.locked);
    for (const [path, title, name] of [
      ['/people', zhCN.people.title, 'people-admin'],
      ['/merchants', zhCN.merchants.title, 'merchants-admin'],
      ['/sessions', zhCN.sessions.title, 'sessions'],
      ['/inbox', zhCN.inbox.title, 'inbox-empty'],
    ] as const) {
      await page.goto(path);
      await page.locator('h1', { hasText: title }).waitFor();
      await checks.checkPage(page, name);
    }
  },
);

browserTest('sign-out returns to the sign-in page, and the old cookie no longer works', async () => {
  const page = await newPage();
  await signInWithPassword(page, CAST.auditor);
  await checks.checkPage(page, 'home-auditor');
  await page.goto('/people');
  await page.locator('h1', { hasText: zhCN.people.title }).waitFor();
  await checks.checkPage(page, 'people-auditor');
  const cookie = await signedInCookie(page);
  expect((await callConsole(system, 'GET', '/console/v1/session', { cookie })).status).toBe(200);

  await page.getByRole('button', { name: buttonName(zhCN.shell.signOut) }).click();
  await page.waitForURL(SIGN_IN);
  await checks.checkPage(page, 'sign-in-after-sign-out');
  // Signing out is no expiry: the page does not say the session expired.
  await expect(page.getByText(zhCN.signIn.expired).count()).resolves.toBe(0);
  const old = await callConsole(system, 'GET', '/console/v1/session', { cookie });
  expect(old.status).toBe(401);
  expect(old.body.code).toBe('not_signed_in');
  const proxied = await callConsole(system, 'GET', '/api/merchant-onboarding/v1/merchants', { cookie });
  expect(proxied.status).toBe(401);
  // The old cookie put back into the browser opens nothing either.
  await page.context().addCookies([{ name: SESSION_COOKIE, value: cookie, url: system.url('console') }]);
  await page.goto('/people');
  await page.waitForURL(SIGN_IN);
});

/** Ages the session behind `cookie` two hours idle (the timeout is 30 minutes), in the console's database. */
async function ageSession(cookie: string): Promise<void> {
  const aged = await onConsoleDatabase(system, async (client) => {
    const result = await client.query(
      `UPDATE sessions SET last_seen_at = now() - interval '2 hours', created_at = now() - interval '3 hours'
      WHERE secret_sha256 = $1 AND ended_at IS NULL`,
      [createHash('sha256').update(cookie, 'utf8').digest()],
    );
    return result.rowCount;
  });
  expect(aged).toBe(1);
}

browserTest(
  'a session idle past its timeout ends: the next navigation lands on the sign-in page, which says the session expired',
  async () => {
    const page = await newPage();
    await signInWithPassword(page, CAST.auditor);
    await page.goto('/sessions');
    await page.getByTestId('session-row').first().waitFor();
    const cookie = await signedInCookie(page);
    // Idle for two hours (CONSOLE_SESSION_IDLE_SECONDS is 30 minutes by default): this session only,
    // found by its cookie's SHA-256 as the console stores it. A reload then finds no session.
    await ageSession(cookie);
    await page.goto('/sessions');
    await page.waitForURL(SIGN_IN_EXPIRED);
    await page.getByText(zhCN.signIn.expired, { exact: true }).waitFor();
    await checks.checkPage(page, 'sign-in-after-expiry');
    expect((await callConsole(system, 'GET', '/console/v1/session', { cookie })).status).toBe(401);

    // Signed in again, the session ends while the page is open: the next call the page makes
    // (the people list, opened from the menu without a reload) answers 401 and sends the person
    // to sign-in with the same notice. Signing in goes back to the page that sent them there.
    await submitPassword(page, CAST.auditor, person(CAST.auditor).password);
    await page.waitForURL(/\/sessions$/u);
    await page.getByTestId('session-row').first().waitFor();
    await expect(page.getByText(zhCN.signIn.expired, { exact: true }).count()).resolves.toBe(0);
    await ageSession(await signedInCookie(page));
    const navigation = page.getByRole('navigation', { name: zhCN.nav.label });
    await navigation.getByRole('menuitem', { name: zhCN.nav.people }).click();
    await page.waitForURL(SIGN_IN_EXPIRED);
    await page.getByText(zhCN.signIn.expired, { exact: true }).waitFor();
  },
);

browserTest(
  'finance opening /merchants by URL gets the 403 page, and the API behind it answers 403',
  async () => {
    const page = await newPage();
    await signInEnrolling(page, CAST.finance, { home: 'home-finance' });
    const navigation = page.getByRole('navigation', { name: zhCN.nav.label });
    await expect(navigation.getByRole('menuitem', { name: zhCN.nav.settlement }).count()).resolves.toBe(1);
    // The navigation offers finance nothing it may not use.
    await expect(navigation.getByRole('menuitem', { name: zhCN.nav.merchants }).count()).resolves.toBe(0);
    await page.goto('/settlement');
    await page.locator('h1', { hasText: zhCN.settlement.title }).waitFor();
    await checks.checkPage(page, 'settlement-finance');

    await page.goto('/merchants');
    await page.locator('h1', { hasText: zhCN.forbidden.title }).waitFor();
    await expect(page.getByText(zhCN.merchants.legalName).count()).resolves.toBe(0);
    await checks.checkPage(page, 'forbidden-finance-merchants');
    const answer = await page.evaluate(async () => {
      const response = await fetch('/api/merchant-onboarding/v1/merchants');
      return { status: response.status, body: (await response.json()) as { code?: string } };
    });
    expect(answer.status).toBe(403);
  },
);

browserTest('an enrolled admin signs in again later with a code from the same authenticator', async () => {
  const page = await newPage();
  await signInWithTotp(page, CAST.adminA, 'sign-in-totp');
  const session = await callConsole(system, 'GET', '/console/v1/session', {
    cookie: await signedInCookie(page),
  });
  expect(session.body.stage).toBe('signed_in');
  expect(session.body.account.username).toBe(CAST.adminA);
  signedInAdminA = page;
});

/** In the inbox: the item's approve button, then the dialog's; the dialog is returned. */
async function approveInInbox(page: Page, item: ReturnType<Page['getByTestId']>) {
  await item.getByRole('button', { name: buttonName(zhCN.inbox.approve) }).click();
  const dialog = page.getByRole('dialog').filter({ hasText: zhCN.inbox.approveTitle });
  await dialog.waitFor();
  await dialog.getByRole('button', { name: buttonName(zhCN.inbox.approve) }).click();
  return dialog;
}

browserTest(
  'dual control: admin A asks to approve a merchant, A cannot approve it, admin B approves it in the inbox',
  async () => {
    // An application ready for approval, prepared by A through the service's API (A's token).
    const adminA = () => operatorToken(['admin'], { subject: person(CAST.adminA).id });
    const created = await system.call('merchant-onboarding', 'POST', '/v1/merchants', {
      token: adminA(),
      body: merchantApplication('supermarket'),
    });
    expect(created.status).toBe(201);
    const merchantId = created.body.id as string;
    for (const step of ['submit', 'start_review']) {
      const moved = await system.call('merchant-onboarding', 'POST', `/v1/merchants/${merchantId}/${step}`, {
        token: adminA(),
      });
      expect(moved.status).toBe(200);
    }

    // A asks for the approval from the console's page, through its proxy (cookie, Origin, CSRF token).
    let pageA = signedInAdminA;
    if (pageA === undefined) {
      pageA = await newPage();
      await signInWithTotp(pageA, CAST.adminA);
    }
    const requested = await pageA.evaluate(async (id) => {
      const session = (await (await fetch('/console/v1/session')).json()) as { csrf_token: string };
      const response = await fetch(`/api/merchant-onboarding/v1/merchants/${id}/approve`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrf_token },
        body: '{}',
      });
      return {
        status: response.status,
        body: (await response.json()) as { approval_request?: { id: string } },
      };
    }, merchantId);
    expect(requested).toMatchObject({ status: 202 });
    const requestId = requested.body.approval_request?.id as string;
    const approvalRequest = () =>
      system.call('merchant-onboarding', 'GET', `/v1/approval_requests/${requestId}`, { token: adminA() });

    // A's own inbox does not offer A's request, or, if it lists it, the service refuses A.
    await pageA.goto('/inbox');
    await pageA.locator('h1', { hasText: zhCN.inbox.title }).waitFor();
    await pageA.waitForLoadState('networkidle');
    await checks.checkPage(pageA, 'inbox-requester');
    const ownItem = pageA.getByTestId('inbox-item').filter({ hasText: merchantId });
    if ((await ownItem.count()) > 0) {
      const dialog = await approveInInbox(pageA, ownItem);
      await dialog.getByRole('alert').filter({ hasText: zhCN.errors.self_approval_refused }).waitFor();
      await checks.checkPage(pageA, 'inbox-self-approval-refused');
    }
    expect((await approvalRequest()).body.status).toBe('pending');

    // B signs in (the first time: enrols), finds A's request in the inbox and approves it.
    const pageB = await newPage();
    await signInEnrolling(pageB, CAST.adminB, { home: 'home-checker' });
    await pageB.goto('/inbox');
    const item = pageB.getByTestId('inbox-item').filter({ hasText: merchantId });
    await item.waitFor();
    // Worded for B: the requester named once as "display name（username）", the action in Chinese
    // (not the service's English summary), the changed field and statuses in words, not codes.
    const shown = await item.innerText();
    const requester = `${person(CAST.adminA).displayName}（${CAST.adminA}）`;
    expect(shown.split(requester)).toHaveLength(2);
    expect(shown).toContain(zhCN.actions.merchant_approval);
    expect(shown).not.toContain('Approve ');
    const changed = item.locator('tbody tr').filter({ hasText: zhCN.fields.status });
    await expect(changed.innerText()).resolves.toMatch(
      new RegExp(`${zhCN.merchants.statuses.in_review}\\s+${zhCN.merchants.statuses.active}`, 'u'),
    );
    expect(shown).not.toMatch(/in_review|\bactive\b/u);
    await checks.checkPage(pageB, 'inbox-checker');
    // In English the same item names the action in English, with the service's summary beneath.
    await pageB.getByRole('combobox', { name: zhCN.language.label }).click();
    await pageB.locator('.ant-select-item-option').filter({ hasText: en.language.en }).click();
    await pageB.locator('h1', { hasText: en.inbox.title }).waitFor();
    await expect(item.innerText()).resolves.toMatch(
      new RegExp(`${en.actions.merchant_approval}[\\s\\S]*Approve `, 'u'),
    );
    await expect(item.innerText()).resolves.toContain(en.merchants.statuses.in_review);
    await checks.checkPage(pageB, 'inbox-checker-english');
    await pageB.getByRole('combobox', { name: en.language.label }).click();
    await pageB.locator('.ant-select-item-option').filter({ hasText: zhCN.language['zh-CN'] }).click();
    await pageB.locator('h1', { hasText: zhCN.inbox.title }).waitFor();
    const dialog = await approveInInbox(pageB, item);
    await dialog.waitFor({ state: 'detached' });
    // B is told it is done, and the request leaves the inbox.
    await pageB.getByText(zhCN.inbox.approved, { exact: true }).waitFor();
    await item.waitFor({ state: 'detached' });
    await checks.checkPage(pageB, 'inbox-after-approval');

    // The service shows it done: the request decided by B, the merchant approved.
    expect((await approvalRequest()).body).toMatchObject({
      status: 'approved',
      decided_by: person(CAST.adminB).id,
    });
    await waitFor(
      async () => {
        const merchant = await system.call('merchant-onboarding', 'GET', `/v1/merchants/${merchantId}`, {
          token: adminA(),
        });
        return merchant.body.status === 'active';
      },
      { timeoutMs: 5_000, description: `merchant ${merchantId} approved (active)` },
    );
    // And B's merchant list, through the proxy, shows it live.
    await pageB.goto('/merchants');
    const row = pageB.getByTestId('merchant-row').filter({ hasText: merchantId });
    await row.waitFor();
    await expect(row.innerText()).resolves.toContain(zhCN.merchants.statuses.active);
    await checks.checkPage(pageB, 'merchants-after-approval');
  },
);

browserTest(
  'a merchant page shows personal data masked; an admin reveals the mobile with a reason, audited; an auditor cannot',
  async () => {
    const adminA = () => operatorToken(['admin'], { subject: person(CAST.adminA).id });
    const created = await system.call('merchant-onboarding', 'POST', '/v1/merchants', {
      token: adminA(),
      body: merchantApplication('pharmacy'),
    });
    expect(created.status).toBe(201);
    const merchantId = created.body.id as string;
    let page = signedInAdminA;
    if (page === undefined) {
      page = await newPage();
      await signInWithTotp(page, CAST.adminA);
    }
    await page.goto('/merchants');
    await page.getByTestId('merchant-row').filter({ hasText: merchantId }).getByRole('link').click();
    await page.getByText(zhCN.merchants.maskedNotice).waitFor();
    await page.getByText('138****8000').waitFor();
    // (王芳 is also a demo person's name, shown in the header: the mobile and e-mail tell.)
    await expect(page.content()).resolves.not.toMatch(/13800138000|wang\.fang@/u);
    await page.getByText('w***@example.cn').waitFor();
    await checks.checkPage(page, 'merchant-masked');

    await page.getByRole('button', { name: buttonName(zhCN.merchants.reveal) }).click();
    const dialog = page.getByRole('dialog').filter({ hasText: zhCN.merchants.revealTitle });
    await dialog.waitFor();
    await dialog.getByRole('checkbox', { name: zhCN.merchants.revealable['contact.mobile'] }).check();
    // Too short a reason is refused by the form before anything is asked.
    await dialog.getByRole('textbox', { name: zhCN.merchants.revealReason }).fill('看看');
    await dialog.getByRole('button', { name: buttonName(zhCN.merchants.revealSubmit) }).click();
    await dialog.getByText(zhCN.merchants.revealReasonRequired).waitFor();
    await dialog
      .getByRole('textbox', { name: zhCN.merchants.revealReason })
      .fill('致电联系人核实结算账户变更');
    await dialog.getByRole('button', { name: buttonName(zhCN.merchants.revealSubmit) }).click();
    await dialog.getByText('13800138000').waitFor();
    await checks.checkPage(page, 'merchant-revealed');
    // The footer's 关闭 (the corner × is named 关闭 too, and comes first).
    await dialog
      .getByRole('button', { name: buttonName(zhCN.merchants.close) })
      .last()
      .click();
    await dialog.waitFor({ state: 'detached' });
    await expect(page.content()).resolves.not.toContain('13800138000');
    const audit = await system.call(
      'merchant-onboarding',
      'GET',
      `/v1/audit_events?merchant_id=${merchantId}`,
      {
        token: adminA(),
      },
    );
    const revealed = (audit.body.data as Array<{ action: string; actor: string; after: unknown }>).filter(
      (entry) => entry.action === 'personal_data_revealed',
    );
    expect(revealed).toEqual([
      expect.objectContaining({
        actor: `operator:${person(CAST.adminA).id}`,
        after: expect.objectContaining({ fields: ['contact.mobile'], reason: '致电联系人核实结算账户变更' }),
      }),
    ]);
    expect(JSON.stringify(revealed)).not.toContain('13800138000');

    // An auditor reads the page masked and is offered no reveal.
    const auditorPage = await newPage();
    await signInWithPassword(auditorPage, CAST.auditor);
    await auditorPage.goto(`/merchants/${merchantId}`);
    await auditorPage.getByText('138****8000').waitFor();
    await expect(
      auditorPage.getByRole('button', { name: buttonName(zhCN.merchants.reveal) }).count(),
    ).resolves.toBe(0);
  },
);

it('every page visited has no serious or critical accessibility violation (axe, WCAG 2 A and AA)', () => {
  expect(checks.checked.length).toBeGreaterThanOrEqual(14);
  if (checks.failures.size > 0) {
    throw new Error(`axe found serious or critical violations:\n${checks.report()}`);
  }
});
