/**
 * People: admins invite (the invitation's token is shown once and kept as its SHA-256, 72 hours),
 * the invited set their password, admins change roles and names and disable accounts (which
 * ends their sessions). An admin never disables or demotes themselves. All of it is audited.
 */
import { randomUUID } from 'node:crypto';
import { Conflict, NotFound } from '@puhui/errors';
import { withTransaction } from '@puhui/postgres';
import type { PoolClient } from '@puhui/postgres';
import { accountView, checkPassword, checkRoles } from '../domain/account';
import type { Account, AccountView, OperatorRole } from '../domain/account';
import { SelfChangeRefused } from '../domain/errors';
import { hashPassword } from '../domain/passwords';
import { newSecret, sha256 } from '../domain/session';
import {
  activateWithPassword,
  clearTotp,
  countActiveAdmins,
  disableAccount as storeDisable,
  findAccount,
  insertAccount,
  updateProfile,
} from '../store/accounts';
import { recordAudit } from '../store/audit';
import { insertInvitation, markInvitationAccepted, takeOpenInvitation } from '../store/invitations';
import { endAccountSessions } from '../store/sessions';
import type { ConsoleContext, Origin } from './context';
import { personActor } from './context';

export const INVITATION_HOURS = 72;

export interface Invitation {
  token: string;
  url: string;
  expires_at: string;
}

export interface NewPerson {
  username: string;
  display_name: string;
  roles: OperatorRole[];
  merchant_id?: string | undefined;
}

/** Where the web app takes an invitation: the token in the fragment never reaches a server log. */
export function invitationUrl(publicOrigin: string, token: string): string {
  return `${publicOrigin}/invitation#token=${token}`;
}

async function invite(
  client: PoolClient,
  context: ConsoleContext,
  person: NewPerson,
  actor: string,
  origin: Origin,
): Promise<{ account: Account; invitation: Invitation }> {
  const merchantId = person.merchant_id ?? null;
  checkRoles(person.roles, merchantId);
  const account = await insertAccount(client, {
    id: randomUUID(),
    username: person.username,
    display_name: person.display_name,
    roles: person.roles,
    merchant_id: merchantId,
    status: 'invited',
    password_hash: null,
  });
  const token = newSecret();
  const expiresAt = new Date(Date.now() + INVITATION_HOURS * 3_600_000);
  await insertInvitation(client, {
    id: randomUUID(),
    accountId: account.id,
    tokenSha256: sha256(token),
    createdBy: actor,
    expiresAt,
  });
  await recordAudit(client, {
    actor,
    action: 'account.invited',
    accountId: account.id,
    ip: origin.ip,
    requestId: origin.requestId,
    after: accountView(account),
  });
  return {
    account,
    invitation: {
      token,
      url: invitationUrl(context.config.CONSOLE_PUBLIC_ORIGIN, token),
      expires_at: expiresAt.toISOString(),
    },
  };
}

export async function invitePerson(
  context: ConsoleContext,
  admin: Account,
  person: NewPerson,
  origin: Origin,
): Promise<{ account: AccountView; invitation: Invitation }> {
  const invited = await withTransaction(context.pool, (client) =>
    invite(client, context, person, personActor(admin.id), origin),
  );
  return { account: accountView(invited.account), invitation: invited.invitation };
}

/** The first admin, when no active admin exists (`npm run console:bootstrap`). */
export async function bootstrapFirstAdmin(
  context: ConsoleContext,
  person: { username: string; display_name: string },
): Promise<{ account: AccountView; invitation: Invitation }> {
  const invited = await withTransaction(context.pool, async (client) => {
    // One bootstrap at a time: two at once would each see no admin.
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('console:bootstrap'))`);
    if ((await countActiveAdmins(client)) > 0)
      throw new Conflict(
        'admin_exists',
        'An active admin exists: admins invite everyone else from the console.',
      );
    return invite(client, context, { ...person, roles: ['admin'] }, 'system:bootstrap', {
      ip: null,
      userAgent: null,
      requestId: null,
    });
  });
  return { account: accountView(invited.account), invitation: invited.invitation };
}

export class InvitationNotFound extends NotFound {
  constructor() {
    super('The invitation', {
      detail: 'The invitation is unknown, expired or already used. Ask an admin for a new one.',
    });
  }
}

export async function acceptInvitation(
  context: ConsoleContext,
  body: { token: string; password: string },
  origin: Origin,
): Promise<AccountView> {
  // Hashed before the transaction: Argon2 takes milliseconds that no row lock should wait for.
  const passwordHash = await hashPassword(body.password);
  const account = await withTransaction(context.pool, async (client) => {
    const invitation = await takeOpenInvitation(client, sha256(body.token));
    const invited =
      invitation === undefined ? undefined : await findAccount(client, invitation.account_id, true);
    if (invitation === undefined || invited?.status !== 'invited') throw new InvitationNotFound();
    checkPassword(body.password, invited.username);
    await activateWithPassword(client, invited.id, passwordHash);
    await markInvitationAccepted(client, invitation.id);
    await recordAudit(client, {
      actor: personActor(invited.id),
      action: 'invitation.accepted',
      accountId: invited.id,
      ip: origin.ip,
      requestId: origin.requestId,
    });
    return (await findAccount(client, invited.id)) as Account;
  });
  return accountView(account);
}

async function lockedTarget(client: PoolClient, id: string): Promise<Account> {
  const account = await findAccount(client, id, true);
  if (account === undefined) throw new NotFound(`Account ${id}`);
  return account;
}

/**
 * New roles or display name. A role change ends the person's sessions: the next sign-in asks
 * for the second factor a new admin or finance role needs.
 */
export async function updatePerson(
  context: ConsoleContext,
  admin: Account,
  id: string,
  change: { roles?: OperatorRole[] | undefined; display_name?: string | undefined },
  origin: Origin,
): Promise<AccountView> {
  const updated = await withTransaction(context.pool, async (client) => {
    const before = await lockedTarget(client, id);
    const roles = change.roles ?? before.roles;
    const rolesChanged = [...roles].sort().join() !== [...before.roles].sort().join();
    if (before.id === admin.id && rolesChanged && !roles.includes('admin'))
      throw new SelfChangeRefused('An admin cannot take the admin role from themselves; ask another admin.');
    checkRoles(roles, before.merchant_id);
    const after = await updateProfile(client, id, {
      roles,
      display_name: change.display_name ?? before.display_name,
    });
    const entry = { actor: personActor(admin.id), accountId: id, ip: origin.ip, requestId: origin.requestId };
    if (rolesChanged) {
      await recordAudit(client, {
        ...entry,
        action: 'account.roles_changed',
        before: { roles: before.roles },
        after: { roles },
      });
      if (id !== admin.id) await endAccountSessions(client, id, 'roles_changed');
    }
    if (after.display_name !== before.display_name)
      await recordAudit(client, {
        ...entry,
        action: 'account.renamed',
        before: { display_name: before.display_name },
        after: { display_name: after.display_name },
      });
    return after;
  });
  return accountView(updated);
}

export async function disablePerson(
  context: ConsoleContext,
  admin: Account,
  id: string,
  reason: string,
  origin: Origin,
): Promise<AccountView> {
  if (id === admin.id) throw new SelfChangeRefused('An admin cannot disable themselves; ask another admin.');
  const disabled = await withTransaction(context.pool, async (client) => {
    const before = await lockedTarget(client, id);
    if (before.status === 'disabled') return before;
    const after = await storeDisable(client, id, reason, personActor(admin.id));
    const ended = await endAccountSessions(client, id, 'account_disabled');
    await recordAudit(client, {
      actor: personActor(admin.id),
      action: 'account.disabled',
      accountId: id,
      ip: origin.ip,
      requestId: origin.requestId,
      before: { status: before.status },
      after: { status: 'disabled' },
      detail: { reason, sessions_ended: ended },
    });
    return after;
  });
  return accountView(disabled);
}

/**
 * A person who lost their authenticator: another admin forgets their second factor and ends
 * their sessions; they enrol a new one at their next sign-in (their password still needed).
 */
export async function resetSecondFactor(
  context: ConsoleContext,
  admin: Account,
  id: string,
  reason: string,
  origin: Origin,
): Promise<AccountView> {
  if (id === admin.id)
    throw new SelfChangeRefused('An admin cannot reset their own second factor; ask another admin.');
  const reset = await withTransaction(context.pool, async (client) => {
    const before = await lockedTarget(client, id);
    const after = await clearTotp(client, id);
    const ended = await endAccountSessions(client, id, 'second_factor_reset');
    await recordAudit(client, {
      actor: personActor(admin.id),
      action: 'totp.reset',
      accountId: id,
      ip: origin.ip,
      requestId: origin.requestId,
      before: { totp_enrolled: before.totp_secret_sealed !== null },
      after: { totp_enrolled: false },
      detail: { reason, sessions_ended: ended },
    });
    return after;
  });
  return accountView(reset);
}
