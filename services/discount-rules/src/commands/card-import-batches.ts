/**
 * The rows of a card import gathered into batches, each written with one statement per table
 * inside the import's one transaction (decision 0022: a file registers whole or not at all).
 * Counts and listed problems are kept per window (the rows since the last flush) and added
 * to the import's row after the batch, outside that transaction, so progress is visible while
 * the file streams in.
 */
import type { PoolClient } from 'pg';
import { cardRegistered } from '@puhui/discount';
import { appendEvents } from '@puhui/events';
import { factsOf, sameRegistration } from '../domain/card';
import type { ImportRow, RowProblem } from '../domain/import-row';
import { appendImportedCardsAudit } from '../store/audit';
import { addImportProgress } from '../store/card-imports';
import type { ImportCounts } from '../domain/card-import';
import { insertCardBatch } from '../store/cards';
import type { BatchOutcome } from '../store/cards';
import { EVENT_SOURCE } from './context';
import type { CommandContext } from './context';

export interface ImportSettings {
  cardTokenKey: string;
  /** Rows per batch (and per INSERT). */
  batchSize: number;
  rowsMax: number;
  /** Problems listed on the import; every problem is counted. */
  errorsListedMax: number;
  /** Most bytes read from one file (CARD_IMPORT_BYTES_MAX). */
  bytesMax: number;
  /** Share of rejected rows past which the import fails (CARD_IMPORT_REJECTED_SHARE_MAX). */
  rejectedShareMax: number;
  /** Rejected rows always tolerated, whatever the share (CARD_IMPORT_REJECTED_ROWS_TOLERATED). */
  rejectedRowsTolerated: number;
}

const ALREADY_REGISTERED = 'card already registered with another member, union or tier';

interface Window {
  /** Distinct cards to register, by token. */
  cards: Map<string, ImportRow>;
  /** Rows that repeat an earlier row of the window exactly. */
  repeated: number;
  problems: RowProblem[];
}

const emptyWindow = (): Window => ({ cards: new Map(), repeated: 0, problems: [] });

export class ImportBatches {
  private window: Window = emptyWindow();
  private writing: Promise<void> = Promise.resolve();
  private problemsListed = 0;
  rowsSeen = 0;
  /** What the windows written so far added up to. */
  readonly totals: ImportCounts = { rows_total: 0, inserted: 0, unchanged: 0, rejected: 0 };

  /** `client` holds the import's open transaction; progress goes through the context's pool. */
  constructor(
    private readonly context: CommandContext,
    private readonly client: PoolClient,
    private readonly importId: string,
    private readonly settings: ImportSettings,
  ) {}

  get full(): boolean {
    const { cards, repeated, problems } = this.window;
    return cards.size + repeated + problems.length >= this.settings.batchSize;
  }

  reject(problem: RowProblem): void {
    this.rowsSeen += 1;
    this.window.problems.push(problem);
  }

  /** A card seen twice in one window is registered once; with other details, the repeat is refused. */
  add(row: ImportRow): void {
    this.rowsSeen += 1;
    const earlier = this.window.cards.get(row.card_token);
    if (earlier === undefined) {
      this.window.cards.set(row.card_token, row);
    } else if (sameRegistration(earlier, row)) {
      this.window.repeated += 1;
    } else {
      const reason = `repeats the card of line ${earlier.line} with another member, union or tier`;
      this.window.problems.push({ line: row.line, field: 'card_number', reason });
    }
  }

  /**
   * Hands the window to the database and starts a new one. One write is in flight at a time:
   * the next window is parsed (and its numbers tokenized) while the previous one is written,
   * and waits for that write before its own, so at most two windows are ever held.
   */
  async flush(): Promise<void> {
    const window = this.window;
    const rows = window.cards.size + window.repeated + window.problems.length;
    if (rows === 0) return;
    this.window = emptyWindow();
    await this.writing;
    this.writing = this.write(window, rows);
    // Awaited by the next flush or by `finished`; until then a failure must not count as unhandled.
    this.writing.catch(() => undefined);
  }

  /** Writes what is left; resolves when every window is written, rejects with the first failure. */
  async finished(): Promise<void> {
    await this.flush();
    await this.writing;
  }

  /** After a failure: drops the unwritten window and waits for the write in flight, if any. */
  async abandon(): Promise<void> {
    this.window = emptyWindow();
    await this.writing.catch(() => undefined);
  }

  private async write(window: Window, rows: number): Promise<void> {
    // Token order: two imports touching the same cards take their row locks in the same order.
    const cards = [...window.cards.values()].sort((a, b) => (a.card_token < b.card_token ? -1 : 1));
    const { client } = this;
    const outcomes = await insertCardBatch(client, cards, this.importId);
    const { registered, counts, problems } = classify(cards, outcomes, window, rows);
    await appendEvents(
      client,
      EVENT_SOURCE,
      registered.map(({ card, registered_at }) => ({
        definition: cardRegistered,
        subject: card.card_token,
        data: { card: factsOf({ ...card, status: 'active' }), registered_at: registered_at.toISOString() },
        time: registered_at,
      })),
    );
    const tokens = registered.map(({ card }) => card.card_token);
    if (tokens.length > 0) {
      await appendImportedCardsAudit(client, tokens, {
        import_id: this.importId,
        actor: this.context.actor,
        request_id: this.context.requestId,
      });
    }
    const room = Math.max(0, this.settings.errorsListedMax - this.problemsListed);
    // Progress is its own statement on the pool: readable while the import's transaction is open.
    await addImportProgress(this.context.pool, this.importId, counts, problems.slice(0, room));
    const listed = Math.min(room, problems.length);
    this.problemsListed += listed;
    for (const key of ['rows_total', 'inserted', 'unchanged', 'rejected'] as const)
      this.totals[key] += counts[key];
  }
}

/** Sorts the batch's outcomes into registered, unchanged and refused rows. */
function classify(
  cards: readonly ImportRow[],
  outcomes: readonly BatchOutcome[],
  window: Window,
  rows: number,
) {
  const byToken = new Map(outcomes.map((outcome) => [outcome.card_token, outcome]));
  const registered: { card: ImportRow; registered_at: Date }[] = [];
  const problems = [...window.problems];
  let unchanged = window.repeated;
  for (const card of cards) {
    const outcome = byToken.get(card.card_token);
    if (outcome?.created_at !== null && outcome?.created_at !== undefined) {
      registered.push({ card, registered_at: outcome.created_at });
    } else if (outcome?.same_as_registered === true) {
      unchanged += 1;
    } else {
      // Registered with other details, or by a concurrent request this statement could not see.
      problems.push({ line: card.line, field: 'card_number', reason: ALREADY_REGISTERED });
    }
  }
  problems.sort((a, b) => a.line - b.line);
  const counts: ImportCounts = {
    rows_total: rows,
    inserted: registered.length,
    unchanged,
    rejected: problems.length,
  };
  return { registered, counts, problems };
}
