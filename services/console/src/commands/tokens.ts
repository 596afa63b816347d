/**
 * Operator tokens for a signed-in person (spec §1): ES256, signed with the first of
 * CONSOLE_SIGNING_KEYS, for one service (aud = its registry name), 5 minutes, minted per call.
 */
import { OPERATOR_TOKEN_MAX_SECONDS, publicJwks, signOperatorToken } from '@puhui/security';
import type { ConsoleConfig, ProxiedService } from '../config';
import type { Account } from '../domain/account';

export function operatorTokenFor(config: ConsoleConfig, account: Account, service: ProxiedService): string {
  const [signingKey] = config.CONSOLE_SIGNING_KEYS;
  if (signingKey === undefined) throw new Error('CONSOLE_SIGNING_KEYS is empty');
  return signOperatorToken(
    {
      subject: account.id,
      roles: account.roles,
      ...(account.merchant_id === null ? {} : { merchantId: account.merchant_id }),
      audience: service,
      ttlSeconds: OPERATOR_TOKEN_MAX_SECONDS,
    },
    signingKey,
  );
}

/** Every configured key's public half: the first signs, the others still verify (rotation). */
export function consoleJwks(config: ConsoleConfig) {
  return publicJwks(config.CONSOLE_SIGNING_KEYS);
}
