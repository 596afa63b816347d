import { randomBytes } from 'node:crypto';
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

describe('in production', () => {
  const key = randomBytes(32).toString('base64');
  const productionKey = JSON.stringify([
    { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'not-the-development-key', kid: 'production-1' },
  ]);

  it('refuses the development signing key', () => {
    const config = loadConsoleConfig({ NODE_ENV: 'production', TOTP_SECRET_ENCRYPTION_KEY: key });
    expect(() => consoleService(config)).toThrow(/CONSOLE_SIGNING_KEYS/u);
  });

  it('refuses a console served over plain HTTP', () => {
    const environment = {
      NODE_ENV: 'production',
      TOTP_SECRET_ENCRYPTION_KEY: key,
      CONSOLE_SIGNING_KEYS: productionKey,
    };
    expect(() => consoleService(loadConsoleConfig(environment))).toThrow(/CONSOLE_PUBLIC_ORIGIN/u);
    const secure = loadConsoleConfig({ ...environment, CONSOLE_PUBLIC_ORIGIN: 'https://console.example' });
    expect(() => consoleService(secure)).not.toThrow();
  });
});
