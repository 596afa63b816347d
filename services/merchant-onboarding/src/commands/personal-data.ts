/**
 * Personal information at rest and when shown (PIPL, DESIGN §8, decision 0016): the contact's
 * name, mobile and e-mail and the legal representative's name are sealed for their merchant
 * (AAD = merchant id) beside masked forms, and shown masked everywhere — API answers, audit rows,
 * approval requests, events, logs. An admin who needs a plaintext asks for it with a reason: the
 * reveal answers it once, uncached, and the audit trail records who, when, which fields and why,
 * never the values.
 */
import { Conflict, Forbidden, NotFound } from '@puhui/errors';
import { keyedHash, maskMobile, maskResidentId } from '@puhui/kyc';
import { withTransaction } from '@puhui/postgres';
import { FieldUnsealable, maskEmail, maskPersonName, openField, sealField } from '@puhui/security';
import { sealedValueOf } from '../domain/merchant';
import type { Contact, ContactInput, LegalRepresentative, RevealableField } from '../domain/merchant';
import { appendAudit } from '../store/audit';
import { findMerchant } from '../store/merchants';
import type { CommandContext, Secrets } from './context';

export function sealContact(contact: ContactInput, secrets: Secrets, merchantId: string): Contact {
  const seal = (value: string) => sealField(value, secrets.fieldKey, merchantId);
  return {
    name_masked: maskPersonName(contact.name),
    name_sealed: seal(contact.name),
    mobile_masked: maskMobile(contact.mobile),
    mobile_sealed: seal(contact.mobile),
    mobile_hash: keyedHash(contact.mobile, secrets.identityHashKey),
    email_masked: maskEmail(contact.email),
    email_sealed: seal(contact.email),
  };
}

export function sealLegalRepresentative(
  representative: { name: string; id_number: string },
  secrets: Secrets,
  merchantId: string,
): LegalRepresentative {
  return {
    name_masked: maskPersonName(representative.name),
    name_sealed: sealField(representative.name, secrets.fieldKey, merchantId),
    id_number_masked: maskResidentId(representative.id_number),
    id_number_hash: keyedHash(representative.id_number, secrets.identityHashKey),
  };
}

/**
 * A personal account's holder as stored: masked where the plaintext was, sealed for the merchant
 * beside it (the bank's payment file needs the real name: settlement opens it), and a keyed hash
 * so that a changed holder with the same masked form still counts as a new account.
 */
export function sealHolder(
  name: string,
  secrets: Secrets,
  merchantId: string,
): { account_name: string; account_name_sealed: string; account_name_hash: string } {
  return {
    account_name: maskPersonName(name),
    account_name_sealed: sealField(name, secrets.fieldKey, merchantId),
    account_name_hash: keyedHash(name.trim(), secrets.identityHashKey),
  };
}

/** What a reveal answers: each asked field's plaintext (null when the merchant has none yet). */
export interface RevealedPersonalData {
  merchant_id: string;
  fields: Partial<Record<RevealableField, string | null>>;
  revealed_at: string;
}

/**
 * The plaintext of `fields` for an admin, with the reason they gave. Auditors and merchants are
 * refused before this (they may read masked values only); the audit row is written in the same
 * transaction as the read, so no plaintext leaves without its record. A value that does not open
 * for this merchant (pasted from another row, tampered) answers 409 naming the fields, not 500.
 */
export async function revealPersonalData(
  context: CommandContext,
  merchantId: string,
  fields: readonly RevealableField[],
  reason: string,
): Promise<RevealedPersonalData> {
  if (context.operator === null || !context.operator.roles.includes('admin'))
    throw new Forbidden('Only an admin reveals personal data.');
  return withTransaction(context.pool, async (client) => {
    const merchant = await findMerchant(client, merchantId);
    if (merchant === undefined) throw new NotFound(`Merchant ${merchantId}`);
    const revealed: RevealedPersonalData['fields'] = {};
    const unreadable: string[] = [];
    for (const field of fields) {
      const sealed = sealedValueOf(merchant, field);
      try {
        revealed[field] = sealed === null ? null : openField(sealed, context.secrets.fieldKey, merchantId);
      } catch (error) {
        if (!(error instanceof FieldUnsealable)) throw error;
        unreadable.push(field);
      }
    }
    if (unreadable.length > 0)
      throw new Conflict(
        'personal_data_unreadable',
        `The sealed value of ${unreadable.join(', ')} does not open for this merchant (tampered or copied from another merchant).`,
        { fields: unreadable },
      );
    const revealedAt = new Date().toISOString();
    await appendAudit(client, {
      merchant_id: merchantId,
      action: 'personal_data_revealed',
      actor: context.actor,
      request_id: context.requestId,
      before: null,
      after: { fields, reason, revealed_at: revealedAt },
    });
    return { merchant_id: merchantId, fields: revealed, revealed_at: revealedAt };
  });
}
