/**
 * The /metrics route's setting (decision 0024). Defined apart from the rest of
 * platformEnvironment (which spreads it) like the HTTP settings.
 */
import { z } from 'zod';
import { weakSecretProblem } from './secret-strength';

/** As long as the other bearer secrets (a `svc_` credential's 32 characters): `openssl rand -hex 32`. */
export const METRICS_SCRAPE_TOKEN_LENGTH_MIN = 32;

export const METRICS_SETTINGS = {
  /**
   * Optional. When set, GET /metrics answers only `Authorization: Bearer <token>` (401
   * otherwise), compared in constant time; unset, /metrics is open like /healthz (keep the port
   * off the internet). Checked for length and strength whatever NODE_ENV says; the messages never
   * repeat the value.
   */
  METRICS_SCRAPE_TOKEN: z
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
    .optional(),
};
