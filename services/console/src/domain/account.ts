/** Accounts and their roles (DESIGN §8): pure rules, no I/O. */
import { Unprocessable } from '@puhui/errors';
import { OPERATOR_ROLES } from '@puhui/security';
import type { OperatorRole } from '@puhui/security';

export { OPERATOR_ROLES };
export type { OperatorRole };

export const ACCOUNT_STATUSES = ['invited', 'active', 'disabled'] as const;
export type AccountStatus = (typeof ACCOUNT_STATUSES)[number];

export interface Account {
  id: string;
  username: string;
  display_name: string;
  roles: OperatorRole[];
  merchant_id: string | null;
  status: AccountStatus;
  password_hash: string | null;
  totp_secret_sealed: string | null;
  totp_pending_secret_sealed: string | null;
  totp_last_step: number | null;
  locked_until: Date | null;
  created_at: Date;
}

/** Roles whose holders must pass a second factor at every sign-in. */
const SECOND_FACTOR_ROLES: readonly OperatorRole[] = ['admin', 'finance'];

export function needsSecondFactor(roles: readonly OperatorRole[]): boolean {
  return roles.some((role) => SECOND_FACTOR_ROLES.includes(role));
}

/**
 * One account is never admin and finance (the one-person payout the issue shows); merchant staff
 * hold that role alone, with their merchant's id, and only they carry one.
 */
export function checkRoles(roles: readonly OperatorRole[], merchantId: string | null): void {
  if (roles.length === 0) throw new Unprocessable('roles_required', 'An account needs at least one role.');
  if (roles.includes('admin') && roles.includes('finance'))
    throw new Unprocessable(
      'conflicting_roles',
      'One account never holds admin and finance: the person who prepares money is not the one who pays it.',
    );
  if (roles.includes('merchant_staff') && (roles.length > 1 || merchantId === null))
    throw new Unprocessable(
      'merchant_staff_role',
      'Merchant staff hold the merchant_staff role alone, with their merchant_id.',
    );
  if (!roles.includes('merchant_staff') && merchantId !== null)
    throw new Unprocessable('merchant_id_unexpected', 'Only merchant staff carry a merchant_id.');
}

export const PASSWORD_LENGTH_MIN = 12;
export const PASSWORD_LENGTH_MAX = 256;

/** At least 12 characters (NIST SP 800-63B allows long passphrases) and not the username. */
export function checkPassword(password: string, username: string): void {
  if ([...password].length < PASSWORD_LENGTH_MIN)
    throw new Unprocessable('weak_password', `A password has at least ${PASSWORD_LENGTH_MIN} characters.`);
  if (password.length > PASSWORD_LENGTH_MAX)
    throw new Unprocessable('weak_password', `A password has at most ${PASSWORD_LENGTH_MAX} characters.`);
  if (password.toLowerCase().includes(username.toLowerCase()))
    throw new Unprocessable('weak_password', 'A password may not contain the username.');
}

/** What the API shows of an account: never its hashes or secrets. */
export interface AccountView {
  id: string;
  username: string;
  display_name: string;
  roles: OperatorRole[];
  merchant_id: string | null;
  status: AccountStatus;
  totp_enrolled: boolean;
  /** Until when sign-in is locked after repeated failures; null when it is not. */
  locked_until: string | null;
  created_at: string;
}

export function accountView(account: Account): AccountView {
  return {
    id: account.id,
    username: account.username,
    display_name: account.display_name,
    roles: [...account.roles],
    merchant_id: account.merchant_id,
    status: account.status,
    totp_enrolled: account.totp_secret_sealed !== null,
    locked_until:
      account.locked_until !== null && account.locked_until.getTime() > Date.now()
        ? account.locked_until.toISOString()
        : null,
    created_at: account.created_at.toISOString(),
  };
}
