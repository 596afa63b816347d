/**
 * A private single-node KRaft broker for the Kafka outage scenario, from the jars infra/
 * already fetched (infra/.cache/kafka-<version>/libs), with its data in a temporary folder.
 *
 * Why not the shared broker: other engineers' test runs use 127.0.0.1:9092 right now, and it
 * advertises 127.0.0.1:9092, so a proxy in front of it would only see the bootstrap connection
 * (clients then connect to the advertised address directly). This broker advertises the
 * address of a FaultProxy instead, so every connection of our services goes through the proxy,
 * and cutting the proxy takes Kafka away from our services only, for as long as we say.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { canConnect, waitFor } from '@puhui/testing';
import { freePort } from '../../../e2e/test/system';
import { FaultProxy } from './proxy';

const REPOSITORY_ROOT = path.resolve(__dirname, '../../../..');
const START_TIMEOUT_MS = 90_000;

function cachedKafkaLibs(): string | undefined {
  const cache = path.join(REPOSITORY_ROOT, 'infra', '.cache');
  const versions = existsSync(cache) ? readdirSync(cache).filter((name) => name.startsWith('kafka-')) : [];
  return versions
    .map((name) => path.join(cache, name, 'libs'))
    .find((libs) => existsSync(path.join(path.dirname(libs), '.complete')));
}

/**
 * The jars infra/ fetches. A fresh clone whose tests found a broker already running (another
 * checkout's) has none yet: fetch them the way `infra up` does (Maven Central, or ~/.m2).
 */
function kafkaLibs(): string {
  const cached = cachedKafkaLibs();
  if (cached !== undefined) return cached;
  const fetched = spawnSync('bash', [path.join(REPOSITORY_ROOT, 'infra', 'bin', 'infra'), 'fetch'], {
    cwd: REPOSITORY_ROOT,
    encoding: 'utf8',
  });
  const found = cachedKafkaLibs();
  if (found === undefined) {
    throw new Error(
      `could not fetch the Kafka jars with infra/bin/infra fetch:\n${fetched.stdout}${fetched.stderr}`,
    );
  }
  return found;
}

/** A Kafka cluster id: 16 random bytes, base64url without padding (what `random-uuid` prints). */
function clusterId(): string {
  return randomBytes(16).toString('base64url');
}

export class PrivateKafka {
  private constructor(
    private readonly child: ChildProcess,
    private readonly directory: string,
    /** The proxy every client connection goes through (the address the broker advertises). */
    readonly proxy: FaultProxy,
    readonly startedInMs: number,
  ) {}

  /** The bootstrap address for clients: the proxy. */
  get brokers(): string[] {
    return [this.proxy.address];
  }

  static async start(): Promise<PrivateKafka> {
    const startedAt = Date.now();
    const libs = kafkaLibs();
    const directory = mkdtempSync(path.join(os.tmpdir(), 'puhui-chaos-kafka-'));
    const [brokerPort, controllerPort] = [await freePort(), await freePort()];
    const proxy = await FaultProxy.start('kafka', { host: '127.0.0.1', port: brokerPort });
    const config = path.join(directory, 'server.properties');
    writeFileSync(
      config,
      [
        'process.roles=broker,controller',
        'node.id=1',
        `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
        `listeners=PLAINTEXT://127.0.0.1:${brokerPort},CONTROLLER://127.0.0.1:${controllerPort}`,
        `advertised.listeners=PLAINTEXT://${proxy.address}`,
        'controller.listener.names=CONTROLLER',
        'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
        'inter.broker.listener.name=PLAINTEXT',
        `log.dirs=${path.join(directory, 'data')}`,
        'num.partitions=3',
        'offsets.topic.replication.factor=1',
        'offsets.topic.num.partitions=3',
        'transaction.state.log.replication.factor=1',
        'transaction.state.log.min.isr=1',
        'min.insync.replicas=1',
        'default.replication.factor=1',
        'group.initial.rebalance.delay.ms=0',
        'auto.create.topics.enable=false',
        '',
      ].join('\n'),
    );
    const log4j = path.join(directory, 'log4j.properties');
    writeFileSync(
      log4j,
      [
        'log4j.rootLogger=WARN, stdout',
        'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
        'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
        'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
        'log4j.logger.kafka.server.KafkaRaftServer=INFO',
        '',
      ].join('\n'),
    );
    const classpath = `${libs}/*`;
    const format = spawnSync(
      'java',
      [
        '-Xmx256m',
        `-Dlog4j.configuration=file:${log4j}`,
        '-cp',
        classpath,
        'kafka.tools.StorageTool',
        'format',
        '-t',
        clusterId(),
        '-c',
        config,
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    if (format.status !== 0) {
      rmSync(directory, { recursive: true, force: true });
      await proxy.close();
      throw new Error(`kafka storage format failed: ${format.stderr}${format.stdout}`);
    }
    const logFile = path.join(directory, 'kafka.log');
    const child = spawn(
      'java',
      [
        '-Xms128m',
        '-Xmx384m',
        '-XX:+UseG1GC',
        '-XX:+ExitOnOutOfMemoryError',
        '-Djava.awt.headless=true',
        `-Dlog4j.configuration=file:${log4j}`,
        '-cp',
        classpath,
        'kafka.Kafka',
        config,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const output: string[] = [];
    child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    const broker = new PrivateKafka(child, directory, proxy, 0);
    try {
      await waitFor(
        async () => {
          if (child.exitCode !== null) throw new Error(`kafka exited: ${output.join('')}`);
          return output.join('').includes('Kafka Server started') && canConnect('127.0.0.1', brokerPort);
        },
        { timeoutMs: START_TIMEOUT_MS, intervalMs: 200, description: 'private Kafka broker started' },
      );
    } catch (error) {
      await broker.stop();
      throw error;
    }
    writeFileSync(logFile, output.join(''));
    return new PrivateKafka(child, directory, proxy, Date.now() - startedAt);
  }

  /** Kills the broker (its data is thrown away) and closes the proxy. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGKILL');
      await exited;
    }
    await this.proxy.close();
    rmSync(this.directory, { recursive: true, force: true });
  }

  /** For a failing test: what the broker printed (warnings and start-up only). */
  log(): string {
    const file = path.join(this.directory, 'kafka.log');
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  }
}
