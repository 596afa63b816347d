/**
 * A Dockerfile as stages of instructions (dockerfile-ast parses it: continuations, JSON forms,
 * flags, ARG defaults), and the .dockerignore rules that decide what a COPY from the context sees.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DockerfileParser } from 'dockerfile-ast';
import type { Instruction } from 'dockerfile-ast';
import { REPOSITORY_ROOT } from './repository';

export interface Step {
  readonly keyword: string;
  readonly arguments: readonly string[];
  /** `--from=build` → { from: 'build' }. */
  readonly flags: Readonly<Record<string, string | null>>;
  /** The arguments as written, continuations joined (a RUN's shell command). */
  readonly text: string;
  /** CMD / ENTRYPOINT in exec form: the JSON array; otherwise undefined. */
  readonly exec?: readonly string[];
}

export interface Stage {
  readonly name: string | undefined;
  /** The base image with ARG defaults substituted, e.g. node:20-bookworm-slim. */
  readonly image: string;
  readonly steps: readonly Step[];
}

function stepOf(instruction: Instruction): Step {
  const withFlags = instruction as Instruction & {
    getFlags?: () => { getName(): string; getValue(): string | null }[];
  };
  const withJson = instruction as Instruction & { getJSONStrings?: () => { getJSONValue(): string }[] };
  const flags = Object.fromEntries(
    (withFlags.getFlags?.() ?? []).map((flag) => [flag.getName(), flag.getValue()]),
  );
  const json = withJson.getJSONStrings?.().map((value) => value.getJSONValue());
  return {
    keyword: instruction.getKeyword(),
    arguments: instruction.getArguments().map((argument) => argument.getValue()),
    flags,
    text: instruction.getArgumentsContent() ?? '',
    ...(json !== undefined && json.length > 0 ? { exec: json } : {}),
  };
}

export function readDockerfile(file: string): Stage[] {
  const dockerfile = DockerfileParser.parse(readFileSync(file, 'utf8'));
  const defaults = new Map(
    dockerfile.getInitialARGs().flatMap((arg) => {
      const property = arg.getProperty();
      return property === null ? [] : [[property.getName(), property.getValue() ?? ''] as const];
    }),
  );
  const substitute = (text: string): string =>
    text.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/gu, (whole, name: string) => defaults.get(name) ?? whole);
  const stages: { name: string | undefined; image: string; steps: Step[] }[] = [];
  for (const instruction of dockerfile.getInstructions()) {
    if (instruction.getKeyword() === 'FROM') {
      const from = instruction as Instruction & { getImage(): string | null; getBuildStage(): string | null };
      stages.push({
        name: from.getBuildStage() ?? undefined,
        image: substitute(from.getImage() ?? ''),
        steps: [],
      });
    } else if (stages.length > 0) {
      stages[stages.length - 1]?.steps.push(stepOf(instruction));
    }
  }
  return stages;
}

/** The patterns of the root .dockerignore (negations and comments left out). */
export function dockerignorePatterns(): string[] {
  const file = path.join(REPOSITORY_ROOT, '.dockerignore');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#') && !line.startsWith('!'));
}

/** Whether a context path (relative, no leading ./) is left out of the build context. */
export function isIgnored(relative: string, patterns: readonly string[]): boolean {
  return patterns.some((pattern) => {
    // Docker's rules (Go's filepath.Match plus **): ** any number of folders, * within one.
    const expression = pattern
      .split('**/')
      .map((part) =>
        part
          .replace(/[.+^$()|[\]\\]/gu, '\\$&')
          .replace(/\*/gu, '[^/]*')
          .replace(/\?/gu, '[^/]'),
      )
      .join('(?:.*/)?');
    return new RegExp(`^${expression}(?:/.*)?$`, 'u').test(relative);
  });
}
