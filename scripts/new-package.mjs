// Scaffolds a workspace from scripts/templates/ (see scripts/new-package.sh for the usage).
// The templates are a package named `starter-kit`; every spelling of that name (starter-kit,
// starter_kit, starterKit, StarterKit, STARTER_KIT) in their paths and text becomes the new
// name's, and `{{description}}` the description. A service is also added to the registry
// (libs/config/src/services.json) on the next free port, and to the workspaces that run every
// service (e2e, chaos, bench), so that turbo builds it before they start it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import prettier from 'prettier';

const root = path.dirname(path.dirname(new URL(import.meta.url).pathname));
const templates = path.join(root, 'scripts', 'templates');
const REGISTRY = path.join(root, 'libs', 'config', 'src', 'services.json');
/** Workspaces that start every service of the registry, and the field they depend on it in. */
const WHOLE_SYSTEM = [
  ['tests/e2e', 'devDependencies'],
  ['tests/chaos', 'devDependencies'],
  ['tests/bench', 'dependencies'],
];
const NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/u;
/** Postgres names are 63 bytes at most and a service's database is `puhui_<name>`. */
const NAME_LENGTH_MAX = 40;

function fail(message) {
  console.error(`new-package: ${message}`);
  console.error(
    'usage: scripts/new-package.sh libs/<name> | services/<name> ["<description>"] [--no-install]',
  );
  process.exit(1);
}

function spellings(name) {
  const words = name.split('-');
  const capitalised = words.map((word) => word[0].toUpperCase() + word.slice(1));
  return {
    'starter-kit': name,
    starter_kit: words.join('_'),
    starterKit: words[0] + capitalised.slice(1).join(''),
    StarterKit: capitalised.join(''),
    STARTER_KIT: words.join('_').toUpperCase(),
  };
}

function renamed(text, names, description) {
  return text
    .replace(/starter-kit|starter_kit|starterKit|StarterKit|STARTER_KIT/gu, (spelling) => names[spelling])
    .replaceAll('{{description}}', JSON.stringify(description).slice(1, -1));
}

/** Every file under `directory`, relative to it. */
function filesOf(directory, prefix = '') {
  return readdirSync(path.join(directory, prefix), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesOf(directory, path.join(prefix, entry.name)) : [path.join(prefix, entry.name)],
  );
}

async function formatted(file, text) {
  const info = await prettier.getFileInfo(file, { ignorePath: path.join(root, '.prettierignore') });
  if (info.ignored || info.inferredParser === null) return text;
  return prettier.format(text, { ...(await prettier.resolveConfig(file)), filepath: file });
}

async function writeFormatted(file, text) {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, await formatted(file, text));
}

async function writeJson(file, value) {
  await writeFormatted(file, `${JSON.stringify(value, null, 2)}\n`);
}

/** Adds the service on the port after the highest taken; returns that port. */
async function register(registry, name, packageName) {
  const port = Math.max(...Object.values(registry).map((service) => service.port)) + 1;
  await writeJson(REGISTRY, { ...registry, [name]: { package: packageName, port } });
  return port;
}

async function addToWholeSystem(packageName) {
  for (const [workspace, field] of WHOLE_SYSTEM) {
    const file = path.join(root, workspace, 'package.json');
    const manifest = JSON.parse(readFileSync(file, 'utf8'));
    const dependencies = { ...manifest[field], [packageName]: '*' };
    manifest[field] = Object.fromEntries(Object.entries(dependencies).sort(([a], [b]) => a.localeCompare(b)));
    await writeJson(file, manifest);
  }
}

const args = process.argv.slice(2);
const install = !args.includes('--no-install');
const [directory, description = ''] = args.filter((arg) => arg !== '--no-install');
const [group, name, ...rest] = (directory ?? '').split('/').filter(Boolean);
const kind = { libs: 'lib', services: 'service' }[group];
if (kind === undefined || name === undefined || rest.length > 0) fail('give libs/<name> or services/<name>');
if (!NAME.test(name) || name.length > NAME_LENGTH_MAX)
  fail(`${name}: lower-case words joined by hyphens, at most ${NAME_LENGTH_MAX} characters`);
const target = path.join(root, group, name);
if (existsSync(target)) fail(`${path.relative(root, target)} exists already`);
const registry = JSON.parse(readFileSync(REGISTRY, 'utf8'));
if (kind === 'service' && registry[name] !== undefined)
  fail(`${name} is already in ${path.relative(root, REGISTRY)}`);

const names = spellings(name);
const packageName = `@puhui/${name}`;
for (const source of ['workspace', kind]) {
  for (const file of filesOf(path.join(templates, source))) {
    const text = readFileSync(path.join(templates, source, file), 'utf8');
    await writeFormatted(
      path.join(target, renamed(file, names, description)),
      renamed(text, names, description),
    );
  }
}
for (const folder of ['src', 'test']) mkdirSync(path.join(target, folder), { recursive: true });
console.log(`created ${group}/${name} (${packageName})`);

if (kind === 'service') {
  const port = await register(registry, name, packageName);
  await addToWholeSystem(packageName);
  console.log(`registered ${name} on port ${port} (libs/config/src/services.json)`);
  console.log(`added ${packageName} to ${WHOLE_SYSTEM.map(([workspace]) => workspace).join(', ')}`);
}
if (install) {
  // Links the workspace and records it in package-lock.json, which `npm ci` checks.
  const result = spawnSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
if (kind === 'service') {
  console.log(`
Next, in services/${name}:
  src/http/routes.ts   its operations (defineOperation) and the routes that mount them
  migrations/          numbered SQL files, 0001_<what>.sql with "-- Up Migration"
  src/service.ts       redis / kafka (topics it publishes, consumers) and jobs, as it needs them
  src/config.ts        its own settings; its port is the registry's
then: npm run docs (its OpenAPI document), npm run lint, npm run typecheck, npm test`);
}
