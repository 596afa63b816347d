/**
 * Events on `puhui.checkouts.v1` (key: merchant id), published by transaction-settlement.
 * Cards appear as token and last 4 only, never as numbers.
 */
import { z } from 'zod';
import { TOPICS, defineEvent } from './envelope';

const timestamp = z.iso.datetime({ offset: true });
const fen = z.int().min(0);

/** Item categories a checkout line may name (what rules' `item_categories` refer to). */
export const ITEM_CATEGORIES = [
  'general',
  'ticket',
  'registration_fee',
  'examination_fee',
  'medicine',
  'room',
  'food',
  'beverage',
  'fare',
  'service',
  'other',
] as const;
export const itemCategory = z.enum(ITEM_CATEGORIES);

const checkoutFacts = {
  checkout_id: z.string(),
  merchant_id: z.string(),
  card_token: z.string(),
  card_last4: z.string().regex(/^\d{4}$/u),
  reference: z.string(),
  business_date: z.iso.date(),
};

export const checkoutCaptured = defineEvent(
  'puhui.checkout.captured.v1',
  TOPICS.checkouts,
  z.strictObject({
    ...checkoutFacts,
    gross_minor: fen,
    discount_minor: fen,
    merchant_funded_minor: fen,
    union_funded_minor: fen,
    net_minor: fen,
    budget_exhausted: z.boolean(),
    ruleset_version: z.int().min(0),
    grants: z.array(
      z.strictObject({
        rule_id: z.string(),
        version: z.int(),
        budget_id: z.string().nullable(),
        discount_minor: fen,
        union_funded_minor: fen,
      }),
    ),
    occurred_at: timestamp,
    captured_at: timestamp,
  }),
);

export const checkoutRefunded = defineEvent(
  'puhui.checkout.refunded.v1',
  TOPICS.checkouts,
  z.strictObject({
    ...checkoutFacts,
    refund_id: z.string(),
    amount_minor: fen,
    discount_reversed_minor: fen,
    union_reversed_minor: fen,
    member_refund_minor: fen,
    refunded_total_minor: fen,
    refunded_at: timestamp,
  }),
);

export const checkoutVoided = defineEvent(
  'puhui.checkout.voided.v1',
  TOPICS.checkouts,
  z.strictObject({ ...checkoutFacts, gross_minor: fen, voided_at: timestamp }),
);

export const CHECKOUT_EVENTS = [checkoutCaptured, checkoutRefunded, checkoutVoided] as const;
