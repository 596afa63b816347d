/**
 * Jest global setup for workspaces whose tests touch Postgres, Redis or Kafka: resolves
 * the infrastructure once per run and hands it to the test workers through the
 * environment they inherit. Containers, if any, are stopped by the global teardown.
 */
import { resolveInfrastructure } from './infrastructure';
import type { Infrastructure } from './infrastructure';

declare global {
  var puhuiInfrastructure: Infrastructure | undefined;
}

export default async function globalSetup(): Promise<void> {
  const infrastructure = await resolveInfrastructure();
  process.env.POSTGRES_URL = infrastructure.postgres.url;
  process.env.REDIS_URL = infrastructure.redis.url;
  process.env.KAFKA_BROKERS = infrastructure.kafka.url;
  process.env.LOG_LEVEL ??= 'warn';
  globalThis.puhuiInfrastructure = infrastructure;
  const line = (name: string, service: { url: string; source: string }) =>
    `${name} ${service.url.replace(/\/\/[^@/]*@/u, '//')} (${service.source})`;
  process.stderr.write(
    `\ninfrastructure: ${[
      line('postgres', infrastructure.postgres),
      line('redis', infrastructure.redis),
      line('kafka', infrastructure.kafka),
    ].join('; ')}\n`,
  );
}
