import { createLogger, maskCardNumbers, memoryDestination, withLogContext } from '@puhui/logging';

function collectingLogger() {
  const { destination, lines, raw } = memoryDestination();
  return { logger: createLogger({ service: 'test-service', level: 'debug', destination }), lines, raw };
}

describe('logger', () => {
  it('writes structured lines with the service name and an ISO time', () => {
    const { logger, lines } = collectingLogger();
    logger.info({ merchant_id: 'mer_1' }, 'merchant approved');
    expect(lines[0]).toMatchObject({
      level: 'info',
      service: 'test-service',
      merchant_id: 'mer_1',
      message: 'merchant approved',
    });
    expect(String(lines[0]?.time)).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  });

  it('puts the request id on every line written inside the request, however deep', async () => {
    const { logger, lines } = collectingLogger();
    const deepStoreCode = async () => {
      await new Promise((resolve) => setImmediate(resolve));
      logger.debug('query ran');
    };
    await withLogContext({ request_id: 'req-123' }, async () => {
      logger.info('request started');
      await deepStoreCode();
    });
    logger.info('outside');
    expect(lines.map((line) => line.request_id)).toEqual(['req-123', 'req-123', undefined]);
  });

  it('redacts secrets by key at any depth', () => {
    const { logger, raw } = collectingLogger();
    logger.info({
      api_key: 'sk_live_abc',
      nested: { password: 'hunter2', token: 'jwt.value.here', ok: 'visible', card_token: 'ctok_visible' },
      req: { headers: { authorization: 'Bearer sk_live_def' } },
    });
    const line = raw.join('');
    expect(line).not.toMatch(/sk_live_abc|hunter2|jwt\.value\.here|sk_live_def/);
    expect(line).toMatch(/"ok":"visible"/);
    expect(line).toMatch(/ctok_visible/);
  });

  it('masks anything shaped like a card number, in messages, fields and errors', () => {
    const { logger, raw } = collectingLogger();
    logger.info({ note: 'card 6222 0212 3456 7890 declined' }, 'paid with 6222021234567890123');
    logger.error({ err: new Error('bad card 6212-3456-7890-1234') }, 'failed');
    const output = raw.join('');
    expect(output).not.toMatch(/6222 0212 3456 7890|6222021234567890123|6212-3456-7890-1234/);
    expect(output).toMatch(/\*\*\*\*7890/);
    expect(output).toMatch(/\*\*\*\*0123/);
  });
});

describe('maskCardNumbers', () => {
  it.each([
    ['6222021234567890', '****7890'],
    ['pan=6222021234567890123&x=1', 'pan=****0123&x=1'],
    ['4111-1111-1111-1111', '****1111'],
  ])('masks %s', (input, expected) => {
    expect(maskCardNumbers(input)).toBe(expected);
  });

  it.each([
    'amount 123456789012',
    'uuid 0b3e7a1c-1234-4f7a-9d2e-123456789012',
    'sha 9f86d081884c7d659a2feaa0',
  ])('leaves %s alone', (input) => {
    expect(maskCardNumbers(input)).toBe(input);
  });

  it('keeps a JSON line valid where a card-number-shaped field is a bare number (epoch ms of a client library)', () => {
    const line = JSON.stringify({
      timestamp: 1764590000123,
      ids: [6222021234567890, 1],
      msg: 'pan 6222021234567890, ok',
    });
    const masked = maskCardNumbers(line);
    expect(JSON.parse(masked)).toEqual({
      timestamp: '****0123',
      ids: ['****7890', 1],
      msg: 'pan ****7890, ok',
    });
    // Inside a string, with escaped quotes before it, it stays unquoted.
    const quoted = JSON.stringify({ msg: 'said "x": 6222021234567890, then' });
    expect(JSON.parse(maskCardNumbers(quoted))).toEqual({ msg: 'said "x": ****7890, then' });
  });
});
