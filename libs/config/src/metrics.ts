/**
 * The /metrics route's setting (decision 0024). Defined apart from the rest of
 * platformEnvironment (which spreads it) like the HTTP settings.
 */
import { z } from 'zod';
import { weakSecretProblem } from './secret-strength';

/** As long as the other bearer secrets (a `svc_` credential's 32 characters): `openssl rand -hex 32`. */
export const METRICS_SCRAPE_TOKEN_LENGTH_MIN = 32;

/** Checked for length and strength whatever NODE_ENV says; the messages never repeat the value. */
const scrapeToken = z
  .string()
  .superRefine((value, context) => {
    if (value.length < METRICS_SCRAPE_TOKEN_LENGTH_MIN) {
      context.addIssue({
        code: 'custom',
        message: `must be at least ${METRICS_SCRAPE_TOKEN_LENGTH_MIN} characters, not ${value.length}: generate one with \`openssl rand -hex 32\``,
      });
      return;
    }
    if (/\s/u.test(value)) {
      context.addIssue({
        code: 'custom',
        message: 'must not contain whitespace (it is sent as a bearer token)',
      });
      return;
    }
    const weak = weakSecretProblem(value);
    if (weak !== undefined)
      context.addIssue({ code: 'custom', message: `${weak}: generate one with \`openssl rand -hex 32\`` });
  })
  .optional();

export const METRICS_SETTINGS = {
  /**
   * How long a gauge read at scrape time (outbox backlog, consumer lag, DLQ depth, the business
   * gauges) keeps its reading: two Prometheus servers scraping every 15 s and a person's curl are
   * one query per 5 s, not three. Tests set 0 to read afresh on every scrape.
   */
  METRICS_COLLECT_MAX_AGE_MS: z.coerce.number().int().min(0).default(5000),
  /**
   * Optional. When set, GET /metrics answers only `Authorization: Bearer <token>` (401
   * otherwise), compared in constant time; unset, /metrics is open like /healthz (keep the port
   * off the internet).
   */
  METRICS_SCRAPE_TOKEN: scrapeToken,
  /**
   * Optional, while rotating METRICS_SCRAPE_TOKEN: the old token, still admitted, so that a scrape
   * with either passes until Prometheus has the new one (then unset it). Needs METRICS_SCRAPE_TOKEN.
   */
  METRICS_SCRAPE_TOKEN_PREVIOUS: scrapeToken,
};
