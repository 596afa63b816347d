import path from 'node:path';
import type { MigrationSource } from '@puhui/postgres';

export { requestHash, runIdempotently } from './idempotent';
export type {
  IdempotencyContext,
  IdempotentEffectTools,
  IdempotentOutcome,
  IdempotentRequest,
} from './idempotent';

/** The idempotency_keys table; a service that uses runIdempotently lists it in its definition. */
export const IDEMPOTENCY_MIGRATIONS: MigrationSource = {
  directory: path.join(__dirname, '..', 'migrations'),
  table: 'pgmigrations_idempotency',
};
