/**
 * `npm start` runs this once the three services answer: loads the demo programme (once) and
 * prints what to try. Exit code 1 if the data could not be loaded.
 */
import path from 'node:path';
import { ok } from '@puhui/api-clients';
import type { Schemas } from '@puhui/api-clients';
import { PuhuiApi, demoTokens, eventually } from './api';
import { checkoutBody, yuan } from './flows';
import type { CaptureRequest } from './flows';
import { exampleCards, offerLabel, SEED } from './programme';
import { loadDemoData } from './seed';
import type { DemoData } from './seed';

const ROOT = path.join(__dirname, '..', '..', '..');
export const STATE_FILE =
  process.env.PUHUI_DEMO_STATE ?? path.join(ROOT, 'infra', '.run', 'demo-merchant-key.json');

function shellQuote(text: string): string {
  return `'${text.replace(/'/gu, `'\\''`)}'`;
}

async function main(): Promise<void> {
  const api = new PuhuiApi();
  // Each read signs a fresh 5-minute token.
  const tokens = demoTokens();
  await eventually('all three services ready', async () => ((await api.ready()) ? true : undefined), {
    timeoutMs: 120_000,
    intervalMs: 250,
  });
  const startedAt = Date.now();
  const data = await loadDemoData(api, tokens, STATE_FILE);
  const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
  const cards = exampleCards();
  const basket: CaptureRequest = {
    card_number: cards.model_worker.card_number,
    reference: 'POS-0001',
    lines: [
      { category: 'food', amount_minor: 12_800, description: '大米 10kg' },
      { category: 'general', amount_minor: 4_550, description: '洗衣液' },
    ],
  };
  // What the pasted checkout will give, without capturing anything.
  const quote = await ok(
    api.as(data.featured.secret)['transaction-settlement'].POST('/v1/checkouts/quote', {
      body: checkoutBody(basket),
    }),
  );
  print(api, data, tokens, basket, quote, seconds);
}

function print(
  api: PuhuiApi,
  data: DemoData,
  tokens: { admin: string; finance: string },
  basket: CaptureRequest,
  quote: Schemas<'transaction-settlement'>['Quote'],
  seconds: string,
): void {
  const urls = api.urls;
  const loaded = data.merchants.some((merchant) => merchant.created) || data.cards.inserted > 0;
  const cards = exampleCards();
  const line = '─'.repeat(78);
  const out: string[] = [
    line,
    `Demo programme: Shangrao union card (上饶市总工会), ${loaded ? 'loaded now' : 'already loaded, reused'} (${seconds} s)`,
    `  ${data.merchants.length} partner merchants in region 361100: ${[...new Set(data.merchants.map((m) => m.category))].join(', ')}`,
    `  ${data.rules.length} published rules: the standing offers${SEED.standing_offers
      .map((offer) => ` ${offer.merchant_category}/${offer.item_category} ${offerLabel(offer.discount_bps)}`)
      .join(',')}; and the union-funded subsidies for model workers and workers in hardship`,
    ...data.budgets.map(
      (budget) => `  budget ${budget.id} ${budget.name}: balance ${yuan(budget.balance_minor)}`,
    ),
    `  ${data.cards.total.toLocaleString('en-US')} member cards (${Object.entries(data.cards.by_tier)
      .map(([tier, count]) => `${count} ${tier}`)
      .join(', ')}); this load: ${data.cards.inserted} new, ${data.cards.unchanged} unchanged`,
    '',
    'Services (API docs at /docs, OpenAPI at /openapi.json, events at /asyncapi.json):',
    ...Object.entries(urls).map(([name, url]) => `  ${name.padEnd(22)} ${url}   ${url}/docs`),
    '',
    'Tokens (5 minutes each; a fresh one: `npm run token -- admin` or `-- finance`; people sign in at the console):',
    `  export ADMIN_TOKEN=${tokens.admin}`,
    `  export FINANCE_TOKEN=${tokens.finance}`,
    `  export MERCHANT_KEY=${data.featured.secret}   # ${data.featured.display_name} (${data.featured.merchant_id})${data.featured.key_created ? ', new key' : ''}`,
    '',
    `Try a checkout at ${data.featured.display_name} with a model worker's card (${cards.model_worker.member_id}):`,
    `  curl -s ${urls['transaction-settlement']}/v1/checkouts \\`,
    '    -H "Authorization: Bearer $MERCHANT_KEY" -H "Idempotency-Key: $(date +%s%N)" \\',
    `    -H 'Content-Type: application/json' -d ${shellQuote(JSON.stringify({ ...checkoutBody(basket), reference: 'POS-@REF@' })).replace('@REF@', `'"$RANDOM$RANDOM"'`)}`,
    `  → it would pay ${yuan(quote.net_minor)} for ${yuan(quote.gross_minor)}: ${yuan(quote.merchant_funded_minor)} off from the merchant (9.5折), ${yuan(quote.union_funded_minor)} from the model-worker budget`,
    '  (a reference is unique per merchant: the command makes one from $RANDOM; reuse an Idempotency-Key to retry safely)',
    '',
    'More: cards to try',
    ...(['standard', 'model_worker', 'hardship'] as const).map(
      (tier) => `  ${tier.padEnd(13)} card_number ${cards[tier].card_number}`,
    ),
    `  curl -s ${urls['transaction-settlement']}/v1/ledger/trial_balance -H "Authorization: Bearer $FINANCE_TOKEN"`,
    `  curl -s '${urls['discount-rules']}/v1/rules?status=published' -H "Authorization: Bearer $ADMIN_TOKEN"`,
    '  npm run demo     # walks through onboarding, a new rule, checkouts, a refund, settlement and reconciliation',
    line,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`demo data could not be loaded: ${String((error as Error).stack ?? error)}\n`);
  process.exit(1);
});
