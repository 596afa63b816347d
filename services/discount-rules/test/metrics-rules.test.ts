/**
 * discount-rules' own families at GET /metrics (issue 20): rules by status as the API lists
 * them, and the ruleset version in Postgres and in Redis, equal once a publish reached Redis.
 */
import { parseMetricsText, sampleValue } from '@puhui/metrics';
import type { Sample } from '@puhui/metrics';
import { waitFor } from '@puhui/testing';
import type { Harness } from './support';
import { startHarness, supermarketRule } from './support';

let harness: Harness;
beforeAll(async () => {
  harness = await startHarness();
});
afterAll(() => harness.close());

async function scrape(): Promise<Sample[]> {
  const response = await fetch(`${harness.url}/metrics`);
  expect(response.status).toBe(200);
  return parseMetricsText(await response.text());
}

const service = { service: 'discount-rules' };

/** The scrape once the service's reading (cached up to 5 s) shows `expected` rules of each status. */
function scrapeShowing(expected: Record<string, number>): Promise<Sample[]> {
  return waitFor(
    async () => {
      const samples = await scrape();
      const shown = Object.entries(expected).every(
        ([status, count]) => sampleValue(samples, 'puhui_discount_rules', { ...service, status }) === count,
      );
      return shown && samples;
    },
    { description: `rules by status ${JSON.stringify(expected)}`, timeoutMs: 15_000, intervalMs: 250 },
  );
}

describe('discount-rules metrics', () => {
  it('counts rules by status and shows the ruleset version of Postgres and of Redis', async () => {
    const initial = await scrapeShowing({ draft: 0, published: 0, retired: 0 });
    expect(sampleValue(initial, 'puhui_ruleset_version', { ...service, store: 'postgres' })).toBe(0);

    const drafts = [];
    for (let index = 0; index < 3; index += 1) {
      const created = await harness.call('POST', '/v1/rules', {
        body: supermarketRule({ name: `规则 ${index}` }),
      });
      expect(created.status).toBe(201);
      drafts.push(created.body.rule_id as string);
    }
    const published = await harness.call('POST', `/v1/rules/${drafts[0] as string}/publish`);
    expect(published.status).toBe(200);
    const version = published.body.ruleset_version as number;
    expect(version).toBeGreaterThan(0);

    const listed = await harness.call('GET', '/v1/rules?limit=100');
    expect(listed.status).toBe(200);
    const rules = listed.body.data as Array<{ status: string }>;
    expect(rules).toHaveLength(3);
    const byStatus = (status: string) => rules.filter((rule) => rule.status === status).length;
    expect([byStatus('draft'), byStatus('published')]).toEqual([2, 1]);

    await scrapeShowing({ draft: 2, published: 1, retired: 0 });
    // Redis carries the version once the publish was copied there (the same reading, so wait for both).
    const samples = await waitFor(
      async () => {
        const current = await scrape();
        return (
          sampleValue(current, 'puhui_ruleset_version', { ...service, store: 'redis' }) === version && current
        );
      },
      { description: 'Redis at the published version', timeoutMs: 15_000, intervalMs: 250 },
    );
    expect(sampleValue(samples, 'puhui_ruleset_version', { ...service, store: 'postgres' })).toBe(version);
  });
});
