/**
 * A card's rate sheet (DESIGN §7): the published rules that can apply to that card, already
 * filtered by eligibility, written to Redis by discount-rules and read by settlement at
 * checkout. Keys carry the ruleset version, so a publish or retire switches every card at
 * once by bumping `puhui:ruleset_version` (no scan-and-delete); a card change deletes its
 * own key. Redis is a cache: a miss is filled through `GET /v1/cards/{token}/rate_sheet`.
 */
import { z } from 'zod';
import { cardFacts } from './events';
import { discountRuleSchema } from './schema';

export const RULESET_VERSION_KEY = 'puhui:ruleset_version';
/**
 * Which database's versions Redis holds (discount-rules' ruleset_head.epoch): where it differs,
 * every sheet in Redis is another database's and discount-rules drops them all.
 */
export const RULESET_EPOCH_KEY = 'puhui:ruleset_epoch';
/** What SCAN matches to find every rate sheet (after the client's key prefix). */
export const RATE_SHEET_KEY_PATTERN = 'puhui:rate_sheet:*';
/** A sheet outlives a quiet day; a new version makes old keys unreachable long before. */
export const RATE_SHEET_TTL_SECONDS = 24 * 3600;

export function rateSheetKey(rulesetVersion: number, cardToken: string): string {
  return `puhui:rate_sheet:v${rulesetVersion}:${cardToken}`;
}

/** The key's name for logs: its ruleset version, never the card token. */
export function rateSheetKeyIdentity(rulesetVersion: number): string {
  return `puhui:rate_sheet:v${rulesetVersion}:<card>`;
}

export const rateSheetSchema = z.strictObject({
  card: cardFacts,
  ruleset_version: z.int().min(0),
  computed_at: z.iso.datetime({ offset: true }),
  /** Empty for a card that is not active: such a card gets no discount. */
  rules: z.array(discountRuleSchema),
});
export type RateSheet = z.infer<typeof rateSheetSchema>;
