/**
 * A service reaches Kafka over SASL/SCRAM + TLS and Redis with AUTH over TLS through its
 * environment alone (decision 0021): the local broker's SASL_SSL listener and a throw-away
 * TLS redis-server with --requirepass. Wrong passwords leave it running and not ready, naming
 * the dependency, with the reason logged and neither password in any log line; a CA file that
 * cannot be read stops the boot, naming the variable.
 */
import { dropDatabase } from '@puhui/postgres';
import { startService } from '@puhui/service';
import type { RunningService, ServiceConfig } from '@puhui/service';
import {
  captureLogger,
  startSecureRedis,
  testPostgresUrl,
  testSecureKafka,
  uniqueSuffix,
  waitFor,
} from '@puhui/testing';
import type { CapturedLogger, SecureKafka, SecureRedis } from '@puhui/testing';
import { definition, testConfig } from './widget-service';

let kafka: SecureKafka;
let redis: SecureRedis;

beforeAll(async () => {
  kafka = await testSecureKafka();
  redis = await startSecureRedis();
});

afterAll(async () => {
  await redis?.stop();
});

function secureEnvironment(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    KAFKA_BROKERS: kafka.brokers.join(','),
    KAFKA_TLS: 'true',
    KAFKA_TLS_CA_FILE: kafka.caFile,
    KAFKA_SASL_MECHANISM: 'scram-sha-512',
    KAFKA_SASL_USERNAME: kafka.username,
    KAFKA_SASL_PASSWORD: kafka.password,
    REDIS_URL: redis.url,
    REDIS_PASSWORD: redis.password,
    REDIS_TLS_CA_FILE: redis.caFile,
    ...overrides,
  };
}

async function readiness(url: string): Promise<{ status: number; checks: Record<string, string> }> {
  const response = await fetch(`${url}/readyz`);
  const body = (await response.json()) as { checks: Record<string, string> };
  return { status: response.status, checks: body.checks };
}

async function withService(
  config: ServiceConfig,
  captured: CapturedLogger,
  body: (service: RunningService<ServiceConfig>) => Promise<void>,
): Promise<void> {
  const service = await startService(definition(config), { logger: captured.logger });
  try {
    await body(service);
  } finally {
    await service.shutdown('test over');
    await dropDatabase(testPostgresUrl(), config.DATABASE_NAME);
  }
}

it('is ready on SASL_SSL Kafka and AUTH + TLS Redis configured through its environment', async () => {
  const captured = captureLogger('widget-service', 'debug');
  const config = testConfig(secureEnvironment());
  await withService(config, captured, async (service) => {
    const ready = await waitFor(
      async () => {
        const answer = await readiness(service.url);
        return answer.status === 200 ? answer : undefined;
      },
      { description: 'ready on the secured Kafka and Redis' },
    );
    expect(ready.checks).toEqual({ postgres: 'ok', redis: 'ok', kafka: 'ok' });
    // Something real went through both: a key in Redis, the service's topics on the broker.
    const key = `secure:${uniqueSuffix()}`;
    await service.dependencies.redis?.set(key, 'kept', 'EX', 60);
    expect(await service.dependencies.redis?.get(key)).toBe('kept');
    const admin = service.dependencies.kafka?.admin();
    await admin?.connect();
    try {
      const topic = `${config.KAFKA_TOPIC_PREFIX}puhui.widgets.v1`;
      await waitFor(async () => ((await admin?.listTopics()) ?? []).includes(topic), { description: topic });
    } finally {
      await admin?.disconnect();
    }
  });
  expect(captured.text()).not.toContain(kafka.password);
  expect(captured.text()).not.toContain(redis.password);
});

it('with wrong passwords runs not ready, naming Kafka and Redis, logs why and neither password', async () => {
  const wrongKafka = `wrong-kafka-${uniqueSuffix()}`;
  const wrongRedis = `wrong-redis-${uniqueSuffix()}`;
  const captured = captureLogger('widget-service', 'debug');
  const config = testConfig(
    secureEnvironment({ KAFKA_SASL_PASSWORD: wrongKafka, REDIS_PASSWORD: wrongRedis }),
  );
  await withService(config, captured, async (service) => {
    const answer = await readiness(service.url);
    expect(answer.status).toBe(503);
    expect(answer.checks.postgres).toBe('ok');
    expect(answer.checks.kafka).not.toBe('ok');
    expect(answer.checks.redis).not.toBe('ok');
    await waitFor(() => /SASL SCRAM SHA512 authentication failed/u.test(captured.text()), {
      description: 'the SASL refusal logged',
    });
    await waitFor(() => /WRONGPASS/u.test(captured.text()), { description: 'the AUTH refusal logged' });
  });
  for (const secret of [wrongKafka, wrongRedis, kafka.password, redis.password])
    expect(captured.text()).not.toContain(secret);
});

it('does not boot when a CA file cannot be read, naming the variable', async () => {
  const captured = captureLogger('widget-service', 'warn');
  const config = testConfig(secureEnvironment({ KAFKA_TLS_CA_FILE: '/nonexistent/ca.pem' }));
  await expect(startService(definition(config), { logger: captured.logger })).rejects.toMatchObject({
    code: 'invalid_configuration',
    problems: ['KAFKA_TLS_CA_FILE: cannot read /nonexistent/ca.pem (ENOENT)'],
  });
  await dropDatabase(testPostgresUrl(), config.DATABASE_NAME);
});
