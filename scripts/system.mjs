// Brings up the infrastructure (Postgres and Redis as they run, Kafka through infra/), builds,
// and runs every service of the registry (libs/config/src/services.json) as a separate
// process. Used by `npm start` (logs on the console, prefixed and readable) and `npm run demo`
// (logs to infra/.run/logs/ when it has to start the services itself).
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { ensureInstalled } from './ensure-installed.mjs';

export const root = path.dirname(path.dirname(new URL(import.meta.url).pathname));
/** ANSI colours of the services' log prefixes, in registry order. */
const COLOURS = [36, 35, 33, 32, 34, 31];
/** The registry of services (libs/config/src/services.json), each with its log colour. */
export const SERVICES = Object.entries(
  JSON.parse(readFileSync(path.join(root, 'libs', 'config', 'src', 'services.json'), 'utf8')),
).map(([name, { port }], index) => ({ name, port, colour: COLOURS[index % COLOURS.length] }));
const STOP_TIMEOUT_MS = 15_000;
export const environment = { TURBO_TELEMETRY_DISABLED: '1', ...process.env };
/**
 * What the services and scripts run with: a developer machine, unless the shell says otherwise.
 * An unset NODE_ENV is production, which refuses the development secrets (decision 0020). Not
 * for the build: Vite would then build the console's web app in development mode.
 */
const serviceEnvironment = { NODE_ENV: 'development', ...environment };

export function run(command, args, { quiet = false } = {}) {
  const result = spawnSync(command, args, {
    cwd: root,
    stdio: quiet ? ['ignore', 'pipe', 'pipe'] : 'inherit',
    env: environment,
  });
  if (result.status !== 0) {
    if (quiet) process.stderr.write(`${result.stdout}${result.stderr}`);
    console.error(`\n'${command} ${args.join(' ')}' failed; nothing was started.`);
    process.exit(result.status ?? 1);
  }
}

/** One JSON log line → `HH:MM:SS LEVEL message key=value …`; anything else as it is. */
function readable(line) {
  let entry;
  try {
    entry = JSON.parse(line);
  } catch {
    return line;
  }
  const { time, level, message, service: _service, ...rest } = entry;
  const fields = Object.entries(rest)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  return `${String(time ?? '').slice(11, 19)} ${String(level ?? '')
    .toUpperCase()
    .padEnd(5)} ${message ?? ''} ${fields}`;
}

export function serviceUrl(service) {
  return `http://127.0.0.1:${service.port}`;
}

/** True when every service answers /readyz with 200. */
export async function allReady() {
  const answers = await Promise.all(
    SERVICES.map((service) =>
      fetch(`${serviceUrl(service)}/readyz`).then(
        (response) => response.status === 200,
        () => false,
      ),
    ),
  );
  return answers.every(Boolean);
}

export async function waitUntilReady(timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await allReady())) {
    if (Date.now() > deadline) throw new Error(`the services were not ready within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * The three services verify operator tokens against the console's JWKS over HTTP, the real path
 * (decision 0012), unless OPERATOR_JWKS_URL says another; the console issues them.
 */
function operatorKeysFor(service) {
  if (service.name === 'console') return {};
  const issuer = SERVICES.find((candidate) => candidate.name === 'console');
  if (issuer === undefined) return {};
  return {
    OPERATOR_JWKS_URL:
      environment.OPERATOR_JWKS_URL ?? `http://127.0.0.1:${issuer.port}/.well-known/jwks.json`,
  };
}

/**
 * Installs if needed, starts Kafka, builds, and spawns the services. `logTo`: 'console' or a
 * directory for one log file per service. `onExit` is called when a service exits by itself.
 */
export function startSystem({ logTo = 'console', onExit = () => {} } = {}) {
  const quiet = logTo !== 'console';
  ensureInstalled(root);
  run('bash', ['infra/bin/infra', 'up'], { quiet });
  run('npx', ['turbo', 'run', 'build', '--output-logs=errors-only'], { quiet });
  if (quiet) mkdirSync(logTo, { recursive: true });

  const width = Math.max(...SERVICES.map((service) => service.name.length));
  let stopping = false;
  const children = SERVICES.map((service) => {
    const child = spawn(process.execPath, [path.join(root, 'services', service.name, 'dist', 'main.js')], {
      cwd: root,
      env: { ...serviceEnvironment, ...operatorKeysFor(service), PORT: String(service.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const prefix = `\u001b[${service.colour}m${service.name.padEnd(width)}\u001b[0m |`;
    if (quiet) {
      const file = createWriteStream(path.join(logTo, `${service.name}.log`), { flags: 'a' });
      child.stdout.pipe(file);
      child.stderr.pipe(file);
    } else {
      for (const stream of [child.stdout, child.stderr]) {
        readline
          .createInterface({ input: stream })
          .on('line', (line) => console.log(`${prefix} ${readable(line)}`));
      }
    }
    child.on('exit', (code, signal) => {
      if (!quiet) console.log(`${prefix} exited (${signal ?? code})`);
      if (!stopping) onExit(`${service.name} exited (${signal ?? code})`);
    });
    return child;
  });

  const stop = () => {
    stopping = true;
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
    const deadline = setTimeout(() => {
      for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    }, STOP_TIMEOUT_MS);
    return Promise.all(
      children.map((child) =>
        child.exitCode === null && child.signalCode === null ? new Promise((r) => child.on('exit', r)) : null,
      ),
    ).then(() => clearTimeout(deadline));
  };
  return { children, stop };
}

/** Runs a built script of this repository with the console attached; resolves with its exit code. */
export function runScript(...segments) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(root, ...segments)], {
      cwd: root,
      env: serviceEnvironment,
      stdio: 'inherit',
    });
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

/** Runs the demo programme loader (tools/demo); resolves with its exit code. */
export function loadDemoData() {
  return runScript('tools', 'demo', 'dist', 'load.js');
}
