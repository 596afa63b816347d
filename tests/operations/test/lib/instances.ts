/**
 * A second instance of every service of a running e2e system: the same environment (database,
 * topic and key prefixes, secrets) on a port of its own, as `infra`'s "several instances" runs
 * them, so that Prometheus scrapes two targets per job and the rules' aggregation over
 * instances meets the real thing. Stopped (SIGTERM, then SIGKILL) by `stopAll`.
 */
import { SERVICE_NAMES } from '@puhui/config';
import { ServiceProcess, freePort } from '../../../e2e/test/system';
import type { PuhuiSystem } from '../../../e2e/test/system';

export async function startSecondInstances(system: PuhuiSystem): Promise<ServiceProcess[]> {
  const started: ServiceProcess[] = [];
  try {
    for (const name of SERVICE_NAMES) {
      const port = await freePort();
      const second = new ServiceProcess(name, port, {
        ...system.services[name].environment,
        PORT: String(port),
      });
      second.start();
      started.push(second);
    }
    await Promise.all(started.map((instance) => instance.waitReady()));
  } catch (error) {
    for (const instance of started)
      process.stderr.write(`----- ${instance.name} #2 -----\n${instance.logs(100)}\n`);
    await stopAll(started);
    throw error;
  }
  return started;
}

export async function stopAll(instances: readonly ServiceProcess[]): Promise<void> {
  await Promise.all(instances.map((instance) => instance.stop()));
}
