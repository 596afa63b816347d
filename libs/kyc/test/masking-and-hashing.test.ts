import { createHmac } from 'node:crypto';
import { keyedHash, maskBankAccount, maskMobile, maskResidentId, normalizeForHash } from '@puhui/kyc';

const KEY = 'k'.repeat(32);

describe('masking', () => {
  it('keeps the first 3 and last 4 of an ID number', () => {
    expect(maskResidentId('361102199001011234')).toBe('361***********1234');
    expect(maskResidentId('11010519491231002x')).toBe('110***********002X');
    expect(maskResidentId('361102199001011230')).toHaveLength(18);
  });

  it('masks a malformed ID number entirely', () => {
    expect(maskResidentId('3611021990')).toBe('******************');
    expect(maskResidentId('')).toBe('******************');
  });

  it('keeps only the last 4 of a bank account, in a form that hides its length', () => {
    expect(maskBankAccount('6222 0212 3456 7894')).toBe('**** **** 7894');
    expect(maskBankAccount('6217000010001234567')).toBe('**** **** 4567');
    expect(maskBankAccount('12345678')).toBe('**** **** 5678');
    expect(maskBankAccount('1234567')).toBe('**** **** ****');
  });

  it('keeps the first 3 and last 4 of a mobile number', () => {
    expect(maskMobile('13812345678')).toBe('138****5678');
    expect(maskMobile('+86 138 0013 8000')).toBe('138****8000');
    expect(maskMobile('not a phone')).toBe('***********');
  });
});

describe('keyed hashes', () => {
  it('matches HMAC-SHA256 computed independently (openssl dgst -sha256 -hmac)', () => {
    expect(keyedHash('11010519491231002X', KEY)).toBe(
      '6baaf2c3cf3a29a4ac710aeeffadb8c04c2481b727a970349d0a73ca269751fb',
    );
  });

  it('finds the same person however the number was typed', () => {
    const hash = keyedHash('11010519491231002X', KEY);
    expect(keyedHash('11010519491231002x', KEY)).toBe(hash);
    expect(keyedHash(' 110105 19491231 002X ', KEY)).toBe(hash);
    expect(keyedHash('11010519491231002X', Buffer.from(KEY))).toBe(hash);
    expect(normalizeForHash(' 138-0013 8000 ')).toBe('13800138000');
  });

  it('differs across keys and values, and carries nothing of the value', () => {
    const hash = keyedHash('13800138000', KEY);
    expect(hash).toMatch(/^[0-9a-f]{64}$/u);
    expect(keyedHash('13800138000', 'j'.repeat(32))).not.toBe(hash);
    expect(keyedHash('13800138001', KEY)).not.toBe(hash);
    expect(hash).toBe(createHmac('sha256', KEY).update('13800138000').digest('hex'));
    expect(hash).not.toContain('8000');
  });

  it('refuses a key shorter than 32 bytes', () => {
    expect(() => keyedHash('13800138000', 'short')).toThrow(/at least 32 bytes/);
    expect(() => keyedHash('13800138000', Buffer.alloc(16))).toThrow(/at least 32 bytes/);
  });
});
