/**
 * Personal information must be sealed or hashed at rest and masked when shown (DESIGN §8,
 * PIPL, decision 0016): no mobile number or resident ID number in the clear in any table, log
 * line or Kafka record. Beside the card scan (card-scan.ts), this scanner looks for them three
 * ways:
 *
 * 1. a mainland mobile as written (`1[3-9]` and 9 more digits, optionally after +86 or 86),
 *    not touching another digit or a Latin letter — the last group of a UUID (12 hex
 *    characters) is such a run beside a letter in about one request id in 3,000, and a hostile
 *    run logs 3,000 of them — or in the 3-4-4 groups people print (`138 0013 8000`,
 *    `138-0013-8000`, one separator throughout, the whole not touching a word character or a
 *    further group); never inside a hex digest (a SHA-256 or HMAC holds such a run about once
 *    in 50 digests, and a digest is not a number);
 * 2. a resident ID number: 17 digits and a digit or X, not touching another digit or letter,
 *    with a real birth date and its ISO 7064 check character (libs/kyc's checkResidentId), so
 *    that 18-digit counters and the like stay quiet (one random run in ~25,000 passes both);
 * 3. every mobile and ID number the run itself put in (the seeded merchant applications), as a
 *    substring anywhere once single spaces or dashes between digits are removed.
 *
 * It also counts where it sees the seeded values' masked forms (`138****8000`,
 * `361***********1234`): a run whose personal data is stored masked must show them somewhere,
 * so that "nothing found" is not the scan of a run that stored no personal data at all.
 *
 * Plants work as the card scan's do: a value put on purpose in one place, found there, is not a
 * finding; not found, the scan was blind there (`missingPlants`).
 */
import { checkResidentId, maskMobile, maskResidentId } from '@puhui/kyc';

const MOBILE_RUN = /(?<![0-9A-Za-z])(?:\+?86[ -]?)?(1[3-9]\d{9})(?![0-9A-Za-z])/gu;
const GROUPED_MOBILE =
  /(?<![\w.+])(?<!\d[ -])(?:\+?86[ -])?(?<head>1[3-9]\d)(?<separator>[ -])(?<middle>\d{4})\k<separator>(?<tail>\d{4})(?!\w|[ -]\d)/gu;
const RESIDENT_ID_RUN = /(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])/gu;
const HEX_TOKEN = /[0-9a-f]{32,}/giu;
const DIGIT_SEPARATOR = /(?<=\d)[ -](?=\d)/gu;
/** Findings kept: enough to see what leaked and where, without a flood in the report. */
const FINDINGS_KEPT_MAX = 200;
const CONTEXT_CHARACTERS = 40;

export type PiiKind = 'mobile' | 'mobile_grouped' | 'resident_id' | 'known_mobile' | 'known_resident_id';

export interface PiiFinding {
  where: string;
  /** Masked as the services mask it: `138****8000`, `361***********1234`. */
  masked: string;
  kind: PiiKind;
  /**
   * Up to CONTEXT_CHARACTERS either side of a shape match, the value itself masked, so that a
   * report says what the number was next to (a field name, a path) without repeating it.
   */
  context?: string;
}

export interface PiiPlant {
  where: string;
  /** How the scan found it (empty: not found). */
  foundAs: PiiKind[];
}

/** What the run put in: looked for as substrings, and their masked forms counted. */
export interface SeededPersonalData {
  mobiles: ReadonlySet<string>;
  residentIds: ReadonlySet<string>;
}

function masked(value: string): string {
  return value.length === 11 ? maskMobile(value) : maskResidentId(value);
}

/** The text around a match, the match masked and any other long digit run in it blanked. */
function contextOf(text: string, index: number, length: number): string {
  const before = text.slice(Math.max(0, index - CONTEXT_CHARACTERS), index);
  const after = text.slice(index + length, index + length + CONTEXT_CHARACTERS);
  const blank = (part: string) => part.replace(/\d{7,}/gu, (digits) => '#'.repeat(digits.length));
  return `${blank(before)}[${'#'.repeat(length)}]${blank(after)}`;
}

export class PiiScanner {
  charactersScanned = 0;
  piecesScanned = 0;
  readonly findings: PiiFinding[] = [];
  /** How many pieces held a seeded value's masked form, by that form. */
  readonly maskedSeen = new Map<string, number>();
  /** Where the masked forms were seen (the first place of each kind: a table, a topic…). */
  readonly maskedSeenIn = new Set<string>();
  private readonly plants = new Map<string, Array<{ value: string; plant: PiiPlant }>>();
  private readonly maskedForms: string[];
  private readonly today = new Date().toISOString().slice(0, 10);

  constructor(private readonly seeded: SeededPersonalData) {
    this.maskedForms = [...seeded.mobiles, ...seeded.residentIds].map(masked);
    for (const form of this.maskedForms) this.maskedSeen.set(form, 0);
  }

  /** Declares `value` (a mobile or an ID number) planted in `where`, before that place is scanned. */
  plant(value: string, where: string): void {
    const entries = this.plants.get(where) ?? [];
    entries.push({ value, plant: { where, foundAs: [] } });
    this.plants.set(where, entries);
  }

  get planted(): PiiPlant[] {
    return [...this.plants.values()].flat().map((entry) => entry.plant);
  }

  /** Where a value was planted but not found: places the scan did not really read. */
  missingPlants(): string[] {
    return [...this.plants.values()]
      .flat()
      .filter((entry) => entry.plant.foundAs.length === 0)
      .map((entry) => `${entry.plant.where} (${masked(entry.value)})`);
  }

  /** Pieces that showed any seeded value masked. */
  get maskedSightings(): number {
    return [...this.maskedSeen.values()].reduce((sum, count) => sum + count, 0);
  }

  scan(text: string, where: string): void {
    this.piecesScanned += 1;
    this.charactersScanned += text.length;
    this.countMasked(text, where);
    if (!/\d{3}/u.test(text)) return;
    const digests: Array<[number, number]> = [];
    for (const match of text.matchAll(HEX_TOKEN)) digests.push([match.index, match.index + match[0].length]);
    const inDigest = (start: number, end: number) => digests.some(([from, to]) => start >= from && end <= to);
    for (const match of text.matchAll(MOBILE_RUN)) {
      if (inDigest(match.index, match.index + match[0].length)) continue;
      this.record(where, match[1] as string, 'mobile', contextOf(text, match.index, match[0].length));
    }
    for (const match of text.matchAll(GROUPED_MOBILE)) {
      const groups = match.groups ?? {};
      this.record(
        where,
        `${groups.head}${groups.middle}${groups.tail}`,
        'mobile_grouped',
        contextOf(text, match.index, match[0].length),
      );
    }
    for (const match of text.matchAll(RESIDENT_ID_RUN)) {
      if (inDigest(match.index, match.index + match[0].length)) continue;
      const check = checkResidentId(match[0], this.today);
      if (check.ok)
        this.record(where, check.value, 'resident_id', contextOf(text, match.index, match[0].length));
    }
    const joined = text.replace(DIGIT_SEPARATOR, '');
    for (const mobile of this.seeded.mobiles) {
      if (joined.includes(mobile)) this.record(where, mobile, 'known_mobile');
    }
    const upper = joined.toUpperCase();
    for (const id of this.seeded.residentIds) {
      if (upper.includes(id)) this.record(where, id, 'known_resident_id');
    }
  }

  private countMasked(text: string, where: string): void {
    if (!text.includes('****')) return;
    for (const form of this.maskedForms) {
      if (!text.includes(form)) continue;
      this.maskedSeen.set(form, (this.maskedSeen.get(form) ?? 0) + 1);
      this.maskedSeenIn.add(where);
    }
  }

  private record(where: string, value: string, kind: PiiKind, context?: string): void {
    const planted = this.plants.get(where)?.find((entry) => entry.value === value);
    if (planted !== undefined) {
      planted.plant.foundAs.push(kind);
      return;
    }
    if (this.findings.length < FINDINGS_KEPT_MAX)
      this.findings.push({
        where,
        masked: masked(value),
        kind,
        ...(context === undefined ? {} : { context }),
      });
  }
}
