/**
 * Reconciliation (DESIGN §6, §11), for finance: upload the acquirer's daily statement as CSV,
 * read the run's summary and items, resolve exceptions with a note.
 *
 * `POST /v1/reconciliations` answers 201 with the new run; re-uploading a file already
 * reconciled (same SHA-256) answers 200 with the earlier run and `duplicate_of` set to its id,
 * storing nothing.
 */
import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import { approvalRequestAcceptedSchema } from '@puhui/dual-control';
import type { DualControl } from '@puhui/dual-control';
import { NotFound, RateLimited } from '@puhui/errors';
import {
  answered,
  authenticate,
  defineOperation,
  documented,
  parseRequest,
  requestIdOf,
  requireUncompressedCsv,
  respond,
  route,
  safeText,
} from '@puhui/http';
import { mapPage } from '@puhui/postgres';
import { actorOf, requireOperator } from '@puhui/security';
import type { Principal } from '@puhui/security';
import type { Pool } from '@puhui/postgres';
import { reconcileUpload, reconciliationSettings } from '../commands/reconciliation';
import { CORRECTION_KINDS, refusePendingCorrection, requestCorrection } from '../commands/corrections';
import {
  BULK_RESOLUTION_ITEMS_MAX,
  resolveReconciliationItem,
  resolveReconciliationItems,
} from '../commands/resolution';
import { RESOLUTION_SUBSIDY_CHOICES } from '../commands/subsidy';
import type { ReconciliationContext, ReconciliationSettings } from '../commands/reconciliation';
import { RECONCILIATION_CATEGORIES } from '../domain/reconciliation';
import { findRun, listItems, listRuns } from '../store/reconciliation';
import { findWorkingKey } from '../store/replicas';
import { reconciliationItemView, reconciliationView } from '../views/reconciliation';
import {
  reconciliationItemListSchema,
  reconciliationListSchema,
  reconciliationResolutionSchema,
  reconciliationSchema,
} from './responses';
import { requesterOf } from './route-support';
import type { SettlementRouting } from './route-support';

const CSV = 'text/csv';
/**
 * Uploads reconciled at once by one instance. Each holds a pooled connection and a transaction
 * for as long as its file takes (about 50 s per million lines), so two leave the pool to
 * checkouts; a third gets 429 and retries.
 */
const UPLOADS_IN_FLIGHT_MAX = 2;
const UPLOAD_RETRY_AFTER_SECONDS = 30;

const runPath = z.strictObject({ id: z.string().regex(/^rec_[0-9a-z]{25}$/u, 'not a reconciliation id') });
const itemPath = runPath.extend({ item_id: z.string().regex(/^\d{1,18}$/u, 'not an item id') });
const itemsQuery = z.strictObject({
  category: z.enum(RECONCILIATION_CATEGORIES).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  starting_after: z
    .string()
    .regex(/^\d{1,18}$/u)
    .optional(),
});
const runsQuery = z.strictObject({
  settlement_date_from: z.iso.date().optional(),
  settlement_date_to: z.iso.date().optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  starting_after: runPath.shape.id.optional(),
});
const resolveBody = z.strictObject({
  note: safeText(1000),
  correction: z.enum(CORRECTION_KINDS).optional().meta({
    description:
      'Correct the ledger too, by the item’s difference (statement − ledger): `adjustment` moves it between acquirer:clearing and suspense:reconciliation, `write_off` (at most RECONCILIATION_WRITE_OFF_LIMIT_MINOR, ¥10 by default) to expense:reconciliation_write_offs. Answers 202 with an approval request: a second finance person approves, and the transfer, the resolution and its audit row commit then.',
  }),
  subsidy: z.enum(RESOLUTION_SUBSIDY_CHOICES).optional().meta({
    description:
      'For a capture exception (missing_in_statement, amount_mismatch) whose sale holds a union subsidy, required: `release` makes it payable, `cancel` returns it to the budget. Left out otherwise.',
  }),
});

const uploadOperation = defineOperation({
  method: 'post',
  path: '/v1/reconciliations',
  operationId: 'reconcileStatement',
  summary: 'Upload the acquirer’s daily statement (streamed CSV) and reconcile it',
  description:
    'Lines are matched to the ledger by reference, else by merchant, card last 4 and amount within the time tolerance. A bad file answers 400 naming its first bad lines and stores nothing; the same file again answers 200 with the earlier run. At most two uploads at once per instance (429 with Retry-After).',
  tags: ['reconciliation'],
  callers: ['finance'],
  request: {
    rawBody: {
      contentType: CSV,
      description:
        'UTF-8 CSV, uncompressed: `settlement_date,merchant_id,card_last4,transaction_time,amount_minor,reference,auth_code`; sales positive, refunds negative.',
      example:
        'settlement_date,merchant_id,card_last4,transaction_time,amount_minor,reference,auth_code\n2026-05-01,mer_0abcdefghijklmnopqrstuvwx,0047,2026-05-01T02:03:04.000Z,8550,POS-1,123456\n',
    },
  },
  responses: {
    201: {
      description: 'The new run.',
      schema: reconciliationSchema,
      headers: { Location: 'The run’s URL.' },
    },
    200: {
      description: 'This file was reconciled before: the earlier run, with `duplicate_of`.',
      schema: reconciliationSchema,
      headers: { Location: 'The run’s URL.' },
    },
  },
  // 422: a statement with no lines.
  problems: [400, 422, 429],
});

const bulkResolveBody = resolveBody.omit({ correction: true }).extend({
  item_ids: z
    .array(itemPath.shape.item_id)
    .min(1)
    .max(BULK_RESOLUTION_ITEMS_MAX)
    .refine((ids) => new Set(ids).size === ids.length, { message: 'each item at most once' }),
});

const listRunsOperation = defineOperation({
  method: 'get',
  path: '/v1/reconciliations',
  operationId: 'listReconciliations',
  summary: 'Reconciliation runs, newest first, with their counts by category and open exceptions',
  description:
    'Filter by the statements’ settlement date (`settlement_date_from`, `settlement_date_to`, inclusive). `starting_after` takes the last id of the previous page; pages go from the newest run to older ones.',
  tags: ['reconciliation'],
  callers: ['finance'],
  request: { query: runsQuery },
  responses: { 200: { description: 'A page of runs, newest first.', schema: reconciliationListSchema } },
});

const getRunOperation = defineOperation({
  method: 'get',
  path: '/v1/reconciliations/:id',
  operationId: 'getReconciliation',
  summary: 'A run’s counts and totals by category',
  tags: ['reconciliation'],
  callers: ['finance'],
  request: { path: runPath },
  responses: { 200: { description: 'The run.', schema: reconciliationSchema } },
});

const listItemsOperation = defineOperation({
  method: 'get',
  path: '/v1/reconciliations/:id/items',
  operationId: 'listReconciliationItems',
  summary: 'A run’s items, by category',
  tags: ['reconciliation'],
  callers: ['finance'],
  request: { path: runPath, query: itemsQuery },
  responses: { 200: { description: 'A page of items.', schema: reconciliationItemListSchema } },
});

const resolveOperation = defineOperation({
  method: 'post',
  path: '/v1/reconciliations/:id/items/:item_id/resolve',
  operationId: 'resolveReconciliationItem',
  summary:
    'Resolve an exception with a note (audited), releasing or cancelling a held subsidy, or ask for a ledger correction',
  description:
    'Resolves once. When the exception holds a sale’s union subsidy, `subsidy` releases it (held → payable) or cancels it (held → the budget) with a ledger transfer referencing the checkout, on the same audit row; 422 `subsidy_decision_required` without it, 422 `no_held_subsidy` with it when nothing is held.',
  tags: ['reconciliation'],
  callers: ['finance'],
  request: { path: itemPath, body: resolveBody },
  responses: {
    200: {
      description: 'The resolved item and the subsidy it decided.',
      schema: reconciliationResolutionSchema,
    },
    202: {
      description:
        'With `correction`: the correction’s approval request, pending (422 `nothing_to_correct` when the sides agree, `write_off_over_limit` above the limit; 409 `correction_pending` while one waits).',
      schema: approvalRequestAcceptedSchema,
    },
  },
  problems: [409, 422],
});

const bulkResolveOperation = defineOperation({
  method: 'post',
  path: '/v1/reconciliations/:id/resolutions',
  operationId: 'resolveReconciliationItems',
  summary: 'Resolve several identical exceptions with one note (audited each), all or none',
  description: `Up to ${BULK_RESOLUTION_ITEMS_MAX} items of the run, each resolved as by its own resolve call (note, and \`subsidy\` for capture exceptions holding one: then every item must hold one), with its own audit row, in one transaction: an item unknown (404), matched, resolved already or with a correction waiting (409) refuses the whole request, naming it. Corrections are asked item by item.`,
  tags: ['reconciliation'],
  callers: ['finance'],
  request: { path: runPath, body: bulkResolveBody },
  responses: {
    200: {
      description: 'The resolved items, by id, with the subsidy each decided.',
      schema: z.strictObject({ data: z.array(reconciliationResolutionSchema) }),
    },
  },
  problems: [404, 409, 422],
});

export const RECONCILIATION_OPERATIONS = [
  uploadOperation,
  listRunsOperation,
  getRunOperation,
  listItemsOperation,
  resolveOperation,
  bulkResolveOperation,
];

/** Who may call (finance only) and the context a command runs in for them. */
interface FinanceAccess {
  pool: Pool;
  asFinance: (request: Request) => Promise<Principal>;
  commandContext: (principal: Principal, response: Response) => ReconciliationContext;
}

/** Upload and list share the path, so one `route` mounts both (a second would answer 405 first). */
function uploadAndListRoute(
  router: Router,
  pool: Pool,
  access: FinanceAccess,
  settings: ReconciliationSettings,
  timeoutMs: number,
): void {
  let uploadsInFlight = 0;
  route(
    router,
    '/v1/reconciliations',
    {
      get: answered(listRunsOperation, 200, access.asFinance, async (_finance, { query }) =>
        mapPage(await listRuns(pool, query), reconciliationView),
      ),
      post: documented(uploadOperation, async (request, response) => {
        const principal = await access.asFinance(request);
        requireUncompressedCsv(request, 'Send the statement as text/csv in UTF-8, uncompressed.', {
          allowEmpty: true,
        });
        if (uploadsInFlight >= UPLOADS_IN_FLIGHT_MAX) throw new RateLimited(UPLOAD_RETRY_AFTER_SECONDS);
        uploadsInFlight += 1;
        try {
          const { run, duplicate } = await reconcileUpload(
            access.commandContext(principal, response),
            request,
            settings,
          );
          response.location(`/v1/reconciliations/${run.run_id}`);
          if (duplicate)
            respond(response, uploadOperation, 200, { ...reconciliationView(run), duplicate_of: run.run_id });
          else respond(response, uploadOperation, 201, reconciliationView(run));
        } finally {
          uploadsInFlight -= 1;
        }
      }),
    },
    // A long statement streams in for minutes: this route alone has more than the platform's 30 s.
    { rawBodyTypes: [CSV], timeoutMs },
  );
}

function readRoutes(router: Router, pool: Pool, access: FinanceAccess): void {
  route(router, '/v1/reconciliations/:id', {
    get: answered(getRunOperation, 200, access.asFinance, async (_finance, { path }) => {
      const run = await findRun(pool, path.id);
      if (run === undefined) throw new NotFound(`Reconciliation ${path.id}`);
      return reconciliationView(run);
    }),
  });

  route(router, '/v1/reconciliations/:id/items', {
    get: answered(listItemsOperation, 200, access.asFinance, async (_finance, { path, query }) => {
      if ((await findRun(pool, path.id)) === undefined) throw new NotFound(`Reconciliation ${path.id}`);
      return mapPage(await listItems(pool, path.id, query), reconciliationItemView);
    }),
  });
}

function resolveRoute(
  router: Router,
  access: FinanceAccess,
  corrections: { approvals: DualControl; writeOffLimitMinor: number },
): void {
  route(router, '/v1/reconciliations/:id/items/:item_id/resolve', {
    post: documented(resolveOperation, async (request, response) => {
      const principal = await access.asFinance(request);
      const { path, body } = parseRequest(request, resolveOperation.request);
      const context = access.commandContext(principal, response);
      const { correction, ...resolution } = body;
      if (correction !== undefined) {
        const asked = await requestCorrection(
          { ...context, ...corrections, subject: requesterOf(principal).subject },
          { runId: path.id, itemId: path.item_id },
          { ...resolution, correction },
        );
        respond(response, resolveOperation, 202, asked);
        return;
      }
      const { item, subsidy } = await resolveReconciliationItem(
        context,
        path.id,
        path.item_id,
        resolution,
        (client, itemId) => refusePendingCorrection(corrections.approvals, client, itemId),
      );
      respond(response, resolveOperation, 200, { ...reconciliationItemView(item), subsidy });
    }),
  });

  route(router, '/v1/reconciliations/:id/resolutions', {
    post: documented(bulkResolveOperation, async (request, response) => {
      const principal = await access.asFinance(request);
      const { path, body } = parseRequest(request, bulkResolveOperation.request);
      const { item_ids: itemIds, ...resolution } = body;
      if ((await findRun(access.pool, path.id)) === undefined)
        throw new NotFound(`Reconciliation ${path.id}`);
      const resolved = await resolveReconciliationItems(
        access.commandContext(principal, response),
        path.id,
        itemIds,
        resolution,
        (client, itemId) => refusePendingCorrection(corrections.approvals, client, itemId),
      );
      respond(response, bulkResolveOperation, 200, {
        data: resolved.map(({ item, subsidy }) => ({ ...reconciliationItemView(item), subsidy })),
      });
    }),
  });
}

export function reconciliationRoutes({ router, pool, config, context, auth }: SettlementRouting): void {
  const access: FinanceAccess = {
    pool,
    asFinance: async (request) => {
      const principal = await authenticate(request, {
        verifyOperatorToken: auth.verifyOperatorToken,
        findMerchantKey: (hash) => findWorkingKey(pool, hash),
      });
      requireOperator(principal, 'finance');
      return principal;
    },
    commandContext: (principal, response) => ({
      pool,
      logger: context.logger,
      actor: actorOf(principal),
      requestId: requestIdOf(response),
    }),
  };
  uploadAndListRoute(
    router,
    pool,
    access,
    reconciliationSettings(config),
    config.RECONCILIATION_UPLOAD_TIMEOUT_MS,
  );
  readRoutes(router, pool, access);
  resolveRoute(router, access, {
    approvals: context.approvals,
    writeOffLimitMinor: config.RECONCILIATION_WRITE_OFF_LIMIT_MINOR,
  });
}
