/**
 * A test-only fault (PUHUI_TEST_CRASH_AFTER_COMMIT): the process kills itself with SIGKILL right
 * after a capture's transaction committed and before its answer is written. That is the case
 * idempotency exists for (the effect is stored, the client never hears of it and retries), and a
 * kill from outside lands in that window only by luck: in the crash tests' runs it never did.
 * The configuration refuses the variable when NODE_ENV=production.
 */
import { writeSync } from 'node:fs';
import { maskCardNumbers } from '@puhui/logging';

/** Called once a capture committed, with its reference; a replayed answer does not call it. */
export type AfterCaptureCommitted = (reference: string) => void;

/** The message of the line written just before the kill; crash tests count these lines. */
export const CRASH_AFTER_COMMIT_MESSAGE = 'test hook: SIGKILL after commit, before the answer';

const STANDARD_ERROR = 2;

export function compilesAsRegularExpression(pattern: string): boolean {
  try {
    new RegExp(pattern, 'u');
    return true;
  } catch {
    return false;
  }
}

/** The hook for `pattern` (a regular expression over references), or none when it is unset. */
export function crashAfterCommit(
  service: string,
  pattern: string | undefined,
): AfterCaptureCommitted | undefined {
  if (pattern === undefined) return undefined;
  const matches = new RegExp(pattern, 'u');
  return (reference) => {
    if (!matches.test(reference)) return;
    // Written synchronously, in the logger's shape: the logger's own destination is
    // asynchronous and would lose the line with the process an instant later.
    const line = JSON.stringify({
      level: 'warn',
      time: new Date().toISOString(),
      service,
      pid: process.pid,
      message: CRASH_AFTER_COMMIT_MESSAGE,
      reference,
    });
    writeSync(STANDARD_ERROR, `${maskCardNumbers(line)}\n`);
    // SIGKILL, not exit(): no shutdown code, no flush, no answer, as a power cut or the OOM killer.
    process.kill(process.pid, 'SIGKILL');
  };
}
