// Dependency vulnerability audit (CI step; decision 0022). Runs `npm audit` once over the locked
// tree and fails on a high or critical advisory that reaches a production dependency (a package
// the lockfile does not mark `dev`), unless scripts/audit-allow-list.json accepts it with a
// reason and an expiry date that has not passed. Advisories of dev-only packages, and moderate
// or low ones, are reported and never fail.
//
// When the registry will not answer the advisory endpoint (the registry reachable from this
// project's machines serves GET and HEAD only: `POST /-/npm/v1/security/advisories/bulk` is
// 405), it says so loudly — no advisory was checked — and passes, unless PUHUI_AUDIT_REQUIRED=1
// (set it where the endpoint is reachable, so that an outage there fails instead).
//
//   node scripts/audit-dependencies.mjs
//   PUHUI_AUDIT_ALLOW_LIST=<file>   another allow-list (the tests use one)
//   npm_config_registry=<url>       the registry npm asks (as for any npm command)
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.dirname(path.dirname(new URL(import.meta.url).pathname));
const FAILING = new Set(['high', 'critical']);
const SEVERITY_ORDER = ['critical', 'high', 'moderate', 'low', 'info'];
/** The longest an acceptance may run: past it the advisory must be looked at again. */
const EXPIRY_DAYS_MAX = 190;
const DAY_MS = 24 * 60 * 60 * 1000;

/** `npm audit --json` over the locked tree; its JSON whatever its exit code (1 = vulnerabilities). */
function npmAudit() {
  return new Promise((resolve) => {
    execFile(
      'npm',
      ['audit', '--json', '--package-lock-only', '--fetch-retries=1', '--fetch-timeout=30000'],
      {
        cwd: root,
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, npm_config_update_notifier: 'false' },
      },
      (error, stdout, stderr) => {
        try {
          resolve(JSON.parse(stdout));
        } catch {
          resolve({
            error: { summary: `npm audit printed no JSON (${error?.message ?? 'no error'})`, detail: stderr },
          });
        }
      },
    );
  });
}

/** The allow-list's entries, each checked: an id, the package, a reason and a valid expiry. */
function readAllowList(file, today) {
  if (!existsSync(file)) return { entries: [], problems: [] };
  const problems = [];
  const parsed = JSON.parse(readFileSync(file, 'utf8'));
  const entries = [];
  for (const [index, entry] of (parsed.advisories ?? []).entries()) {
    const where = `${path.relative(root, file)} advisories[${index}]`;
    const expires = new Date(`${entry.expires}T00:00:00Z`);
    if (typeof entry.id !== 'string' || !/^(GHSA(-[23456789cfghjmpqrvwx]{4}){3}|\d+)$/u.test(entry.id))
      problems.push(`${where}: "id" must be a GHSA id (GHSA-xxxx-xxxx-xxxx) or npm's advisory number`);
    else if (typeof entry.package !== 'string' || entry.package === '')
      problems.push(`${where}: "package" must name the package`);
    else if (typeof entry.reason !== 'string' || entry.reason.trim().length < 20)
      problems.push(`${where}: "reason" must say why it is accepted (20 characters at least)`);
    else if (!/^\d{4}-\d{2}-\d{2}$/u.test(String(entry.expires)) || Number.isNaN(expires.getTime()))
      problems.push(`${where}: "expires" must be a date, YYYY-MM-DD`);
    else if (expires.getTime() - today.getTime() > EXPIRY_DAYS_MAX * DAY_MS)
      problems.push(
        `${where}: "expires" is more than ${EXPIRY_DAYS_MAX} days away; accept for less and look again`,
      );
    else entries.push({ ...entry, expired: expires.getTime() <= today.getTime() });
  }
  return { entries, problems };
}

/** Lockfile paths (node_modules/…) that only the dev tree needs, as `npm audit --omit=dev` leaves them out. */
function devOnlyPaths() {
  const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
  return new Set(
    Object.entries(lock.packages ?? {})
      .filter(([, entry]) => entry.dev === true)
      .map(([location]) => location),
  );
}

/** Every advisory of the report once, with the packages and lockfile paths it reaches. */
function advisoriesOf(report, devOnly) {
  const advisories = new Map();
  for (const vulnerability of Object.values(report.vulnerabilities ?? {})) {
    for (const via of vulnerability.via ?? []) {
      if (typeof via !== 'object' || via === null) continue; // a name: the advisory is listed under it
      const id = /GHSA(-[0-9a-z]{4}){3}/u.exec(via.url ?? '')?.[0] ?? String(via.source);
      const known = advisories.get(id) ?? {
        id,
        package: via.name,
        severity: via.severity,
        title: via.title,
        url: via.url,
        range: via.range,
        production: false,
      };
      known.production ||= (vulnerability.nodes ?? []).some((node) => !devOnly.has(node));
      advisories.set(id, known);
    }
  }
  return [...advisories.values()].sort(
    (a, b) =>
      SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity) || a.id.localeCompare(b.id),
  );
}

function line(advisory, note) {
  return `  ${advisory.severity.padEnd(8)} ${advisory.package}@${advisory.range ?? '*'}  ${advisory.id}  ${advisory.title ?? ''}${note ? `  — ${note}` : ''}`;
}

async function main() {
  const today = new Date(`${new Date().toISOString().slice(0, 10)}T00:00:00Z`);
  const allowListFile =
    process.env.PUHUI_AUDIT_ALLOW_LIST ?? path.join(root, 'scripts', 'audit-allow-list.json');
  const allowList = readAllowList(allowListFile, today);
  if (allowList.problems.length > 0) {
    console.log('::: dependency audit: the allow-list is invalid');
    for (const problem of allowList.problems) console.log(`  ${problem}`);
    return 1;
  }

  const report = await npmAudit();
  if (report.error !== undefined || report.auditReportVersion !== 2) {
    const why = report.message ?? report.error?.summary ?? 'no audit report';
    console.log(`::: dependency audit UNAVAILABLE: ${why}`);
    console.log('    No advisory was checked (decision 0022: the registry here serves GET and HEAD only).');
    if (process.env.PUHUI_AUDIT_REQUIRED === '1') {
      console.log('    PUHUI_AUDIT_REQUIRED=1: failing.');
      return 1;
    }
    return 0;
  }

  const advisories = advisoriesOf(report, devOnlyPaths());
  const allowed = (advisory) =>
    allowList.entries.find((entry) => entry.id === advisory.id && entry.package === advisory.package);
  const failing = [];
  const accepted = [];
  const reported = [];
  for (const advisory of advisories) {
    const entry = allowed(advisory);
    if (!advisory.production || !FAILING.has(advisory.severity)) reported.push(advisory);
    else if (entry === undefined) failing.push([advisory, 'not in the allow-list']);
    else if (entry.expired)
      failing.push([advisory, `accepted until ${entry.expires}: expired, look at it again`]);
    else accepted.push([advisory, `accepted until ${entry.expires}: ${entry.reason}`]);
  }
  const unused = allowList.entries.filter(
    (entry) => !advisories.some((advisory) => allowed(advisory) === entry),
  );

  const { dependencies } = report.metadata ?? {};
  console.log(
    `::: dependency audit: ${advisories.length} advisories over ${dependencies?.total ?? '?'} locked packages (${dependencies?.prod ?? '?'} production)`,
  );
  if (failing.length > 0) {
    console.log(`  failing — high or critical in production dependencies (${failing.length}):`);
    for (const [advisory, note] of failing) console.log(line(advisory, note));
  }
  if (accepted.length > 0) {
    console.log(`  accepted by the allow-list (${accepted.length}):`);
    for (const [advisory, note] of accepted) console.log(line(advisory, note));
  }
  const production = reported.filter((advisory) => advisory.production);
  const development = reported.filter((advisory) => !advisory.production);
  if (production.length > 0) {
    console.log(`  reported — moderate or lower in production dependencies (${production.length}):`);
    for (const advisory of production) console.log(line(advisory));
  }
  if (development.length > 0) {
    console.log(`  reported — dev-only dependencies (${development.length}):`);
    for (const advisory of development) console.log(line(advisory));
  }
  for (const entry of unused)
    console.log(`  allow-list entry ${entry.id} (${entry.package}) matches nothing now: remove it`);
  return failing.length > 0 ? 1 : 0;
}

process.exitCode = await main();
