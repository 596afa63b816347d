/** `npm run demo` (through scripts/demo.mjs, which starts Puhui first if it is not running). */
import { PuhuiApi, demoTokens } from './api';
import { walkThrough } from './walkthrough';

async function main(): Promise<void> {
  const api = new PuhuiApi();
  // Each read signs a fresh 5-minute token.
  const tokens = demoTokens();
  const report = await walkThrough(api, tokens);
  process.stdout.write(`\nPuhui walk-through\n${report.lines.join('\n')}\n`);
  const { expected, found } = report.reconciliation;
  const wrong = Object.entries(expected).filter(([name, count]) => found[name] !== count);
  if (wrong.length > 0) {
    process.stderr.write(
      `reconciliation did not find what was planted: ${JSON.stringify({ expected, found })}\n`,
    );
    process.exit(1);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`\nthe walk-through stopped: ${String((error as Error).stack ?? error)}\n`);
  process.exit(1);
});
