/**
 * `npm run token -- admin [finance] [--subject NAME] [--ttl SECONDS]`: mints a local operator
 * bearer token signed with OPERATOR_TOKEN_SECRET (the development default when unset).
 */
import { DEVELOPMENT_TOKEN_SECRET, OPERATOR_ROLES, mintOperatorToken } from '@puhui/security';
import type { OperatorRole } from '@puhui/security';

const TTL_SECONDS_DEFAULT = 12 * 3600;
const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const index = args.indexOf(name);
  return index === -1 ? undefined : args[index + 1];
};
const roles = args.filter((arg, index) => !arg.startsWith('--') && !args[index - 1]?.startsWith('--'));
const unknown = roles.filter((role) => !(OPERATOR_ROLES as readonly string[]).includes(role));
if (roles.length === 0 || unknown.length > 0) {
  console.error(`usage: npm run token -- <${OPERATOR_ROLES.join('|')}>... [--subject NAME] [--ttl SECONDS]`);
  process.exit(2);
}
const secret = process.env.OPERATOR_TOKEN_SECRET ?? DEVELOPMENT_TOKEN_SECRET;
const token = mintOperatorToken(
  {
    subject: option('--subject') ?? `local-${roles.join('-')}`,
    roles: roles as OperatorRole[],
    ttlSeconds: Number(option('--ttl') ?? TTL_SECONDS_DEFAULT),
  },
  secret,
);
process.stdout.write(`${token}\n`);
