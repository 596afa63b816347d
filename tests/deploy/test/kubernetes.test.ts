/**
 * deploy/kubernetes against the Kubernetes schemas (kubernetes-models' validators) and against
 * the services themselves: every setting a service parses is set, secrets come only from
 * Secrets, the probes and ports are the service's, and the environment each Deployment gives its
 * container boots the service in production (parsed and checked as startService would, nothing
 * connected). No cluster here: what `kubectl apply --dry-run=server` would add is not checked.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as models from 'kubernetes-models';
import { loadTracingSettings } from '@puhui/tracing';
import type { Container, Manifest, Source } from './lib/manifests';
import {
  environmentSources,
  findManifest,
  podTemplateOf,
  readManifests,
  resolveEnvironment,
} from './lib/manifests';
import type { DeployedService } from './lib/repository';
import {
  DEPLOYED_SERVICES,
  REPOSITORY_ROOT,
  isReadOutsideTheSchema,
  isSecretVariable,
  undeployedServices,
} from './lib/repository';
import { productionSecret } from './lib/secrets';

const manifests = readManifests();

type Model = new (data: object) => { validate(): void };
type Versions = Record<string, Record<string, unknown> | undefined>;

/** The kubernetes-models class of `apiVersion` + `kind`, e.g. networking.k8s.io/v1 Ingress. */
function modelOf(apiVersion: string, kind: string): Model | undefined {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const modules = models as unknown as Record<string, Versions | undefined>;
  // The core group is the module v1; another group's module camel-cases its dots: networkingK8sIo.
  const versions: Versions | undefined =
    group === ''
      ? { v1: modules.v1 as Record<string, unknown> | undefined }
      : modules[(group ?? '').replace(/\.([a-z])/gu, (_, letter: string) => letter.toUpperCase())];
  const model = versions?.[version ?? '']?.[kind];
  return typeof model === 'function' ? (model as Model) : undefined;
}

function validationProblem(manifest: Pick<Manifest, 'apiVersion' | 'kind' | 'object'>): string | undefined {
  const Model = modelOf(manifest.apiVersion, manifest.kind);
  if (Model === undefined) return `${manifest.apiVersion} ${manifest.kind} is not a Kubernetes kind`;
  try {
    new Model(manifest.object).validate();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

function containerOf(service: DeployedService): Container {
  const containers = podTemplateOf(findManifest(manifests, 'Deployment', service.name)).spec.containers;
  expect(containers.map((container) => container.name)).toEqual([service.name]);
  return containers[0] as Container;
}

describe('the Kubernetes manifests', () => {
  it('are valid Kubernetes objects, every document of every kind', () => {
    const kinds = new Set(manifests.map((manifest) => manifest.kind));
    for (const kind of [
      'Namespace',
      'ConfigMap',
      'Deployment',
      'Service',
      'PodDisruptionBudget',
      'HorizontalPodAutoscaler',
      'Ingress',
      'NetworkPolicy',
    ])
      expect(kinds).toContain(kind);
    const problems = manifests.flatMap((manifest) => {
      const problem = validationProblem(manifest);
      return problem === undefined ? [] : [`${manifest.where} ${manifest.kind} ${manifest.name}: ${problem}`];
    });
    expect(problems).toEqual([]);
  });

  it('is a validator that refuses what the API server would', () => {
    const deployment = findManifest(manifests, 'Deployment', 'transaction-settlement');
    const broken = structuredClone(deployment.object) as {
      spec: { template: { spec: { containers: Container[] } } };
    };
    (
      broken.spec.template.spec.containers[0]?.ports?.[0] as unknown as { containerPort: string }
    ).containerPort = '4103';
    expect(validationProblem({ ...deployment, object: broken })).toMatch(/containerPort must be integer/u);
    const withoutSelector = structuredClone(deployment.object) as { spec: Record<string, unknown> };
    delete withoutSelector.spec.selector;
    expect(validationProblem({ ...deployment, object: withoutSelector })).toMatch(/selector/u);
    expect(validationProblem({ apiVersion: 'apps/v1', kind: 'Deploymnet', object: {} })).toMatch(
      /not a Kubernetes kind/u,
    );
  });

  it('put every object in the puhui namespace and commit no Secret', () => {
    const outside = manifests.filter(
      (manifest) =>
        manifest.kind !== 'Namespace' &&
        (manifest.object.metadata as { namespace?: string }).namespace !== 'puhui',
    );
    expect(outside.map((manifest) => manifest.where)).toEqual([]);
    expect(
      manifests.filter((manifest) => manifest.kind === 'Secret').map((manifest) => manifest.where),
    ).toEqual([]);
  });

  it('deploy every service of services.json', () => {
    expect(undeployedServices()).toEqual([]);
    for (const service of DEPLOYED_SERVICES)
      for (const kind of [
        'ConfigMap',
        'Deployment',
        'Service',
        'PodDisruptionBudget',
        'HorizontalPodAutoscaler',
      ])
        expect(findManifest(manifests, kind, service.name).name).toBe(service.name);
  });
});

describe.each(DEPLOYED_SERVICES.map((service) => [service.name, service] as const))('%s', (_, service) => {
  const container = containerOf(service);
  const sources = environmentSources(manifests, container);

  it('sets every setting its configuration parses, or leaves it unset for a stated reason', () => {
    expect(service.settings.length).toBeGreaterThan(30);
    const unsetOnPurpose = new Map<string, string>([
      ['PUHUI_TEST_CRASH_AFTER_COMMIT', 'a test-only fault, refused in production'],
      ['KAFKA_TLS_CA_FILE', "unset: Node's trusted CAs; mount a private CA and name it to use one"],
      ['REDIS_TLS_CA_FILE', "unset: Node's trusted CAs; mount a private CA and name it to use one"],
      ['CHECKOUT_GROSS_MINOR_MAX_BY_CATEGORY', 'unset: the defaults of domain/checkout-limits.ts'],
      ['CHECKOUT_GROSS_MINOR_MAX_BY_MERCHANT', 'unset: no merchant has its own ceiling'],
      ['CONSOLE_WEB_DIR', 'the web app built into the image beside dist/main.js'],
    ]);
    if (!service.usesKafka)
      for (const name of ['KAFKA_SASL_MECHANISM', 'KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'])
        unsetOnPurpose.set(name, 'the service declares no Kafka');
    if (!service.usesRedis)
      for (const name of ['REDIS_USERNAME', 'REDIS_PASSWORD'])
        unsetOnPurpose.set(name, 'the service declares no Redis');
    if (!service.verifiesOperatorTokens)
      unsetOnPurpose.set('OPERATOR_JWKS_URL', 'it issues the tokens itself');
    const missing = service.settings.filter((name) => !sources.has(name) && !unsetOnPurpose.has(name));
    expect(missing).toEqual([]);
  });

  it('sets nothing its configuration does not read (a typo, or a setting that was removed)', () => {
    const unknown = [...sources.keys()].filter(
      (name) => !service.settings.includes(name) && !isReadOutsideTheSchema(name),
    );
    expect(unknown).toEqual([]);
  });

  it('takes every secret from a Secret by secretKeyRef, and nothing else from Secrets', () => {
    const entries = [...sources.entries()];
    const secrets = entries.filter(([name]) => isSecretVariable(name));
    expect(secrets.length).toBeGreaterThan(1);
    const notFromSecrets = secrets.filter(([, source]) => source.kind !== 'secret').map(([name]) => name);
    expect(notFromSecrets).toEqual([]);
    const needlesslySecret = entries
      .filter(([name, source]) => source.kind === 'secret' && !isSecretVariable(name))
      .map(([name]) => name);
    expect(needlesslySecret).toEqual([]);
    // The Secret's key is the variable's name: one rule an operator can follow (deploy/README.md).
    const renamed = secrets.filter(
      ([name, source]) => (source as Extract<Source, { kind: 'secret' }>).key !== name,
    );
    expect(renamed.map(([name]) => name)).toEqual([]);
  });

  it('boots in production on that environment: secrets, connections, tokens and its own checks', () => {
    const environment = resolveEnvironment(sources, productionSecret);
    expect(environment.NODE_ENV).toBe('production');
    const config = service.boot(environment);
    expect(config.PORT).toBe(service.port);
    expect(config.HOST).toBe('0.0.0.0');
    expect(config.NODE_ENV).toBe('production');
    // One operator mistake the parse cannot see: the database URL left at the developer default.
    expect(config.POSTGRES_URL).not.toMatch(/127\.0\.0\.1|localhost/u);
    // The OpenTelemetry variables are libs/tracing's (decision 0026), parsed before the config.
    expect(loadTracingSettings(service.name, environment)).toMatchObject({
      exporter: 'none',
      serviceName: service.name,
    });
  });

  it('boots with its optional Secrets present too (the metrics scrape token)', () => {
    const optional = [...sources.values()].filter((source) => source.kind === 'secret' && source.optional);
    expect(optional.length).toBeGreaterThan(0);
    const config = service.boot(resolveEnvironment(sources, productionSecret, true)) as unknown as Record<
      string,
      unknown
    >;
    for (const source of optional)
      if (source.kind === 'secret') expect(typeof config[source.key]).toBe('string');
  });

  it('refuses to boot when one of its Secrets is missing', () => {
    const environment = resolveEnvironment(sources, productionSecret);
    // Without POSTGRES_URL a service falls back to 127.0.0.1 and fails its first connection
    // instead: the 'boots in production' check above holds the manifests to a real one.
    const required = [...sources.entries()].filter(
      ([name, source]) => source.kind === 'secret' && !source.optional && name !== 'POSTGRES_URL',
    );
    expect(required.length).toBeGreaterThan(0);
    for (const [name] of required) {
      const without = { ...environment, [name]: undefined };
      expect(() => service.boot(without)).toThrow(new RegExp(name, 'u'));
    }
  });

  it('listens on its services.json port, probed at /readyz and /healthz there, scraped at /metrics', () => {
    const deployment = findManifest(manifests, 'Deployment', service.name);
    const template = podTemplateOf(deployment);
    const http = (container.ports ?? []).find((port) => port.name === 'http');
    expect(http?.containerPort).toBe(service.port);
    const portOf = (port: number | string | undefined): number | undefined =>
      typeof port === 'number'
        ? port
        : container.ports?.find((candidate) => candidate.name === port)?.containerPort;
    expect(container.readinessProbe?.httpGet?.path).toBe('/readyz');
    expect(portOf(container.readinessProbe?.httpGet?.port)).toBe(service.port);
    expect(container.livenessProbe?.httpGet?.path).toBe('/healthz');
    expect(portOf(container.livenessProbe?.httpGet?.port)).toBe(service.port);
    expect(container.startupProbe?.httpGet?.path).toBe('/healthz');
    expect(portOf(container.startupProbe?.httpGet?.port)).toBe(service.port);
    expect(template.metadata.annotations).toMatchObject({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': String(service.port),
      'prometheus.io/path': '/metrics',
    });
    expect(container.image).toMatch(new RegExp(`/puhui/${service.name}:`, 'u'));
  });

  it('is reached through a Service on that port that selects its pods', () => {
    const labels = podTemplateOf(findManifest(manifests, 'Deployment', service.name)).metadata.labels;
    const kubernetesService = findManifest(manifests, 'Service', service.name).object.spec as {
      selector: Record<string, string>;
      ports: { name: string; port: number; targetPort: number | string }[];
    };
    expect(labels).toMatchObject(kubernetesService.selector);
    expect(kubernetesService.ports).toEqual([
      expect.objectContaining({ name: 'http', port: service.port, targetPort: 'http' }),
    ]);
  });

  it('keeps at least two pods, one disruption at a time, and scales on CPU', () => {
    const labels = podTemplateOf(findManifest(manifests, 'Deployment', service.name)).metadata.labels;
    const budget = findManifest(manifests, 'PodDisruptionBudget', service.name).object.spec as {
      maxUnavailable?: number;
      selector: { matchLabels: Record<string, string> };
    };
    expect(labels).toMatchObject(budget.selector.matchLabels);
    expect(budget.maxUnavailable).toBe(1);
    const autoscaler = findManifest(manifests, 'HorizontalPodAutoscaler', service.name).object.spec as {
      scaleTargetRef: { kind: string; name: string };
      minReplicas: number;
      maxReplicas: number;
    };
    expect(autoscaler.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: service.name });
    // Two at least: a PDB of maxUnavailable 1 over one pod would let a drain take the service down.
    expect(autoscaler.minReplicas).toBeGreaterThanOrEqual(2);
    expect(autoscaler.maxReplicas).toBeGreaterThanOrEqual(autoscaler.minReplicas);
  });

  it('runs unprivileged with requests, a memory limit and a heap that fits inside it', () => {
    const template = podTemplateOf(findManifest(manifests, 'Deployment', service.name));
    expect(template.spec.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(template.spec.securityContext?.runAsUser).toBeGreaterThan(0);
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(container.resources?.requests).toHaveProperty('cpu');
    expect(container.resources?.requests).toHaveProperty('memory');
    const limitMiB = Number(/^(\d+)Mi$/u.exec(String(container.resources?.limits?.memory))?.[1]);
    const nodeOptions = sources.get('NODE_OPTIONS');
    const heapMiB = Number(
      /--max-old-space-size=(\d+)/u.exec(nodeOptions?.kind === 'configMap' ? nodeOptions.value : '')?.[1],
    );
    expect(heapMiB).toBeGreaterThan(0);
    // The heap is not all of a Node process: code, buffers and the thread stacks need the rest.
    expect(heapMiB).toBeLessThanOrEqual(limitMiB * 0.75);
  });
});

describe('the Ingresses', () => {
  it('publish the console, and merchant checkouts on transaction-settlement, over TLS', () => {
    const ingresses = manifests.filter((manifest) => manifest.kind === 'Ingress');
    const backends = ingresses.flatMap((ingress) => {
      const spec = ingress.object.spec as {
        tls?: { hosts: string[] }[];
        rules: {
          host: string;
          http: { paths: { path: string; backend: { service: { name: string; port: { name: string } } } }[] };
        }[];
      };
      return spec.rules.flatMap((rule) => {
        expect(spec.tls?.flatMap((tls) => tls.hosts)).toContain(rule.host);
        return rule.http.paths.map((route) => ({
          host: rule.host,
          path: route.path,
          ...route.backend.service,
        }));
      });
    });
    expect(backends).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: '/', name: 'console' }),
        expect.objectContaining({ path: '/v1/checkouts', name: 'transaction-settlement' }),
      ]),
    );
    for (const backend of backends) {
      const ports = (
        findManifest(manifests, 'Service', backend.name).object.spec as { ports: { name: string }[] }
      ).ports;
      expect(ports.map((port) => port.name)).toContain(backend.port.name);
    }
    // The console's public origin is the Ingress host people open.
    const consoleOrigin = environmentSources(
      manifests,
      containerOf(DEPLOYED_SERVICES.find((service) => service.name === 'console') as DeployedService),
    ).get('CONSOLE_PUBLIC_ORIGIN');
    const consoleHost = backends.find((backend) => backend.name === 'console')?.host;
    expect(consoleOrigin).toMatchObject({ value: `https://${consoleHost}` });
  });
});

describe('deploy/README.md', () => {
  it('lists every Secret the Deployments reference, with its keys and the services reading it', () => {
    const readme = readFileSync(path.join(REPOSITORY_ROOT, 'deploy', 'README.md'), 'utf8');
    const rows = new Map(
      [...readme.matchAll(/^\| `([a-z0-9-]+)`(?: \(optional\))? \|(.*)\|(.*)\|$/gmu)].map((match) => [
        match[1] as string,
        { keys: match[2] as string, readers: match[3] as string },
      ]),
    );
    const references = DEPLOYED_SERVICES.flatMap((service) =>
      [...environmentSources(manifests, containerOf(service)).values()].flatMap((source) =>
        source.kind === 'secret' ? [{ service: service.name, secret: source.secret, key: source.key }] : [],
      ),
    );
    expect(references.length).toBeGreaterThan(10);
    const undocumented = references.filter((reference) => {
      const row = rows.get(reference.secret);
      return (
        row === undefined ||
        !row.keys.includes(`\`${reference.key}\``) ||
        !new RegExp(`\\b${reference.service}\\b|all four`, 'u').test(row.readers)
      );
    });
    expect(undocumented).toEqual([]);
    const unreferenced = [...rows.keys()].filter(
      (secret) => !references.some((reference) => reference.secret === secret),
    );
    expect(unreferenced).toEqual([]);
  });
});
