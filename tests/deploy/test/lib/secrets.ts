/**
 * Secret values of the shape each variable takes in production, generated for each run with
 * randomBytes as an operator would with `openssl rand` (deploy/README.md). They stand in for
 * the cluster's Secrets so that a service's configuration can be parsed as in production.
 */
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';

function hex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

/** An ES256 private JWK like the console's CONSOLE_SIGNING_KEYS entries. */
function signingKeys(): string {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = privateKey.export({ format: 'jwk' });
  return JSON.stringify([{ ...jwk, kid: `console-${hex(4)}`, alg: 'ES256', use: 'sig' }]);
}

const GENERATORS: Record<string, () => string> = {
  FIELD_ENCRYPTION_KEY: () => randomBytes(32).toString('base64'),
  TOTP_SECRET_ENCRYPTION_KEY: () => randomBytes(32).toString('base64'),
  SERVICE_CREDENTIAL: () => `svc_${randomBytes(32).toString('base64url')}`,
  SERVICE_CREDENTIALS: () =>
    `transaction-settlement:rate_sheet_reader:${createHash('sha256').update(hex(32)).digest('hex')}`,
  CONSOLE_SIGNING_KEYS: signingKeys,
  POSTGRES_URL: () => `postgres://puhui:${hex(24)}@postgres.puhui-data.svc.cluster.local:5432`,
};

/** A fresh value for `variable`; HMAC keys, passwords and tokens are 64 random hex digits. */
export function productionSecret(variable: string): string {
  return (GENERATORS[variable] ?? (() => hex(32)))();
}
