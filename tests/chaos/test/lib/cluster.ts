/**
 * A chaos run of two instances of every service against the three-broker cluster (decision
 * 0027). The first instance of each is the one ChaosRun starts (tests/e2e's harness: databases,
 * topic prefix, card scan of every log line); the second is another process on its own port with
 * the same environment, so the same database, topics and consumer groups. In front of each
 * service a round-robin balancer (cluster-balancer.ts): the services reach each other through
 * the balancers (DISCOUNT_RULES_URL, the console's JWKS), and the test's clients do too, through
 * `system`, a view of the run's PuhuiSystem whose `url(name)` is the balancer's.
 */
import type { PuhuiSystem, ServiceName } from '../../../e2e/test/system';
import { SERVICE_NAMES, ServiceProcess, freePort } from '../../../e2e/test/system';
import { learnDocument } from '../../../e2e/test/conformance';
import { ChaosRun } from './chaos';
import { ClusterBalancer } from './cluster-balancer';
import type { KafkaCluster } from './cluster-kafka';

/** What every instance runs with on the cluster. */
function clusterEnvironment(cluster: KafkaCluster): Record<string, string> {
  return {
    KAFKA_BROKERS: cluster.brokers.join(','),
    KAFKA_REPLICATION_FACTOR: '3',
    // Leader jobs pass every second (default: hourly), so a move to the survivor shows within
    // seconds. Event retention prunes rows older than its window (days): nothing of this run.
    EVENT_RETENTION_INTERVAL_MS: '1000',
    PERSONAL_DATA_RETENTION_INTERVAL_MS: '1000',
  };
}

/** The variable a service reads another's URL from (libs/config urlVariable). */
function urlVariableOf(name: ServiceName): string {
  return `${name.toUpperCase().replace(/-/gu, '_')}_URL`;
}

/** The per-service environment that sends every service-to-service call through a balancer. */
function throughBalancers(
  balancers: Record<ServiceName, ClusterBalancer>,
): Partial<Record<ServiceName, Record<string, string>>> {
  const urls = Object.fromEntries(SERVICE_NAMES.map((name) => [urlVariableOf(name), balancers[name].url]));
  const consoleUrl = balancers.console.url;
  return Object.fromEntries(
    SERVICE_NAMES.map((name) => [
      name,
      {
        ...urls,
        ...(name === 'console'
          ? { CONSOLE_PUBLIC_ORIGIN: consoleUrl }
          : { OPERATOR_JWKS_URL: `${consoleUrl}/.well-known/jwks.json` }),
      },
    ]),
  );
}

export class ClusterRun {
  private constructor(
    readonly run: ChaosRun,
    readonly cluster: KafkaCluster,
    readonly balancers: Record<ServiceName, ClusterBalancer>,
    /** Per service its two instances: the harness's first, then the second. */
    readonly instances: Record<ServiceName, [ServiceProcess, ServiceProcess]>,
    /** The run's system as clients see it: every URL a balancer's. */
    readonly system: PuhuiSystem,
  ) {}

  static async start(scenario: string, cluster: KafkaCluster): Promise<ClusterRun> {
    const balancers = {} as Record<ServiceName, ClusterBalancer>;
    for (const name of SERVICE_NAMES) balancers[name] = await ClusterBalancer.start(name);
    let run: ChaosRun | undefined;
    const seconds: ServiceProcess[] = [];
    try {
      run = await ChaosRun.start(scenario, {
        environment: clusterEnvironment(cluster),
        services: throughBalancers(balancers),
      });
      const started = run;
      for (const name of SERVICE_NAMES) balancers[name].add(started.system.services[name].port);
      for (const name of SERVICE_NAMES) {
        const first = started.system.services[name];
        const port = await freePort();
        seconds.push(
          new ServiceProcess(name, port, { ...first.environment, PORT: String(port) }, (service, line) =>
            started.scanLogLine(service, line),
          ),
        );
      }
      for (const second of seconds) second.start();
      const readyMs = await Promise.all(seconds.map((second) => second.waitReady()));
      for (const second of seconds) balancers[second.name].add(second.port);
      for (const name of SERVICE_NAMES) await learnDocument(balancers[name].url);
      const instances = Object.fromEntries(
        seconds.map((second) => [second.name, [started.system.services[second.name], second]]),
      ) as Record<ServiceName, [ServiceProcess, ServiceProcess]>;
      started.figures.note(
        `second instances ready: ${seconds.map((second, index) => `${second.name} ${readyMs[index]} ms`).join(', ')}`,
      );
      const system = Object.create(started.system, {
        url: { value: (name: ServiceName) => balancers[name].url },
      }) as PuhuiSystem;
      return new ClusterRun(started, cluster, balancers, instances, system);
    } catch (error) {
      for (const second of seconds) {
        process.stderr.write(`----- ${second.name} (second instance) -----\n${second.logs(200)}\n`);
      }
      await Promise.all(seconds.map((second) => second.kill('SIGKILL')));
      await run?.stop();
      await Promise.all(Object.values(balancers).map((balancer) => balancer.close()));
      throw error;
    }
  }

  /** Both instances of every service, by name and number (1: the harness's, 2: the second). */
  get everyInstance(): Array<{ name: ServiceName; number: 1 | 2; process: ServiceProcess }> {
    return SERVICE_NAMES.flatMap((name) =>
      this.instances[name].map((process, index) => ({ name, number: (index + 1) as 1 | 2, process })),
    );
  }

  /** What every instance printed lately, for a failing test. */
  printLogs(reason: string): void {
    this.run.system.printLogs(reason);
    for (const name of SERVICE_NAMES) {
      const second = this.instances[name][1];
      process.stderr.write(`----- ${name} (second instance, ${second.url}) -----\n${second.logs(200)}\n`);
    }
  }

  /** Kills every second instance, stops the run (the first instances, databases, topics), closes the balancers. */
  async stop(): Promise<void> {
    await Promise.all(SERVICE_NAMES.map((name) => this.instances[name][1].stop()));
    await this.run.stop();
    await Promise.all(Object.values(this.balancers).map((balancer) => balancer.close()));
  }
}
