/**
 * What the API answers, as zod schemas: the OpenAPI document is generated from them, the
 * handlers' answers are typed by them, and the tests check every real answer against them.
 * Money is integer fen; refunds and reversals may make some totals negative.
 */
import { z } from 'zod';
import { pageSchema } from '@puhui/http';
import { resultLineSchema, resultTotalsShape } from '@puhui/discount';
import { RECONCILIATION_CATEGORIES } from '../domain/reconciliation';
import { BATCH_STATUSES } from '../domain/settlement';

const timestamp = z.iso.datetime({ offset: true });
const date = z.iso.date();
const fen = z.int().min(0);
/** A signed amount in fen (a balance, a net after refunds, a refund line). */
const signedFen = z.int();
const cny = z.literal('CNY');

export const CHECKOUT_STATUSES = ['captured', 'partially_refunded', 'refunded', 'voided'] as const;

/** A line as a checkout and a quote show it: the engine's figures and the POS's description. */
const checkoutLineSchema = resultLineSchema.extend({
  description: z.string().nullable().meta({
    description:
      'The line’s description as the POS sent it (kept, and shown on the merchant’s statement); null when none was sent.',
  }),
});

export const checkoutSchema = z
  .strictObject({
    id: z.string(),
    object: z.literal('checkout'),
    status: z.enum(CHECKOUT_STATUSES),
    merchant_id: z.string(),
    reference: z.string(),
    currency: cny,
    card_token: z.string().optional().meta({
      description: 'The programme-wide card token: shown to finance and admins only, never to merchants.',
    }),
    card_handle: z
      .string()
      .regex(/^mch_card_[0-9a-f]{32}$/u)
      .optional()
      .meta({
        description:
          'For merchants, a stable handle of the card that means nothing outside this merchant (HMAC of the card token and the merchant id).',
      }),
    card_last4: z.string().regex(/^\d{4}$/u),
    ...resultTotalsShape,
    refunded_minor: fen,
    ruleset_version: z.int(),
    lines: z.array(checkoutLineSchema),
    occurred_at: timestamp,
    business_date: date,
    created_at: timestamp,
  })
  .meta({ id: 'Checkout', description: 'A captured sale; the card appears as token and last 4 only.' });
export type CheckoutView = z.input<typeof checkoutSchema>;

export const voidedCheckoutSchema = checkoutSchema
  .extend({ status: z.literal('voided'), voided_at: timestamp })
  .meta({ id: 'VoidedCheckout' });

export const quoteSchema = z
  .strictObject({
    object: z.literal('quote'),
    currency: cny,
    card_last4: z.string(),
    ruleset_version: z.int(),
    ...resultTotalsShape,
    lines: z.array(checkoutLineSchema),
  })
  .meta({ id: 'Quote', description: 'What the member would pay now; nothing is stored.' });

export const refundSchema = z
  .strictObject({
    id: z.string(),
    object: z.literal('refund'),
    checkout_id: z.string(),
    currency: cny,
    amount_minor: fen.meta({
      description: 'Gross fen refunded, as asked: the card gets `member_refund_minor`.',
    }),
    discount_reversed_minor: fen,
    union_reversed_minor: fen,
    merchant_reversed_minor: fen,
    member_refund_minor: fen.meta({
      description: 'What goes back to the card: `amount_minor − discount_reversed_minor`.',
    }),
    checkout_status: z.enum(CHECKOUT_STATUSES),
    refunded_total_minor: fen,
    business_date: date,
    created_at: timestamp,
  })
  .meta({ id: 'Refund' });

export const budgetBalanceSchema = z
  .strictObject({
    budget_id: z.string().meta({ description: 'The id discount-rules gave the budget (`bud_…`).' }),
    name: z.string(),
    union_id: z.string(),
    currency: cny,
    balance_minor: signedFen,
    account_code: z.string(),
  })
  .meta({
    id: 'BudgetBalance',
    description:
      'A union budget with its balance: `budget_id`, `name`, `union_id` and `currency` as discount-rules’ `GET /v1/budgets/{id}` names them.',
  });

export const ledgerAccountSchema = z
  .strictObject({
    account_code: z.string(),
    name: z.string(),
    currency: z.string(),
    normal_side: z.enum(['debit', 'credit']),
    debits_minor: fen,
    credits_minor: fen,
    balance_minor: signedFen.meta({ description: 'On the account’s normal side.' }),
    normal_balance_min_minor: signedFen.nullable(),
    as_of: timestamp.optional().meta({ description: 'Present when asked for a point in time.' }),
  })
  .meta({ id: 'LedgerAccount' });

export const ledgerEntrySchema = z
  .strictObject({
    transfer_id: z.string(),
    kind: z.string(),
    side: z.enum(['debit', 'credit']),
    amount_minor: fen,
    counter_account: z.string(),
    checkout_id: z.string().nullable(),
    refund_id: z.string().nullable(),
    top_up_id: z.string().nullable(),
    occurred_at: timestamp,
    recorded_at: timestamp,
  })
  .meta({ id: 'LedgerEntry' });

export const trialBalanceSchema = z
  .strictObject({
    accounts: z.array(ledgerAccountSchema),
    debits_minor: fen,
    credits_minor: fen,
    difference_minor: signedFen,
    balanced: z.boolean(),
  })
  .meta({ id: 'TrialBalance' });

export const settlementBatchSchema = z
  .strictObject({
    id: z.string(),
    object: z.literal('settlement_batch'),
    currency: cny,
    merchant_id: z.string(),
    business_date: date,
    run_id: z.string(),
    status: z.enum(BATCH_STATUSES).meta({
      description:
        '`unpaid`: confirmed subsidy waits to be paid (mark_paid pays it); `held`: nothing can be paid yet, subsidy is held until the acquirer confirms or finance resolves; then `paid` or `nothing_owed`.',
    }),
    capture_count: fen,
    refund_count: fen,
    void_count: fen,
    gross_minor: signedFen,
    merchant_funded_minor: signedFen,
    union_funded_minor: signedFen,
    net_minor: signedFen,
    refunds_minor: signedFen,
    refund_member_minor: signedFen,
    union_reversed_minor: signedFen,
    merchant_reversed_minor: signedFen,
    subsidy_owed_minor: signedFen.meta({
      description:
        'The union subsidy of the day: granted less reversed. It splits into held + cancelled + payable; refunds count negative.',
    }),
    subsidy_held_minor: signedFen.meta({
      description:
        'Of subsidy_owed_minor, held: for sales no reconciled statement has confirmed yet, until finance releases or cancels them (listed under …/held_subsidies).',
    }),
    subsidy_cancelled_minor: signedFen.meta({
      description: 'Of subsidy_owed_minor, cancelled by finance: back in the budget, never paid.',
    }),
    subsidy_payable_minor: signedFen.meta({
      description:
        'Of subsidy_owed_minor, payable: sales the acquirer confirmed (matched) or finance released.',
    }),
    subsidy_paid_minor: fen.meta({
      description:
        'Paid so far. A payout approved after mark_paid pays subsidy_payable_minor − subsidy_paid_minor, never held subsidy; released later, it is paid by another mark_paid.',
    }),
    bank_reference: z.string().nullable().meta({ description: 'The latest payout’s.' }),
    paid_at: timestamp.nullable().meta({ description: 'The latest payout’s.' }),
    exported_by: z.string().nullable().meta({
      description:
        'Who last downloaded the payment file (account id); nobody who exported it may approve its payout.',
    }),
    exported_at: timestamp.nullable(),
    payment_approval_request_id: z.uuid().nullable().meta({
      description:
        'The payout waiting for a second finance person (an approval request), if any; another mark_paid answers 409 `payment_approval_pending` meanwhile.',
    }),
    created_at: timestamp,
  })
  .meta({ id: 'SettlementBatch', description: 'One merchant’s business day, settled.' });

export const settlementRunSchema = z
  .strictObject({
    id: z.string(),
    object: z.literal('settlement_run'),
    business_date: date,
    trigger: z.enum(['manual', 'scheduled']),
    batches_created: fen.meta({ description: 'Zero on a re-run: nothing is settled twice.' }),
    batches: z.array(settlementBatchSchema),
  })
  .meta({ id: 'SettlementRun' });

export const businessDaySchema = z
  .strictObject({
    object: z.literal('business_day'),
    business_date: date,
    status: z.enum(['open', 'closed']),
    closes_at: timestamp,
    closed_at: timestamp.nullable(),
    closed_by: z.string().nullable(),
    open_business_date: date,
  })
  .meta({ id: 'BusinessDay' });

const batchesOfStatus = z.strictObject({ count: fen, net_minor: fen });

export const businessDaySummarySchema = z
  .strictObject({
    object: z.literal('business_day_summary'),
    business_date: date,
    status: z.enum(['open', 'closed', 'settled', 'paid', 'reconciled']).meta({
      description:
        'Furthest stage reached: `closed` (no settlement run yet), `settled` (batches unpaid or held), `paid` (no batch unpaid), `reconciled` (paid, and a reconciliation of this settlement date has no open exception).',
    }),
    closes_at: timestamp,
    closed_at: timestamp.nullable(),
    closed_by: z.string().nullable(),
    open_business_date: date,
    currency: cny,
    captures: z
      .strictObject({
        count: fen,
        gross_minor: fen,
        discount_minor: fen,
        union_funded_minor: fen,
        merchant_funded_minor: fen,
        net_minor: fen,
      })
      .meta({ description: 'Captures of the day, voided ones apart.' }),
    voids: z.strictObject({ count: fen, gross_minor: fen, discount_minor: fen }),
    refunds: z.strictObject({
      count: fen,
      amount_minor: fen,
      member_refund_minor: fen,
      union_reversed_minor: fen,
      merchant_reversed_minor: fen,
    }),
    net_minor: signedFen.meta({ description: 'Captures’ net minus what refunds returned to members.' }),
    subsidy_owed_minor: signedFen.meta({
      description: 'Union subsidies granted minus those reversed by refunds.',
    }),
    settlement_runs: fen,
    batches: z.strictObject({
      unpaid: batchesOfStatus,
      held: batchesOfStatus,
      paid: batchesOfStatus,
      nothing_owed: batchesOfStatus,
    }),
    reconciliations: z
      .strictObject({ runs: fen, exceptions_open: fen })
      .meta({ description: 'Reconciliation runs of statements with this settlement date.' }),
  })
  .meta({ id: 'BusinessDaySummary' });

const categoryTotals = z.strictObject({
  count: fen,
  statement_amount_minor: signedFen,
  ledger_amount_minor: signedFen,
});

export const reconciliationSchema = z
  .strictObject({
    id: z.string(),
    object: z.literal('reconciliation'),
    status: z.literal('completed'),
    settlement_date: date,
    file_sha256: z.string(),
    file_bytes: fen,
    line_count: fen,
    time_tolerance_ms: fen,
    currency: cny,
    categories: z.strictObject(
      Object.fromEntries(RECONCILIATION_CATEGORIES.map((category) => [category, categoryTotals])) as Record<
        (typeof RECONCILIATION_CATEGORIES)[number],
        typeof categoryTotals
      >,
    ),
    exceptions_open: fen,
    created_by: z.string(),
    created_at: timestamp,
    duplicate_of: z
      .string()
      .optional()
      .meta({ description: 'On a re-upload of a file already reconciled: the earlier run’s id.' }),
  })
  .meta({ id: 'Reconciliation' });

export const reconciliationItemSchema = z
  .strictObject({
    id: z.string(),
    object: z.literal('reconciliation_item'),
    reconciliation_id: z.string(),
    category: z.enum(RECONCILIATION_CATEGORIES),
    matched_by: z.enum(['reference', 'card_amount_time']).nullable(),
    statement_line: z
      .strictObject({
        line_number: z.int(),
        merchant_id: z.string(),
        card_last4: z.string(),
        transaction_time: timestamp,
        amount_minor: signedFen,
        reference: z.string(),
        auth_code: z.string(),
      })
      .nullable(),
    duplicate_of_line: z.int().nullable(),
    ledger_item: z
      .strictObject({
        kind: z.enum(['capture', 'refund']),
        id: z.string(),
        checkout_id: z.string(),
        merchant_id: z.string(),
        card_last4: z.string(),
        reference: z.string(),
        amount_minor: signedFen,
        occurred_at: timestamp,
      })
      .nullable(),
    difference_minor: signedFen.nullable(),
    resolution: z
      .strictObject({ resolved_at: timestamp, resolved_by: z.string(), note: z.string() })
      .nullable(),
  })
  .meta({ id: 'ReconciliationItem' });

export const heldSubsidySchema = z
  .strictObject({
    object: z.literal('held_subsidy'),
    kind: z.enum(['capture', 'refund']),
    id: z.string().meta({ description: 'The checkout id of a capture, the refund id of a refund.' }),
    checkout_id: z.string(),
    reference: z.string(),
    card_last4: z.string(),
    occurred_at: timestamp,
    currency: cny,
    held_minor: signedFen.meta({
      description:
        'What the item holds: a sale its union part, a refund of a held sale minus what it reversed. They sum to the batch’s subsidy_held_minor.',
    }),
    exception: z
      .strictObject({ reconciliation_id: z.string(), item_id: z.string(), category: z.string() })
      .nullable()
      .meta({
        description:
          'The newest open exception holding the sale (resolve it to release or cancel); null while no reconciled statement has listed the sale.',
      }),
  })
  .meta({ id: 'HeldSubsidy', description: 'An item of a batch whose sale’s subsidy is held.' });

export const reconciliationResolutionSchema = reconciliationItemSchema
  .extend({
    subsidy: z
      .strictObject({
        checkout_id: z.string(),
        decision: z.enum(['released', 'cancelled']),
        amount_minor: fen.meta({ description: 'What moved out of held: the union part less refunds.' }),
      })
      .nullable()
      .meta({
        description: 'The held subsidy this resolution released or cancelled; null if the item held none.',
      }),
  })
  .meta({ id: 'ReconciliationResolution' });

export const checkoutListSchema = pageSchema(checkoutSchema, 'CheckoutList');
export const refundListSchema = pageSchema(refundSchema, 'RefundList');
export const heldSubsidyListSchema = pageSchema(heldSubsidySchema, 'HeldSubsidyList');
export const ledgerEntryListSchema = pageSchema(ledgerEntrySchema, 'LedgerEntryList');
export const settlementBatchListSchema = pageSchema(settlementBatchSchema, 'SettlementBatchList');
export const reconciliationItemListSchema = pageSchema(reconciliationItemSchema, 'ReconciliationItemList');
export const reconciliationListSchema = pageSchema(reconciliationSchema, 'ReconciliationList');
