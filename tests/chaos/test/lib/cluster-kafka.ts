/**
 * The three-broker cluster of `infra up --brokers 3` (decision 0027) as the cluster test uses
 * it: brought up if it is not (and then stopped again at the end), one broker killed with
 * SIGKILL by the pid `infra` wrote, and brought back by running `infra up --brokers 3` again,
 * which starts only the brokers not running. The infra script runs as a child process without
 * blocking the event loop: the load goes on while a broker starts.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import type { Admin } from 'kafkajs';

const REPOSITORY_ROOT = path.resolve(__dirname, '../../../..');
const INFRA = path.join(REPOSITORY_ROOT, 'infra', 'bin', 'infra');
const CLUSTER_RUN = path.join(REPOSITORY_ROOT, 'infra', '.run', 'kafka-cluster');
/** Node ids 1-3 on these client ports (infra/kafka/cluster.sh). */
export const CLUSTER_BROKERS = ['127.0.0.1:9192', '127.0.0.1:9193', '127.0.0.1:9194'] as const;
export const CLUSTER_NODE_IDS = [1, 2, 3] as const;
/** A killed process is gone within milliseconds; this bounds a wait that should never be long. */
const EXIT_WAIT_MS = 10_000;
/** `infra down`'s wait for each broker after SIGTERM before SIGKILL (its own default: 30 s). */
const STOP_TIMEOUT_S = 10;

/** Runs `infra <args>`; resolves with its exit code and output. */
function infra(
  args: readonly string[],
  environment: Record<string, string> = {},
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [INFRA, ...args], {
      cwd: REPOSITORY_ROOT,
      env: { ...process.env, ...environment },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output: output.join('') }));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export class KafkaCluster {
  readonly brokers: readonly string[] = CLUSTER_BROKERS;
  private readonly admin: Admin;
  private connected: Promise<void> | undefined;

  private constructor(
    /** Whether this test started the cluster (and so stops it at the end). */
    readonly startedHere: boolean,
    readonly startedInMs: number,
  ) {
    this.admin = new Kafka({
      clientId: 'chaos-cluster',
      brokers: [...CLUSTER_BROKERS],
      logLevel: logLevel.NOTHING,
    }).admin();
  }

  /** The running cluster, or one started now with `infra up --kafka-only --brokers 3`. */
  static async ensure(): Promise<KafkaCluster> {
    const startedAt = Date.now();
    const status = await infra(['status', '--brokers', '3']);
    if (status.code === 0) return new KafkaCluster(false, 0);
    const up = await infra(['up', '--kafka-only', '--brokers', '3']);
    if (up.code !== 0) throw new Error(`infra up --brokers 3 failed:\n${up.output}`);
    return new KafkaCluster(true, Date.now() - startedAt);
  }

  /** The pid of broker `nodeId` if it runs (infra's pid file, checked against /proc). */
  pidOf(nodeId: number): number | undefined {
    const pidFile = path.join(CLUSTER_RUN, `broker-${nodeId}`, 'kafka.pid');
    if (!existsSync(pidFile)) return undefined;
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    const cmdline = path.join('/proc', String(pid), 'cmdline');
    if (!existsSync(cmdline)) return undefined;
    const command = readFileSync(cmdline, 'utf8');
    return command.includes(`broker-${nodeId}/server.properties`) ? pid : undefined;
  }

  /** kill -9 of one broker; resolves once its process is gone. */
  async kill(nodeId: number): Promise<number> {
    const pid = this.pidOf(nodeId);
    if (pid === undefined) throw new Error(`cluster broker ${nodeId} is not running`);
    process.kill(pid, 'SIGKILL');
    const deadline = Date.now() + EXIT_WAIT_MS;
    while (alive(pid) && Date.now() < deadline) await sleep(20);
    if (alive(pid)) throw new Error(`cluster broker ${nodeId} (pid ${pid}) still alive after SIGKILL`);
    return pid;
  }

  /** `infra up --brokers 3` again: starts the brokers not running; resolves when all answer. */
  async restartMissing(): Promise<number> {
    const startedAt = Date.now();
    const up = await infra(['up', '--kafka-only', '--brokers', '3']);
    if (up.code !== 0) throw new Error(`infra up --brokers 3 failed:\n${up.output}`);
    return Date.now() - startedAt;
  }

  private async connectedAdmin(): Promise<Admin> {
    this.connected ??= this.admin.connect();
    await this.connected;
    return this.admin;
  }

  /** Leader and in-sync replicas of every partition of `topics`. */
  async partitions(
    topics: readonly string[],
  ): Promise<Array<{ topic: string; partition: number; leader: number; isr: number[]; replicas: number[] }>> {
    const admin = await this.connectedAdmin();
    const { topics: described } = await admin.fetchTopicMetadata({ topics: [...topics] });
    return described.flatMap((topic) =>
      topic.partitions.map((partition) => ({
        topic: topic.name,
        partition: partition.partitionId,
        leader: partition.leader,
        isr: partition.isr,
        replicas: partition.replicas,
      })),
    );
  }

  /** `min.insync.replicas` of each topic, as the brokers report it. */
  async minInsyncReplicas(topics: readonly string[]): Promise<Map<string, string | undefined>> {
    const admin = await this.connectedAdmin();
    const { resources } = await admin.describeConfigs({
      resources: topics.map((name) => ({
        type: ConfigResourceTypes.TOPIC,
        name,
        configNames: ['min.insync.replicas'],
      })),
      includeSynonyms: false,
    });
    return new Map(
      resources.map((resource) => [
        resource.resourceName,
        resource.configEntries.find((entry) => entry.configName === 'min.insync.replicas')?.configValue,
      ]),
    );
  }

  /** Disconnects; stops the brokers with `infra down --brokers 3` only if this test started them. */
  async close(): Promise<string> {
    if (this.connected !== undefined) await this.admin.disconnect().catch(() => undefined);
    if (!this.startedHere) {
      // Brought back to three brokers if the test killed one and did not get to restart it.
      const missing = CLUSTER_NODE_IDS.filter((nodeId) => this.pidOf(nodeId) === undefined);
      if (missing.length > 0) await this.restartMissing().catch(() => undefined);
      return 'the cluster was running before the test: left running';
    }
    // Three brokers stopping at once can leave the last one waiting for a controller quorum
    // (measured: 30 s, then SIGKILL); the test's data is thrown away with its topics anyway.
    const down = await infra(['down', '--brokers', '3'], { KAFKA_STOP_TIMEOUT: String(STOP_TIMEOUT_S) });
    return down.output.trim();
  }
}
