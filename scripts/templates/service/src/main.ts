import { startService } from '@puhui/service';
import { loadStarterKitConfig } from './config';
import { starterKitService } from './service';

startService(starterKitService(loadStarterKitConfig()), { handleSignals: true }).catch((error: unknown) => {
  process.stderr.write(`starter-kit failed to start: ${String((error as Error).stack ?? error)}\n`);
  process.exit(1);
});
