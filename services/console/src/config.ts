import path from 'node:path';
import { z } from 'zod';
import { defaultPort, defaultUrl, loadConfig, positiveInteger } from '@puhui/config';
import { DEVELOPMENT_OPERATOR_SIGNING_KEY } from '@puhui/security';
import type { SigningJwk } from '@puhui/security';
import { serviceEnvironment } from '@puhui/service';

const signingJwk = z
  .object({
    kty: z.literal('EC'),
    crv: z.literal('P-256'),
    x: z.string().min(1),
    y: z.string().min(1),
    d: z.string().min(1),
    kid: z.string().min(1),
  })
  .loose();

/** `CONSOLE_SIGNING_KEYS`: a JSON array of private ES256 JWKs; the first signs, all are published. */
const signingKeys = z
  .string()
  .transform((text, context) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      context.addIssue({ code: 'custom', message: 'not JSON' });
      return z.NEVER;
    }
  })
  .pipe(z.array(signingJwk).min(1).max(5))
  .transform((keys) => keys as SigningJwk[]);

export const consoleEnvironment = serviceEnvironment({
  port: defaultPort('console'),
  databaseName: 'puhui_console',
  secrets: ['TOTP_SECRET_ENCRYPTION_KEY'],
}).extend({
  CONSOLE_SIGNING_KEYS: signingKeys.default([DEVELOPMENT_OPERATOR_SIGNING_KEY]),
  /** Where people open the console: the only Origin a state-changing request may come from. */
  CONSOLE_PUBLIC_ORIGIN: z
    .url()
    .transform((url) => new URL(url).origin)
    .default('http://localhost:4104'),
  /** A session unused this long ends (30 minutes). */
  CONSOLE_SESSION_IDLE_SECONDS: positiveInteger.default(1800),
  /** A session ends this long after sign-in, used or not (12 hours: one working day). */
  CONSOLE_SESSION_ABSOLUTE_SECONDS: positiveInteger.default(43_200),
  /**
   * Sign-in attempts one client address may make per minute, whatever the usernames; the
   * per-account lockout (5 failures in 15 minutes) is the guard against guessing one password.
   */
  CONSOLE_SIGN_IN_RATE_LIMIT_PER_MINUTE: positiveInteger.default(30),
  /** The built web app (services/console/web → dist/web). */
  CONSOLE_WEB_DIR: z
    .string()
    .min(1)
    .default(path.join(__dirname, '..', 'dist', 'web')),
  MERCHANT_ONBOARDING_URL: z.url().default(defaultUrl('merchant-onboarding')),
  DISCOUNT_RULES_URL: z.url().default(defaultUrl('discount-rules')),
  TRANSACTION_SETTLEMENT_URL: z.url().default(defaultUrl('transaction-settlement')),
});
export type ConsoleConfig = z.infer<typeof consoleEnvironment>;

export function loadConsoleConfig(
  environment: Record<string, string | undefined> = process.env,
): ConsoleConfig {
  return loadConfig(consoleEnvironment, environment);
}

/** The services the console proxies to and asks for approval requests (their registry names). */
export const PROXIED_SERVICES = ['merchant-onboarding', 'discount-rules', 'transaction-settlement'] as const;
export type ProxiedService = (typeof PROXIED_SERVICES)[number];

export function serviceUrlOf(config: ConsoleConfig, service: ProxiedService): string {
  const urls: Record<ProxiedService, string> = {
    'merchant-onboarding': config.MERCHANT_ONBOARDING_URL,
    'discount-rules': config.DISCOUNT_RULES_URL,
    'transaction-settlement': config.TRANSACTION_SETTLEMENT_URL,
  };
  return urls[service].replace(/\/+$/u, '');
}

/**
 * The origins a state-changing request may name: the public origin, and in development the same
 * with localhost and 127.0.0.1 swapped (people open either).
 */
export function allowedOrigins(config: ConsoleConfig): readonly string[] {
  const origin = new URL(config.CONSOLE_PUBLIC_ORIGIN);
  const origins = [origin.origin];
  if (config.NODE_ENV !== 'production') {
    const swapped = { localhost: '127.0.0.1', '127.0.0.1': 'localhost' }[origin.hostname];
    if (swapped !== undefined) {
      const other = new URL(origin.href);
      other.hostname = swapped;
      origins.push(other.origin);
    }
  }
  return origins;
}

/**
 * In production the development signing key is refused (it is public, in this repository), and
 * so is a console served over plain HTTP: its session cookie would travel without Secure.
 */
export function refuseUnsafeProductionSettings(config: ConsoleConfig): void {
  if (config.NODE_ENV !== 'production') return;
  if (config.CONSOLE_SIGNING_KEYS.some((key) => key.d === DEVELOPMENT_OPERATOR_SIGNING_KEY.d))
    throw new Error('Set CONSOLE_SIGNING_KEYS: the development signing key is refused in production.');
  if (!config.CONSOLE_PUBLIC_ORIGIN.startsWith('https:'))
    throw new Error(
      'Set CONSOLE_PUBLIC_ORIGIN to the https origin people open: production sessions need TLS.',
    );
}
