/**
 * `npm run docs`: writes each service's OpenAPI 3.1 document to docs/api/<service>.openapi.json
 * and the AsyncAPI 3.0 event catalogue to docs/events/asyncapi.json, generated from the same
 * zod schemas the services validate with. `npm run docs -- --check` writes nothing and fails
 * when a committed copy is stale (`npm run lint` runs it).
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import prettier from 'prettier';
import { asyncApiDocument } from '@puhui/catalogue';
import { openApiDocument } from '@puhui/http';
import type { ServiceApi } from '@puhui/service';
import * as discountRules from '../services/discount-rules/src/http/api';
import * as merchantOnboarding from '../services/merchant-onboarding/src/http/api';
import * as transactionSettlement from '../services/transaction-settlement/src/http/api';

const root = path.dirname(__dirname);

const services: Array<[string, ServiceApi, string]> = [
  ['merchant-onboarding', merchantOnboarding.merchantOnboardingApi, merchantOnboarding.DEFAULT_SERVER_URL],
  ['discount-rules', discountRules.discountRulesApi, discountRules.DEFAULT_SERVER_URL],
  [
    'transaction-settlement',
    transactionSettlement.transactionSettlementApi,
    transactionSettlement.DEFAULT_SERVER_URL,
  ],
];

async function formatted(file: string, document: unknown): Promise<string> {
  const options = (await prettier.resolveConfig(file)) ?? {};
  return prettier.format(JSON.stringify(document), { ...options, filepath: file });
}

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  const documents: Array<[string, unknown]> = [
    ...services.map(([name, api, serverUrl]): [string, unknown] => [
      `docs/api/${name}.openapi.json`,
      openApiDocument({ ...api, serverUrl }, api.operations),
    ]),
    ['docs/events/asyncapi.json', asyncApiDocument()],
  ];
  const stale: string[] = [];
  for (const [relative, document] of documents) {
    const file = path.join(root, relative);
    const text = await formatted(file, document);
    if (!check) {
      await writeFile(file, text);
      console.log(`wrote ${relative}`);
      continue;
    }
    const committed = await readFile(file, 'utf8').catch(() => '');
    if (committed !== text) stale.push(relative);
  }
  if (stale.length > 0) {
    console.error(`stale: ${stale.join(', ')}; run \`npm run docs\` and commit the result`);
    process.exit(1);
  }
  if (check) console.log(`docs are up to date (${documents.length} documents)`);
}

void main();
