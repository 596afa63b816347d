import { loadDiscountRulesConfig } from './config';
import { startDiscountRules } from './service';

async function main(): Promise<void> {
  const running = await startDiscountRules(loadDiscountRulesConfig());
  // Our own signal handling (not startService's): the background pass must stop before the pools close.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      running.shutdown(signal).then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`discount-rules failed to start: ${String((error as Error).stack ?? error)}\n`);
  process.exit(1);
});
