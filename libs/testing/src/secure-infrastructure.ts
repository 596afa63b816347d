/**
 * Kafka and Redis that ask for authentication and encryption, for the tests of the secured
 * clients (decision 0021): the local broker's SASL_SSL listener that infra/bin/infra starts
 * beside PLAINTEXT 9092, and a throw-away `redis-server` with `--requirepass` on a TLS port,
 * under a certificate made for it with openssl and deleted with it.
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { canConnect } from './infrastructure';
import { uniqueSuffix, waitFor } from './basics';

const REPOSITORY_ROOT = path.resolve(__dirname, '../../..');

export interface SecureKafka {
  brokers: string[];
  /** The local CA the broker's certificate chains to (infra/.run/kafka/tls/ca.pem). */
  caFile: string;
  username: string;
  password: string;
}

/**
 * The SASL_SSL listener of the local broker (SCRAM-SHA-512/256, user and password as
 * infra/README.md gives them), or an error saying how to get it: a broker started by an older
 * infra script has no such listener.
 */
export async function testSecureKafka(): Promise<SecureKafka> {
  const brokers = (process.env.PUHUI_TEST_KAFKA_SECURE_BROKERS ?? '127.0.0.1:9094').split(',');
  const secure: SecureKafka = {
    brokers,
    caFile: process.env.PUHUI_TEST_KAFKA_CA_FILE ?? path.join(REPOSITORY_ROOT, 'infra/.run/kafka/tls/ca.pem'),
    username: process.env.KAFKA_SCRAM_USERNAME ?? 'puhui',
    password: process.env.KAFKA_SCRAM_PASSWORD ?? 'puhui-local-scram-password',
  };
  const [host = '127.0.0.1', port = '9094'] = (brokers[0] ?? '').split(':');
  if (!(await canConnect(host, Number(port))))
    throw new Error(
      `No Kafka SASL_SSL listener on ${brokers.join(',')}: 'bash infra/bin/infra down && bash infra/bin/infra up' ` +
        'starts the local broker with it (or set PUHUI_TEST_KAFKA_SECURE_BROKERS and PUHUI_TEST_KAFKA_CA_FILE).',
    );
  return secure;
}

export interface SecureRedis {
  /** rediss://127.0.0.1:<port>, without the password (it goes in REDIS_PASSWORD). */
  url: string;
  password: string;
  /** The CA that signed this server's certificate. */
  caFile: string;
  stop: () => Promise<void>;
}

const run = promisify(execFile);

/** A CA and a server certificate it signed for 127.0.0.1 (EC P-256, a day), in `directory`. */
async function makeCertificates(directory: string): Promise<void> {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const inDirectory = { cwd: directory };
  await run(
    'openssl',
    [
      'req',
      '-x509',
      ...ec,
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '1',
      '-subj',
      '/CN=Puhui test CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    inDirectory,
  );
  await run(
    'openssl',
    ['req', '-new', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost'],
    inDirectory,
  );
  await writeFile(path.join(directory, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  await run(
    'openssl',
    [
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      'server.ext',
      '-out',
      'server.pem',
    ],
    inDirectory,
  );
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null ? resolve(address.port) : reject(),
      );
    });
  });
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/**
 * Starts `redis-server` (REDIS_SERVER, default redis-server on the PATH; it must be built with
 * TLS) answering only TLS on a free port, with AUTH required. `stop()` ends it and deletes its
 * certificates.
 */
export async function startSecureRedis(): Promise<SecureRedis> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'puhui-redis-tls-'));
  await makeCertificates(directory);
  const password = `redis-${uniqueSuffix()}${uniqueSuffix()}`;
  const port = await freePort();
  const output: string[] = [];
  const child = spawn(
    process.env.REDIS_SERVER ?? 'redis-server',
    [
      '--port',
      '0',
      '--tls-port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--tls-cert-file',
      'server.pem',
      '--tls-key-file',
      'server.key',
      '--tls-ca-cert-file',
      'ca.pem',
      '--tls-auth-clients',
      'no',
      '--requirepass',
      password,
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      directory,
    ],
    { cwd: directory, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const stop = async () => {
    await stopProcess(child);
    await rm(directory, { recursive: true, force: true });
  };
  try {
    await waitFor(
      () => {
        if (child.exitCode !== null) throw new Error(`redis-server exited: ${output.join('')}`);
        return canConnect('127.0.0.1', port, 200);
      },
      { timeoutMs: 10_000, description: `redis-server with TLS on 127.0.0.1:${port}` },
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `rediss://127.0.0.1:${port}`, password, caFile: path.join(directory, 'ca.pem'), stop };
}
