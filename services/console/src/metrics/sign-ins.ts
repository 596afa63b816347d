/**
 * `puhui_console_sign_ins_total{outcome}`: every sign-in attempt's end (commands/sign-in.ts).
 * Outcomes, a fixed set: `ok` (signed in: the password alone, or the second factor after it),
 * `password_accepted` (the password passed and a second factor is asked for),
 * `wrong_password` (or an unknown, invited or disabled account: the same answer),
 * `second_factor_failed` (a wrong, expired or replayed code), `second_factor_unreadable`
 * (the sealed TOTP secret does not open), `locked` (refused while the account is locked) and
 * `rate_limited` (the address tried too often). Never the username or address as a label.
 * The counter is the process's (one registry per process, decision 0024); the `metrics` hook
 * registers it.
 */
import { Counter } from '@puhui/metrics';
import type { Registry } from '@puhui/metrics';

export const SIGN_IN_OUTCOMES = [
  'ok',
  'password_accepted',
  'wrong_password',
  'second_factor_failed',
  'second_factor_unreadable',
  'locked',
  'rate_limited',
] as const;
export type SignInOutcome = (typeof SIGN_IN_OUTCOMES)[number];

const signIns = new Counter({
  name: 'puhui_console_sign_ins_total',
  help: 'Console sign-in attempts by outcome (ok, password_accepted, wrong_password, second_factor_failed, locked, …).',
  labelNames: ['outcome'],
  registers: [],
});
// Every outcome shows from the first scrape, so an alert on a rate of failures has a series.
for (const outcome of SIGN_IN_OUTCOMES) signIns.inc({ outcome }, 0);

export function countSignIn(outcome: SignInOutcome): void {
  signIns.inc({ outcome });
}

/** The console's own families, for libs/service's `metrics` hook. */
export function consoleMetrics(_dependencies: unknown, registry: Registry): void {
  registry.registerMetric(signIns);
}
