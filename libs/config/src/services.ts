/**
 * The registry of services, written once in services.json: each service's name, workspace
 * package (`services/<name>`) and default port. The services' own defaults, `npm start`,
 * `npm run docs`, the demo and the e2e and bench harnesses read it; the .mjs scripts read the
 * same file. `scripts/new-package.sh services/<name>` adds an entry with the next free port.
 */
import registry from './services.json';

export type ServiceName = keyof typeof registry;

export interface ServiceEntry {
  readonly name: ServiceName;
  /** The workspace package, e.g. `@puhui/merchant-onboarding`. */
  readonly package: string;
  /** Where the service listens unless `PORT` says otherwise (DESIGN §11). */
  readonly port: number;
}

export const SERVICES: readonly ServiceEntry[] = Object.freeze(
  Object.entries(registry).map(([name, entry]) => Object.freeze({ name: name as ServiceName, ...entry })),
);
export const SERVICE_NAMES: readonly ServiceName[] = Object.freeze(SERVICES.map((service) => service.name));

export function serviceByName(name: ServiceName): ServiceEntry {
  const service = SERVICES.find((candidate) => candidate.name === name);
  if (service === undefined) throw new Error(`${name} is not in libs/config/src/services.json`);
  return service;
}

export function defaultPort(name: ServiceName): number {
  return serviceByName(name).port;
}

/** Where a service answers on a developer machine: `http://127.0.0.1:<its port>`. */
export function defaultUrl(name: ServiceName): string {
  return `http://127.0.0.1:${defaultPort(name)}`;
}

/** The variable that tells another service where this one answers: `DISCOUNT_RULES_URL`. */
export function urlVariable(name: ServiceName): string {
  return `${name.toUpperCase().replace(/-/gu, '_')}_URL`;
}
