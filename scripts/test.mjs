// The one test command (README, .ci/run): runs every workspace's tests through turbo,
// then prints a single `N passed, N failed` line that CI reads.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';

const root = path.dirname(path.dirname(new URL(import.meta.url).pathname));
const groups = ['libs', 'services', 'tests'];
const workspaces = groups.flatMap((group) => {
  const directory = path.join(root, group);
  if (!existsSync(directory)) return [];
  return readdirSync(directory)
    .map((name) => path.join(directory, name))
    .filter((workspace) => existsSync(path.join(workspace, 'package.json')));
});

for (const workspace of workspaces) rmSync(path.join(workspace, '.jest'), { recursive: true, force: true });

// Two workspaces at a time: the machine has 2 cores and the suites share one Kafka broker.
const concurrency = process.env.PUHUI_TEST_CONCURRENCY ?? '2';
const turbo = spawnSync(
  'npx',
  ['turbo', 'run', 'test', '--continue', `--concurrency=${concurrency}`, ...process.argv.slice(2)],
  { cwd: root, stdio: 'inherit' },
);

let passed = 0;
let failed = 0;
let skipped = 0;
const missing = [];
for (const workspace of workspaces) {
  const manifest = JSON.parse(readFileSync(path.join(workspace, 'package.json'), 'utf8'));
  if (!manifest.scripts?.test) continue;
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
  console.error(`no test results from: ${missing.join(', ')} (counted as one failure each)`);
  failed += missing.length;
}
const exitCode = turbo.status !== 0 || failed > 0 ? 1 : 0;
console.log(`${passed} passed, ${failed} failed` + (skipped > 0 ? `, ${skipped} skipped` : ''));
process.exit(exitCode);
