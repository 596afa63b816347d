import { startService } from '@puhui/service';
import { expectServiceBootsAndStops } from '@puhui/testing';
import { loadConsoleConfig } from '../src/config';
import { consoleService } from '../src/service';

it('boots on the real Postgres, answers /healthz and /readyz, and shuts down', async () => {
  await expectServiceBootsAndStops(
    (environment) => startService(consoleService(loadConsoleConfig(environment))),
    {
      postgres: 'ok',
    },
  );
});

it('refuses the development signing key in production', () => {
  expect(() =>
    consoleService(
      loadConsoleConfig({
        NODE_ENV: 'production',
        FIELD_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
      }),
    ),
  ).toThrow(/CONSOLE_SIGNING_KEYS/u);
});
