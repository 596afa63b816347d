import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { canConnect, resolveInfrastructure } from '@puhui/testing';

describe('resolveInfrastructure', () => {
  it('takes connection settings from the environment first', async () => {
    const infrastructure = await resolveInfrastructure({
      POSTGRES_URL: 'postgres://somebody@db.example:5432',
      REDIS_URL: 'redis://cache.example:6379',
      KAFKA_BROKERS: 'kafka.example:9092',
    });
    expect(infrastructure.postgres).toEqual({
      url: 'postgres://somebody@db.example:5432',
      source: 'environment',
    });
    expect(infrastructure.redis).toEqual({ url: 'redis://cache.example:6379', source: 'environment' });
    expect(infrastructure.kafka).toEqual({ url: 'kafka.example:9092', source: 'environment' });
    await infrastructure.stop();
  });

  it('falls back to the local services without Docker, and they answer', async () => {
    const infrastructure = await resolveInfrastructure({ PUHUI_TESTCONTAINERS: 'off' });
    expect(infrastructure.postgres.source).toBe('local');
    expect(infrastructure.kafka).toEqual({ url: '127.0.0.1:9092', source: 'local' });
    expect(await canConnect('127.0.0.1', 5432)).toBe(true);
    expect(await canConnect('127.0.0.1', 6379)).toBe(true);
    expect(await canConnect('127.0.0.1', 9092)).toBe(true);
  });
});

describe('canConnect', () => {
  it('is true for a listening port and false for a closed one', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    expect(await canConnect('127.0.0.1', port)).toBe(true);
    await new Promise((resolve) => server.close(resolve));
    expect(await canConnect('127.0.0.1', port)).toBe(false);
  });
});
