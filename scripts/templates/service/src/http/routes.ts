/**
 * starter-kit's HTTP API. Each operation is described once with `defineOperation` (the zod
 * schemas that parse its request document it), listed in STARTER_KIT_OPERATIONS and mounted
 * below with `route(router, path, { get: documented(operation, handler) })`; the service
 * refuses to start with a route that is not one of its operations. Once an operation has
 * callers, say here how they are checked before any body is read,
 * `authenticateCallers(router, (request) => authenticate(request, settings))` (decision 0018):
 * the service refuses to start without it. A route that takes a larger body or a longer
 * upload than the platform's 100 KiB / 30 s names it in its options:
 * `route(router, path, handlers, { bodyLimitBytes, timeoutMs })`.
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
