import { startService } from '@puhui/service';
import { startTestService, waitFor } from '@puhui/testing';
import { loadStarterKitConfig } from '../src/config';
import { starterKitService } from '../src/service';

it('boots on the real Postgres, answers /healthz and /readyz, and shuts down', async () => {
  const running = await startTestService((environment) =>
    startService(starterKitService(loadStarterKitConfig(environment))),
  );
  try {
    expect((await fetch(`${running.url}/healthz`)).status).toBe(200);
    const ready = await waitFor(
      async () => {
        const response = await fetch(`${running.url}/readyz`);
        return response.status === 200 ? ((await response.json()) as { checks: unknown }) : undefined;
      },
      { description: 'starter-kit ready' },
    );
    expect(ready.checks).toEqual({ postgres: 'ok' });
  } finally {
    await running.close();
  }
});
