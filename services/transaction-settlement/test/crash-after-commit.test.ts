/**
 * The crash tests' hook (PUHUI_TEST_CRASH_AFTER_COMMIT): parsed as a regular expression over
 * capture references, refused with NODE_ENV=production (at load and by the real entry point),
 * and, in a process of its own, a SIGKILL for a matching reference and nothing for any other.
 * The kill between commit and answer itself is proven by tests/e2e/test/crash-recovery.test.ts.
 */
import path from 'node:path';
import { ConfigError } from '@puhui/config';
import { loadTransactionSettlementConfig } from '../src/config';
import { CRASH_AFTER_COMMIT_MESSAGE } from '../src/crash-after-commit';
import { runMain, runNode } from './run-node';

function configProblems(environment: Record<string, string>): string[] {
  try {
    loadTransactionSettlementConfig(environment);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('PUHUI_TEST_CRASH_AFTER_COMMIT', () => {
  it('is unset by default and kept as written when set outside production', () => {
    expect(loadTransactionSettlementConfig({}).PUHUI_TEST_CRASH_AFTER_COMMIT).toBeUndefined();
    for (const NODE_ENV of ['development', 'test']) {
      const config = loadTransactionSettlementConfig({
        NODE_ENV,
        PUHUI_TEST_CRASH_AFTER_COMMIT: '^CRASH-',
      });
      expect(config.PUHUI_TEST_CRASH_AFTER_COMMIT).toBe('^CRASH-');
    }
  });

  it('rejects a pattern that is not a regular expression, naming the variable', () => {
    expect(configProblems({ NODE_ENV: 'test', PUHUI_TEST_CRASH_AFTER_COMMIT: '(unclosed' })).toEqual([
      'PUHUI_TEST_CRASH_AFTER_COMMIT: must be a JavaScript regular expression',
    ]);
  });

  it('is refused when NODE_ENV=production, naming the variable', () => {
    expect(configProblems({ NODE_ENV: 'production', PUHUI_TEST_CRASH_AFTER_COMMIT: '^CRASH-' })).toEqual([
      'PUHUI_TEST_CRASH_AFTER_COMMIT: a test-only fault that kills the service; refused when NODE_ENV=production',
    ]);
    // Production without the hook loads: the refusal is of the hook, not of production.
    expect(configProblems({ NODE_ENV: 'production' })).toEqual([]);
  });

  it('stops the real entry point before it starts anything when NODE_ENV=production', async () => {
    const result = await runMain({
      NODE_ENV: 'production',
      PUHUI_TEST_CRASH_AFTER_COMMIT: '^CRASH-',
    });
    expect(result.signal).toBeNull();
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/PUHUI_TEST_CRASH_AFTER_COMMIT: a test-only fault that kills the service/u);
    // It never got as far as a log line: no database, broker or port was touched.
    expect(result.stdout).toBe('');
  });

  it('kills its process with SIGKILL for a matching reference and leaves any other alone', async () => {
    const hookModule = JSON.stringify(path.resolve(__dirname, '..', 'src', 'crash-after-commit.ts'));
    const script = [
      // Exit handlers are shutdown code: after a SIGKILL none runs.
      `process.on('exit', () => process.stdout.write('exit handler ran\\n'));`,
      `const { crashAfterCommit } = require(${hookModule});`,
      `const hook = crashAfterCommit('transaction-settlement', '^CRASH-');`,
      `hook('NOT-CRASH-1'); process.stdout.write('alive after an unmatched reference\\n');`,
      `hook('CRASH-2'); process.stdout.write('alive after a matching reference\\n');`,
    ].join('\n');
    const result = await runNode(['--eval', script], {});
    expect(result.signal).toBe('SIGKILL');
    expect(result.stdout).toBe('alive after an unmatched reference\n');
    const lines = result.stderr
      .split('\n')
      .filter((line) => line.includes(CRASH_AFTER_COMMIT_MESSAGE))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'warn',
        service: 'transaction-settlement',
        message: CRASH_AFTER_COMMIT_MESSAGE,
        reference: 'CRASH-2',
      }),
    ]);
  });
});
