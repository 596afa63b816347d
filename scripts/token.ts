/**
 * `npm run token -- admin [--subject ID] [--merchant MERCHANT_ID]`: a development operator token,
 * as the console would sign it for a signed-in person — ES256, 5 minutes, for every service —
 * signed with the first of CONSOLE_SIGNING_KEYS when set, else the development key (which the
 * services refuse in production). People get their tokens from the console; this is for scripts.
 */
import { SERVICE_NAMES } from '@puhui/config';
import {
  OPERATOR_ROLES,
  OPERATOR_TOKEN_MAX_SECONDS,
  signOperatorToken,
  toolSigningKey,
} from '@puhui/security';
import type { OperatorRole } from '@puhui/security';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const index = args.indexOf(name);
  return index === -1 ? undefined : args[index + 1];
};
const roles = args.filter((arg, index) => !arg.startsWith('--') && !args[index - 1]?.startsWith('--'));
const unknown = roles.filter((role) => !(OPERATOR_ROLES as readonly string[]).includes(role));
if (roles.length === 0 || unknown.length > 0) {
  console.error(
    `usage: npm run token -- <${OPERATOR_ROLES.join('|')}>... [--subject ACCOUNT_ID] [--merchant MERCHANT_ID]`,
  );
  process.exit(2);
}
if (roles.includes('admin') && roles.includes('finance')) {
  console.error('One person is never admin and finance: the services refuse such a token.');
  process.exit(2);
}
/** A fixed account id per role, so that a script's audit trail names one person. */
const DEFAULT_SUBJECTS: Record<OperatorRole, string> = {
  admin: '00000000-0000-4000-8000-00000000a001',
  finance: '00000000-0000-4000-8000-00000000f001',
  auditor: '00000000-0000-4000-8000-00000000ad01',
  merchant_staff: '00000000-0000-4000-8000-000000005001',
};
const { key, source } = toolSigningKey();
const merchantId = option('--merchant');
const token = signOperatorToken(
  {
    // A fixed uuid per role set unless given: the audit trail names this account id.
    subject: option('--subject') ?? DEFAULT_SUBJECTS[roles[0] as OperatorRole],
    roles: roles as OperatorRole[],
    audience: SERVICE_NAMES.filter((name) => name !== 'console'),
    ...(merchantId === undefined ? {} : { merchantId }),
  },
  key,
);
console.error(
  `A development token (signed with the ${source}, key ${key.kid}), valid ${OPERATOR_TOKEN_MAX_SECONDS / 60} minutes; run this again for a fresh one.`,
);
process.stdout.write(`${token}\n`);
