/** Member cards, their bulk imports and their rate sheets (DESIGN §7, §11). */
import type { Router } from 'express';
import { tokenizePan } from '@puhui/cards';
import { NotFound } from '@puhui/errors';
import {
  answered,
  defineOperation,
  documented,
  parseRequest,
  requireUncompressedCsv,
  respond,
  route,
} from '@puhui/http';
import { mapPage } from '@puhui/postgres';
import type { ServiceDependencies } from '@puhui/service';
import type { DiscountRulesConfig } from '../config';
import { importCards } from '../commands/card-import';
import { registerCard, updateCard } from '../commands/cards';
import type { RateSheets } from '../commands/rate-sheets';
import { findImport, listImports } from '../store/card-imports';
import { findCard, listCards } from '../store/cards';
import { cardView } from '../views/card';
import { cardImportView } from '../views/card-import';
import type { Access } from './access';
import {
  cardImportListSchema,
  cardImportSchema,
  cardListSchema,
  cardSchema,
  rateSheetResponseSchema,
} from './responses';
import {
  cardPath,
  importPath,
  listCardsQuery,
  listImportsQuery,
  registerCardBody,
  updateCardBody,
} from './schemas';

const CSV = 'text/csv';
const TEST_CARD = '6200000000000047';

const registerCardOperation = defineOperation({
  method: 'post',
  path: '/v1/cards',
  operationId: 'registerCard',
  summary: 'Register a member card',
  description:
    'The card number becomes a keyed token and its last 4 on arrival; nothing else keeps it. Registering the same card again with the same holder answers 200 with the stored card.',
  tags: ['cards'],
  callers: ['admin'],
  request: { body: registerCardBody },
  responses: {
    201: { description: 'The new card.', schema: cardSchema },
    200: { description: 'The card was already registered with these details.', schema: cardSchema },
  },
  problems: [409],
});

const listCardsOperation = defineOperation({
  method: 'get',
  path: '/v1/cards',
  operationId: 'listCards',
  summary: 'Find member cards by member id and last 4, union, tier or status',
  description:
    'Pages in card-token order (stable, not registration time); `starting_after` takes the last token of the page before. Any filters combine; none lists every card.',
  tags: ['cards'],
  callers: ['admin', 'finance'],
  request: { query: listCardsQuery },
  responses: { 200: { description: 'A page of cards.', schema: cardListSchema } },
});

const importCardsOperation = defineOperation({
  method: 'post',
  path: '/v1/cards/imports',
  operationId: 'importCards',
  summary: 'Import cards from a CSV file (streamed)',
  description:
    'Rows are checked one by one; bad ones are listed in `errors` by line. The file registers whole or not at all: a file past CARD_IMPORT_BYTES_MAX or CARD_IMPORT_ROWS_MAX answers 413, a malformed line 400, more rejected rows than CARD_IMPORT_REJECTED_SHARE_MAX of the file 422 (`too_many_rejected_rows`); each with the failed import (`inserted` 0, its problems listed), and nothing of the file registered. One import runs at a time (409 `import_running`).',
  tags: ['card imports'],
  callers: ['admin'],
  request: {
    rawBody: {
      contentType: CSV,
      description: 'UTF-8 CSV with the header `card_number,member_id,union_id,tier`.',
      example: `card_number,member_id,union_id,tier\n${TEST_CARD},M0001,U01,standard\n`,
    },
  },
  responses: {
    201: {
      description: 'The finished import.',
      schema: cardImportSchema,
      headers: { Location: 'The import’s URL.' },
    },
  },
  problems: [400, 409, 413, 422],
});

const listCardImports = defineOperation({
  method: 'get',
  path: '/v1/cards/imports',
  operationId: 'listCardImports',
  summary: 'List card imports',
  tags: ['card imports'],
  callers: ['admin', 'finance'],
  request: { query: listImportsQuery },
  responses: { 200: { description: 'A page of imports, newest first.', schema: cardImportListSchema } },
});

const getCardImport = defineOperation({
  method: 'get',
  path: '/v1/cards/imports/:id',
  operationId: 'getCardImport',
  summary: 'Get one card import',
  tags: ['card imports'],
  callers: ['admin', 'finance'],
  request: { path: importPath },
  responses: { 200: { description: 'The import and its progress.', schema: cardImportSchema } },
});

const getCard = defineOperation({
  method: 'get',
  path: '/v1/cards/:token',
  operationId: 'getCard',
  summary: 'Get a card by its token',
  tags: ['cards'],
  callers: ['admin', 'finance'],
  request: { path: cardPath },
  responses: { 200: { description: 'The card.', schema: cardSchema } },
});

const updateCardOperation = defineOperation({
  method: 'patch',
  path: '/v1/cards/:token',
  operationId: 'updateCard',
  summary: 'Change a card’s tier or status',
  description: 'active ⇄ frozen, either → cancelled (final). A frozen or cancelled card gets no discount.',
  tags: ['cards'],
  callers: ['admin'],
  request: { path: cardPath, body: updateCardBody },
  responses: { 200: { description: 'The card after the change.', schema: cardSchema } },
  problems: [409],
});

const getRateSheet = defineOperation({
  method: 'get',
  path: '/v1/cards/:token/rate_sheet',
  operationId: 'getRateSheet',
  summary: 'The card’s rate sheet',
  description:
    'What transaction-settlement reads from Redis at checkout; computed and cached on a miss. Served as stored. transaction-settlement reads it through with its service credential.',
  tags: ['cards'],
  callers: ['admin', 'finance', 'rate_sheet_reader'],
  request: { path: cardPath },
  responses: { 200: { description: 'The rate sheet.', schema: rateSheetResponseSchema } },
  problems: [503],
});

export const CARD_OPERATIONS = [
  registerCardOperation,
  listCardsOperation,
  importCardsOperation,
  listCardImports,
  getCardImport,
  getCard,
  updateCardOperation,
  getRateSheet,
];

export function cardRoutes(
  router: Router,
  dependencies: ServiceDependencies<DiscountRulesConfig>,
  access: Access,
  sheets: RateSheets,
): void {
  const { pool, config } = dependencies;

  route(router, '/v1/cards', {
    get: answered(listCardsOperation, 200, access.asReader, async (_reader, { query }) =>
      mapPage(await listCards(pool, query), cardView),
    ),
    post: documented(registerCardOperation, async (request, response) => {
      const context = await access.asAdmin(request, response);
      const { body } = parseRequest(request, registerCardOperation.request);
      // The number becomes its token and last 4 here; nothing past this line sees it.
      const { card_number: pan, ...holder } = body;
      const registration = {
        card_token: tokenizePan(pan, config.CARD_TOKEN_KEY),
        card_last4: pan.slice(-4),
        ...holder,
      };
      const { created, card } = await registerCard(context, registration);
      respond(response, registerCardOperation, created ? 201 : 200, card);
    }),
  });

  // Before /v1/cards/:token, which would otherwise take "imports" for a token.
  importRoutes(router, dependencies, access);

  route(router, '/v1/cards/:token', {
    get: answered(getCard, 200, access.asReader, async (_reader, { path }) => {
      const card = await findCard(pool, path.token);
      if (card === undefined) throw new NotFound(`Card ${path.token}`);
      return cardView(card);
    }),
    patch: answered(updateCardOperation, 200, access.asAdmin, (context, { path, body }) =>
      updateCard(context, path.token, body),
    ),
  });

  route(router, '/v1/cards/:token/rate_sheet', {
    get: documented(getRateSheet, async (request, response) => {
      await access.asRateSheetReader(request, response);
      const { path } = parseRequest(request, getRateSheet.request);
      // Served as stored: the text settlement reads from Redis is the text this answers.
      response.type('application/json').send(await sheets.forCard(path.token));
    }),
  });
}

/** Bulk imports: a CSV streamed in (text/csv, read by the route itself) and its progress. */
function importRoutes(
  router: Router,
  dependencies: ServiceDependencies<DiscountRulesConfig>,
  access: Access,
): void {
  const { pool, config } = dependencies;
  const importSettings = {
    cardTokenKey: config.CARD_TOKEN_KEY,
    batchSize: config.CARD_IMPORT_BATCH_SIZE,
    rowsMax: config.CARD_IMPORT_ROWS_MAX,
    errorsListedMax: config.CARD_IMPORT_ERRORS_LISTED_MAX,
    bytesMax: config.CARD_IMPORT_BYTES_MAX,
    rejectedShareMax: config.CARD_IMPORT_REJECTED_SHARE_MAX,
    rejectedRowsTolerated: config.CARD_IMPORT_REJECTED_ROWS_TOLERATED,
  };

  route(
    router,
    '/v1/cards/imports',
    {
      post: documented(importCardsOperation, async (request, response) => {
        const context = await access.asAdmin(request, response);
        requireUncompressedCsv(
          request,
          `Send the file as ${CSV} in UTF-8, uncompressed, with the header card_number,member_id,union_id,tier.`,
        );
        const declared = request.header('content-length');
        const finished = await importCards(
          context,
          request,
          importSettings,
          declared === undefined ? undefined : Number(declared),
        );
        response.location(`/v1/cards/imports/${finished.import_id}`);
        respond(response, importCardsOperation, 201, cardImportView(finished));
      }),
      get: answered(listCardImports, 200, access.asReader, async (_reader, { query }) =>
        mapPage(await listImports(pool, query), cardImportView),
      ),
    },
    // A million-card file streams in for minutes: this route alone has more than the platform's 30 s.
    { rawBodyTypes: [CSV], timeoutMs: config.CARD_IMPORT_TIMEOUT_MS },
  );

  route(router, '/v1/cards/imports/:id', {
    get: answered(getCardImport, 200, access.asReader, async (_reader, { path }) => {
      const cardImport = await findImport(pool, path.id);
      if (cardImport === undefined) throw new NotFound(`Import ${path.id}`);
      return cardImportView(cardImport);
    }),
  });
}
