/** Operator tokens for tests and tools, signed with the console's development key (DESIGN §8). */
import { createHash } from 'node:crypto';
import { DEVELOPMENT_OPERATOR_SIGNING_KEY, signOperatorToken } from '@puhui/security';
import type { OperatorRole } from '@puhui/security';
import { SERVICE_NAMES } from '@puhui/config';

/** Every service that verifies operator tokens: a test token is good for all of them. */
const AUDIENCE = SERVICE_NAMES.filter((name: string) => name !== 'console');

/** A stable account id (uuid shape) for a label, so a test names its people ("admin", "checker"). */
export function testSubject(label: string): string {
  const hex = createHash('sha256').update(label).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export interface TestTokenOptions {
  /** The account id; by default one per role set, so two calls with the same roles are one person. */
  subject?: string;
  merchantId?: string;
  ttlSeconds?: number;
}

/** A fresh operator token (5 minutes unless `ttlSeconds`): mint one per request in long runs. */
export function operatorToken(roles: readonly OperatorRole[], options: TestTokenOptions = {}): string {
  return signOperatorToken(
    {
      subject: options.subject ?? testSubject(roles.join('+')),
      roles,
      audience: AUDIENCE,
      ...(options.merchantId === undefined ? {} : { merchantId: options.merchantId }),
      ...(options.ttlSeconds === undefined ? {} : { ttlSeconds: options.ttlSeconds }),
    },
    DEVELOPMENT_OPERATOR_SIGNING_KEY,
  );
}
