import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import type { RunningConsole } from './support';
import { startConsole } from './support';

describe('the web app', () => {
  let running: RunningConsole;
  const directory = mkdtempSync(path.join(os.tmpdir(), 'console-web-'));
  beforeAll(async () => {
    mkdirSync(path.join(directory, 'assets'));
    writeFileSync(
      path.join(directory, 'index.html'),
      '<!DOCTYPE html><title>app</title><div id="root"></div>',
    );
    writeFileSync(path.join(directory, 'assets', 'index-abc123.js'), 'console.log(1)');
    running = await startConsole({ CONSOLE_WEB_DIR: directory });
  });
  afterAll(() => running.close());

  it('serves its files, and index.html for a client route opened directly', async () => {
    const asset = await request(running.url).get('/assets/index-abc123.js');
    expect(asset.status).toBe(200);
    expect(asset.headers['cache-control']).toContain('immutable');
    for (const route of ['/', '/inbox', '/sign-in/totp', '/people?x=1']) {
      const page = await request(running.url).get(route);
      expect(page.status).toBe(200);
      expect(page.text).toContain('<div id="root">');
      expect(page.headers['cache-control']).toBe('no-cache');
      expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    }
  });

  it('does not answer the API’s paths with the app', async () => {
    expect((await request(running.url).get('/console/v1/nothing')).status).toBe(404);
    expect((await request(running.url).get('/.well-known/nothing')).status).toBe(404);
    expect((await request(running.url).get('/api/nothing/v1')).status).toBe(404);
    expect((await request(running.url).post('/inbox').set('Origin', 'http://localhost:4104')).status).toBe(
      404,
    );
  });
});

it('serves a placeholder page until the app is built, instead of failing', async () => {
  const running = await startConsole({ CONSOLE_WEB_DIR: path.join(os.tmpdir(), 'console-web-missing') });
  try {
    const page = await request(running.url).get('/people');
    expect(page.status).toBe(200);
    expect(page.text).toContain('npm run build -w @puhui/console');
  } finally {
    await running.close();
  }
});
