/** Events on `puhui.settlements.v1` (key: merchant id), published by transaction-settlement. */
import { z } from 'zod';
import { TOPICS, defineEvent } from './envelope';

const timestamp = z.iso.datetime({ offset: true });
const fen = z.int();

export const settlementBatchCreated = defineEvent(
  'puhui.settlement.batch_created.v1',
  TOPICS.settlements,
  z.strictObject({
    batch_id: z.string(),
    merchant_id: z.string(),
    business_date: z.iso.date(),
    capture_count: z.int().min(0),
    refund_count: z.int().min(0),
    void_count: z.int().min(0),
    gross_minor: fen,
    merchant_funded_minor: fen,
    union_funded_minor: fen,
    net_minor: fen,
    refunds_minor: fen,
    union_reversed_minor: fen,
    subsidy_owed_minor: fen,
    created_at: timestamp,
  }),
);

export const settlementBatchPaid = defineEvent(
  'puhui.settlement.batch_paid.v1',
  TOPICS.settlements,
  z.strictObject({
    batch_id: z.string(),
    merchant_id: z.string(),
    business_date: z.iso.date(),
    amount_minor: fen,
    bank_reference: z.string(),
    paid_at: timestamp,
  }),
);

export const SETTLEMENT_EVENTS = [settlementBatchCreated, settlementBatchPaid] as const;
