/**
 * `npm start` runs this after the demo programme loaded: the demo people (people/demo.ts), with
 * the merchant staff of the featured demo merchant (the one whose POS key the demo prints), and
 * where to sign in with which password.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConsoleConfig } from '../config';
import { openConsoleDatabase } from './database';
import { ensureDemoPeople } from './demo';

const ROOT = path.join(__dirname, '..', '..', '..', '..');
const DEMO_STATE = process.env.PUHUI_DEMO_STATE ?? path.join(ROOT, 'infra', '.run', 'demo-merchant-key.json');

function featuredMerchant(): string | undefined {
  if (!existsSync(DEMO_STATE)) return undefined;
  const state = JSON.parse(readFileSync(DEMO_STATE, 'utf8')) as { merchant_id?: unknown };
  return typeof state.merchant_id === 'string' ? state.merchant_id : undefined;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'merchant-id': { type: 'string' } }, strict: true });
  const merchantId = values['merchant-id'] ?? featuredMerchant();
  const config = loadConsoleConfig();
  const pool = await openConsoleDatabase(config, 'demo-people');
  try {
    const people = await ensureDemoPeople(pool, merchantId === undefined ? {} : { merchantId });
    const width = Math.max(...people.map(({ person }) => person.username.length));
    const origin = config.CONSOLE_PUBLIC_ORIGIN;
    process.stdout.write(
      [
        `Console: ${origin}  (sign in as one of these; admin and finance enrol TOTP at the first sign-in)`,
        ...people.map(
          ({ person, account }) =>
            `  ${person.username.padEnd(width)}  ${person.password.padEnd(width + 12)}  ${account.roles.join(', ')}${account.merchant_id === null ? '' : ` of ${account.merchant_id}`}`,
        ),
        ...(merchantId === undefined
          ? ['  (no demo merchant yet: the merchant staff account comes with the demo data)']
          : []),
        '',
      ].join('\n'),
    );
  } finally {
    await pool.end();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`demo people failed: ${String((error as Error).stack ?? error)}\n`);
  process.exit(1);
});
