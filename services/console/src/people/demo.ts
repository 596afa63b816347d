/**
 * The demo's people (`npm start`): two admins (maker and checker), two finance officers, an
 * auditor and one merchant's staff, each with the password `puhui-demo-<username>`. Created
 * active, without a second factor: admin and finance enrol TOTP at their first sign-in.
 * Idempotent: someone already there is left as they are.
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from '@puhui/postgres';
import type { OperatorRole } from '../domain/account';
import { accountView } from '../domain/account';
import type { AccountView } from '../domain/account';
import { hashPassword } from '../domain/passwords';
import { findAccountByUsername, insertAccount } from '../store/accounts';
import { recordAudit } from '../store/audit';

export interface DemoPerson {
  username: string;
  display_name: string;
  roles: OperatorRole[];
  password: string;
}

export function demoPassword(username: string): string {
  return `puhui-demo-${username}`;
}

const PEOPLE: ReadonlyArray<Omit<DemoPerson, 'password'>> = [
  { username: 'admin', display_name: '王芳', roles: ['admin'] },
  { username: 'admin2', display_name: '李强', roles: ['admin'] },
  { username: 'finance', display_name: '张敏', roles: ['finance'] },
  { username: 'finance2', display_name: '刘洋', roles: ['finance'] },
  { username: 'auditor', display_name: '陈静', roles: ['auditor'] },
];

/** The demo people; `merchant` (merchant_staff) only when a merchant id is given. */
export function demoPeople(merchantId?: string): Array<DemoPerson & { merchant_id?: string }> {
  const people: Array<DemoPerson & { merchant_id?: string }> = PEOPLE.map((person) => ({
    ...person,
    roles: [...person.roles],
    password: demoPassword(person.username),
  }));
  if (merchantId !== undefined)
    people.push({
      username: 'merchant',
      display_name: '赵丽',
      roles: ['merchant_staff'],
      merchant_id: merchantId,
      password: demoPassword('merchant'),
    });
  return people;
}

export async function ensureDemoPeople(
  pool: Pool,
  options: { merchantId?: string } = {},
): Promise<Array<{ person: DemoPerson; account: AccountView; created: boolean }>> {
  const results = [];
  for (const person of demoPeople(options.merchantId)) {
    const existing = await findAccountByUsername(pool, person.username);
    if (existing !== undefined) {
      results.push({ person, account: accountView(existing), created: false });
      continue;
    }
    const account = await insertAccount(pool, {
      id: randomUUID(),
      username: person.username,
      display_name: person.display_name,
      roles: person.roles,
      merchant_id: person.merchant_id ?? null,
      status: 'active',
      password_hash: await hashPassword(person.password),
    });
    await recordAudit(pool, {
      actor: 'system:demo',
      action: 'account.created_for_demo',
      accountId: account.id,
      after: accountView(account),
    });
    results.push({ person, account: accountView(account), created: true });
  }
  return results;
}
