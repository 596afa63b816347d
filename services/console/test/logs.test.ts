import { startService } from '@puhui/service';
import { captureLogger, startTestService } from '@puhui/testing';
import { loadConsoleConfig } from '../src/config';
import { totpCode } from '../src/domain/totp';
import { consoleService } from '../src/service';
import type { RunningConsole } from './support';
import { ORIGIN, Person, createAccount } from './support';

it('logs the request id and person of a signed-in request, and no password, code, secret or session id', async () => {
  const captured = captureLogger('console', 'debug');
  const running = (await startTestService(
    (environment) =>
      startService(consoleService(loadConsoleConfig(environment)), { logger: captured.logger }),
    { CONSOLE_PUBLIC_ORIGIN: ORIGIN, LOG_LEVEL: 'debug' },
  )) as RunningConsole;
  try {
    const account = await createAccount(running, ['admin']);
    const person = new Person(running.url);
    await person.signIn(account.username, 'a wrong password for the log');
    await person.signIn(account.username, account.password);
    const halfway = String(person.cookie);
    const enrolment = await person.send('post', '/console/v1/session/totp/enrolment');
    const code = totpCode(enrolment.body.secret);
    await person.send('post', '/console/v1/session/totp', { code });
    await person.send('get', '/console/v1/accounts');
    const text = captured.text();
    for (const secret of [
      account.password,
      'a wrong password for the log',
      enrolment.body.secret,
      `"${code}"`,
      halfway.split('=')[1] as string,
      String(person.cookie).split('=')[1] as string,
      String(person.csrf),
    ])
      expect(text).not.toContain(secret);
    const accountsLine = captured.lines.find(
      (line) => line.message === 'request finished' && line.path === '/console/v1/accounts',
    );
    expect(accountsLine).toMatchObject({ principal: `person:${account.id}`, status: 200 });
    expect(typeof accountsLine?.request_id).toBe('string');
  } finally {
    await running.close();
  }
});
