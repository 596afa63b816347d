/**
 * The personal-data scanner must find what it looks for, or its "no findings" proves nothing;
 * and it must stay quiet on what the services legitimately store (masked forms, digests,
 * counters), or the chaos runs would report noise.
 */
import { createHmac } from 'node:crypto';
import { makeResidentId } from '@puhui/kyc';
import { PiiScanner } from './lib/pii-scan';

const MOBILE = '13800138000';
const RESIDENT_ID = makeResidentId('36110219800101123');
/** Unknown to the scanner: only the shapes can find them. */
const OTHER_MOBILE = '15912345678';
const OTHER_ID = makeResidentId('44030819900307002');
/** The first of a run of sequence numbers whose check character is X (one in eleven is). */
const ID_ENDING_X = Array.from({ length: 100 }, (_, serial) =>
  makeResidentId(`11010519491231${String(serial).padStart(3, '0')}`),
).find((id) => id.endsWith('X')) as string;

function scanner(): PiiScanner {
  return new PiiScanner({ mobiles: new Set([MOBILE]), residentIds: new Set([RESIDENT_ID]) });
}

function found(scan: PiiScanner): string[] {
  return scan.findings.map((finding) => `${finding.kind} ${finding.masked} ${finding.where}`);
}

it('finds mobiles as written, with a country code, or in 3-4-4 groups, masked in its report', () => {
  const scan = scanner();
  scan.scan(`{"contact":{"mobile":"${OTHER_MOBILE}"}}`, 'a row');
  scan.scan(`msg=call +86${OTHER_MOBILE} now`, 'a log line');
  scan.scan(`tel 86-${OTHER_MOBILE}`, 'with 86 and a dash');
  scan.scan('"+86 159 1234 5678"', 'grouped with +86');
  scan.scan('联系电话：159-1234-5678。', 'dashed groups');
  expect(found(scan)).toEqual([
    'mobile 159****5678 a row',
    'mobile 159****5678 a log line',
    'mobile 159****5678 with 86 and a dash',
    'mobile_grouped 159****5678 grouped with +86',
    'mobile_grouped 159****5678 dashed groups',
  ]);
  expect(JSON.stringify(scan.findings)).not.toContain(OTHER_MOBILE);
});

it('finds resident ID numbers with a real birth date and check character, X included', () => {
  const scan = scanner();
  scan.scan(`{"id_number":"${OTHER_ID}"}`, 'a row');
  scan.scan(`legal representative ${ID_ENDING_X.toLowerCase()}.`, 'lower-case x');
  expect(found(scan)).toEqual([
    `resident_id 440***********${OTHER_ID.slice(-4)} a row`,
    `resident_id 110***********${ID_ENDING_X.slice(-4)} lower-case x`,
  ]);
});

it('finds every seeded value anywhere, even inside longer digit strings or written in pieces', () => {
  const scan = scanner();
  scan.scan(`00${MOBILE}00`, 'inside digits');
  scan.scan(`${MOBILE.slice(0, 5)} ${MOBILE.slice(5)}`, 'odd groups');
  scan.scan(`ref-${RESIDENT_ID}abc`, 'inside a word');
  expect(found(scan)).toEqual([
    'known_mobile 138****8000 inside digits',
    'known_mobile 138****8000 odd groups',
    `known_resident_id 361***********${RESIDENT_ID.slice(-4)} inside a word`,
  ]);
});

it('stays quiet on masked values, digests, timestamps, long counters and IDs that fail their check', () => {
  const scan = scanner();
  const brokenCheck = `${OTHER_ID.slice(0, 17)}${OTHER_ID.endsWith('0') ? '1' : '0'}`;
  const badBirthDate = makeResidentId('44030819901399002');
  const texts = {
    masked: '{"mobile_masked":"138****8000","id_number_masked":"361***********1234"}',
    'a hex digest': `ab${OTHER_MOBILE}cd${'e'.repeat(30)}`,
    'a keyed hash': createHmac('sha256', 'k').update(MOBILE).digest('hex'),
    'epoch milliseconds': '{"time":1764615123456}',
    'an event sequence': '00000000013800000000',
    'a card number': '6222021234567890123',
    'a branch code': '102431000015',
    'a broken check character': brokenCheck,
    'an impossible birth date': badBirthDate,
    'a landline': '0793-8221234',
    'twelve digits': '159123456780',
    'a request id': '"request_id":"91688c58-3c25-4d59-b307-15912345678a"',
    'an identifier': 'key_15912345678abcdefghijklmn',
  };
  for (const [where, text] of Object.entries(texts)) scan.scan(text, where);
  expect(found(scan)).toEqual([]);
});

it('counts where it saw the seeded values masked', () => {
  const scan = scanner();
  scan.scan('{"mobile_masked":"138****8000"}', 'merchant-onboarding table audit_events');
  scan.scan(`{"id_number_masked":"361***********${RESIDENT_ID.slice(-4)}"}`, 'topic merchants');
  scan.scan('{"mobile_masked":"139****8000"}', 'someone else');
  expect(scan.maskedSightings).toBe(2);
  expect([...scan.maskedSeenIn]).toEqual(['merchant-onboarding table audit_events', 'topic merchants']);
  expect(scan.findings).toEqual([]);
});

it('counts a planted value found where it was planted as a plant, not a finding', () => {
  const scan = scanner();
  scan.plant(OTHER_MOBILE, 'a table');
  scan.plant(OTHER_ID, 'a table');
  scan.plant(OTHER_MOBILE, 'a topic');
  scan.scan(`{"note":"159-1234-5678, ${OTHER_ID}"}`, 'a table');
  scan.scan(OTHER_MOBILE, 'somewhere else');
  expect(scan.missingPlants()).toEqual(['a topic (159****5678)']);
  expect(scan.planted.map((plant) => `${plant.where}: ${plant.foundAs.join(', ')}`)).toEqual([
    'a table: mobile_grouped',
    'a table: resident_id',
    'a topic: ',
  ]);
  expect(found(scan)).toEqual(['mobile 159****5678 somewhere else']);
});
