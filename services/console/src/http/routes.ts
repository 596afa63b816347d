/**
 * The console's HTTP API (spec §4): sessions, people, the audit trail, the JWKS and the inbox
 * under /console/v1 and /.well-known, then the web app for every other GET. The session guard
 * and the proxy to the services are mounted ahead of the body parser (streamingRoutes).
 */
import type { Router } from 'express';
import { authenticateCallers } from '@puhui/http';
import type { ServiceDependencies } from '@puhui/service';
import type { ConsoleConfig } from '../config';
import type { ConsoleContext } from '../commands/context';
import { KEYS_AND_INBOX_OPERATIONS, keysAndInboxRoutes } from './keys-and-inbox-routes';
import { PEOPLE_OPERATIONS, peopleRoutes } from './people-routes';
import { proxyRoutes } from './proxy';
import { anySession, mountConsoleCsrfGuard, mountSessionGuard } from './session-guard';
import { SESSION_OPERATIONS, sessionRoutes } from './session-routes';
import { webRoutes } from './web';

export const CONSOLE_OPERATIONS = [...SESSION_OPERATIONS, ...PEOPLE_OPERATIONS, ...KEYS_AND_INBOX_OPERATIONS];

function contextOf(dependencies: ServiceDependencies<ConsoleConfig, never>): ConsoleContext {
  return { pool: dependencies.pool, config: dependencies.config, logger: dependencies.logger };
}

/** Ahead of the body parser: who the session is (and CSRF), then the proxy, whose bodies stream. */
export function consoleStreamingRoutes(
  router: Router,
  dependencies: ServiceDependencies<ConsoleConfig, never>,
): void {
  mountSessionGuard(router, dependencies.pool, dependencies.config);
  proxyRoutes(router, dependencies.config);
}

export function consoleRoutes(router: Router, dependencies: ServiceDependencies<ConsoleConfig, never>): void {
  const context = contextOf(dependencies);
  // A person's API needs a session (found ahead of the parser) before its body is read; sign-in,
  // accepting an invitation and the JWKS have no callers and read theirs as before (decision 0018).
  authenticateCallers(router, (_request, response) => anySession(response));
  mountConsoleCsrfGuard(router, dependencies.config);
  sessionRoutes(router, context);
  peopleRoutes(router, context);
  keysAndInboxRoutes(router, context);
  webRoutes(router, dependencies.config.CONSOLE_WEB_DIR);
}
