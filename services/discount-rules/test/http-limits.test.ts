/**
 * Decision 0018 on the real service: the preview alone takes a 4 MiB body (every other route
 * the platform's 100 KiB), a stranger's body is answered 401 before it is read, even on the
 * preview, and every request log line names its caller.
 */
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { createLogger } from '@puhui/logging';
import { ADMIN, startHarness } from './support';
import type { Harness } from './support';

let harness: Harness;
const lines: Record<string, unknown>[] = [];

beforeAll(async () => {
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  harness = await startHarness({ logger: createLogger({ service: 'discount-rules', destination }) });
});

afterAll(async () => {
  await harness?.close();
});

/** Sends headers announcing `contentLength` bytes and none of them; what comes back, and how soon. */
function announce(
  path: string,
  contentLength: number,
): Promise<{ status: number | undefined; closed: boolean; elapsedMs: number }> {
  const { port } = new URL(harness.url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), '127.0.0.1');
    const startedAt = Date.now();
    let text = '';
    const finish = (closed: boolean) => {
      clearTimeout(giveUp);
      socket.destroy();
      const status = /^HTTP\/1\.1 (\d{3})/u.exec(text)?.[1];
      resolve({
        status: status === undefined ? undefined : Number(status),
        closed,
        elapsedMs: Date.now() - startedAt,
      });
    };
    socket.on('data', (data) => {
      text += data.toString('latin1');
    });
    socket.once('close', () => finish(true));
    socket.write(
      `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${contentLength}\r\n\r\n`,
    );
    const giveUp = setTimeout(() => finish(false), 5000);
  });
}

it("answers a stranger's 10 MB body to the preview 401 at once, without reading it, and closes", async () => {
  const answered = await announce('/v1/rules/preview', 10 * 1024 * 1024);
  expect(answered).toMatchObject({ status: 401, closed: true });
  expect(answered.elapsedMs).toBeLessThan(1000);
});

it('reads a 300 KB body on the preview only: every other route refuses it 413', async () => {
  const padding = 'x'.repeat(300 * 1024);
  // Valid JSON the preview's strict schema refuses (an unknown field): parsed, so not 413.
  const preview = await harness.call('POST', '/v1/rules/preview', {
    token: harness.finance,
    body: { checkout: { lines: [] }, padding },
  });
  expect(preview.status).toBe(400);
  expect(preview.body.code).toBe('validation_failed');
  const rule = await harness.call('POST', '/v1/rules', { token: harness.admin, body: { padding } });
  expect(rule.status).toBe(413);
  expect(rule.body.code).toBe('payload_too_large');
});

it('names the caller in every request log line', async () => {
  await harness.call('GET', '/v1/rules?limit=1', { token: harness.admin });
  const finished = lines.filter((line) => line.message === 'request finished' && line.path === '/v1/rules');
  expect(finished.length).toBeGreaterThan(0);
  for (const line of finished) expect(line.principal).toBe(`operator:${ADMIN}`);
});
