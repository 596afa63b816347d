/**
 * The Kubernetes manifests under deploy/kubernetes, read as the API server would get them from
 * `kubectl apply -f deploy/kubernetes/`, and the environment a container of a Deployment gets:
 * its ConfigMaps (envFrom, configMapKeyRef) and Secrets (secretKeyRef) resolved.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { KUBERNETES_DIRECTORY } from './repository';
import type { Environment } from './repository';

export interface Manifest {
  /** `deploy/kubernetes/<file>#<document index>`, for messages. */
  readonly where: string;
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly object: Record<string, unknown>;
}

/** Files a folder holds at most: a bound on what a test reads, far above the 8 there are. */
const MANIFEST_FILES_MAX = 100;

export function readManifests(directory = KUBERNETES_DIRECTORY): Manifest[] {
  const files = readdirSync(directory)
    .filter((name) => /\.ya?ml$/u.test(name))
    .sort();
  if (files.length > MANIFEST_FILES_MAX)
    throw new Error(`more than ${MANIFEST_FILES_MAX} files in ${directory}`);
  return files.flatMap((file) =>
    parseAllDocuments(readFileSync(path.join(directory, file), 'utf8')).flatMap((document, index) => {
      if (document.errors.length > 0)
        throw new Error(`${file}#${index}: ${document.errors.map((error) => error.message).join('; ')}`);
      const object = document.toJS() as Record<string, unknown> | null;
      if (object === null) return [];
      const metadata = (object.metadata ?? {}) as { name?: string };
      return [
        {
          where: `deploy/kubernetes/${file}#${index}`,
          apiVersion: String(object.apiVersion),
          kind: String(object.kind),
          name: String(metadata.name),
          object,
        },
      ];
    }),
  );
}

export function findManifest(manifests: readonly Manifest[], kind: string, name: string): Manifest {
  const found = manifests.find((manifest) => manifest.kind === kind && manifest.name === name);
  if (found === undefined) throw new Error(`no ${kind} ${name} in deploy/kubernetes`);
  return found;
}

// The parts of the Kubernetes types these checks read (kubernetes-models has the full ones).
export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string; optional?: boolean };
    configMapKeyRef?: { name: string; key: string; optional?: boolean };
    fieldRef?: { fieldPath: string };
  };
}
export interface Probe {
  httpGet?: { path?: string; port: number | string };
}
export interface Container {
  name: string;
  image: string;
  ports?: { name?: string; containerPort: number }[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  resources?: { requests?: Record<string, string | number>; limits?: Record<string, string | number> };
  securityContext?: Record<string, unknown>;
}
export interface PodTemplate {
  metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
  spec: { containers: Container[]; securityContext?: Record<string, unknown> };
}

export function podTemplateOf(deployment: Manifest): PodTemplate {
  return (deployment.object.spec as { template: PodTemplate }).template;
}

/** Where each variable of a container's environment comes from. */
export type Source =
  | { kind: 'value'; value: string }
  | { kind: 'configMap'; configMap: string; key: string; value: string }
  | { kind: 'secret'; secret: string; key: string; optional: boolean };

/**
 * The container's variables by name, later sources winning as in Kubernetes (envFrom in order,
 * then env). Throws on a reference to a ConfigMap or key the manifests do not have: the pod would
 * not start (CreateContainerConfigError).
 */
export function environmentSources(
  manifests: readonly Manifest[],
  container: Container,
): Map<string, Source> {
  const sources = new Map<string, Source>();
  const configMapData = (name: string): Record<string, string> =>
    (findManifest(manifests, 'ConfigMap', name).object.data ?? {}) as Record<string, string>;
  for (const from of container.envFrom ?? []) {
    if (from.secretRef !== undefined)
      throw new Error(
        `${container.name}: envFrom secretRef ${from.secretRef.name} (name each secret with secretKeyRef)`,
      );
    if (from.configMapRef === undefined) continue;
    const configMap = from.configMapRef.name;
    for (const [key, value] of Object.entries(configMapData(configMap)))
      sources.set(key, { kind: 'configMap', configMap, key, value: String(value) });
  }
  for (const variable of container.env ?? []) {
    const secret = variable.valueFrom?.secretKeyRef;
    const configMapKey = variable.valueFrom?.configMapKeyRef;
    if (secret !== undefined) {
      sources.set(variable.name, {
        kind: 'secret',
        secret: secret.name,
        key: secret.key,
        optional: secret.optional === true,
      });
    } else if (configMapKey !== undefined) {
      const value = configMapData(configMapKey.name)[configMapKey.key];
      if (value === undefined)
        throw new Error(`${container.name}: ${configMapKey.name} has no key ${configMapKey.key}`);
      sources.set(variable.name, {
        kind: 'configMap',
        configMap: configMapKey.name,
        key: configMapKey.key,
        value,
      });
    } else if (variable.valueFrom !== undefined) {
      throw new Error(
        `${container.name}: ${variable.name} comes from neither a value, a ConfigMap nor a Secret`,
      );
    } else {
      sources.set(variable.name, { kind: 'value', value: variable.value ?? '' });
    }
  }
  return sources;
}

/**
 * The environment the container starts with, each Secret's value supplied by `secretValue` (the
 * real ones live in the cluster, never in this repository). An optional secret is left unset, as
 * when its Secret does not exist, unless `optionalSecretsExist`.
 */
export function resolveEnvironment(
  sources: ReadonlyMap<string, Source>,
  secretValue: (variable: string) => string,
  optionalSecretsExist = false,
): Environment {
  const environment: Environment = {};
  for (const [name, source] of sources) {
    if (source.kind === 'secret') {
      if (!source.optional || optionalSecretsExist) environment[name] = secretValue(name);
    } else {
      environment[name] = source.value;
    }
  }
  return environment;
}
