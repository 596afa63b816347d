// The one test command (README, .ci/run): runs every workspace's tests through turbo,
// then prints a single `N passed, N failed` line that CI reads.
// `node scripts/test.mjs --summary-only` prints that line again from the last run's results.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ensureInstalled } from './ensure-installed.mjs';

const root = path.dirname(path.dirname(new URL(import.meta.url).pathname));
const summaryOnly = process.argv.includes('--summary-only');
const workspaces = ['libs', 'services', 'tools', 'tests'].flatMap((group) => {
  const directory = path.join(root, group);
  if (!existsSync(directory)) return [];
  return readdirSync(directory)
    .map((name) => path.join(directory, name))
    .filter((workspace) => existsSync(path.join(workspace, 'package.json')))
    .filter(
      (workspace) => JSON.parse(readFileSync(path.join(workspace, 'package.json'), 'utf8')).scripts?.test,
    );
});

let turboStatus = 0;
if (!summaryOnly) {
  // Results first, install second: a failed install must leave no earlier run's results for
  // `--summary-only` to print as this run's.
  for (const workspace of workspaces) rmSync(path.join(workspace, '.jest'), { recursive: true, force: true });
  ensureInstalled(root);
  // Two workspaces at a time: the machine has 2 cores and the suites share one Kafka broker.
  const concurrency = process.env.PUHUI_TEST_CONCURRENCY ?? '2';
  const turbo = spawnSync(
    'npx',
    [
      'turbo',
      'run',
      'test',
      '--continue',
      `--concurrency=${concurrency}`,
      // CI never replays a cached pass: the tests' outcome depends on Postgres, Redis and Kafka too.
      ...(process.env.CI ? ['--force'] : []),
      ...process.argv.slice(2),
    ],
    { cwd: root, stdio: 'inherit', env: { TURBO_TELEMETRY_DISABLED: '1', ...process.env } },
  );
  turboStatus = turbo.status ?? 1;
}

let passed = 0;
let failed = 0;
let skipped = 0;
const missing = [];
for (const workspace of workspaces) {
  const resultsFile = path.join(workspace, '.jest', 'results.json');
  if (!existsSync(resultsFile)) {
    missing.push(path.relative(root, workspace));
    continue;
  }
  const results = JSON.parse(readFileSync(resultsFile, 'utf8'));
  passed += results.passed;
  failed += results.failed;
  skipped += results.skipped;
}
if (missing.length > 0) {
  console.error(`no test results from: ${missing.join(', ')} (each counted as one failure)`);
  failed += missing.length;
}
console.log(`${passed} passed, ${failed} failed` + (skipped > 0 ? `, ${skipped} skipped` : ''));
process.exit(turboStatus !== 0 || failed > 0 ? 1 : 0);
