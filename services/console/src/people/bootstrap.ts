/**
 * `npm run console:bootstrap -- --username NAME --display-name "…"`: the first admin, when no
 * active admin exists, as an invitation whose one-time link is printed here. Refuses otherwise:
 * from then on admins invite everyone from the console.
 */
import { parseArgs } from 'node:util';
import { createLogger } from '@puhui/logging';
import { loadConsoleConfig } from '../config';
import { bootstrapFirstAdmin } from '../commands/accounts';
import { openConsoleDatabase } from './database';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { username: { type: 'string' }, 'display-name': { type: 'string' } },
    strict: true,
  });
  const username = values.username;
  const displayName = values['display-name'];
  if (username === undefined || displayName === undefined) {
    process.stderr.write('usage: npm run console:bootstrap -- --username NAME --display-name "Full name"\n');
    return 2;
  }
  const config = loadConsoleConfig();
  const pool = await openConsoleDatabase(config, 'bootstrap');
  try {
    const logger = createLogger({ service: 'console:bootstrap', level: 'warn' });
    const { account, invitation } = await bootstrapFirstAdmin(
      { pool, config, logger },
      { username, display_name: displayName },
    );
    process.stdout.write(
      [
        `Invited ${account.username} (${account.display_name}) as the first admin.`,
        `Open this link once, within 72 hours, to set the password (then enrol TOTP at the first sign-in):`,
        `  ${invitation.url}`,
        '',
      ].join('\n'),
    );
    return 0;
  } catch (error) {
    process.stderr.write(`console:bootstrap refused: ${(error as Error).message}\n`);
    return 1;
  } finally {
    await pool.end();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`console:bootstrap failed: ${String((error as Error).stack ?? error)}\n`);
    process.exit(1);
  },
);
