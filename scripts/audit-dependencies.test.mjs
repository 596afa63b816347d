// Tests of scripts/audit-dependencies.mjs (node --test; CI runs them before the audit): the real
// npm client audits this repository's lockfile against a stand-in registry on 127.0.0.1 that
// answers the advisory endpoint as the public registry does, and packuments from node_modules.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';

const root = path.dirname(path.dirname(new URL(import.meta.url).pathname));
const script = path.join(root, 'scripts', 'audit-dependencies.mjs');
const scratch = mkdtempSync(path.join(tmpdir(), 'puhui-audit-'));

const advisory = (id, name, severity, title = `test advisory for ${name}`) => ({
  id: Number.parseInt(id.replace(/\D/gu, '').slice(0, 6), 10),
  url: `https://github.com/advisories/${id}`,
  title,
  severity,
  vulnerable_versions: '<1000.0.0',
  cwe: [],
  cvss: { score: 0, vectorString: null },
});

const servers = [];

/**
 * A stand-in registry answering the bulk advisory request with `advisories` (by package), or
 * 405 as the registry reachable here does when `refuseAudit`; one per test, so tests run at once.
 */
async function standInRegistry(advisories, { refuseAudit = false } = {}) {
  const server = http.createServer(async (request, response) => {
    for await (const chunk of request) void chunk;
    response.setHeader('content-type', 'application/json');
    if (request.url.startsWith('/-/npm/v1/security/')) {
      if (refuseAudit || request.method !== 'POST') {
        response.statusCode = 405;
        response.setHeader('allow', 'GET,HEAD');
        response.end();
        return;
      }
      response.end(JSON.stringify(advisories));
      return;
    }
    // Packuments, as npm asks for them to compute the vulnerable ranges: from node_modules.
    const name = decodeURIComponent(request.url.slice(1).split('?')[0]);
    const manifestFile = path.join(root, 'node_modules', name, 'package.json');
    if (request.method !== 'GET' || name.includes('..') || !existsSync(manifestFile)) {
      response.statusCode = 404;
      response.end('{}');
      return;
    }
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
    const version = { name, version: manifest.version, dependencies: manifest.dependencies ?? {} };
    response.end(
      JSON.stringify({
        name,
        'dist-tags': { latest: manifest.version },
        versions: { [manifest.version]: version },
      }),
    );
  });
  servers.push(server);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${server.address().port}/`;
}

after(() => {
  for (const server of servers) server.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** Runs the audit against `registry` with `allowList` (advisories entries). */
function audit(registry, allowList = [], environment = {}) {
  const allowListFile = path.join(scratch, `allow-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(allowListFile, JSON.stringify({ advisories: allowList }));
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [script],
      {
        cwd: root,
        env: {
          ...process.env,
          npm_config_registry: registry,
          // Its own cache: npm caches what it computed of an advisory under the advisory's number.
          npm_config_cache: mkdtempSync(path.join(scratch, 'npm-cache-')),
          PUHUI_AUDIT_ALLOW_LIST: allowListFile,
          PUHUI_AUDIT_REQUIRED: '',
          ...environment,
        },
      },
      (error, stdout, stderr) => resolve({ status: error?.code ?? 0, output: `${stdout}${stderr}` }),
    );
  });
}

const inDays = (days) => new Date(Date.now() + days * 24 * 60 * 60 * 1000).toISOString().slice(0, 10);
const PG_HIGH = 'GHSA-2222-3333-4444';
const PRETTIER_CRITICAL = 'GHSA-5555-6666-7777';
const KAFKAJS_MODERATE = 'GHSA-8888-9999-2222';

describe('dependency audit', { concurrency: true }, () => {
  it('fails on a high advisory in a production dependency, naming it', async () => {
    const registry = await standInRegistry({
      pg: [advisory(PG_HIGH, 'pg', 'high', 'pg test: remote code execution')],
    });
    const { status, output } = await audit(registry);
    assert.equal(status, 1, output);
    assert.match(output, /failing — high or critical in production dependencies \(1\)/u);
    assert.match(output, new RegExp(`high\\s+pg@.*${PG_HIGH}.*not in the allow-list`, 'u'));
  });

  it('passes when the allow-list accepts it until a later date, and says why', async () => {
    const registry = await standInRegistry({ pg: [advisory(PG_HIGH, 'pg', 'high')] });
    const reason = 'only reachable through pg-native, which we do not install';
    const { status, output } = await audit(registry, [
      { id: PG_HIGH, package: 'pg', reason, expires: inDays(30) },
    ]);
    assert.equal(status, 0, output);
    assert.match(output, new RegExp(`accepted by the allow-list \\(1\\):\\n.*${PG_HIGH}.*${reason}`, 'u'));
  });

  it('fails again once the acceptance has expired', async () => {
    const registry = await standInRegistry({ pg: [advisory(PG_HIGH, 'pg', 'critical')] });
    const entry = { id: PG_HIGH, package: 'pg', reason: 'waiting for the upstream fix', expires: inDays(-1) };
    const { status, output } = await audit(registry, [entry]);
    assert.equal(status, 1, output);
    assert.match(output, /expired, look at it again/u);
  });

  it('refuses an allow-list entry without a reason or with an expiry too far away', async () => {
    const registry = await standInRegistry({});
    const noReason = await audit(registry, [{ id: PG_HIGH, package: 'pg', reason: '', expires: inDays(30) }]);
    assert.equal(noReason.status, 1, noReason.output);
    assert.match(noReason.output, /"reason" must say why/u);
    const forever = await audit(registry, [
      { id: PG_HIGH, package: 'pg', reason: 'accepted for a long time', expires: '2099-01-01' },
    ]);
    assert.equal(forever.status, 1, forever.output);
    assert.match(forever.output, /more than 190 days away/u);
  });

  it('reports a critical advisory of a dev-only package and a moderate one in production, and passes', async () => {
    const registry = await standInRegistry({
      prettier: [advisory(PRETTIER_CRITICAL, 'prettier', 'critical')],
      kafkajs: [advisory(KAFKAJS_MODERATE, 'kafkajs', 'moderate')],
    });
    const { status, output } = await audit(registry);
    assert.equal(status, 0, output);
    assert.match(
      output,
      new RegExp(`dev-only dependencies \\(1\\):\\n\\s+critical\\s+prettier@.*${PRETTIER_CRITICAL}`, 'u'),
    );
    assert.match(
      output,
      new RegExp(`moderate or lower in production dependencies \\(1\\):\\n\\s+moderate\\s+kafkajs@`, 'u'),
    );
    assert.doesNotMatch(output, /failing/u);
  });

  it('says loudly that nothing was checked when the registry refuses the advisory endpoint', async () => {
    const registry = await standInRegistry({}, { refuseAudit: true });
    const skipped = await audit(registry);
    assert.equal(skipped.status, 0, skipped.output);
    assert.match(
      skipped.output,
      /dependency audit UNAVAILABLE: 405 Method Not Allowed.*\n.*No advisory was checked/u,
    );
    const required = await audit(registry, [], { PUHUI_AUDIT_REQUIRED: '1' });
    assert.equal(required.status, 1, required.output);
  });
});
