/**
 * `scripts/new-package.sh services/<name>` run in a throw-away copy of the repository (libs,
 * scripts and the root configs copied, node_modules linked): the service it writes is in the
 * copy's registry on the next free port, passes its typecheck and its own test, and boots from
 * source answering /healthz. Nothing is written to the checkout, so the test cannot leave it
 * dirty or show its service to another test running at the same time; the copy is removed
 * whatever happens.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SERVICES } from '@puhui/config';
import { dropDatabase } from '@puhui/postgres';
import { testPostgresUrl, uniqueSuffix, waitFor } from '@puhui/testing';

const REPOSITORY_ROOT = path.resolve(__dirname, '../../..');
const NAME = 'template-check';
/** What the generator and the generated service read; the rest of the checkout stays out. */
const COPIED = [
  'libs',
  'scripts',
  'tsconfig.base.json',
  'jest.base.cjs',
  '.prettierrc.json',
  '.prettierignore',
  'tests/e2e/package.json',
  'tests/chaos/package.json',
  'tests/bench/package.json',
];
const NOT_COPIED = new Set(['node_modules', 'dist', '.jest', '.turbo']);
const COMMAND_TIMEOUT_MS = 90_000;

let copy: string;
let service: string;

/** Runs a node script of the copy's node_modules; fails with its output. */
function runNode(script: string, args: string[], cwd: string): string {
  const environment = { ...process.env };
  delete environment.JEST_WORKER_ID;
  const result = spawnSync(process.execPath, [path.join(copy, 'node_modules', script), ...args], {
    cwd,
    env: environment,
    encoding: 'utf8',
    timeout: COMMAND_TIMEOUT_MS,
  });
  const output = `${result.stdout}${result.stderr}`;
  if (result.status !== 0)
    throw new Error(`${script} ${args.join(' ')} failed (${result.status}):\n${output}`);
  return output;
}

function manifest(relative: string): Record<string, Record<string, string>> {
  return JSON.parse(readFileSync(path.join(copy, relative), 'utf8')) as Record<
    string,
    Record<string, string>
  >;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

beforeAll(() => {
  copy = mkdtempSync(path.join(tmpdir(), 'puhui-template-'));
  for (const entry of COPIED) {
    cpSync(path.join(REPOSITORY_ROOT, entry), path.join(copy, entry), {
      recursive: true,
      filter: (source) => !NOT_COPIED.has(path.basename(source)),
    });
  }
  symlinkSync(path.join(REPOSITORY_ROOT, 'node_modules'), path.join(copy, 'node_modules'), 'dir');
  service = path.join(copy, 'services', NAME);
  const result = spawnSync(
    'bash',
    ['scripts/new-package.sh', `services/${NAME}`, 'The template, checked', '--no-install'],
    { cwd: copy, encoding: 'utf8', timeout: COMMAND_TIMEOUT_MS },
  );
  if (result.status !== 0) throw new Error(`new-package.sh failed:\n${result.stdout}${result.stderr}`);
});

afterAll(() => {
  if (copy !== undefined) rmSync(copy, { recursive: true, force: true });
});

it('adds the service to the registry on the next free port, and to the workspaces that run them all', () => {
  const registry = manifest('libs/config/src/services.json');
  expect(registry[NAME]).toEqual({
    package: `@puhui/${NAME}`,
    port: Math.max(...SERVICES.map((entry) => entry.port)) + 1,
  });
  expect(manifest('tests/e2e/package.json').devDependencies?.[`@puhui/${NAME}`]).toBe('*');
  expect(manifest('tests/chaos/package.json').devDependencies?.[`@puhui/${NAME}`]).toBe('*');
  expect(manifest('tests/bench/package.json').dependencies?.[`@puhui/${NAME}`]).toBe('*');
  expect(manifest(`services/${NAME}/package.json`).scripts?.start).toBe('node dist/main.js');
});

it('writes a service that passes its typecheck', () => {
  runNode('typescript/bin/tsc', ['-p', 'tsconfig.json', '--noEmit'], service);
});

it('writes a service whose own HTTP test passes on the real Postgres', () => {
  expect(runNode('jest/bin/jest.js', ['--ci'], service)).toMatch(/Tests:\s+1 passed, 1 total/u);
});

it('writes a service that boots from source and answers /healthz', async () => {
  const port = await freePort();
  const database = `test_template_${uniqueSuffix()}`;
  const child = spawn(
    process.execPath,
    [path.join(copy, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'src/main.ts'],
    {
      cwd: service,
      env: {
        ...process.env,
        NODE_ENV: 'development',
        PORT: String(port),
        DATABASE_NAME: database,
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    const status = await waitFor(
      async () => {
        if (child.exitCode !== null) return 'exited';
        const response = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
        return response?.status;
      },
      { description: `${NAME} answering /healthz`, timeoutMs: 60_000 },
    );
    expect(status).toBe(200);
  } finally {
    child.kill('SIGTERM');
    await exited;
    await dropDatabase(testPostgresUrl(), database);
  }
});
