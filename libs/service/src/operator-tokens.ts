/**
 * The operator token verifier of a service (DESIGN §8): the console's JWKS at
 * OPERATOR_JWKS_URL (cached, refetched for an unknown key id), tokens addressed to this service.
 * Built once per service, when its routes are mounted.
 */
import { DEVELOPMENT_OPERATOR_JWKS, operatorTokenVerifier } from '@puhui/security';
import type { OperatorTokenVerifier } from '@puhui/security';
import type { ServiceConfig } from './environment';

/**
 * Verifies operator tokens whose audience is `serviceName` (its registry name). Without
 * OPERATOR_JWKS_URL it trusts the development key, except in production, where it throws, so
 * the service refuses to start.
 */
export function operatorTokenVerifierFor(
  config: Pick<ServiceConfig, 'NODE_ENV' | 'OPERATOR_JWKS_URL'>,
  serviceName: string,
): OperatorTokenVerifier {
  if (config.OPERATOR_JWKS_URL !== undefined)
    return operatorTokenVerifier({ url: new URL(config.OPERATOR_JWKS_URL) }, serviceName);
  if (config.NODE_ENV === 'production')
    throw new Error(
      "Set OPERATOR_JWKS_URL (the console's /.well-known/jwks.json): the development operator key is refused in production.",
    );
  return operatorTokenVerifier({ jwks: DEVELOPMENT_OPERATOR_JWKS }, serviceName);
}
