/**
 * Registering and changing member cards. Each command is one transaction: the card row, its
 * audit entry and its event commit together. The number itself never gets this far: the
 * HTTP layer turns it into a token and last 4 on arrival.
 */
import { cardRegistered, cardUpdated } from '@puhui/discount';
import { Conflict, NotFound } from '@puhui/errors';
import { appendEvent } from '@puhui/events';
import { withTransaction } from '@puhui/postgres';
import { changedCard, factsOf, sameRegistration } from '../domain/card';
import type { CardChange, CardRegistration } from '../domain/card';
import { cardView } from '../views/card';
import type { CardView } from '../views/card';
import { appendAudit } from '../store/audit';
import { findCard, insertCard, lockCard, saveCardChange } from '../store/cards';
import { requestSheetInvalidation } from '../store/sheet-invalidations';
import { EVENT_SOURCE } from './context';
import type { CommandContext } from './context';

/**
 * Registers a card. Repeating a registration exactly (same member, union and tier) answers
 * the card as it is, so a client may retry safely; the same card with other details is a
 * conflict: moving a card between members is not a registration.
 */
export async function registerCard(
  context: CommandContext,
  registration: CardRegistration,
): Promise<{ created: boolean; card: CardView }> {
  return withTransaction(context.pool, async (client) => {
    const card = await insertCard(client, registration);
    if (card === undefined) {
      const existing = await findCard(client, registration.card_token);
      if (existing === undefined) throw new Error('a conflicting card must exist');
      if (!sameRegistration(existing, registration)) {
        throw new Conflict(
          'card_already_registered',
          'This card is already registered with another member, union or tier.',
          { card_token: existing.card_token },
        );
      }
      return { created: false, card: cardView(existing) };
    }
    const view = cardView(card);
    await appendAudit(client, {
      card_token: card.card_token,
      action: 'card_registered',
      actor: context.actor,
      request_id: context.requestId,
      before: null,
      after: view,
    });
    await appendEvent(client, EVENT_SOURCE, {
      definition: cardRegistered,
      subject: card.card_token,
      data: { card: factsOf(card), registered_at: card.created_at },
    });
    return { created: true, card: view };
  });
}

/** Changes tier and/or status; a change that changes nothing records and announces nothing. */
export async function updateCard(
  context: CommandContext,
  cardToken: string,
  change: CardChange,
): Promise<CardView> {
  const outcome = await withTransaction(context.pool, async (client) => {
    const before = await lockCard(client, cardToken);
    if (before === undefined) throw new NotFound(`Card ${cardToken}`);
    const { after, changed_fields } = changedCard(before, change, new Date().toISOString());
    if (changed_fields.length === 0) return { view: cardView(before), invalidation: null };
    await saveCardChange(client, after);
    const invalidation = await requestSheetInvalidation(client, cardToken);
    await appendAudit(client, {
      card_token: cardToken,
      action: 'card_updated',
      actor: context.actor,
      request_id: context.requestId,
      before: cardView(before),
      after: cardView(after),
    });
    await appendEvent(client, EVENT_SOURCE, {
      definition: cardUpdated,
      subject: cardToken,
      data: { card: factsOf(after), changed_fields, updated_at: after.updated_at },
    });
    return { view: cardView(after), invalidation };
  });
  // After the commit, so that a sheet computed meanwhile cannot outlive the change.
  if (outcome.invalidation !== null) await context.sheets.invalidate(outcome.invalidation);
  return outcome.view;
}
