/** merchant-onboarding's API as documented: served as /openapi.json and written by `npm run docs`. */
import path from 'node:path';
import { apiTitleAndVersion } from '@puhui/http';
import type { ServiceApi } from '@puhui/service';
import { MERCHANT_ONBOARDING_OPERATIONS } from './routes';

export const merchantOnboardingApi: ServiceApi = {
  ...apiTitleAndVersion('merchant-onboarding', path.join(__dirname, '..', '..')),
  description:
    'Merchant applications, review, lifecycle and API keys (DESIGN §2, §11). JSON with snake_case fields; errors are `application/problem+json` with a stable `code`. Operators send `Authorization: Bearer <token>` (role `admin`); a merchant sends its secret key and sees only its own record.',
  tags: [
    { name: 'merchants', description: 'Applications and merchant records.' },
    {
      name: 'merchant lifecycle',
      description: 'draft → submitted → in_review → active ⇄ suspended; rejected; terminated.',
    },
    {
      name: 'api keys',
      description: 'Secret keys merchants call checkouts with; shown once, stored hashed.',
    },
    {
      name: 'approvals',
      description:
        'Maker–checker: approving an application and a live merchant’s change of settlement account, identity or category each need a second admin.',
    },
    { name: 'audit', description: 'The append-only audit trail.' },
  ],
  operations: MERCHANT_ONBOARDING_OPERATIONS,
};
