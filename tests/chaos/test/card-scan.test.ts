/**
 * The card-number scanner must find what it looks for, or its "no findings" proves nothing.
 */
import { generateTestPan } from '@puhui/cards';
import { CardScanner } from './lib/card-scan';

const pan16 = generateTestPan(12_345, { length: 16 });
const pan19 = generateTestPan(67_890, { length: 19 });

it('finds Luhn-valid 16–19 digit runs and every known test card number, masked', () => {
  const scanner = new CardScanner(new Set([pan19]));
  scanner.scan(`{"card_number":"${pan16}"}`, 'a row');
  scanner.scan(`msg=card ${pan19} declined`, 'a log line');
  scanner.scan(`prefix${pan19}suffix`, 'a word');
  scanner.scan(`00${pan19}00`, 'a longer digit string');
  expect(scanner.findings.map((finding) => `${finding.kind} ${finding.where}`)).toEqual([
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

it('ignores last 4 digits, Luhn-invalid runs, runs longer than 19 digits and hex digests', () => {
  const scanner = new CardScanner(new Set());
  const invalid = `${pan16.slice(0, 15)}${(Number(pan16.slice(15)) + 1) % 10}`;
  scanner.scan(`card_last4=${pan16.slice(-4)} ${invalid}`, 'a row');
  scanner.scan(`sequence 0000000000000000000${'1'.repeat(1)}`, 'an event');
  scanner.scan(`hash ab${pan16}cd${'e'.repeat(30)}`, 'a digest');
  expect(scanner.findings).toEqual([]);
});
