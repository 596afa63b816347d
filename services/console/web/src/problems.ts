import type { TFunction } from 'i18next';
import { minutesToWait } from './format';
import { ApiProblem } from './api/http';

/** Codes with their own words in i18n (errors.*); any other shows its code and the API's detail. */
const KNOWN_CODES = new Set([
  'invalid_credentials',
  'invalid_totp',
  'not_signed_in',
  'bad_origin',
  'csrf_token_invalid',
  'forbidden',
  'read_only_role',
  'self_approval_refused',
  'second_person_required',
  'approval_already_decided',
  'conflicting_roles',
  'weak_password',
  'merchant_staff_role',
  'wrong_stage',
  'dependency_unavailable',
  'username_taken',
  'not_found',
  'self_change_refused',
  'settlement_account_cooling_off',
]);

/** Every error the console shows goes through here: the API's problem+json in the person's language. */
export function problemMessage(t: TFunction, error: unknown): string {
  if (!(error instanceof ApiProblem)) return t('errors.network');
  if (error.code === 'sign_in_locked' || error.code === 'rate_limited') {
    const seconds = error.retryAfterSeconds ?? numberOr(error.body.retry_after_seconds);
    return seconds === undefined
      ? t(`errors.${error.code}_unknown`)
      : t(`errors.${error.code}`, { minutes: minutesToWait(seconds) });
  }
  if (error.code === 'validation_failed') {
    return t('errors.validation_failed', {
      fields:
        error.invalidParams.map((param) => `${param.name}（${param.reason}）`).join('；') || error.detail,
    });
  }
  if (KNOWN_CODES.has(error.code)) return t(`errors.${error.code}`);
  if (error.status === 403) return t('errors.forbidden');
  return t('errors.unknown', { code: error.code, detail: error.detail ?? error.status });
}

function numberOr(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}
