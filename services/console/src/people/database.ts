/** The console's database for its command-line tools: created and migrated as the service does at start. */
import path from 'node:path';
import { createLogger } from '@puhui/logging';
import { createPool, databaseUrl, ensureDatabase, migrate } from '@puhui/postgres';
import type { Pool } from '@puhui/postgres';
import type { ConsoleConfig } from '../config';

export async function openConsoleDatabase(config: ConsoleConfig, tool: string): Promise<Pool> {
  const logger = createLogger({ service: `console:${tool}`, level: 'warn' });
  await ensureDatabase(config.POSTGRES_URL, config.DATABASE_NAME, logger);
  const connectionString = databaseUrl(config.POSTGRES_URL, config.DATABASE_NAME);
  await migrate({
    connectionString,
    directory: path.join(__dirname, '..', '..', 'migrations'),
    table: 'pgmigrations',
    logger,
  });
  return createPool({ connectionString, connectionsMax: 2, applicationName: `console:${tool}`, logger });
}
