/**
 * Runs Node on this service's TypeScript sources in a child process (tsx resolves `@puhui/*`
 * to libs' sources as tests do), on exactly `environment` and PATH: for tests of what the real
 * entry point does at boot and of hooks that kill the process.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';

const SERVICE_DIRECTORY = path.resolve(__dirname, '..');
/** Starting Node with tsx on a loaded 2-core machine takes 1–3 s; the bound leaves room. */
const CHILD_TIMEOUT_MS = 30_000;

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function runNode(
  argumentsAfterNode: string[],
  environment: Record<string, string>,
): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--require', 'tsx/cjs', ...argumentsAfterNode], {
      cwd: SERVICE_DIRECTORY,
      env: {
        PATH: process.env.PATH ?? '',
        TSX_TSCONFIG_PATH: path.join(SERVICE_DIRECTORY, 'tsconfig.json'),
        ...environment,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: CHILD_TIMEOUT_MS,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** The real entry point, src/main.ts. */
export function runMain(environment: Record<string, string>): Promise<ChildResult> {
  return runNode([path.join('src', 'main.ts')], environment);
}
