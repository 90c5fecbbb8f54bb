/**
 * Cache scenarios for the inputs of a step's cache key beyond COPY sources (builder-facts.md §8.3–8.5): RUN
 * bind mounts, build args per build, COPY --from of identical and changed output. Builder-generic: each runs
 * on every real builder the harness has; what a builder does is never stored here, only observed.
 *
 * A run: prune, build with the first build's args, build again (all hits), take a snapshot with the CLI
 * (`ctxdiff snapshot --build-arg <first build's args>`), change the context, build with the second build's
 * args, and `ctxdiff diff SNAPSHOT DIR --build-arg <second build's args> --json`.
 */
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { materialize, type FixtureSpec } from './fixture.js';
import { baseImage, build, exclusive, pruneCache, REPO_ROOT, type RealBuilderId, type StepCache } from './realbuilders.js';
import { writeScenarioContext } from './scenario-runner.js';

export interface InputScenario {
  name: string;
  /** The builder-facts.md section the scenario checks. */
  facts: string;
  files: FixtureSpec;
  /** `@BASE@` stands for the builder's local base image. */
  dockerfile: string;
  ignore?: string;
  /** Build args of the first and of the second build. */
  args?: [Record<string, string>, Record<string, string>];
  target?: string;
  /** The change between the builds (none: only the args differ). */
  mutate?: (dir: string) => void | Promise<void>;
  /** Uses `RUN --mount`. */
  mounts?: boolean;
  /** Named build contexts (`--build-context NAME=DIR`), each written to a directory beside the context. */
  contexts?: Record<string, FixtureSpec>;
  /** Lines where ctxdiff's honest verdict is `unknown` (the builder decides by the bytes it gets). */
  unknown?: number[];
}

const LATER = new Date('2031-02-03T04:05:06Z');
const at = (d: string, p: string) => path.join(d, p);
const BASE_FILES: FixtureSpec = {
  'package.json': { content: '{"name":"x"}\n' },
  'src/a.txt': { content: 'alpha\n' },
  'src/sub/b.txt': { content: 'beta\n' },
  'other.txt': { content: 'outside\n' },
  'debug.log': { content: 'log\n' },
};
const IGNORE = '*.log\n';
/** A named context with its own ignore file. */
const LIB: FixtureSpec = { 'x.txt': { content: 'x\n' }, 'y.txt': { content: 'y\n' }, 'debug.log': { content: 'log\n' }, '.dockerignore': { content: '*.log\n' } };
const MOUNT_FILE = 'FROM @BASE@\nRUN --mount=type=bind,source=package.json,target=/p cat /p > /out\nCOPY other.txt /o\n';
const MOUNT_DIR = 'FROM @BASE@\nRUN --mount=type=bind,source=src,target=/s ls -R /s > /out\nCOPY other.txt /o\n';
const MOUNT_ROOT = 'FROM @BASE@\nRUN --mount=type=bind,target=/c ls /c > /out\nCOPY other.txt /o\n';

/** A bind-mount scenario on the shared files and ignore file. */
const mount = (name: string, dockerfile: string, mutate: InputScenario['mutate']): InputScenario => ({
  name, facts: '§8.3', files: BASE_FILES, ignore: IGNORE, dockerfile, mounts: true, mutate,
});

export const inputScenarios: InputScenario[] = [
  // §8.3 bind mounts
  mount('mount-file-content', MOUNT_FILE, (d) => writeFile(at(d, 'package.json'), '{"name":"y"}\n')),
  mount('mount-file-touch', MOUNT_FILE, (d) => utimes(at(d, 'package.json'), LATER, LATER)),
  mount('mount-file-unrelated', MOUNT_FILE, (d) => writeFile(at(d, 'src/a.txt'), 'ALPHA\n')),
  mount('mount-dir-content', MOUNT_DIR, (d) => writeFile(at(d, 'src/sub/b.txt'), 'BETA!\n')),
  mount('mount-dir-touch', MOUNT_DIR, (d) => utimes(at(d, 'src/sub/b.txt'), LATER, LATER)),
  mount('mount-root-change', MOUNT_ROOT, (d) => writeFile(at(d, 'src/a.txt'), 'ALPHA\n')),
  mount('mount-root-ignored-change', MOUNT_ROOT, (d) => writeFile(at(d, 'debug.log'), 'more log\n')),
  // §8.4 build args
  ...argScenarios(),
  // §8.5 COPY --from
  { name: 'copy-from-identical', facts: '§8.5', files: BASE_FILES,
    dockerfile: 'FROM @BASE@ AS build\nCOPY src /ctx\nFROM @BASE@\nCOPY --from=build /ctx/a.txt /a\nRUN cat /a > /b\n',
    mutate: (d) => writeFile(at(d, 'src/sub/b.txt'), 'BETA!\n') },
  { name: 'copy-from-changed', facts: '§8.5', files: BASE_FILES,
    dockerfile: 'FROM @BASE@ AS build\nCOPY src /ctx\nFROM @BASE@\nCOPY --from=build /ctx/a.txt /a\nRUN cat /a > /b\n',
    mutate: (d) => writeFile(at(d, 'src/a.txt'), 'ALPHA\n') },
  // The RUN is rebuilt but writes the same bytes: the builders keep the COPY --from cached; ctxdiff cannot know.
  { name: 'copy-from-after-run', facts: '§8.5', files: BASE_FILES, unknown: [5, 6],
    dockerfile: 'FROM @BASE@ AS build\nCOPY src /ctx\nRUN cat /ctx/a.txt > /dev/null && echo same > /out\nFROM @BASE@\nCOPY --from=build /out /out\nRUN cat /out > /b\n',
    mutate: (d) => writeFile(at(d, 'src/a.txt'), 'ALPHX\n') },
  // Named build contexts (a directory beside the context; `mutate` gets the context, so ../NAME is it)
  { name: 'named-context-copied-change', facts: '--build-context', files: BASE_FILES, contexts: { lib: LIB },
    dockerfile: 'FROM @BASE@\nCOPY --from=lib x.txt /x\nRUN cat /x > /y\n',
    mutate: (d) => writeFile(at(d, '../lib/x.txt'), 'X!\n') },
  { name: 'named-context-other-change', facts: '--build-context', files: BASE_FILES, contexts: { lib: LIB },
    dockerfile: 'FROM @BASE@\nCOPY --from=lib x.txt /x\nRUN cat /x > /y\n',
    mutate: (d) => writeFile(at(d, '../lib/y.txt'), 'Y!\n') },
  { name: 'named-context-ignored-change', facts: '--build-context', files: BASE_FILES, contexts: { lib: LIB },
    dockerfile: 'FROM @BASE@\nCOPY --from=lib . /lib\nRUN ls /lib > /y\n',
    mutate: (d) => writeFile(at(d, '../lib/debug.log'), 'more\n') },
  // --target
  { name: 'target-skips-stage', facts: '--target', files: BASE_FILES, target: 'app',
    dockerfile: 'FROM @BASE@ AS deps\nCOPY src /src\nFROM @BASE@ AS test\nCOPY other.txt /o\nFROM @BASE@ AS app\nCOPY --from=deps /src /app/src\nRUN ls /app/src > /l\n',
    mutate: (d) => writeFile(at(d, 'other.txt'), 'changed\n') },
];

function argScenarios(): InputScenario[] {
  // ARG, a COPY between it and the first RUN, a RUN that does not use it, one that does.
  const df = 'FROM @BASE@\nARG V=1\nCOPY src /src\nRUN ls /src > /l\nRUN echo "$V" > /v\n';
  const s = (name: string, args: [Record<string, string>, Record<string, string>], dockerfile = df): InputScenario => ({
    name, facts: '§8.4', files: BASE_FILES, dockerfile, args,
  });
  return [
    s('arg-changed', [{ V: '1' }, { V: '2' }]),
    s('arg-unchanged', [{ V: '2' }, { V: '2' }]),
    s('arg-equal-to-default', [{}, { V: '1' }]),
    s('arg-undeclared', [{}, { OTHER: 'x' }]),
    s('arg-secret-changed', [{ API_TOKEN: 'a' }, { API_TOKEN: 'b' }], 'FROM @BASE@\nARG API_TOKEN\nCOPY src /src\nRUN true\n'),
    s('arg-in-copy-path', [{ D: 'src' }, { D: 'src/sub' }], 'FROM @BASE@\nARG D=src\nCOPY $D /d\nRUN true\n'),
  ];
}

export interface InputRun {
  first: StepCache[];
  unchanged: StepCache[];
  changed: StepCache[];
  /** `ctxdiff diff --json` of the snapshot (first build) against the directory (second build). */
  diff: { steps: { line: number; verdict: string; cause: string }[]; warnings: string[] };
  /** The first build's error, when the builder rejected the Dockerfile. */
  rejected?: string;
}

const BIN = path.join(REPO_ROOT, 'bin/ctxdiff.js');

function ctxdiff(args: string[]): string {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ctxdiff ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

const argFlags = (args: Record<string, string> = {}) => Object.entries(args).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]);

/** Run one scenario on one builder, judged with ctxdiff profile `profile`. */
export async function runInputScenario(sc: InputScenario, builder: RealBuilderId, profile: string, workRoot: string): Promise<InputRun> {
  const dir = await mkdtemp(path.join(workRoot, `${sc.name}-${builder}-`));
  const ctx = path.join(dir, 'ctx');
  const snap = path.join(dir, 'before.ctxsnap');
  try {
    const dockerfile = await writeScenarioContext({ ...sc, mutate: () => {}, step: 0, expected: {} }, ctx);
    await writeFile(dockerfile, (await readFile(dockerfile, 'utf8')).replaceAll('@BASE@', await baseImage(builder)));
    const contextFlags: string[] = [];
    for (const [name, spec] of Object.entries(sc.contexts ?? {})) {
      const d = path.join(dir, name);
      await mkdir(d, { recursive: true });
      await materialize(spec, d);
      contextFlags.push('--build-context', `${name}=${d}`);
    }
    const [a1, a2] = sc.args ?? [{}, {}];
    const target = [...(sc.target !== undefined ? ['--target', sc.target] : []), ...contextFlags];
    const opts = (buildArgs: Record<string, string>) => ({
      buildArgs, ...(sc.target !== undefined ? { target: sc.target } : {}), ...(contextFlags.length ? { extraArgs: contextFlags } : {}),
    });
    return await exclusive(builder, async () => {
      await pruneCache(builder);
      let first: StepCache[];
      try {
        first = await build(builder, ctx, opts(a1));
      } catch (e) {
        return { first: [], unchanged: [], changed: [], diff: { steps: [], warnings: [] }, rejected: (e as Error).message };
      }
      const unchanged = await build(builder, ctx, opts(a1));
      ctxdiff(['snapshot', ctx, '-o', snap, '-b', profile, '--no-progress', ...argFlags(a1), ...target]);
      await sc.mutate?.(ctx);
      const changed = await build(builder, ctx, opts(a2));
      const diff = JSON.parse(ctxdiff(['diff', snap, ctx, '-b', profile, '--json', '--no-progress', ...argFlags(a2), ...target]));
      return { first, unchanged, changed, diff };
    });
  } finally {
    await chmod(ctx, 0o755).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}
