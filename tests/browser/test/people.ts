/**
 * The people of a run: the demo people, created in the console's database of the run by the
 * console's own code (`ensureDemoPeople`, what `npm start` runs), active with the password
 * `puhui-demo-<username>` and no second factor yet: admins and finance enrol TOTP at their first
 * sign-in, in the browser.
 */
import { Pool } from 'pg';
import type { PuhuiSystem } from '../../e2e/test/system';
import { ensureDemoPeople } from '../../../services/console/src';

export interface Person {
  id: string;
  username: string;
  displayName: string;
  roles: readonly string[];
  password: string;
}

/** Who plays which part: two admins (maker and checker), finance, an auditor, and one to lock out. */
export const CAST = {
  adminA: 'admin',
  adminB: 'admin2',
  finance: 'finance',
  auditor: 'auditor',
  lockedOut: 'finance2',
} as const;

export async function seedPeople(system: PuhuiSystem): Promise<Record<string, Person>> {
  const pool = new Pool({ connectionString: system.databaseUrl('console'), max: 2 });
  try {
    const seeded = await ensureDemoPeople(pool);
    return Object.fromEntries(
      seeded.map(({ person, account }) => [
        person.username,
        {
          id: account.id,
          username: person.username,
          displayName: account.display_name,
          roles: account.roles,
          password: person.password,
        },
      ]),
    );
  } finally {
    await pool.end();
  }
}
