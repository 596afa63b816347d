/**
 * Where the deployment files are, and the four services as tests/deploy needs them: each one's
 * settings schema and loader, its definition (which clients it declares), and what it must be
 * told in a container. Nothing here connects to anything.
 */
import path from 'node:path';
import type { z } from 'zod';
import { SERVICES, kafkaConnectionOf, redisConnectionOf } from '@puhui/config';
import type { ServiceName } from '@puhui/config';
import type { ServiceConfig } from '@puhui/service';
import { operatorTokenVerifierFor } from '@puhui/service';
// startService's secret check; @puhui/service's index does not export it.
import { refuseUnsafeSecrets } from '@puhui/service/src/environment';
import { consoleEnvironment, loadConsoleConfig } from '@puhui/console/src/config';
import { consoleService } from '@puhui/console/src/service';
import { discountRulesEnvironment, loadDiscountRulesConfig } from '@puhui/discount-rules/src/config';
import { discountRulesService } from '@puhui/discount-rules/src/service';
import {
  loadMerchantOnboardingConfig,
  merchantOnboardingEnvironment,
} from '@puhui/merchant-onboarding/src/config';
import { merchantOnboardingService } from '@puhui/merchant-onboarding/src/service';
import {
  loadTransactionSettlementConfig,
  transactionSettlementEnvironment,
} from '@puhui/transaction-settlement/src/config';
import { transactionSettlementService } from '@puhui/transaction-settlement/src/service';

export const REPOSITORY_ROOT = path.join(__dirname, '..', '..', '..', '..');
export const KUBERNETES_DIRECTORY = path.join(REPOSITORY_ROOT, 'deploy', 'kubernetes');
export const COMPOSE_FILE = path.join(REPOSITORY_ROOT, 'infra', 'docker-compose.yml');

export type Environment = Record<string, string | undefined>;

/** What the deployment checks need of one service. */
export interface DeployedService {
  readonly name: ServiceName;
  readonly package: string;
  readonly port: number;
  /** Every variable the service's configuration parses (its zod object's keys). */
  readonly settings: readonly string[];
  readonly usesRedis: boolean;
  readonly usesKafka: boolean;
  /** Verifies operator tokens against the console's JWKS (OPERATOR_JWKS_URL). */
  readonly verifiesOperatorTokens: boolean;
  /**
   * Parses `environment` as the service's main.ts does and runs every check the service makes
   * before it touches a database: the secrets (decision 0020), the definition's own production
   * checks (the console's), the Kafka and Redis connection settings (decision 0021) and the
   * operator token verifier. Throws what the service would print.
   */
  readonly boot: (environment: Environment) => ServiceConfig;
}

interface ServiceParts<Config extends ServiceConfig> {
  schema: z.ZodObject;
  load: (environment: Environment) => Config;
  define: (config: Config) => { redis?: boolean; kafka?: unknown };
  verifiesOperatorTokens: boolean;
}

function describe<Config extends ServiceConfig>(
  name: ServiceName,
  parts: ServiceParts<Config>,
): DeployedService {
  const entry = SERVICES.find((service) => service.name === name);
  if (entry === undefined) throw new Error(`${name} is not in services.json`);
  // Built with development defaults only to read what the definition declares.
  const declared = parts.define(parts.load({ NODE_ENV: 'development' }));
  const usesRedis = declared.redis === true;
  const usesKafka = declared.kafka !== undefined;
  return {
    name,
    package: entry.package,
    port: entry.port,
    settings: Object.keys(parts.schema.shape),
    usesRedis,
    usesKafka,
    verifiesOperatorTokens: parts.verifiesOperatorTokens,
    boot: (environment) => {
      const config = parts.load(environment);
      // startService's own check, then the definition (the console's refuseUnsafeProductionSettings).
      refuseUnsafeSecrets(config);
      parts.define(config);
      if (usesKafka) kafkaConnectionOf(config);
      if (usesRedis) redisConnectionOf(config);
      if (parts.verifiesOperatorTokens) operatorTokenVerifierFor(config, name);
      return config;
    },
  };
}

export const DEPLOYED_SERVICES: readonly DeployedService[] = [
  describe('merchant-onboarding', {
    schema: merchantOnboardingEnvironment,
    load: loadMerchantOnboardingConfig,
    define: merchantOnboardingService,
    verifiesOperatorTokens: true,
  }),
  describe('discount-rules', {
    schema: discountRulesEnvironment,
    load: loadDiscountRulesConfig,
    define: discountRulesService,
    verifiesOperatorTokens: true,
  }),
  describe('transaction-settlement', {
    schema: transactionSettlementEnvironment as unknown as z.ZodObject,
    load: loadTransactionSettlementConfig,
    define: transactionSettlementService,
    verifiesOperatorTokens: true,
  }),
  describe('console', {
    schema: consoleEnvironment,
    load: loadConsoleConfig,
    define: consoleService,
    verifiesOperatorTokens: false,
  }),
];

/** Every service in services.json has an entry above (a new service must be deployable too). */
export function undeployedServices(): string[] {
  return SERVICES.map((service) => service.name).filter(
    (name) => !DEPLOYED_SERVICES.some((deployed) => deployed.name === name),
  );
}

/**
 * A variable whose value is a secret: the keys and credentials of decision 0020, the Kafka and
 * Redis passwords of decision 0021, the console's signing keys, the metrics scrape token, and
 * the Postgres URL (it carries the database password). A rule on the name rather than a list, so
 * that a new `…_KEY` or `…_PASSWORD` is a secret without anybody remembering to add it here.
 */
export function isSecretVariable(name: string): boolean {
  // `_PREVIOUS`: the value a rotation still accepts is as secret as the current one.
  return (
    /(?:_KEY|_KEYS|_PASSWORD|_TOKEN|_CREDENTIAL|_CREDENTIALS)(?:_PREVIOUS)?$/u.test(name) ||
    name === 'POSTGRES_URL'
  );
}

/**
 * Variables a container may set that no zod schema parses: Node's own options and the
 * OpenTelemetry SDK's standard variables (decision 0026), read by libs/tracing and the SDK.
 */
export function isReadOutsideTheSchema(name: string): boolean {
  return name === 'NODE_OPTIONS' || name.startsWith('OTEL_');
}
