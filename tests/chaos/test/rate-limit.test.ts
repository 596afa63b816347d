/**
 * Issue 9, rate limits: merchant secret keys are limited per key on every service
 * (MERCHANT_RATE_LIMIT_PER_SECOND, counted in Redis). With a small limit, a burst from one key
 * gets 429 problem+json with Retry-After, at merchant-onboarding and at settlement; a burst
 * from a key-guessing script (well-formed unknown keys) is limited the same way; another
 * merchant's key is not affected.
 *
 * Issue 15, failed authentications per address (decision 0018): 700 guessed keys and 700 forged
 * operator tokens from one address (the attack run that found every one answered 401) are
 * answered 429 past the allowance at each service, the probes stay open, and once the window
 * is over the address is let in again. Slow senders: headers trickling in past
 * HTTP_HEADERS_TIMEOUT_MS, and a body trickling below HTTP_BODY_RATE_BYTES_PER_SECOND_MIN after
 * the grace, are closed at every service (the console's proxy included), which meanwhile answers.
 */
import { generateKeyPairSync } from 'node:crypto';
import { connect } from 'node:net';
import { DEVELOPMENT_OPERATOR_SIGNING_KEY, generateApiKey, signOperatorToken } from '@puhui/security';
import type { SigningJwk } from '@puhui/security';
import { expectDocumentedAnswer } from '../../e2e/test/conformance';
import { onboardMerchant, waitUntilSettlementAccepts } from '../../e2e/test/puhui';
import type { ApiResponse, ServiceName } from '../../e2e/test/system';
import { ChaosRun } from './lib/chaos';

const LIMIT_PER_SECOND = 5;
const BURST = 30;
/** Failed authentications an address may have per window here (the default is 100 a minute). */
const FAILED_AUTHENTICATIONS_MAX = 100;
const FAILED_AUTHENTICATION_WINDOW_MS = 8000;
const GUESSES = 700;
/** Short here, so that the slow senders are cut off within seconds (the defaults: 10 s / 5 s). */
const HEADERS_TIMEOUT_MS = 2000;
const BODY_RATE_GRACE_MS = 2000;

let run: ChaosRun;

beforeAll(async () => {
  // It onboards two merchants and captures nothing (no clients to pass to `finish`).
  run = await ChaosRun.start('rate limits on merchant keys', {
    environment: {
      MERCHANT_RATE_LIMIT_PER_SECOND: String(LIMIT_PER_SECOND),
      HTTP_FAILED_AUTHENTICATIONS_PER_ADDRESS_MAX: String(FAILED_AUTHENTICATIONS_MAX),
      // Short, so that the address is let in again within the test.
      HTTP_FAILED_AUTHENTICATION_WINDOW_MS: String(FAILED_AUTHENTICATION_WINDOW_MS),
      HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
      HTTP_BODY_RATE_GRACE_MS: String(BODY_RATE_GRACE_MS),
    },
    produces: ['merchants'],
  });
}, 180_000);

afterAll(async () => {
  run?.figures.print();
  await run?.stop();
});

it('a burst from one merchant key is answered 429 problem+json with Retry-After; another key is unaffected', async () => {
  const { system, figures } = run;
  await system.withLogsOnFailure(async () => {
    const merchant = await onboardMerchant(system, 'supermarket');
    const other = await onboardMerchant(system, 'hotel');
    await waitUntilSettlementAccepts(system, merchant);
    await waitUntilSettlementAccepts(system, other);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const failures: string[] = [];
    let limited = 0;
    let requests = 0;
    const burst = async (
      service: ServiceName,
      path: string,
      token: string,
    ): Promise<{ answers: ApiResponse[]; seconds: number }> => {
      const startedAt = Date.now();
      const answers = await Promise.all(
        Array.from({ length: BURST }, () => system.call(service, 'GET', path, { token })),
      );
      requests += answers.length;
      return { answers, seconds: (Date.now() - startedAt) / 1000 };
    };
    const checkLimited = (
      what: string,
      { answers, seconds }: { answers: ApiResponse[]; seconds: number },
    ) => {
      const refused = answers.filter((answer) => answer.status === 429);
      limited += refused.length;
      figures.fault(
        `${BURST} requests at once ${what} (over ${seconds.toFixed(2)} s): ${refused.length} answered 429`,
      );
      // Fixed one-second windows: a burst spread over s seconds touches at most ceil(s) + 1 of them.
      const allowedMax = LIMIT_PER_SECOND * (Math.ceil(seconds) + 1);
      if (refused.length === 0 || BURST - refused.length > allowedMax)
        failures.push(`${what}: ${BURST - refused.length} let through, at most ${allowedMax} allowed`);
      for (const answer of refused) {
        if (!/^application\/problem\+json/u.test(answer.contentType ?? ''))
          failures.push(`${what}: content-type ${answer.contentType}`);
        if (answer.body.code !== 'rate_limited') failures.push(`${what}: code ${String(answer.body.code)}`);
        const retryAfter = Number(answer.headers.get('retry-after'));
        if (!(retryAfter >= 1)) failures.push(`${what}: Retry-After ${answer.headers.get('retry-after')}`);
      }
      const other = answers.filter(
        (answer) => answer.status !== 429 && answer.status >= 300 && answer.status !== 401,
      );
      if (other.length > 0)
        failures.push(`${what}: unexpected ${other.map((answer) => answer.status).join(',')}`);
    };
    checkLimited(
      'to settlement with one key',
      await burst('transaction-settlement', '/v1/checkouts?limit=1', merchant.secret),
    );
    checkLimited(
      'to merchant-onboarding with one key',
      await burst('merchant-onboarding', `/v1/merchants/${merchant.merchant_id}`, merchant.secret),
    );
    checkLimited(
      'with an unknown, well-formed key (key guessing)',
      await burst('transaction-settlement', '/v1/checkouts', `sk_live_${'B'.repeat(43)}`),
    );
    // Another key is counted on its own.
    const unaffected = await system.call('transaction-settlement', 'GET', '/v1/checkouts?limit=1', {
      token: other.secret,
    });
    requests += 1;
    if (unaffected.status !== 200) failures.push(`another merchant's key: ${unaffected.status}`);
    // And the limited key works again after its window.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const later = await system.call('transaction-settlement', 'GET', '/v1/checkouts?limit=1', {
      token: merchant.secret,
    });
    requests += 1;
    if (later.status !== 200) failures.push(`the limited key after a second: ${later.status}`);
    figures.check('rate limits answer 429 problem+json with Retry-After and are per key', requests, failures);
    figures.note(
      `rate limit ${LIMIT_PER_SECOND}/s per key: ${limited} of ${3 * BURST} burst requests answered 429`,
    );
    expect(failures).toEqual([]);
    const violations = await run.finish();
    expect(violations).toEqual([]);
  });
});

it('700 guessed keys and 700 forged tokens from one address: 429 past the allowance at every service, probes open, let in again after the window', async () => {
  const { system, figures } = run;
  await system.withLogsOnFailure(async () => {
    const failures: string[] = [];
    const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
    const forged = () =>
      signOperatorToken(
        {
          subject: 'chaos-guesser',
          roles: ['admin'],
          audience: ['merchant-onboarding', 'discount-rules', 'transaction-settlement'],
        },
        { ...(stranger as unknown as SigningJwk), kid: DEVELOPMENT_OPERATOR_SIGNING_KEY.kid },
      );
    const targets = [
      ['merchant-onboarding', '/v1/merchants?limit=1'],
      ['discount-rules', '/v1/rules?limit=1'],
      ['transaction-settlement', '/v1/checkouts?limit=1'],
    ] as const;
    let requests = 0;
    // Sent as they are (system.call would renew a forged token into a good one), and each answer
    // still checked against the service's document.
    const sendAs = async (service: ServiceName, path: string, token: string) => {
      const response = await fetch(`${system.url(service)}${path}`, {
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(15_000),
      });
      const text = await response.text();
      const contentType = response.headers.get('content-type');
      expectDocumentedAnswer(system.url(service), 'GET', path, {
        status: response.status,
        contentType,
        text,
      });
      return {
        status: response.status,
        body: JSON.parse(text) as Record<string, unknown>,
        headers: response.headers,
      };
    };
    for (const [service, path] of targets) {
      // Each instance counts its own: the few failures of the burst above are within the allowance.
      const startedAt = Date.now();
      const statuses = new Map<number, number>();
      const credentials = Array.from({ length: 2 * GUESSES }, (_, index) =>
        index % 2 === 0 ? generateApiKey().secret : forged(),
      );
      // 20 at a time, as a script would.
      for (let offset = 0; offset < credentials.length; offset += 20) {
        const answers = await Promise.all(
          credentials.slice(offset, offset + 20).map((token) => sendAs(service, path, token)),
        );
        requests += answers.length;
        for (const answer of answers) {
          statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
          if (answer.status === 429) {
            if (answer.body.code !== 'too_many_failed_authentications')
              failures.push(`${service}: 429 code ${String(answer.body.code)}`);
            if (!(Number(answer.headers.get('retry-after')) >= 1))
              failures.push(`${service}: Retry-After ${answer.headers.get('retry-after')}`);
          }
        }
      }
      const seconds = (Date.now() - startedAt) / 1000;
      // Settlement answers a key minted a moment ago (as generateApiKey's are) 503
      // not_yet_available instead of 401 (decision 0011): it counts as a failure all the same.
      const unauthenticated = (statuses.get(401) ?? 0) + (statuses.get(503) ?? 0);
      const limited = statuses.get(429) ?? 0;
      figures.fault(
        `${service}: ${GUESSES} guessed keys + ${GUESSES} forged tokens in ${seconds.toFixed(1)} s: ${unauthenticated} answered 401, ${limited} 429`,
      );
      // Fixed windows: a run spread over s seconds touches at most ceil(s / window) + 1 of them.
      const windows = Math.ceil((seconds * 1000) / FAILED_AUTHENTICATION_WINDOW_MS) + 1;
      if (unauthenticated > FAILED_AUTHENTICATIONS_MAX * windows || limited === 0)
        failures.push(`${service}: ${unauthenticated} answered 401, ${limited} 429`);
      if (unauthenticated + limited !== 2 * GUESSES)
        failures.push(`${service}: other answers ${JSON.stringify([...statuses])}`);
      const probe = await fetch(`${system.url(service)}/healthz`);
      if (probe.status !== 200)
        failures.push(`${service}: /healthz ${probe.status} while the address is refused`);
    }
    // Let in again once the window is over: the operator's own token works.
    await new Promise((resolve) => setTimeout(resolve, FAILED_AUTHENTICATION_WINDOW_MS + 200));
    for (const [service, path] of targets) {
      const answer = await system.call(service, 'GET', path, { token: system.admin });
      requests += 1;
      if (answer.status !== 200) failures.push(`${service} after the window: ${answer.status}`);
    }
    figures.check(
      'failed authentications from one address are limited (429), then let in again',
      requests,
      failures,
    );
    expect(failures).toEqual([]);
  });
}, 240_000);

/**
 * Opens a raw socket to `url`, writes `head`, then one byte of `trickle` every 250 ms, and
 * resolves with what came back once the service closes the connection (or after 15 s).
 */
function trickle(
  url: string,
  head: string,
  slowly: string,
): Promise<{ closedAfterMs: number | undefined; text: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    const startedAt = Date.now();
    let text = '';
    let sent = 0;
    const sender = setInterval(() => {
      if (sent < slowly.length && !socket.destroyed) socket.write(slowly[sent] ?? '');
      sent += 1;
    }, 250);
    const finish = (closed: boolean) => {
      clearInterval(sender);
      clearTimeout(giveUp);
      socket.destroy();
      resolve({ closedAfterMs: closed ? Date.now() - startedAt : undefined, text });
    };
    socket.on('data', (data) => {
      text += data.toString('latin1');
    });
    socket.once('close', () => finish(true));
    socket.once('error', () => finish(true));
    socket.write(head);
    const giveUp = setTimeout(() => finish(false), 15_000);
  });
}

it('slow senders: trickled headers and a trickled body are closed at every service, which answers meanwhile', async () => {
  const { system, figures } = run;
  await system.withLogsOnFailure(async () => {
    const failures: string[] = [];
    const services = ['merchant-onboarding', 'discount-rules', 'transaction-settlement', 'console'] as const;
    const body = JSON.stringify({ padding: 'x'.repeat(200) });
    const results = await Promise.all(
      services.flatMap((service) => {
        const url = system.url(service);
        // A route that reads a JSON body, reached past its caller check (or with none: sign-in).
        const path = {
          'merchant-onboarding': '/v1/merchants',
          'discount-rules': '/v1/rules',
          'transaction-settlement': '/v1/checkouts',
          console: '/console/v1/session',
        }[service];
        return [
          trickle(url, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n', 'X-Slow: 1\r\n'.repeat(20)).then(
            (result) => ({ service, what: 'headers', limitMs: HEADERS_TIMEOUT_MS, ...result }),
          ),
          trickle(
            url,
            `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nAuthorization: Bearer ${system.admin}\r\nOrigin: ${system.url('console')}\r\n\r\n`,
            body,
          ).then((result) => ({ service, what: 'body', limitMs: BODY_RATE_GRACE_MS, ...result })),
        ];
      }),
    );
    // While the slow senders hold their sockets, every service answers.
    for (const service of services) {
      const probe = await fetch(`${system.url(service)}/healthz`);
      if (probe.status !== 200) failures.push(`${service}: /healthz ${probe.status}`);
    }
    for (const { service, what, limitMs, closedAfterMs, text } of results) {
      figures.fault(`${service}: ${what} at 4 bytes/s closed after ${closedAfterMs ?? 'never (15 s)'} ms`);
      // Checked once a second: closed within the limit plus two sweeps.
      if (closedAfterMs === undefined || closedAfterMs > limitMs + 2500)
        failures.push(`${service}: ${what} trickle closed after ${closedAfterMs ?? 'never'} ms`);
      if (what === 'body' && !/^HTTP\/1\.1 408 /u.test(text))
        failures.push(`${service}: body trickle answered ${text.split('\r\n')[0] ?? 'nothing'}, not 408`);
    }
    figures.check(
      'slow senders are closed, the services answer meanwhile',
      results.length + services.length,
      failures,
    );
    expect(failures).toEqual([]);
  });
}, 60_000);
