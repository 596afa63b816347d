// Fails when a workspace imports a package that its package.json does not declare
// (src/ imports must be dependencies; test/ imports may be devDependencies or root ones).
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';

const root = path.dirname(path.dirname(new URL(import.meta.url).pathname));
const rootManifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const rootDevelopment = new Set(Object.keys(rootManifest.devDependencies ?? {}));
const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));
const IMPORT = /(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"]([^'".][^'"]*)['"]/gu;

function files(directory) {
  if (!existsSync(directory)) return [];
  return readdirSync(directory).flatMap((name) => {
    const full = path.join(directory, name);
    return statSync(full).isDirectory() ? files(full) : /\.(ts|cjs|mjs|js)$/u.test(name) ? [full] : [];
  });
}

function packageName(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

let problems = 0;
for (const group of ['libs', 'services', 'tools', 'tests']) {
  const groupDirectory = path.join(root, group);
  if (!existsSync(groupDirectory)) continue;
  for (const name of readdirSync(groupDirectory)) {
    const workspace = path.join(groupDirectory, name);
    const manifestPath = path.join(workspace, 'package.json');
    if (!existsSync(manifestPath)) continue;
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    const runtime = new Set(Object.keys(manifest.dependencies ?? {}));
    const development = new Set([
      ...runtime,
      ...Object.keys(manifest.devDependencies ?? {}),
      ...rootDevelopment,
    ]);
    for (const [folder, allowed] of [
      ['src', runtime],
      ['test', development],
      ['bench', development],
    ]) {
      for (const file of files(path.join(workspace, folder))) {
        for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
          const dependency = packageName(match[1]);
          if (builtins.has(match[1]) || builtins.has(dependency) || dependency === manifest.name) continue;
          if (!allowed.has(dependency)) {
            problems += 1;
            console.error(
              `${path.relative(root, file)} imports ${dependency}, which ${manifest.name} does not declare`,
            );
          }
        }
      }
    }
  }
}
if (problems > 0) process.exit(1);
console.log('every import is declared');
