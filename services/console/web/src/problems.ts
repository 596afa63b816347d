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
  'personal_data_unreadable',
  'second_factor_unreadable',
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

/** Codes that are about one field of a form, whatever the API's invalid_params say. */
const FIELD_OF_CODE: Record<string, string> = {
  username_taken: 'username',
  weak_password: 'password',
  conflicting_roles: 'roles',
  merchant_staff_role: 'roles',
};

/**
 * The fields an API refusal names, as antd Form.setFields takes them: the invalid_params of a
 * validation_failed (`roles.0` → `roles`) and the field a code is about. Only fields the form has.
 */
export function fieldErrors(
  t: TFunction,
  error: unknown,
  fields: readonly string[],
): { name: string; errors: string[] }[] {
  if (!(error instanceof ApiProblem)) return [];
  const named = new Map<string, string[]>();
  for (const param of error.invalidParams) {
    const field = param.name.split('.')[0] ?? '';
    if (fields.includes(field)) named.set(field, [...(named.get(field) ?? []), param.reason]);
  }
  const field = FIELD_OF_CODE[error.code];
  if (field !== undefined && fields.includes(field)) named.set(field, [problemMessage(t, error)]);
  return [...named].map(([name, errors]) => ({ name, errors }));
}
