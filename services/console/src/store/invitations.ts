/** Invitations: the token is stored as its SHA-256 only. */
import type { Queryable } from '@puhui/postgres';

export async function insertInvitation(
  db: Queryable,
  invitation: { id: string; accountId: string; tokenSha256: Buffer; createdBy: string; expiresAt: Date },
): Promise<void> {
  await db.query(
    `INSERT INTO invitations (id, account_id, token_sha256, created_by, expires_at) VALUES ($1, $2, $3, $4, $5)`,
    [invitation.id, invitation.accountId, invitation.tokenSha256, invitation.createdBy, invitation.expiresAt],
  );
}

/** Takes an open, unexpired invitation (locks it): its account id, or undefined. */
export async function takeOpenInvitation(
  db: Queryable,
  tokenSha256: Buffer,
): Promise<{ id: string; account_id: string } | undefined> {
  const { rows } = await db.query<{ id: string; account_id: string }>(
    `SELECT id, account_id FROM invitations WHERE token_sha256 = $1 AND accepted_at IS NULL AND expires_at > now()
     FOR UPDATE`,
    [tokenSha256],
  );
  return rows[0];
}

export async function markInvitationAccepted(db: Queryable, id: string): Promise<void> {
  await db.query(`UPDATE invitations SET accepted_at = now() WHERE id = $1`, [id]);
}
