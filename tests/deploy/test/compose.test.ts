/**
 * infra/docker-compose.yml, parsed (no Docker engine here to run it): the four services beside
 * Postgres, Redis and Kafka, each built from its Dockerfile, published on its services.json port,
 * and told everything its development defaults get wrong inside a container (they name
 * 127.0.0.1, which there is the container itself), with that environment parsed and checked by
 * the service as it would at boot.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import type { DeployedService, Environment } from './lib/repository';
import { COMPOSE_FILE, DEPLOYED_SERVICES, REPOSITORY_ROOT } from './lib/repository';

interface ComposeService {
  image?: string;
  profiles?: string[];
  build?: { context: string; dockerfile: string };
  environment?: Record<string, string | number | boolean>;
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
}

const compose = parse(readFileSync(COMPOSE_FILE, 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const INFRASTRUCTURE = ['postgres', 'redis', 'kafka'];

function environmentOf(service: ComposeService): Environment {
  return Object.fromEntries(
    Object.entries(service.environment ?? {}).map(([name, value]) => [name, String(value)]),
  );
}

/** host:port pairs a value names (URLs and comma lists of brokers). */
function addressesIn(value: string): { host: string; port: number }[] {
  return [...value.matchAll(/(?:^|[/,@])([a-z][a-z0-9-]*):(\d+)/gu)].map((match) => ({
    host: match[1] as string,
    port: Number(match[2]),
  }));
}

/** Where each compose service listens on the compose network. */
function listeningPorts(): Map<string, number[]> {
  const kafka = environmentOf(compose.services.kafka as ComposeService);
  const advertised = addressesIn(kafka.KAFKA_ADVERTISED_LISTENERS ?? '')
    .filter((address) => address.host === 'kafka')
    .map((address) => address.port);
  return new Map<string, number[]>([
    ['postgres', [5432]],
    ['redis', [6379]],
    ['kafka', advertised],
    ...DEPLOYED_SERVICES.map((service) => [service.name, [service.port]] as [string, number[]]),
  ]);
}

it('keeps Postgres, Redis and Kafka startable alone, with the services behind the app profile', () => {
  for (const name of INFRASTRUCTURE) expect(compose.services[name]?.profiles).toBeUndefined();
  for (const service of DEPLOYED_SERVICES) expect(compose.services[service.name]?.profiles).toEqual(['app']);
  expect(Object.keys(compose.services).sort()).toEqual(
    [...INFRASTRUCTURE, ...DEPLOYED_SERVICES.map((service) => service.name)].sort(),
  );
});

it('has Kafka advertise an address the other containers can reach', () => {
  expect(listeningPorts().get('kafka')).toEqual([19092]);
});

describe.each(DEPLOYED_SERVICES.map((service) => [service.name, service] as const))(
  '%s',
  (_, service: DeployedService) => {
    const composed = compose.services[service.name] as ComposeService;
    const environment = environmentOf(composed);

    it('is built from its Dockerfile with the repository root as the context', () => {
      expect(composed.build).toBeDefined();
      const context = path.resolve(path.dirname(COMPOSE_FILE), composed.build?.context ?? '');
      expect(context).toBe(REPOSITORY_ROOT);
      expect(composed.build?.dockerfile).toBe(`services/${service.name}/Dockerfile`);
      expect(existsSync(path.join(context, composed.build?.dockerfile ?? ''))).toBe(true);
    });

    it('is published on its services.json port, on 127.0.0.1 only', () => {
      expect(composed.ports).toEqual([`127.0.0.1:${service.port}:${service.port}`]);
      expect(environment.PORT).toBe(String(service.port));
      expect(environment.HOST).toBe('0.0.0.0');
    });

    it('waits for the infrastructure it declares to be healthy', () => {
      const needed = [
        'postgres',
        ...(service.usesRedis ? ['redis'] : []),
        ...(service.usesKafka ? ['kafka'] : []),
      ];
      expect(Object.keys(composed.depends_on ?? {}).sort()).toEqual(needed.sort());
      for (const dependency of Object.values(composed.depends_on ?? {}))
        expect(dependency.condition).toBe('service_healthy');
    });

    it('is told every address its developer-machine defaults get wrong in a container', () => {
      const defaults = service.boot({ NODE_ENV: 'development' }) as unknown as Record<string, unknown>;
      const machineLocal = Object.entries(defaults)
        .filter(([, value]) => /127\.0\.0\.1|localhost/u.test(String(value)))
        .map(([name]) => name);
      expect(machineLocal).toEqual(expect.arrayContaining(['HOST', 'POSTGRES_URL']));
      const left = machineLocal.filter((name) => environment[name] === undefined);
      expect(left).toEqual([]);
      if (service.verifiesOperatorTokens)
        expect(environment.OPERATOR_JWKS_URL).toBe(
          `http://console:${DEPLOYED_SERVICES.find((other) => other.name === 'console')?.port}/.well-known/jwks.json`,
        );
    });

    it('names only compose services, on the ports they listen on', () => {
      const ports = listeningPorts();
      const addresses = Object.entries(environment).flatMap(([name, value]) =>
        addressesIn(value ?? '').map((address) => ({ name, ...address })),
      );
      expect(addresses.length).toBeGreaterThan(1);
      // The console's public origin is what the browser opens: the published port on the host.
      const wrong = addresses.filter(
        (address) =>
          address.name !== 'CONSOLE_PUBLIC_ORIGIN' && !(ports.get(address.host) ?? []).includes(address.port),
      );
      expect(wrong).toEqual([]);
    });

    it('boots on that environment (development keys, as the comment at the top says)', () => {
      expect(environment.NODE_ENV).toBe('development');
      const config = service.boot(environment);
      expect(config.PORT).toBe(service.port);
    });
  },
);
