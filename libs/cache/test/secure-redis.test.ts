/**
 * The cache client against a real `redis-server` that requires AUTH and speaks only TLS, under a
 * throw-away CA (decision 0021): it connects with the password and the CA, and is refused
 * without the password, with a wrong one, without the CA, and in plaintext. The password never
 * reaches a log line.
 */
import { readFileSync } from 'node:fs';
import type { Redis, RedisSettings } from '@puhui/cache';
import { closeRedis, createRedis, pingRedis } from '@puhui/cache';
import { captureLogger, startSecureRedis, uniqueSuffix, waitFor } from '@puhui/testing';
import type { SecureRedis } from '@puhui/testing';

const captured = captureLogger('secure-redis-test', 'debug');
let server: SecureRedis;
const opened: Redis[] = [];

function open(overrides: Partial<RedisSettings> = {}): Redis {
  const redis = createRedis({
    url: server.url,
    password: server.password,
    tls: { ca: readFileSync(server.caFile, 'utf8') },
    logger: captured.logger,
    connectTimeoutMs: 1000,
    ...overrides,
  });
  opened.push(redis);
  return redis;
}

/** The first error the client reports (ioredis emits one per failed connection attempt). */
function firstError(redis: Redis): Promise<Error> {
  return new Promise((resolve) => redis.once('error', resolve));
}

beforeAll(async () => {
  server = await startSecureRedis();
});

afterEach(async () => {
  for (const redis of opened.splice(0)) redis.disconnect();
});

afterAll(async () => {
  await server?.stop();
});

it('connects with AUTH over verified TLS, and reads back what it wrote', async () => {
  const redis = open({ keyPrefix: `test:${uniqueSuffix()}:` });
  await waitFor(() => redis.status === 'ready', { description: 'redis ready over TLS' });
  await expect(pingRedis(redis)).resolves.toBeUndefined();
  await redis.set('rate_sheet:v1:card', 'signed', 'EX', 60);
  expect(await redis.get('rate_sheet:v1:card')).toBe('signed');
  await closeRedis(redis);
  expect(captured.text()).not.toContain(server.password);
});

it('is refused without the password (NOAUTH) and never becomes ready', async () => {
  const redis = open({ password: undefined });
  const error = await firstError(redis);
  expect(error.message).toMatch(/NOAUTH/u);
  await expect(pingRedis(redis)).rejects.toThrow();
});

it('is refused with a wrong password (WRONGPASS), and logs neither password', async () => {
  const wrong = `wrong-${uniqueSuffix()}`;
  const redis = open({ password: wrong });
  const error = await firstError(redis);
  expect(error.message).toMatch(/WRONGPASS/u);
  await expect(pingRedis(redis)).rejects.toThrow();
  await waitFor(() => captured.text().includes('redis unavailable'), { description: 'the outage logged' });
  expect(captured.text()).not.toContain(wrong);
  expect(captured.text()).not.toContain(server.password);
});

it('refuses a server whose certificate does not chain to a trusted CA (no CA given)', async () => {
  const redis = open({ tls: {} });
  const error = await firstError(redis);
  expect(error.message).toMatch(/self-signed certificate in certificate chain/u);
  expect(redis.status).not.toBe('ready');
});

it('gets no answer in plaintext from a TLS-only port', async () => {
  const redis = open({ url: server.url.replace('rediss://', 'redis://'), tls: undefined });
  await expect(pingRedis(redis)).rejects.toThrow();
  expect(redis.status).not.toBe('ready');
});
