import { z } from 'zod';
import { SECOND_MS, defaultPort, loadConfig, positiveInteger } from '@puhui/config';
import { serviceEnvironment } from '@puhui/service';

export const discountRulesEnvironment = serviceEnvironment({
  port: defaultPort('discount-rules'),
  databaseName: 'puhui_discount_rules',
  secrets: ['CARD_TOKEN_KEY', 'RATE_SHEET_SIGNING_KEY', 'SERVICE_CREDENTIALS'],
}).extend({
  /**
   * The preview's JSON body: 10,000 past checkouts (the most one preview takes) is about
   * 2.5 MB, so that route alone allows 4 MiB; every other route keeps the platform's 100 KiB
   * (decision 0018). CSV imports are streamed and bounded by rows and bytes instead.
   */
  PREVIEW_BODY_LIMIT_BYTES: positiveInteger.default(4 * 1024 * 1024),
  /**
   * How long a card import may take to arrive (the platform's 30 s is for every other route):
   * a 263,000-card CSV streams in about 31 s here; a million-card file needs minutes.
   */
  CARD_IMPORT_TIMEOUT_MS: positiveInteger.default(10 * 60 * SECOND_MS),
  /**
   * How often Redis's ruleset version is re-synced from Postgres, due scheduled publishes go
   * live and left-over card sheet invalidations are retried: the longest a crash between a
   * commit and its Redis write can leave Redis behind.
   */
  BACKGROUND_INTERVAL_MS: positiveInteger.default(SECOND_MS),
  /** An import with no progress for this long was left by a process that died: it is marked failed. */
  CARD_IMPORT_ABANDONED_AFTER_MS: positiveInteger.default(10 * 60 * SECOND_MS),
  /**
   * Cards per batch (one INSERT, one transaction). Importing 100,000 cards on a 2-core machine
   * took 12.3 s at 1,000, 9.4 s at 2,500 and 8.4 s at 5,000 (per-statement and relay overhead
   * per batch); 2,500 keeps most of the gain with half the memory per window of 5,000.
   */
  CARD_IMPORT_BATCH_SIZE: positiveInteger.max(10_000).default(2_500),
  /** A city has at most about 10^6 cards; a bigger file is a mistake, not an import. */
  CARD_IMPORT_ROWS_MAX: positiveInteger.default(2_000_000),
  /**
   * Bytes read from one import file (413 past it, the import failed and nothing registered). A
   * row is about 50 bytes (a million-card file about 50 MB); 128 MiB holds CARD_IMPORT_ROWS_MAX
   * rows of ~60 bytes, where rows of up to 4 KiB alone would let one file run to gigabytes.
   */
  CARD_IMPORT_BYTES_MAX: positiveInteger.default(128 * 1024 * 1024),
  /**
   * An import whose rejected rows are more than this share of its rows (and more than
   * CARD_IMPORT_REJECTED_ROWS_TOLERATED) fails and registers nothing (decision 0022): a file
   * with one bad row in twenty is the wrong file or a broken export, not a few typos.
   */
  CARD_IMPORT_REJECTED_SHARE_MAX: z.coerce.number().min(0).max(1).default(0.05),
  /** Rejected rows tolerated whatever the share: a 40-row file with 3 typos still imports its 37. */
  CARD_IMPORT_REJECTED_ROWS_TOLERATED: z.coerce.number().int().min(0).default(10),
  /** Rejected rows listed in an import's `errors` (all are counted). */
  CARD_IMPORT_ERRORS_LISTED_MAX: z.coerce.number().int().min(0).max(10_000).default(1_000),
  /**
   * Worker threads pricing previews, off the event loop (decision 0019). One: previews are an
   * operator's what-if, and on a 2-core machine the other core stays with the event loop.
   */
  PREVIEW_THREADS: positiveInteger.max(16).default(1),
  /** Previews waiting for a worker; past them a preview is refused with 429 and Retry-After. */
  PREVIEW_QUEUE_MAX: z.coerce.number().int().min(0).max(1_000).default(4),
  /**
   * Lines over every checkout of one preview (400 past it). 10,000 past checkouts rarely hold
   * more than 5 lines each; the body limit alone would let through about 70,000.
   */
  PREVIEW_LINES_MAX: positiveInteger.default(50_000),
  /**
   * Applied rules listed over every line of one preview: the answer's size (about 150 bytes
   * each, so 250,000 is about 37 MB). 422 `preview_too_large` past it: 100 stacking rules on 40
   * checkouts of 500 lines fit in 1.1 MB of body but answered 300 MB in 8 s before this cap.
   */
  PREVIEW_APPLIED_RULES_MAX: positiveInteger.default(250_000),
  /** Pricing time of one preview (422 `preview_too_large` past it): a backstop the caps above make unlikely. */
  PREVIEW_PRICING_MS_MAX: positiveInteger.default(30 * SECOND_MS),
});
export type DiscountRulesConfig = z.infer<typeof discountRulesEnvironment>;

export function loadDiscountRulesConfig(
  environment: Record<string, string | undefined> = process.env,
): DiscountRulesConfig {
  return loadConfig(discountRulesEnvironment, environment);
}
