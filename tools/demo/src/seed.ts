/**
 * Loads the demo programme into a running Puhui through its public APIs, once: every step
 * looks for what an earlier load made before it makes anything, so a second start (or a
 * load cut short) finds and reuses the data. The featured merchant's secret key is kept in
 * a local state file (it is shown only once); if it no longer works, a new one is made.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { csvBody, idempotencyKey, ok } from '@puhui/api-clients';
import type { PuhuiApi } from './api';
import { eventually } from './api';
import { approveIfPending, awaitCheckoutAccess, createApiKey, listAll, onboard, publishRule } from './flows';
import type { Tokens } from './flows';
import {
  BUDGETS,
  CARD_COUNT,
  FEATURED_MERCHANT,
  MERCHANTS,
  REGION_CODE,
  demoCardsCsv,
  standingOfferRules,
  subsidyRules,
} from './programme';

/** The programme's rules start at this instant, so their bodies (and so their names' rules) never change. */
const PROGRAMME_START = '2026-01-01T00:00:00+08:00';
/** Demo merchants' credit codes: 91361100MA39000NN. */
const MERCHANT_SERIAL_BASE = 3_900_000;

export interface DemoData {
  merchants: Array<{ id: string; display_name: string; category: string; status: string; created: boolean }>;
  featured: { merchant_id: string; display_name: string; secret: string; key_created: boolean };
  budgets: Array<{ id: string; name: string; balance_minor: number; created: boolean }>;
  rules: Array<{ rule_id: string; name: string; created: boolean }>;
  cards: {
    total: number;
    inserted: number;
    unchanged: number;
    rejected: number;
    by_tier: Record<string, number>;
  };
}

interface SavedKey {
  merchant_id: string;
  secret: string;
}

function readSavedKey(stateFile: string): SavedKey | undefined {
  if (!existsSync(stateFile)) return undefined;
  try {
    return JSON.parse(readFileSync(stateFile, 'utf8')) as SavedKey;
  } catch {
    return undefined;
  }
}

async function featuredKey(api: PuhuiApi, tokens: Tokens, merchantId: string, stateFile: string) {
  const saved = readSavedKey(stateFile);
  if (saved?.merchant_id === merchantId) {
    const check = await api.as(saved.secret)['merchant-onboarding'].GET('/v1/merchants/{id}', {
      params: { path: { id: merchantId } },
    });
    if (check.response.status === 200) return { secret: saved.secret, created: false };
  }
  const secret = await createApiKey(api, tokens, merchantId);
  mkdirSync(path.dirname(stateFile), { recursive: true });
  writeFileSync(stateFile, `${JSON.stringify({ merchant_id: merchantId, secret }, null, 2)}\n`, {
    mode: 0o600,
  });
  return { secret, created: true };
}

async function fundedBudgets(api: PuhuiApi, tokens: Tokens) {
  const budgets: DemoData['budgets'] = [];
  const budgetIds: Record<string, string> = {};
  const rules = api.as(tokens.admin)['discount-rules'];
  const settlement = api.as(tokens.admin)['transaction-settlement'];
  for (const budget of BUDGETS) {
    const existing = await listAll(
      (after) =>
        ok(
          rules.GET('/v1/budgets', {
            params: { query: { union_id: budget.union_id, limit: 100, starting_after: after } },
          }),
        ),
      (item) => item.budget_id,
    );
    const found = existing.find((candidate) => candidate.name === budget.name);
    const created =
      found ??
      (await ok(
        rules.POST('/v1/budgets', {
          body: { name: budget.name, union_id: budget.union_id, currency: 'CNY' },
        }),
      ));
    const id = created.budget_id;
    budgetIds[budget.key] = id;
    // One top-up per budget, ever: the idempotency key makes a second load a replay.
    const funding = await eventually(`budget ${id} known to transaction-settlement`, async () => {
      const funded = await settlement.POST('/v1/budgets/{id}/top_ups', {
        params: { path: { id }, header: idempotencyKey(`demo-seed-funding-${id}`) },
        body: { amount_minor: budget.amount_minor, reference: `DEMO-FUND-${budget.key}` },
      });
      // 503 not_yet_available until the budget's event reaches settlement.
      return funded.response.status === 503 ? undefined : ok(funded);
    });
    // The top-up waits for a second admin (dual control); a later load finds it decided.
    await approveIfPending(api, tokens.admin2, 'transaction-settlement', funding.approval_request.id);
    const balance = await ok(settlement.GET('/v1/budgets/{id}', { params: { path: { id } } }));
    budgets.push({
      id,
      name: budget.name,
      balance_minor: balance.balance_minor,
      created: found === undefined,
    });
  }
  return { budgets, budgetIds };
}

export async function loadDemoData(api: PuhuiApi, tokens: Tokens, stateFile: string): Promise<DemoData> {
  const onboarding = api.as(tokens.admin)['merchant-onboarding'];
  const existingMerchants = await listAll(
    (after) =>
      ok(
        onboarding.GET('/v1/merchants', {
          params: { query: { region_code: REGION_CODE, limit: 100, starting_after: after } },
        }),
      ),
    (merchant) => merchant.id,
  );
  const merchants: DemoData['merchants'] = [];
  for (const [index, merchant] of MERCHANTS.entries()) {
    const onboarded = await onboard(
      api,
      tokens,
      merchant,
      MERCHANT_SERIAL_BASE + index + 1,
      existingMerchants,
    );
    merchants.push({
      id: onboarded.merchant.id,
      display_name: merchant.display_name,
      category: merchant.category,
      status: onboarded.merchant.status,
      created: onboarded.created,
    });
  }

  const { budgets, budgetIds } = await fundedBudgets(api, tokens);

  const rulesApi = api.as(tokens.admin)['discount-rules'];
  const existingRules = await listAll(
    (after) => ok(rulesApi.GET('/v1/rules', { params: { query: { limit: 100, starting_after: after } } })),
    (rule) => rule.rule_id,
  );
  const rules: DemoData['rules'] = [];
  for (const body of [...standingOfferRules(PROGRAMME_START), ...subsidyRules(PROGRAMME_START, budgetIds)]) {
    const published = await publishRule(api, tokens, body, existingRules);
    rules.push({ rule_id: published.rule_id, name: body.name, created: published.created });
  }

  const imported = await ok(rulesApi.POST('/v1/cards/imports', csvBody(demoCardsCsv())));
  const byTier: Record<string, number> = {};
  for (const line of demoCardsCsv().trim().split('\n').slice(1)) {
    const tier = line.split(',')[3] as string;
    byTier[tier] = (byTier[tier] ?? 0) + 1;
  }

  const featuredMerchant = merchants[MERCHANTS.findIndex((merchant) => merchant.key === FEATURED_MERCHANT)];
  if (featuredMerchant === undefined) throw new Error(`no merchant ${FEATURED_MERCHANT} in the programme`);
  const key = await featuredKey(api, tokens, featuredMerchant.id, stateFile);
  await awaitCheckoutAccess(api, key.secret);

  return {
    merchants,
    featured: {
      merchant_id: featuredMerchant.id,
      display_name: featuredMerchant.display_name,
      secret: key.secret,
      key_created: key.created,
    },
    budgets,
    rules,
    cards: {
      total: CARD_COUNT,
      inserted: imported.inserted,
      unchanged: imported.unchanged,
      rejected: imported.rejected,
      by_tier: byTier,
    },
  };
}
