/**
 * services/<name>/Dockerfile, read without a Docker engine (none on this machine; decision 0028
 * says what that leaves unproven): multi-stage, npm ci and the turbo build in a builder, the dev
 * dependencies dropped, a slim runtime on node:20-bookworm-slim running as a non-root user in
 * production, every COPY from the context naming something the repository has, and the CMD
 * running the service's built dist/main.js.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Stage } from './lib/dockerfiles';
import { dockerignorePatterns, isIgnored, readDockerfile } from './lib/dockerfiles';
import { DEPLOYED_SERVICES, REPOSITORY_ROOT, isSecretVariable } from './lib/repository';

const RUNTIME_IMAGE = 'node:20-bookworm-slim';
const rootManifest = JSON.parse(readFileSync(path.join(REPOSITORY_ROOT, 'package.json'), 'utf8')) as {
  devDependencies: Record<string, string>;
};

function dockerfileOf(name: string): string {
  return path.join(REPOSITORY_ROOT, 'services', name, 'Dockerfile');
}

/** Source files read from one pruned workspace at most: a bound far above the ~300 of the largest. */
const WORKSPACE_FILES_MAX = 5_000;
const IMPORT = /(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"](\.[^'"]*)['"]/gu;

function filesUnder(directory: string, found: string[] = []): string[] {
  if (!existsSync(directory)) return found;
  for (const name of readdirSync(directory)) {
    if (name === 'node_modules' || name === 'dist') continue;
    const full = path.join(directory, name);
    if (statSync(full).isDirectory()) filesUnder(full, found);
    else if (/\.(?:ts|tsx|mts|mjs|cjs|js|json)$/u.test(name)) found.push(full);
    if (found.length > WORKSPACE_FILES_MAX)
      throw new Error(`more than ${WORKSPACE_FILES_MAX} files under ${directory}`);
  }
  return found;
}

/**
 * What the pruned workspaces of `packageName` read from outside themselves: relative imports and
 * tsconfig `extends` that leave every workspace turbo prune keeps, as repository paths. turbo
 * prune copies workspaces only, so each of these must be copied by the Dockerfile itself.
 */
function readFromOutsideThePrunedWorkspaces(packageName: string): Set<string> {
  const out = mkdtempSync(path.join(tmpdir(), 'puhui-deploy-prune-'));
  try {
    execFileSync(
      path.join(REPOSITORY_ROOT, 'node_modules', '.bin', 'turbo'),
      ['prune', packageName, '--docker', '--out-dir', out],
      {
        cwd: REPOSITORY_ROOT,
        stdio: 'pipe',
        env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' },
      },
    );
    const full = path.join(out, 'full');
    const workspaces = ['libs', 'services', 'tools', 'tests'].flatMap((group) =>
      existsSync(path.join(full, group))
        ? readdirSync(path.join(full, group)).map((name) => path.join(group, name))
        : [],
    );
    const inAWorkspace = (relative: string): boolean =>
      workspaces.some((workspace) => relative === workspace || relative.startsWith(`${workspace}/`));
    const outside = new Set<string>();
    for (const workspace of workspaces) {
      // What `build` reads: the sources, the console's web app, the tsconfigs (tests, benches and
      // jest configs are not built).
      const root = path.join(full, workspace);
      const tsconfigs = readdirSync(root)
        .filter((name) => /^tsconfig.*\.json$/u.test(name))
        .map((name) => path.join(root, name));
      const built = [
        ...filesUnder(path.join(root, 'src')),
        ...filesUnder(path.join(root, 'web')),
        ...tsconfigs,
      ];
      for (const file of built) {
        const text = readFileSync(file, 'utf8');
        const references = [...text.matchAll(IMPORT)].map((match) => match[1] as string);
        if (tsconfigs.includes(file) || /tsconfig[^/]*\.json$/u.test(file)) {
          const extended = (JSON.parse(text) as { extends?: string }).extends;
          if (extended !== undefined) references.push(extended);
        }
        for (const reference of references) {
          const relative = path.relative(full, path.resolve(path.dirname(file), reference));
          if (!inAWorkspace(relative)) outside.add(relative);
        }
      }
    }
    return outside;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

function runsOf(stages: readonly Stage[]): string[] {
  return stages.flatMap((stage) =>
    stage.steps.filter((step) => step.keyword === 'RUN').map((step) => step.text),
  );
}

describe.each(DEPLOYED_SERVICES.map((service) => [service.name, service] as const))(
  '%s Dockerfile',
  (_, service) => {
    const file = dockerfileOf(service.name);
    const stages = existsSync(file) ? readDockerfile(file) : [];
    const runtime = stages[stages.length - 1] as Stage;

    it('has a builder stage and a slim runtime stage on node:20-bookworm-slim', () => {
      expect(existsSync(file)).toBe(true);
      expect(stages.length).toBeGreaterThanOrEqual(2);
      const names = stages.map((stage) => stage.name);
      expect(new Set(names).size).toBe(names.length);
      expect(runtime.image).toBe(RUNTIME_IMAGE);
      // Everything the runtime holds is built elsewhere: it installs and builds nothing itself.
      expect(runtime.steps.filter((step) => step.keyword === 'RUN')).toEqual([]);
    });

    it('installs with npm ci, builds the service with turbo, then drops the dev dependencies', () => {
      const runs = runsOf(stages.slice(0, -1));
      expect(runs.some((run) => /\bnpm ci\b/u.test(run))).toBe(true);
      const build = runs.find((run) => run.includes('turbo run build'));
      expect(build).toContain(`--filter=${service.package}...`);
      expect(runs.some((run) => /npm prune --omit=dev/u.test(run))).toBe(true);
      // npm ci runs on the lockfile turbo prune wrote for this service's workspaces only.
      expect(runs.some((run) => run.includes(`turbo prune ${service.package} --docker`))).toBe(true);
      const turbo = runs.flatMap((run) => /turbo@(\S+)/u.exec(run)?.[1] ?? []);
      expect(turbo).toEqual([rootManifest.devDependencies.turbo]);
    });

    it('runs the runtime as a numeric non-root user, in production, on its services.json port', () => {
      const users = runtime.steps.filter((step) => step.keyword === 'USER');
      expect(users.length).toBeGreaterThan(0);
      const user = users[users.length - 1]?.arguments[0] ?? '';
      // Numeric, so that Kubernetes' runAsNonRoot can check it without the image's /etc/passwd.
      const uid = /^(\d+)(?::\d+)?$/u.exec(user)?.[1];
      expect(uid).toBeDefined();
      expect(Number(uid)).toBeGreaterThan(0);
      const environment = Object.fromEntries(
        runtime.steps
          .filter((step) => step.keyword === 'ENV')
          .flatMap((step) => step.arguments.map((argument) => argument.split('=') as [string, string])),
      );
      expect(environment).toMatchObject({
        NODE_ENV: 'production',
        PORT: String(service.port),
        HOST: '0.0.0.0',
      });
      expect(Object.keys(environment).filter(isSecretVariable)).toEqual([]);
      const exposed = runtime.steps
        .filter((step) => step.keyword === 'EXPOSE')
        .flatMap((step) => step.arguments);
      expect(exposed).toEqual([String(service.port)]);
    });

    it('copies from the context only what the repository has and .dockerignore lets through', () => {
      const patterns = dockerignorePatterns();
      const fromContext = stages.flatMap((stage) =>
        stage.steps
          .filter(
            (step) => (step.keyword === 'COPY' || step.keyword === 'ADD') && step.flags.from === undefined,
          )
          .flatMap((step) => step.arguments.slice(0, -1)),
      );
      expect(fromContext.length).toBeGreaterThan(0);
      const missing = fromContext.filter((source) => !existsSync(path.join(REPOSITORY_ROOT, source)));
      expect(missing).toEqual([]);
      const ignored = fromContext.filter(
        (source) => source !== '.' && isIgnored(source.replace(/^\.\//u, ''), patterns),
      );
      expect(ignored).toEqual([]);
    });

    it('copies between stages only from a stage defined before, and the service folder into the runtime', () => {
      stages.forEach((stage, index) => {
        const earlier = stages.slice(0, index).map((candidate) => candidate.name);
        for (const step of stage.steps.filter((candidate) => candidate.flags.from !== undefined))
          expect(earlier).toContain(step.flags.from);
      });
      const copied = runtime.steps.filter((step) => step.keyword === 'COPY').map((step) => step.arguments);
      expect(copied).toContainEqual([`/app/services/${service.name}`, `./services/${service.name}`]);
      expect(copied).toContainEqual(['/app/node_modules', './node_modules']);
      // Workspace packages are symlinks in node_modules to libs/<name>: their dist must come too.
      expect(copied).toContainEqual(['/app/libs', './libs']);
    });

    it('copies into the build stage what the pruned workspaces read from outside themselves', () => {
      const outside = readFromOutsideThePrunedWorkspaces(service.package);
      // Every tsconfig extends the root one, so this is never empty.
      expect(outside).toContain('tsconfig.base.json');
      const copied = stages
        .slice(0, -1)
        .flatMap((stage) =>
          stage.steps
            .filter((step) => step.keyword === 'COPY' && step.flags.from === undefined)
            .flatMap((step) => step.arguments.slice(0, -1)),
        )
        .filter((source) => source !== '.');
      const uncovered = [...outside].filter(
        (relative) => !copied.some((source) => relative === source || relative.startsWith(`${source}/`)),
      );
      expect(uncovered).toEqual([]);
    });

    it("runs the service's built dist/main.js, the file npm start runs", () => {
      const commands = runtime.steps.filter(
        (step) => step.keyword === 'CMD' || step.keyword === 'ENTRYPOINT',
      );
      expect(commands.map((step) => step.keyword)).toEqual(['CMD']);
      const command = commands[0]?.exec ?? [];
      expect(command).toEqual(['node', `services/${service.name}/dist/main.js`]);
      const workdir = runtime.steps
        .filter((step) => step.keyword === 'WORKDIR')
        .map((step) => step.arguments[0]);
      expect(workdir[workdir.length - 1]).toBe('/app');
      const workspace = path.join(REPOSITORY_ROOT, 'services', service.name);
      const manifest = JSON.parse(readFileSync(path.join(workspace, 'package.json'), 'utf8')) as {
        name: string;
        scripts: Record<string, string>;
      };
      expect(manifest.name).toBe(service.package);
      expect(manifest.scripts.start).toBe('node dist/main.js');
      // dist/main.js is what tsc makes of src/main.ts under the build tsconfig.
      const build = JSON.parse(readFileSync(path.join(workspace, 'tsconfig.build.json'), 'utf8')) as {
        compilerOptions: { rootDir: string; outDir: string };
      };
      expect(build.compilerOptions).toMatchObject({ rootDir: 'src', outDir: 'dist' });
      expect(existsSync(path.join(workspace, 'src', 'main.ts'))).toBe(true);
    });
  },
);

describe('the Dockerfiles and the build context', () => {
  it('are one shape: each is the others with its name, package and port', () => {
    const shapes = DEPLOYED_SERVICES.map((service) =>
      readFileSync(dockerfileOf(service.name), 'utf8')
        .replaceAll(service.package, '<package>')
        .replaceAll(service.name, '<service>')
        .replaceAll(String(service.port), '<port>'),
    );
    expect(shapes.length).toBe(4);
    for (const shape of shapes) expect(shape).toBe(shapes[0]);
  });

  it('leave out of the context what is installed, built or secret here', () => {
    const patterns = dockerignorePatterns();
    for (const relative of [
      '.git',
      'node_modules',
      'libs/config/node_modules',
      'services/console/dist',
      '.env',
      'infra/.run',
    ])
      expect([relative, isIgnored(relative, patterns)]).toEqual([relative, true]);
    for (const relative of [
      'package.json',
      'package-lock.json',
      'turbo.json',
      'tsconfig.base.json',
      'libs/config/src/index.ts',
      'services/console/web/index.html',
    ])
      expect([relative, isIgnored(relative, patterns)]).toEqual([relative, false]);
  });
});
