import { startService } from '@puhui/service';
import { expectServiceBootsAndStops } from '@puhui/testing';
import { loadStarterKitConfig } from '../src/config';
import { starterKitService } from '../src/service';

it('boots on the real Postgres, answers /healthz and /readyz, and shuts down', async () => {
  await expectServiceBootsAndStops(
    (environment) => startService(starterKitService(loadStarterKitConfig(environment))),
    { postgres: 'ok' },
  );
});
