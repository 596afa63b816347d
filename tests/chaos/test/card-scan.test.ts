/**
 * The card-number scanner must find what it looks for, or its "no findings" proves nothing.
 */
import { generateTestPan } from '@puhui/cards';
import { CardScanner, groupedPan } from './lib/card-scan';

const pan16 = generateTestPan(12_345, { length: 16 });
const pan19 = generateTestPan(67_890, { length: 19 });
/** Unknown to the scanner, so that only the Luhn-valid shapes can find it. */
const unknown19 = generateTestPan(24_680, { prefix: '6222', length: 19 });

function luhnBroken(pan: string): string {
  return `${pan.slice(0, -1)}${(Number(pan.slice(-1)) + 1) % 10}`;
}

function found(scanner: CardScanner): string[] {
  return scanner.findings.map((finding) => `${finding.kind} ${finding.where}`);
}

it('finds Luhn-valid 16–19 digit runs and every known test card number, masked', () => {
  const scanner = new CardScanner(new Set([pan19]));
  scanner.scan(`{"card_number":"${pan16}"}`, 'a row');
  scanner.scan(`msg=card ${pan19} declined`, 'a log line');
  scanner.scan(`prefix${pan19}suffix`, 'a word');
  scanner.scan(`00${pan19}00`, 'a longer digit string');
  expect(found(scanner)).toEqual([
    'luhn_valid_run a row',
    'luhn_valid_run a log line',
    'known_test_pan a log line',
    'luhn_valid_run a word',
    'known_test_pan a word',
    'known_test_pan a longer digit string',
  ]);
  expect(JSON.stringify(scanner.findings)).not.toContain(pan16);
  expect(scanner.findings[0]?.masked).toBe(`${pan16.slice(0, 6)}******${pan16.slice(-4)}`);
});

it('finds card numbers written in groups with spaces or dashes, known or not', () => {
  const scanner = new CardScanner(new Set([pan19]));
  // Unknown numbers: only the grouped Luhn shape can find them.
  scanner.scan(`card ${groupedPan(unknown19, ' ')} declined`, 'spaced 4-4-4-4-3');
  scanner.scan(`"${groupedPan(unknown19, '-')}"`, 'dashed 4-4-4-4-3');
  scanner.scan(
    `(${unknown19.slice(0, 6)} ${unknown19.slice(6, 10)} ${unknown19.slice(10, 14)} ${unknown19.slice(14)})`,
    'spaced 6-4-4-5',
  );
  scanner.scan(`卡号 ${groupedPan(pan16, '-')}。`, 'dashed 16 digits');
  // A known number is found however it is grouped, even inside a word.
  scanner.scan(`x${pan19.slice(0, 2)} ${pan19.slice(2, 9)}-${pan19.slice(9)}y`, 'a known number, odd groups');
  expect(found(scanner)).toEqual([
    'luhn_valid_grouped spaced 4-4-4-4-3',
    'luhn_valid_grouped dashed 4-4-4-4-3',
    'luhn_valid_grouped spaced 6-4-4-5',
    'luhn_valid_grouped dashed 16 digits',
    'known_test_pan a known number, odd groups',
  ]);
  expect(JSON.stringify(scanner.findings)).not.toContain(unknown19.slice(6, 14));
});

it('ignores last 4 digits, Luhn-invalid runs, runs longer than 19 digits and hex digests', () => {
  const scanner = new CardScanner(new Set());
  const invalid = luhnBroken(pan16);
  scanner.scan(`card_last4=${pan16.slice(-4)} ${invalid}`, 'a row');
  scanner.scan(`sequence 0000000000000000000${'1'.repeat(1)}`, 'an event');
  scanner.scan(`hash ab${pan16}cd${'e'.repeat(30)}`, 'a digest');
  expect(scanner.findings).toEqual([]);
});

it('ignores grouped digits that are not shaped like a printed card number', () => {
  const scanner = new CardScanner(new Set());
  const spaced = groupedPan(unknown19, ' ');
  const texts = {
    'Luhn-invalid, grouped': groupedPan(luhnBroken(unknown19), ' '),
    'mixed separators': `${unknown19.slice(0, 4)} ${unknown19.slice(4, 8)}-${unknown19.slice(8, 12)} ${unknown19.slice(12)}`,
    'double spaces': spaced.replaceAll(' ', '  '),
    'groups of one or two digits': unknown19.split('').join(' '),
    'a further group': `${spaced} 1234`,
    'touching a letter': `${spaced}x`,
    'after a dot': `v.${spaced}`,
    'a date range': '2025-01-01 2025-01-31 2025-02-01',
    'a UUID of digits': '12345678-1234-1234-1234-123456789012',
    'a phone number': '+86 138 0013 8000',
  };
  for (const [where, text] of Object.entries(texts)) scanner.scan(text, where);
  expect(scanner.findings).toEqual([]);
});

it('counts a planted number found where it was planted as a plant, not a finding', () => {
  const plant = generateTestPan(1, { prefix: '6299', length: 19 });
  const scanner = new CardScanner(new Set([plant]));
  scanner.plant(plant, 'a table');
  scanner.plant(plant, 'a log');
  scanner.plant(plant, 'a topic');
  scanner.scan(`{"note":"${groupedPan(plant, '-')}"}`, 'a table');
  scanner.scan(`plant ${groupedPan(plant, ' ')}`, 'a log');
  // Found where it was not planted: a finding like any other.
  scanner.scan(plant, 'somewhere else');
  expect(scanner.missingPlants()).toEqual(['a topic']);
  expect(scanner.planted.map((entry) => `${entry.where}: ${entry.foundAs.join(', ')}`)).toEqual([
    'a table: luhn_valid_grouped, known_test_pan',
    'a log: luhn_valid_grouped, known_test_pan',
    'a topic: ',
  ]);
  expect(found(scanner)).toEqual(['luhn_valid_run somewhere else', 'known_test_pan somewhere else']);
});
