import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { closeRedis, createRedis, pingRedis } from '@puhui/cache';
import { testRedisUrl, uniqueSuffix, waitFor } from '@puhui/testing';

describe('redis client', () => {
  it('answers the health check and keeps tests apart with a key prefix', async () => {
    const prefix = `test:${uniqueSuffix()}:`;
    const redis = createRedis({ url: testRedisUrl(), keyPrefix: prefix });
    const plain = createRedis({ url: testRedisUrl() });
    try {
      await waitFor(() => redis.status === 'ready' && plain.status === 'ready', {
        description: 'redis ready',
      });
      await expect(pingRedis(redis)).resolves.toBeUndefined();
      await redis.set('rate_sheet:v1:card', '{"rules":[]}', 'EX', 60);
      expect(await plain.get(`${prefix}rate_sheet:v1:card`)).toBe('{"rules":[]}');
      await plain.del(`${prefix}rate_sheet:v1:card`);
    } finally {
      await closeRedis(redis);
      await closeRedis(plain);
    }
  });

  it('fails at once while Redis is connected but silent (never ready)', async () => {
    // A server that accepts connections and never replies: the worst kind of slow Redis.
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    const redis = createRedis({
      url: `redis://127.0.0.1:${port}`,
      commandTimeoutMs: 200,
      connectTimeoutMs: 200,
    });
    try {
      const startedAt = Date.now();
      await expect(pingRedis(redis)).rejects.toThrow();
      expect(Date.now() - startedAt).toBeLessThan(3000);
    } finally {
      redis.disconnect();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('bounds a command that Redis is slow to answer by the command timeout', async () => {
    const redis = createRedis({ url: testRedisUrl(), commandTimeoutMs: 200 });
    try {
      await waitFor(() => redis.status === 'ready', { description: 'redis ready' });
      const startedAt = Date.now();
      // BLPOP on an empty list blocks for 2 s on the server: a stand-in for a stalled Redis.
      await expect(redis.blpop(`test:${uniqueSuffix()}:empty`, 2)).rejects.toThrow(/timed out/i);
      expect(Date.now() - startedAt).toBeLessThan(1500);
    } finally {
      redis.disconnect();
    }
  });

  it('fails fast when nothing listens', async () => {
    const redis = createRedis({ url: 'redis://127.0.0.1:1', commandTimeoutMs: 300, connectTimeoutMs: 300 });
    try {
      await expect(pingRedis(redis)).rejects.toThrow();
    } finally {
      redis.disconnect();
    }
  });
});
