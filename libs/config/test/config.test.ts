import { z } from 'zod';
import { ConfigError, MINUTE_MS, loadConfig, platformEnvironment, port } from '@puhui/config';

const serviceEnvironment = platformEnvironment.extend({ PORT: port.default(8080) });

describe('loadConfig', () => {
  it('gives defaults that work on a developer machine', () => {
    const config = loadConfig(serviceEnvironment, {});
    expect(config.PORT).toBe(8080);
    expect(config.POSTGRES_URL).toBe('postgres://postgres@127.0.0.1:5432');
    expect(config.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(config.KAFKA_BROKERS).toEqual(['127.0.0.1:9092']);
    expect(config.LOG_LEVEL).toBe('info');
  });

  it('parses and coerces what the environment sets', () => {
    const config = loadConfig(serviceEnvironment, {
      PORT: '5000',
      KAFKA_BROKERS: 'a:9092, b:9092',
      HTTP_BODY_LIMIT_BYTES: '2048',
      LOG_LEVEL: '',
    });
    expect(config.PORT).toBe(5000);
    expect(config.KAFKA_BROKERS).toEqual(['a:9092', 'b:9092']);
    expect(config.HTTP_BODY_LIMIT_BYTES).toBe(2048);
    expect(config.LOG_LEVEL).toBe('info');
  });

  it("holds the HTTP server's limits of decision 0018, with their defaults", () => {
    expect(loadConfig(serviceEnvironment, {})).toMatchObject({
      HTTP_BODY_LIMIT_BYTES: 100 * 1024,
      HTTP_REQUEST_TIMEOUT_MS: 30_000,
      HTTP_HEADERS_TIMEOUT_MS: 10_000,
      HTTP_BODY_RATE_BYTES_PER_SECOND_MIN: 1024,
      HTTP_BODY_RATE_GRACE_MS: 5000,
      HTTP_CONNECTIONS_MAX: 1024,
      HTTP_FAILED_AUTHENTICATIONS_PER_ADDRESS_MAX: 100,
      HTTP_FAILED_AUTHENTICATION_WINDOW_MS: 60_000,
      HTTP_FAILED_AUTHENTICATION_ADDRESSES_MAX: 10_000,
      HTTP_SERVED_OVER_TLS: false,
    });
    expect(loadConfig(serviceEnvironment, { HTTP_SERVED_OVER_TLS: 'yes' }).HTTP_SERVED_OVER_TLS).toBe(true);
    expect(() => loadConfig(serviceEnvironment, { HTTP_CONNECTIONS_MAX: '0' })).toThrow(
      /HTTP_CONNECTIONS_MAX/u,
    );
    expect(() => loadConfig(serviceEnvironment, { HTTP_SERVED_OVER_TLS: 'maybe' })).toThrow(
      /HTTP_SERVED_OVER_TLS/u,
    );
  });

  it('names every bad variable at once', () => {
    let error: unknown;
    try {
      loadConfig(serviceEnvironment, { PORT: 'eighty', LOG_LEVEL: 'loud', REDIS_URL: 'not a url' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/PORT/);
    expect(problems).toMatch(/LOG_LEVEL/);
    expect(problems).toMatch(/REDIS_URL/);
  });

  it('returns a frozen object', () => {
    const config = loadConfig(
      z.object({
        LIST: z
          .string()
          .default('x')
          .transform((v) => [v]),
      }),
      {},
    );
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.LIST)).toBe(true);
  });

  it('writes durations in named units', () => {
    expect(5 * MINUTE_MS).toBe(300_000);
  });
});
