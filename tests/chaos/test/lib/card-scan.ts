/**
 * Card numbers must never be stored, logged or published (DESIGN §8). The scanner looks for
 * them in text three ways:
 *
 * 1. any *standalone* run of 16–19 digits (not touching another digit) that passes the Luhn
 *    check, except inside a hex digest (a token of 32+ hex characters such as a SHA-256 or
 *    HMAC: one random digest in forty holds a 16-digit decimal run, a tenth of those
 *    Luhn-valid, so scanning digests would report noise, and a digest is not a card number);
 *    runs longer than 19 digits are not split into windows (20-digit event sequences and
 *    similar counters would report noise, e.g. sixteen zeros are Luhn-valid);
 * 2. a number written in groups as people print it (`6222 0212 3456 7890 123`,
 *    `6222-0212-…`), the grouped idea of libs/logging's CARD_NUMBER_SHAPE kept narrow enough
 *    to stay quiet: 3 to 6 groups of 3 to 6 digits, one space or one dash between groups and
 *    the same separator throughout, 16–19 digits in all, Luhn-valid, the whole run not
 *    touching a letter, digit, dot or a further group. Dates (`2025-01-01`: groups of 2),
 *    UUIDs (groups of 8 and 12), phone numbers (11 digits) and lists of small numbers never
 *    have that shape;
 * 3. every card number the run itself used, as a substring anywhere once single spaces or
 *    dashes between digits are removed (inside longer digit strings, digests or words
 *    included): these are known to be cards, so no noise to fear.
 *
 * A *plant* is a card number put on purpose in one place (a table row, a log line, a Kafka
 * record) so that the scan proves it can see that place: found where it was planted, it is
 * not a finding; not found, the scan was blind there (`missingPlants`).
 */
import { luhnValid } from '@puhui/cards';

const DIGIT_RUN = /(?<!\d)\d{16,19}(?!\d)/gu;
const GROUPED_RUN = /(?<![\w.])(?<!\d[ -])\d{3,6}([ -])\d{3,6}(?:\1\d{3,6}){1,4}(?!\w|[ -]\d)/gu;
const HEX_TOKEN = /[0-9a-f]{32,}/giu;
/** One space or dash between two digits: what a grouped number puts between its groups. */
const DIGIT_SEPARATOR = /(?<=\d)[ -](?=\d)/gu;
const PAN_DIGITS_MIN = 16;
const PAN_DIGITS_MAX = 19;
/** Findings kept: enough to see what leaked and where, without a flood in the report. */
const FINDINGS_KEPT_MAX = 200;

export interface CardFinding {
  where: string;
  /** Masked: first 6 and last 4 digits. */
  masked: string;
  kind: 'luhn_valid_run' | 'luhn_valid_grouped' | 'known_test_pan';
}

export interface Plant {
  where: string;
  /** How the scan found it (empty: not found). */
  foundAs: Array<CardFinding['kind']>;
}

export function maskedPan(digits: string): string {
  return `${digits.slice(0, 6)}${'*'.repeat(Math.max(0, digits.length - 10))}${digits.slice(-4)}`;
}

/** The digits written in groups of four with `separator` between them, as cards are printed. */
export function groupedPan(digits: string, separator: ' ' | '-'): string {
  return (digits.match(/\d{1,4}/gu) ?? []).join(separator);
}

export class CardScanner {
  /** Text scanned, in characters and pieces, for the figures. */
  charactersScanned = 0;
  piecesScanned = 0;
  readonly findings: CardFinding[] = [];
  /** Planted numbers by where they were planted. */
  private readonly plants = new Map<string, { digits: string; plant: Plant }>();

  constructor(private readonly knownPans: ReadonlySet<string>) {}

  /** Declares `digits` planted in `where` (before that place is scanned). */
  plant(digits: string, where: string): void {
    this.plants.set(where, { digits, plant: { where, foundAs: [] } });
  }

  get planted(): Plant[] {
    return [...this.plants.values()].map((entry) => entry.plant);
  }

  /** Whether the number planted in `where` was found there. */
  found(where: string): boolean {
    return (this.plants.get(where)?.plant.foundAs.length ?? 0) > 0;
  }

  /** Where a number was planted but not found: places the scan did not really read. */
  missingPlants(): string[] {
    return this.planted.filter((plant) => plant.foundAs.length === 0).map((plant) => plant.where);
  }

  scan(text: string, where: string): void {
    this.piecesScanned += 1;
    this.charactersScanned += text.length;
    if (!/\d{3}/u.test(text)) return;
    const digests: Array<[number, number]> = [];
    for (const match of text.matchAll(HEX_TOKEN)) digests.push([match.index, match.index + match[0].length]);
    for (const match of text.matchAll(DIGIT_RUN)) {
      const start = match.index;
      const end = start + match[0].length;
      if (digests.some(([from, to]) => start >= from && end <= to)) continue;
      if (luhnValid(match[0])) this.record(where, match[0], 'luhn_valid_run');
    }
    for (const match of text.matchAll(GROUPED_RUN)) {
      const digits = match[0].replace(/\D/gu, '');
      if (digits.length < PAN_DIGITS_MIN || digits.length > PAN_DIGITS_MAX) continue;
      if (luhnValid(digits)) this.record(where, digits, 'luhn_valid_grouped');
    }
    const joined = text.replace(DIGIT_SEPARATOR, '');
    for (const pan of this.knownPans) {
      if (joined.includes(pan)) this.record(where, pan, 'known_test_pan');
    }
  }

  private record(where: string, digits: string, kind: CardFinding['kind']): void {
    const planted = this.plants.get(where);
    if (planted !== undefined && planted.digits === digits) {
      planted.plant.foundAs.push(kind);
      return;
    }
    if (this.findings.length < FINDINGS_KEPT_MAX)
      this.findings.push({ where, masked: maskedPan(digits), kind });
  }
}
