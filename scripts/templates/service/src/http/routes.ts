/**
 * starter-kit's HTTP API. Each operation is described once with `defineOperation` (the zod
 * schemas that parse its request document it), listed in STARTER_KIT_OPERATIONS and mounted
 * below with `route(router, path, { get: documented(operation, handler) })`; the service
 * refuses to start with a route that is not one of its operations.
 */
import type { Router } from 'express';
import type { Operation } from '@puhui/http';
import type { ServiceDependencies } from '@puhui/service';
import type { StarterKitConfig } from '../config';

export const STARTER_KIT_OPERATIONS: readonly Operation[] = [];

export function starterKitRoutes(
  _router: Router,
  _dependencies: ServiceDependencies<StarterKitConfig, never>,
): void {}
