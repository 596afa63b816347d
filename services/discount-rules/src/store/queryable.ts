import type { PoolClient } from 'pg';
import type { Pool } from '@puhui/postgres';

/** A pool for single statements, or the client of an open transaction. */
export type Queryable = Pick<PoolClient, 'query'> | Pool;

export const isoOrNull = (value: Date | null): string | null => (value === null ? null : value.toISOString());
