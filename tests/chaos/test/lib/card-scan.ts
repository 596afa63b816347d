/**
 * Card numbers must never be stored, logged or published (DESIGN §8). The scanner looks for
 * them in text two ways:
 *
 * 1. any *standalone* run of 16–19 digits (not touching another digit) that passes the Luhn
 *    check, except inside a hex digest (a token of 32+ hex characters such as a SHA-256 or
 *    HMAC: one random digest in forty holds a 16-digit decimal run, a tenth of those
 *    Luhn-valid, so scanning digests would report noise, and a digest is not a card number);
 *    runs longer than 19 digits are not split into windows (20-digit event sequences and
 *    similar counters would report noise, e.g. sixteen zeros are Luhn-valid);
 * 2. every card number the run itself used, as a substring anywhere (inside longer digit
 *    strings, digests or words included): these are known to be cards, so no noise to fear.
 */
import { luhnValid } from '@puhui/cards';

const DIGIT_RUN = /(?<!\d)\d{16,19}(?!\d)/gu;
const HEX_TOKEN = /[0-9a-f]{32,}/giu;

export interface CardFinding {
  where: string;
  /** Masked: first 6 and last 4 digits. */
  masked: string;
  kind: 'luhn_valid_run' | 'known_test_pan';
}

export function maskedPan(digits: string): string {
  return `${digits.slice(0, 6)}${'*'.repeat(Math.max(0, digits.length - 10))}${digits.slice(-4)}`;
}

export class CardScanner {
  /** Text scanned, in characters and pieces, for the figures. */
  charactersScanned = 0;
  piecesScanned = 0;
  readonly findings: CardFinding[] = [];

  constructor(private readonly knownPans: ReadonlySet<string>) {}

  scan(text: string, where: string): void {
    this.piecesScanned += 1;
    this.charactersScanned += text.length;
    if (!/\d{16}/u.test(text)) return;
    const digests: Array<[number, number]> = [];
    for (const match of text.matchAll(HEX_TOKEN)) digests.push([match.index, match.index + match[0].length]);
    for (const match of text.matchAll(DIGIT_RUN)) {
      const start = match.index;
      const end = start + match[0].length;
      if (digests.some(([from, to]) => start >= from && end <= to)) continue;
      if (luhnValid(match[0])) this.record(where, match[0], 'luhn_valid_run');
    }
    for (const pan of this.knownPans) {
      if (text.includes(pan)) this.record(where, pan, 'known_test_pan');
    }
  }

  private record(where: string, digits: string, kind: CardFinding['kind']): void {
    if (this.findings.length < 200) this.findings.push({ where, masked: maskedPan(digits), kind });
  }
}
