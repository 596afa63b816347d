/** Finding member cards (issue 17: `GET /v1/cards`): by member id and last 4, union, tier, status, page by page. */
import { randomUUID } from 'node:crypto';
import { generateTestPan } from '@puhui/cards';
import { startHarness } from './support';
import type { Harness } from './support';

let harness: Harness;
let serial = 47_000;
const nextPan = () => generateTestPan((serial += 1), { prefix: '6212', length: 19 });
// This file's own union and members: other files register cards in the same database.
const union = `union-search-${randomUUID().slice(0, 8)}`;
const member = (n: number) => `M-${union}-${n}`;
const registered: { card_token: string; card_last4: string; member_id: string; tier: string }[] = [];

beforeAll(async () => {
  harness = await startHarness();
  const tiers = ['standard', 'model_worker', 'hardship', 'standard', 'model_worker'];
  for (const [index, tier] of tiers.entries()) {
    const answer = await harness.call('POST', '/v1/cards', {
      body: { card_number: nextPan(), member_id: member(index < 2 ? 1 : index), union_id: union, tier },
    });
    expect(answer.status).toBe(201);
    registered.push(answer.body as (typeof registered)[number]);
  }
});

afterAll(async () => {
  await harness.close();
});

const find = async (query: string, token?: string) =>
  harness.call('GET', `/v1/cards?${query}`, token === undefined ? {} : { token });
const tokensOf = (answer: { body: unknown }) =>
  (answer.body as { data: { card_token: string }[] }).data.map((card) => card.card_token);
const sorted = (tokens: string[]) => [...tokens].sort();

describe('finding member cards', () => {
  it('finds a member’s cards, narrowed by the last 4', async () => {
    const both = await find(`member_id=${member(1)}`);
    expect(both.status).toBe(200);
    expect(tokensOf(both)).toEqual(
      sorted([registered[0]?.card_token ?? '', registered[1]?.card_token ?? '']),
    );
    const one = await find(`member_id=${member(1)}&card_last4=${registered[1]?.card_last4 ?? ''}`);
    expect(tokensOf(one)).toEqual([registered[1]?.card_token]);
    expect(one.body.data[0]).toEqual(registered[1]);
    expect(tokensOf(await find('member_id=M-nobody'))).toEqual([]);
  });

  it('lists a union’s cards by tier and status, page by page in token order', async () => {
    const all = await find(`union_id=${union}&limit=100`);
    expect(tokensOf(all)).toEqual(sorted(registered.map((card) => card.card_token)));
    const models = await find(`union_id=${union}&tier=model_worker`);
    expect(tokensOf(models)).toEqual(
      sorted(registered.filter((card) => card.tier === 'model_worker').map((card) => card.card_token)),
    );

    const frozen = registered[2]?.card_token ?? '';
    expect((await harness.call('PATCH', `/v1/cards/${frozen}`, { body: { status: 'frozen' } })).status).toBe(
      200,
    );
    expect(tokensOf(await find(`union_id=${union}&status=frozen`))).toEqual([frozen]);

    const pages: string[] = [];
    let after: string | undefined;
    for (let page = 0; page < 10; page += 1) {
      const answer = await find(
        `union_id=${union}&limit=2${after === undefined ? '' : `&starting_after=${after}`}`,
      );
      pages.push(...tokensOf(answer));
      if (!answer.body.has_more) break;
      after = answer.body.data.at(-1)?.card_token;
    }
    expect(pages).toEqual(tokensOf(all));
  });

  it('refuses bad filters and callers who may not read cards', async () => {
    expect((await find('card_last4=12a4')).status).toBe(400);
    expect((await find('tier=gold')).status).toBe(400);
    expect((await find('limit=0')).status).toBe(400);
    expect((await find('starting_after=not-a-token')).status).toBe(400);
    expect((await find(`union_id=${union}`, harness.finance)).status).toBe(200);
  });
});
