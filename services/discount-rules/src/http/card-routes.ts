/** Member cards, their bulk imports and their rate sheets (DESIGN §7, §11). */
import type { Router } from 'express';
import { tokenizePan } from '@puhui/cards';
import { DomainError, NotFound } from '@puhui/errors';
import { parseRequest, route } from '@puhui/http';
import type { ServiceDependencies } from '@puhui/service';
import type { DiscountRulesConfig } from '../config';
import { importCards } from '../commands/card-import';
import { registerCard, updateCard } from '../commands/cards';
import type { RateSheets } from '../commands/rate-sheets';
import { viewOfCard } from '../domain/card';
import { findImport, listImports } from '../store/card-imports';
import type { CardImport } from '../store/card-imports';
import { findCard } from '../store/cards';
import type { Access } from './access';
import { cardPath, importPath, listImportsQuery, registerCardBody, updateCardBody } from './schemas';

const CSV = 'text/csv';

function viewOfImport(cardImport: CardImport) {
  return { ...cardImport, errors_truncated: cardImport.rejected > cardImport.errors.length };
}

export function cardRoutes(
  router: Router,
  dependencies: ServiceDependencies<DiscountRulesConfig>,
  access: Access,
  sheets: RateSheets,
): void {
  const { pool, config } = dependencies;

  route(router, '/v1/cards', {
    post: async (request, response) => {
      const context = await access.asAdmin(request, response);
      const { body } = parseRequest(request, { body: registerCardBody });
      // The number becomes its token and last 4 here; nothing past this line sees it.
      const { card_number: pan, ...holder } = body;
      const registration = {
        card_token: tokenizePan(pan, config.CARD_TOKEN_KEY),
        card_last4: pan.slice(-4),
        ...holder,
      };
      const { created, card } = await registerCard(context, registration);
      response.status(created ? 201 : 200).json(card);
    },
  });

  // Before /v1/cards/:token, which would otherwise take "imports" for a token.
  importRoutes(router, dependencies, access);

  route(router, '/v1/cards/:token', {
    get: async (request, response) => {
      await access.asReader(request, response);
      const { path } = parseRequest(request, { path: cardPath });
      const card = await findCard(pool, path.token);
      if (card === undefined) throw new NotFound(`Card ${path.token}`);
      response.json(viewOfCard(card));
    },
    patch: async (request, response) => {
      const context = await access.asAdmin(request, response);
      const { path, body } = parseRequest(request, { path: cardPath, body: updateCardBody });
      response.json(await updateCard(context, path.token, body));
    },
  });

  route(router, '/v1/cards/:token/rate_sheet', {
    get: async (request, response) => {
      await access.asReader(request, response);
      const { path } = parseRequest(request, { path: cardPath });
      // Served as stored: the text settlement reads from Redis is the text this answers.
      response.type('application/json').send(await sheets.forCard(path.token));
    },
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
  };

  route(
    router,
    '/v1/cards/imports',
    {
      post: async (request, response) => {
        const context = await access.asAdmin(request, response);
        if (!request.is(CSV)) {
          throw new DomainError(
            'unsupported_media_type',
            'unsupported_media_type',
            'Unsupported media type',
            {
              detail: `Send the file as ${CSV} with the header card_number,member_id,union_id,tier.`,
            },
          );
        }
        const finished = await importCards(context, request, importSettings);
        response.status(201).location(`/v1/cards/imports/${finished.import_id}`).json(viewOfImport(finished));
      },
      get: async (request, response) => {
        await access.asReader(request, response);
        const { query } = parseRequest(request, { query: listImportsQuery });
        const page = await listImports(pool, query);
        response.json({
          data: page.slice(0, query.limit).map(viewOfImport),
          has_more: page.length > query.limit,
        });
      },
    },
    { rawBodyTypes: [CSV] },
  );

  route(router, '/v1/cards/imports/:id', {
    get: async (request, response) => {
      await access.asReader(request, response);
      const { path } = parseRequest(request, { path: importPath });
      const cardImport = await findImport(pool, path.id);
      if (cardImport === undefined) throw new NotFound(`Import ${path.id}`);
      response.json(viewOfImport(cardImport));
    },
  });
}
