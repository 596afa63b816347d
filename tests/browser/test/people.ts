/**
 * The people of a run, created in the console's database of the run through the console's own
 * code (its password hashing and account store), active with a password, no second factor yet:
 * admins and finance enrol TOTP on their first sign-in in the browser.
 */
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import type { PuhuiSystem } from '../../e2e/test/system';
import { hashPassword } from '../../../services/console/src/domain/passwords';
import { insertAccount } from '../../../services/console/src/store/accounts';
import type { OperatorRole } from '../../../services/console/src/domain/account';

export interface Person {
  id: string;
  username: string;
  displayName: string;
  roles: readonly OperatorRole[];
  password: string;
}

/** Who the suite signs in as; each test uses its own people, so one test's failures lock no other's. */
const PEOPLE: readonly { username: string; displayName: string; roles: readonly OperatorRole[] }[] = [
  { username: 'admin-a', displayName: '管理员甲', roles: ['admin'] },
  { username: 'admin-b', displayName: '管理员乙', roles: ['admin'] },
  { username: 'finance', displayName: '财务丙', roles: ['finance'] },
  { username: 'auditor', displayName: '审计丁', roles: ['auditor'] },
  { username: 'wrong-password', displayName: '输错密码', roles: ['auditor'] },
  { username: 'locked-out', displayName: '被锁定者', roles: ['auditor'] },
];

export async function seedPeople(system: PuhuiSystem): Promise<Record<string, Person>> {
  const pool = new Pool({ connectionString: system.databaseUrl('console'), max: 2 });
  try {
    const people = await Promise.all(
      PEOPLE.map(async ({ username, displayName, roles }) => {
        const password = `puhui-browser-${username}`;
        const account = await insertAccount(pool, {
          id: randomUUID(),
          username,
          display_name: displayName,
          roles,
          merchant_id: null,
          status: 'active',
          password_hash: await hashPassword(password),
        });
        return { id: account.id, username, displayName, roles, password };
      }),
    );
    return Object.fromEntries(people.map((person) => [person.username, person]));
  } finally {
    await pool.end();
  }
}
