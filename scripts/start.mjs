// `npm start`: brings up the infrastructure (Postgres and Redis as they run, Kafka through
// infra/), builds, and runs the three services as separate processes with prefixed,
// readable logs. Ctrl-C stops them all cleanly.
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { ensureInstalled } from './ensure-installed.mjs';
import readline from 'node:readline';

const root = path.dirname(path.dirname(new URL(import.meta.url).pathname));
const SERVICES = [
  { name: 'merchant-onboarding', port: 4101, colour: 36 },
  { name: 'discount-rules', port: 4102, colour: 35 },
  { name: 'transaction-settlement', port: 4103, colour: 33 },
];
const STOP_TIMEOUT_MS = 15_000;
const environment = { TURBO_TELEMETRY_DISABLED: '1', ...process.env };

function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env: environment });
  if (result.status !== 0) {
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

ensureInstalled(root);
run('bash', ['infra/bin/infra', 'up']);
run('npx', ['turbo', 'run', 'build', '--output-logs=errors-only']);

const width = Math.max(...SERVICES.map((service) => service.name.length));
const children = SERVICES.map((service) => {
  const child = spawn(process.execPath, [path.join(root, 'services', service.name, 'dist', 'main.js')], {
    cwd: root,
    env: { ...environment, PORT: String(service.port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = `\u001b[${service.colour}m${service.name.padEnd(width)}\u001b[0m |`;
  for (const stream of [child.stdout, child.stderr]) {
    readline
      .createInterface({ input: stream })
      .on('line', (line) => console.log(`${prefix} ${readable(line)}`));
  }
  child.on('exit', (code, signal) => {
    console.log(`${prefix} exited (${signal ?? code})`);
    if (!stopping) stop(`${service.name} exited`);
  });
  return child;
});

let stopping = false;
function stop(reason) {
  if (stopping) return;
  stopping = true;
  console.log(`\nstopping (${reason}) …`);
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  const deadline = setTimeout(() => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  }, STOP_TIMEOUT_MS);
  Promise.all(
    children.map((child) => (child.exitCode === null ? new Promise((r) => child.on('exit', r)) : null)),
  ).then(() => {
    clearTimeout(deadline);
    console.log('all services stopped; Kafka keeps running (npm run infra:down stops it)');
    process.exit(0);
  });
}
process.on('SIGINT', () => stop('Ctrl-C'));
process.on('SIGTERM', () => stop('SIGTERM'));

console.log(`
Puhui is starting:
${SERVICES.map((service) => `  ${service.name.padEnd(width)}  http://127.0.0.1:${service.port}  (/healthz, /readyz)`).join('\n')}
Press Ctrl-C to stop.
`);
