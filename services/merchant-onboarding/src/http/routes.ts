/**
 * merchant-onboarding's HTTP API (DESIGN §11), one file per resource. Operators with role
 * `admin` manage every merchant; a merchant's API key sees only its own record and keys
 * (access.ts).
 */
import type { Router } from 'express';
import type { ServiceDependencies } from '@puhui/service';
import type { MerchantOnboardingConfig } from '../config';
import { accessFor } from './access';
import { API_KEY_OPERATIONS, apiKeyRoutes } from './api-key-routes';
import { AUDIT_OPERATIONS, auditRoutes } from './audit-routes';
import { MERCHANT_OPERATIONS, merchantRoutes } from './merchant-routes';

export const MERCHANT_ONBOARDING_OPERATIONS = [
  ...MERCHANT_OPERATIONS,
  ...API_KEY_OPERATIONS,
  ...AUDIT_OPERATIONS,
];

export function merchantOnboardingRoutes(
  router: Router,
  dependencies: ServiceDependencies<MerchantOnboardingConfig>,
): void {
  const access = accessFor(dependencies);
  merchantRoutes(router, dependencies.pool, access);
  apiKeyRoutes(router, dependencies, access);
  auditRoutes(router, dependencies.pool, access);
}
