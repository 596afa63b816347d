import path from 'node:path';
import type { ServiceDefinition } from '@puhui/service';
import type { StarterKitConfig } from './config';
import { starterKitApi } from './http/api';
import { starterKitRoutes } from './http/routes';

export const SERVICE_NAME = 'starter-kit';

/**
 * What starter-kit is to libs/service: Postgres only for now. Declare `redis: true` or
 * `kafka: { publishes, consumers }` (and say so in the type's second argument) when it needs
 * them, and `jobs` for its background work.
 */
export function starterKitService(config: StarterKitConfig): ServiceDefinition<StarterKitConfig, never> {
  return {
    name: SERVICE_NAME,
    config,
    migrationsDirectory: path.join(__dirname, '..', 'migrations'),
    routes: starterKitRoutes,
    api: starterKitApi,
  };
}
