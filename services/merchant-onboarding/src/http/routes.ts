/**
 * merchant-onboarding's HTTP API (DESIGN §11), one file per resource. Operators with role
 * `admin` manage every merchant; a merchant's API key sees only its own record and keys
 * (access.ts).
 */
import type { Router } from 'express';
import { APPROVAL_OPERATIONS, approvalRoutes } from '@puhui/dual-control';
import { auditTrailRoutes, authenticateCallers } from '@puhui/http';
import type { ServiceDependencies } from '@puhui/service';
import type { MerchantOnboardingConfig } from '../config';
import { merchantDualControl } from '../commands/approvals';
import { listAudit } from '../store/audit';
import { accessFor } from './access';
import { API_KEY_OPERATIONS, apiKeyRoutes } from './api-key-routes';
import { MERCHANT_OPERATIONS, merchantRoutes } from './merchant-routes';
import { auditEventListSchema } from './responses';
import { auditQuery } from './schemas';

/** The append-only audit trail: who changed what, when, before and after. */
const auditTrail = auditTrailRoutes(
  auditQuery,
  auditEventListSchema,
  'Who changed what, when, before and after',
);

export const MERCHANT_ONBOARDING_OPERATIONS = [
  ...MERCHANT_OPERATIONS,
  ...API_KEY_OPERATIONS,
  ...APPROVAL_OPERATIONS,
  ...auditTrail.operations,
];

export function merchantOnboardingRoutes(
  router: Router,
  dependencies: ServiceDependencies<MerchantOnboardingConfig>,
): void {
  const dualControl = merchantDualControl();
  const access = accessFor(dependencies, dualControl);
  authenticateCallers(router, access.caller);
  merchantRoutes(router, dependencies.pool, access);
  apiKeyRoutes(router, dependencies, access);
  approvalRoutes({ router, pool: dependencies.pool, dualControl, checkerOf: access.asChecker });
  auditTrail.mount(router, access.asAdmin, (query) => listAudit(dependencies.pool, query));
}
