/**
 * Issue 9, rate limits: merchant secret keys are limited per key on every service
 * (MERCHANT_RATE_LIMIT_PER_SECOND, counted in Redis). With a small limit, a burst from one key
 * gets 429 problem+json with Retry-After, at merchant-onboarding and at settlement; a burst
 * from a key-guessing script (well-formed unknown keys) is limited the same way; another
 * merchant's key is not affected.
 */
import { onboardMerchant, waitUntilSettlementAccepts } from '../../e2e/test/puhui';
import type { ApiResponse, ServiceName } from '../../e2e/test/system';
import { ChaosRun } from './lib/chaos';

const LIMIT_PER_SECOND = 5;
const BURST = 30;

let run: ChaosRun;

beforeAll(async () => {
  // It onboards two merchants and captures nothing (no clients to pass to `finish`).
  run = await ChaosRun.start('rate limits on merchant keys', {
    environment: { MERCHANT_RATE_LIMIT_PER_SECOND: String(LIMIT_PER_SECOND) },
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
