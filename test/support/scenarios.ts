/**
 * Cache scenarios: a context, a Dockerfile and one change, covering builder-facts.md §1–4. Each is run for
 * real (prune, build, change, build again) by the observation script and by tests that compare ctxdiff's
 * verdicts with live builds; outcomes are never stored here. `expected` records what builder-facts.md
 * claims, so observations that contradict it can be reported.
 */
import { execFile } from 'node:child_process';
import { appendFile, chmod, chown, link, lutimes, mkdir, rename, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { mkfifo, type FixtureSpec } from './fixture.js';
import { ALL_REAL_BUILDERS, FAMILY_OF, type RealBuilderId } from './realbuilders.js';

type Family = (typeof FAMILY_OF)[RealBuilderId];

export { materialize, type FixtureNode, type FixtureSpec } from './fixture.js';

export type Effect = 'busts' | 'ignored';

export interface Scenario {
  /** Unique, kebab-case. */
  name: string;
  /** The builder-facts.md section and row the scenario checks. */
  facts: string;
  files: FixtureSpec;
  /** Dockerfile text; `@BASE@` stands for the builder's local base image (see `baseImage`). */
  dockerfile: string;
  /** Where the Dockerfile is written, relative to the context (may lead outside it); default `Dockerfile`. */
  dockerfilePath?: string;
  /** Build without `-f` (the Dockerfile at its default path `Dockerfile`, found by the builder). */
  noDashF?: boolean;
  /** Content of `.dockerignore`, if any. */
  ignore?: string;
  /** The change, applied to the context directory between the two builds. */
  mutate: (dir: string) => void | Promise<void>;
  /**
   * Builders the scenario applies to; default the six of ALL_REAL_BUILDERS (the containerd-store daemon of
   * STORE_BUILDERS only when listed here).
   */
  builders?: RealBuilderId[];
  /** Dockerfile line of the step the scenario is about. */
  step: number;
  /**
   * What builder-facts.md says happens to that step, per builder or per family (`buildkit`, `classic`,
   * `buildah`: every generation, unless a builder id says otherwise); builders it is silent about are left out.
   * `rejected`: the builder refuses the Dockerfile (a flag it does not know).
   */
  expected: Partial<Record<RealBuilderId | Family, Effect | 'rejected'>>;
}

const execFileAsync = promisify(execFile);
const LATER = new Date('2021-06-07T08:09:10Z');

const all = (effect: Effect): Scenario['expected'] => ({ buildkit: effect, classic: effect, buildah: effect });

/** What builder-facts.md expects of `builder` in `scenario` (its own entry, else its family's). */
export function expectedEffect(scenario: Scenario, builder: RealBuilderId): Effect | 'rejected' | undefined {
  return scenario.expected[builder] ?? scenario.expected[FAMILY_OF[builder]];
}
const at = (dir: string, rel: string) => path.join(dir, rel);

/** A source directory with a file, a subdirectory and a nested file. */
const SRC: FixtureSpec = {
  'src/a.txt': { content: 'alpha\n' },
  'src/sub/b.txt': { content: 'beta\n' },
  'other.txt': { content: 'outside\n' },
};
const COPY_SRC = 'FROM scratch\nCOPY src /src\n';
const COPY_ALL = 'FROM scratch\nCOPY . /app\n';

/**
 * The default Dockerfile, built without -f, beside its own ignore file (which excludes secret.txt) and a
 * .dockerignore (which excludes a.txt).
 */
const DEFAULT_DOCKERFILE_IGNORE = {
  files: {
    'a.txt': { content: 'a\n' },
    'secret.txt': { content: 'secret\n' },
    'Dockerfile.dockerignore': { content: 'secret.txt\n' },
  },
  dockerfile: COPY_ALL,
  noDashF: true,
  ignore: 'a.txt\n',
} satisfies Partial<Scenario>;

/** Docker 20.10 (both builders) and Buildah 1.28 know none of the COPY flags of §8.6-8.8. */
const OLD_GENERATION_REJECTS = { 'buildkit-0.8': 'rejected', 'classic-20.10': 'rejected', 'buildah-1.28': 'rejected' } as const;

/** `COPY --exclude=PATTERN src /src` over SRC and src/x.log; the change rewrites `changed`. */
function excludeScenario(name: string, facts: string, pattern: string, changed: string, expected: Scenario['expected']): Scenario {
  return {
    name,
    facts,
    files: { ...SRC, 'src/x.log': { content: 'log\n' } },
    dockerfile: `FROM scratch\nCOPY --exclude=${pattern} src /src\n`,
    mutate: (d) => writeFile(at(d, changed), 'changed\n'),
    step: 2,
    expected: { ...OLD_GENERATION_REJECTS, ...expected },
  };
}

export const scenarios: Scenario[] = [
  // §1 Attributes of a file under a COPY/ADD source
  {
    name: 'content-change',
    facts: '§1 content',
    files: SRC,
    dockerfile: COPY_SRC,
    mutate: (d) => writeFile(at(d, 'src/a.txt'), 'ALPHA!\n'),
    step: 2,
    expected: all('busts'),
  },
  {
    name: 'mtime-only-file',
    facts: '§1 mtime only (file)',
    files: SRC,
    dockerfile: COPY_SRC,
    mutate: (d) => utimes(at(d, 'src/a.txt'), LATER, LATER),
    step: 2,
    expected: all('ignored'),
  },
  {
    name: 'mtime-only-dirs',
    facts: '§1 mtime only (dir)',
    files: SRC,
    dockerfile: COPY_SRC,
    mutate: async (d) => {
      await utimes(at(d, 'src/sub'), LATER, LATER);
      await utimes(at(d, 'src'), LATER, LATER);
    },
    step: 2,
    expected: all('ignored'),
  },
  {
    name: 'same-content-rewritten',
    facts: '§1 same content rewritten',
    files: SRC,
    dockerfile: COPY_SRC,
    mutate: (d) => writeFile(at(d, 'src/a.txt'), 'alpha\n'),
    step: 2,
    expected: all('ignored'),
  },
  {
    name: 'chmod-file-exec',
    facts: '§1 file permission bits',
    files: SRC,
    dockerfile: COPY_SRC,
    mutate: (d) => chmod(at(d, 'src/a.txt'), 0o755),
    step: 2,
    expected: all('busts'),
  },
  {
    name: 'chmod-file-setuid',
    facts: '§1 file permission bits (setuid)',
    files: { ...SRC, 'src/a.txt': { content: 'alpha\n', mode: 0o755 } },
    dockerfile: COPY_SRC,
    mutate: (d) => chmod(at(d, 'src/a.txt'), 0o4755),
    step: 2,
    expected: all('busts'),
  },
  {
    name: 'chmod-file-setgid',
    facts: '§1 file permission bits (setgid)',
    files: { ...SRC, 'src/a.txt': { content: 'alpha\n', mode: 0o755 } },
    dockerfile: COPY_SRC,
    mutate: (d) => chmod(at(d, 'src/a.txt'), 0o2755),
    step: 2,
    expected: all('busts'),
  },
  {
    name: 'chmod-file-sticky',
    facts: '§1 file permission bits (sticky)',
    files: { ...SRC, 'src/a.txt': { content: 'alpha\n', mode: 0o755 } },
    dockerfile: COPY_SRC,
    mutate: (d) => chmod(at(d, 'src/a.txt'), 0o1755),
    step: 2,
    expected: all('busts'),
  },
  {
    name: 'chown-file',
    facts: '§1 uid/gid',
    files: SRC,
    dockerfile: COPY_SRC,
    mutate: (d) => chown(at(d, 'src/a.txt'), 1000, 1000),
    step: 2,
    expected: { buildkit: 'ignored', classic: 'ignored', 'buildah-1.28': 'busts', 'buildah-1.43': 'ignored' },
  },
  {
    name: 'xattr-added',
    facts: '§1 user.* xattr',
    files: SRC,
    dockerfile: COPY_SRC,
    mutate: async (d) => {
      await execFileAsync('setfattr', ['-n', 'user.ctxdiff', '-v', 'x', at(d, 'src/a.txt')]);
    },
    step: 2,
    expected: { buildkit: 'ignored', classic: 'ignored', buildah: 'busts' },
  },
  {
    name: 'chmod-subdir',
    facts: '§1 mode of a subdirectory',
    files: SRC,
    dockerfile: COPY_SRC,
    mutate: (d) => chmod(at(d, 'src/sub'), 0o700),
    step: 2,
    expected: { buildkit: 'ignored', classic: 'busts', buildah: 'busts' },
  },
  {
    name: 'chmod-source-dir',
    facts: '§1 mode of the source dir itself',
    files: SRC,
    dockerfile: COPY_SRC,
    mutate: (d) => chmod(at(d, 'src'), 0o700),
    step: 2,
    expected: { buildkit: 'ignored', classic: 'busts', buildah: 'ignored' },
  },
  {
    name: 'chmod-context-root',
    facts: '§1 mode of the context root',
    files: SRC,
    dockerfile: COPY_ALL,
    mutate: (d) => chmod(d, 0o700),
    step: 2,
    expected: all('ignored'),
  },
  {
    name: 'file-added',
    facts: '§1 file added',
    files: SRC,
    dockerfile: COPY_SRC,
    mutate: (d) => writeFile(at(d, 'src/new.txt'), 'new\n'),
    step: 2,
    expected: all('busts'),
  },
  {
    name: 'file-removed',
    facts: '§1 file removed',
    files: SRC,
    dockerfile: COPY_SRC,
    mutate: (d) => rm(at(d, 'src/sub/b.txt')),
    step: 2,
    expected: all('busts'),
  },
  {
    name: 'file-renamed',
    facts: '§1 file renamed',
    files: SRC,
    dockerfile: COPY_SRC,
    mutate: (d) => rename(at(d, 'src/a.txt'), at(d, 'src/z.txt')),
    step: 2,
    expected: all('busts'),
  },
  {
    name: 'empty-dir-added',
    facts: '§1 empty directory added',
    files: SRC,
    dockerfile: COPY_SRC,
    mutate: (d) => mkdir(at(d, 'src/empty')),
    step: 2,
    expected: all('busts'),
  },
  {
    name: 'empty-dir-removed',
    facts: '§1 empty directory removed',
    files: { ...SRC, 'src/empty': { dir: true } },
    dockerfile: COPY_SRC,
    mutate: (d) => rm(at(d, 'src/empty'), { recursive: true }),
    step: 2,
    expected: all('busts'),
  },
  {
    name: 'symlink-target-changed',
    facts: '§1 symlink target changed',
    files: { ...SRC, 'src/link': { symlink: 'a.txt' } },
    dockerfile: COPY_SRC,
    mutate: async (d) => {
      await rm(at(d, 'src/link'));
      await symlink('sub/b.txt', at(d, 'src/link'));
    },
    step: 2,
    expected: all('busts'),
  },
  {
    name: 'symlink-mtime-only',
    facts: '§1 symlink mtime only',
    files: { ...SRC, 'src/link': { symlink: 'a.txt' } },
    dockerfile: COPY_SRC,
    mutate: (d) => lutimes(at(d, 'src/link'), LATER, LATER),
    step: 2,
    expected: all('ignored'),
  },
  {
    name: 'file-replaced-by-symlink',
    facts: '§1 file replaced by symlink',
    files: SRC,
    dockerfile: COPY_SRC,
    mutate: async (d) => {
      await rm(at(d, 'src/a.txt'));
      await symlink('sub/b.txt', at(d, 'src/a.txt'));
    },
    step: 2,
    expected: all('busts'),
  },
  {
    name: 'fifo-added',
    facts: '§1 fifo added',
    files: SRC,
    dockerfile: COPY_SRC,
    mutate: (d) => mkfifo(at(d, 'src/pipe')),
    step: 2,
    expected: all('busts'),
  },
  {
    name: 'hardlink-added',
    facts: '§1 hardlink added (new path)',
    files: SRC,
    dockerfile: COPY_SRC,
    mutate: (d) => link(at(d, 'src/a.txt'), at(d, 'src/a-link.txt')),
    step: 2,
    expected: all('busts'),
  },
  {
    name: 'file-outside-sources',
    facts: '§1 file outside every COPY source',
    files: SRC,
    dockerfile: COPY_SRC,
    mutate: (d) => writeFile(at(d, 'other.txt'), 'changed outside\n'),
    step: 2,
    expected: all('ignored'),
  },
  // §2 Hazards
  {
    name: 'content-change-same-size-and-mtime',
    facts: '§2 content change keeping size and mtime',
    files: SRC,
    dockerfile: COPY_SRC,
    mutate: async (d) => {
      await writeFile(at(d, 'src/a.txt'), 'ALPHA\n');
      await utimes(at(d, 'src/a.txt'), new Date('2020-01-02T03:04:05Z'), new Date('2020-01-02T03:04:05Z'));
    },
    step: 2,
    expected: { buildkit: 'ignored', classic: 'busts', buildah: 'busts' },
  },
  // §3 The chain, wildcards, several sources
  {
    name: 'wildcard-matching-file-added',
    facts: '§3 wildcard: matching file added',
    files: SRC,
    dockerfile: 'FROM scratch\nCOPY src/*.txt /d/\n',
    mutate: (d) => writeFile(at(d, 'src/c.txt'), 'gamma\n'),
    step: 2,
    expected: all('busts'),
  },
  {
    name: 'wildcard-non-matching-file-added',
    facts: '§3 wildcard: non-matching file added',
    files: SRC,
    dockerfile: 'FROM scratch\nCOPY src/*.txt /d/\n',
    mutate: (d) => writeFile(at(d, 'src/c.md'), 'gamma\n'),
    step: 2,
    expected: all('ignored'),
  },
  {
    name: 'wildcard-subdir-file-added',
    facts: '§3 wildcard: file added in a subdirectory `*` does not reach',
    files: SRC,
    dockerfile: 'FROM scratch\nCOPY src/*.txt /d/\n',
    mutate: (d) => writeFile(at(d, 'src/sub/c.txt'), 'gamma\n'),
    step: 2,
    expected: all('ignored'),
  },
  {
    name: 'several-sources-second-changed',
    facts: '§3 several sources in one COPY',
    files: { 'a.txt': { content: 'a\n' }, 'b.txt': { content: 'b\n' } },
    dockerfile: 'FROM scratch\nCOPY a.txt b.txt /d/\n',
    mutate: (d) => writeFile(at(d, 'b.txt'), 'b changed\n'),
    step: 2,
    expected: all('busts'),
  },
  {
    name: 'label-above-copy-changed',
    facts: '§3 chain: LABEL above a COPY',
    files: { 'a.txt': { content: 'a\n' } },
    dockerfile: 'FROM scratch\nLABEL v=1\nCOPY a.txt /a\n',
    mutate: (d) => writeFile(at(d, 'Dockerfile'), 'FROM scratch\nLABEL v=2\nCOPY a.txt /a\n'),
    step: 3,
    expected: { buildkit: 'ignored', classic: 'busts', buildah: 'busts' },
  },
  {
    name: 'env-above-copy-changed',
    facts: '§3 chain: ENV above a COPY',
    files: { 'a.txt': { content: 'a\n' } },
    dockerfile: 'FROM scratch\nENV V=1\nCOPY a.txt /a\n',
    mutate: (d) => writeFile(at(d, 'Dockerfile'), 'FROM scratch\nENV V=2\nCOPY a.txt /a\n'),
    step: 3,
    expected: { buildkit: 'ignored', classic: 'busts', buildah: 'busts' },
  },
  {
    name: 'earlier-copy-rebuilt',
    facts: '§3 chain: an earlier COPY rebuilds',
    files: { 'a.txt': { content: 'a\n' }, 'b.txt': { content: 'b\n' } },
    dockerfile: 'FROM scratch\nCOPY a.txt /a\nCOPY b.txt /b\n',
    mutate: (d) => writeFile(at(d, 'a.txt'), 'a changed\n'),
    step: 3,
    expected: all('busts'),
  },
  {
    name: 'earlier-run-changed',
    facts: '§3 chain: an earlier RUN rebuilds',
    files: { 'a.txt': { content: 'a\n' } },
    dockerfile: 'FROM @BASE@\nRUN echo 1 > /r\nCOPY a.txt /a\n',
    mutate: async (d) => {
      await writeFile(at(d, 'Dockerfile'), 'FROM @BASE@\nRUN echo 2 > /r\nCOPY a.txt /a\n');
    },
    step: 3,
    expected: all('busts'),
  },
  {
    name: 'multi-stage-copied-file-changed',
    facts: '§3 multi-stage: COPY --from of a changed file',
    files: { 'a.txt': { content: 'a\n' }, 'c.txt': { content: 'c\n' } },
    // A different destination than in the build stage: Buildah would otherwise reuse that stage's
    // identical `COPY … /a` layer (same parent, same content), which is a hit unrelated to the chain.
    dockerfile: 'FROM scratch AS build\nCOPY a.txt /a\nCOPY c.txt /c\n\nFROM scratch\nCOPY --from=build /a /from-build/a\n',
    mutate: (d) => writeFile(at(d, 'a.txt'), 'a changed\n'),
    step: 6,
    expected: all('busts'),
  },
  {
    name: 'multi-stage-uncopied-file-changed',
    facts: '§3 multi-stage: a stage is affected only through what it uses',
    files: { 'a.txt': { content: 'a\n' }, 'c.txt': { content: 'c\n' } },
    // A different destination than in the build stage: Buildah would otherwise reuse that stage's
    // identical `COPY … /a` layer (same parent, same content), which is a hit unrelated to the chain.
    dockerfile: 'FROM scratch AS build\nCOPY a.txt /a\nCOPY c.txt /c\n\nFROM scratch\nCOPY --from=build /a /from-build/a\n',
    mutate: (d) => writeFile(at(d, 'c.txt'), 'c changed\n'),
    step: 6,
    expected: { buildkit: 'ignored' },
  },
  // §4 The Dockerfile and .dockerignore themselves
  {
    name: 'dockerfile-edited-under-copy-all',
    facts: '§4 Dockerfile edited under COPY . …',
    files: { 'a.txt': { content: 'a\n' } },
    dockerfile: COPY_ALL,
    mutate: (d) => appendFile(at(d, 'Dockerfile'), '# edited\n'),
    step: 2,
    expected: all('busts'),
  },
  {
    name: 'dockerfile-edited-when-excluded',
    facts: '§4 Dockerfile edited, excluded by .dockerignore',
    files: { 'a.txt': { content: 'a\n' } },
    dockerfile: COPY_ALL,
    ignore: 'Dockerfile\n',
    mutate: (d) => appendFile(at(d, 'Dockerfile'), '# edited\n'),
    step: 2,
    expected: all('ignored'),
  },
  {
    name: 'dockerignore-edited-under-copy-all',
    facts: '§4 .dockerignore edited under COPY . …',
    files: { 'a.txt': { content: 'a\n' }, 'x.log': { content: 'x\n' } },
    dockerfile: COPY_ALL,
    ignore: '*.log\n',
    mutate: (d) => appendFile(at(d, '.dockerignore'), '# edited\n'),
    step: 2,
    expected: all('busts'),
  },
  {
    name: 'dockerignore-edited-when-excluded',
    facts: '§4 .dockerignore edited, excluded by itself',
    files: { 'a.txt': { content: 'a\n' }, 'x.log': { content: 'x\n' } },
    dockerfile: COPY_ALL,
    ignore: '*.log\n.dockerignore\n',
    mutate: (d) => appendFile(at(d, '.dockerignore'), '# edited\n'),
    step: 2,
    expected: all('ignored'),
  },
  {
    name: 'dockerfile-specific-ignore-file',
    facts: '§4 <Dockerfile>.dockerignore replaces .dockerignore',
    files: {
      'a.txt': { content: 'a\n' },
      'secret.txt': { content: 'secret\n' },
      'build.Dockerfile.dockerignore': { content: 'secret.txt\n' },
    },
    dockerfile: COPY_ALL,
    dockerfilePath: 'build.Dockerfile',
    ignore: 'a.txt\n',
    mutate: (d) => writeFile(at(d, 'secret.txt'), 'secret changed\n'),
    step: 2,
    expected: { buildkit: 'ignored', classic: 'busts', buildah: 'ignored' },
  },
  {
    name: 'dockerfile-outside-context-nothing-changed',
    facts: '§4 (not stated) Dockerfile outside the context, .dockerignore present, no change',
    files: { 'a.txt': { content: 'a\n' }, 'x.log': { content: 'x\n' } },
    dockerfile: COPY_ALL,
    dockerfilePath: '../outside.Dockerfile',
    ignore: '*.log\n',
    mutate: () => undefined,
    step: 2,
    expected: {},
  },
  {
    name: 'containerignore-preferred',
    facts: '§4 Buildah prefers .containerignore',
    files: { 'a.txt': { content: 'a\n' }, 'b.txt': { content: 'b\n' }, '.containerignore': { content: 'a.txt\n' } },
    dockerfile: COPY_ALL,
    ignore: 'b.txt\n',
    mutate: (d) => writeFile(at(d, 'a.txt'), 'a changed\n'),
    step: 2,
    expected: { buildkit: 'busts', classic: 'busts', buildah: 'ignored' },
  },
  {
    name: 'excluded-file-changed',
    facts: '§4/§6 a file excluded by .dockerignore',
    files: { 'a.txt': { content: 'a\n' }, 'logs/x.log': { content: 'x\n' } },
    dockerfile: COPY_ALL,
    ignore: 'logs\n',
    mutate: (d) => writeFile(at(d, 'logs/x.log'), 'x changed\n'),
    step: 2,
    expected: all('ignored'),
  },
  {
    name: 'exception-reincluded-file-changed',
    facts: '§6 an exception re-includes a file',
    files: { 'a.txt': { content: 'a\n' }, 'logs/keep.txt': { content: 'k\n' }, 'logs/x.log': { content: 'x\n' } },
    dockerfile: COPY_ALL,
    ignore: 'logs\n!logs/keep.txt\n',
    mutate: (d) => writeFile(at(d, 'logs/keep.txt'), 'k changed\n'),
    step: 2,
    expected: all('busts'),
  },
  {
    name: 'exception-sibling-changed',
    facts: '§6 a sibling of a re-included file stays excluded',
    files: { 'a.txt': { content: 'a\n' }, 'logs/keep.txt': { content: 'k\n' }, 'logs/x.log': { content: 'x\n' } },
    dockerfile: COPY_ALL,
    ignore: 'logs\n!logs/keep.txt\n',
    mutate: (d) => writeFile(at(d, 'logs/x.log'), 'x changed\n'),
    step: 2,
    expected: all('ignored'),
  },
  // §8 Current builders: where they differ from the 2020 ones
  {
    name: 'dockerfile-specific-ignore-default-dockerfile',
    facts: '§8.2 Dockerfile.dockerignore applies to the default Dockerfile without -f',
    ...DEFAULT_DOCKERFILE_IGNORE,
    mutate: (d) => writeFile(at(d, 'secret.txt'), 'secret changed\n'),
    step: 2,
    expected: { buildkit: 'ignored', classic: 'busts', buildah: 'ignored' },
  },
  {
    name: 'dockerfile-specific-ignore-default-dockerfile-replaced',
    facts: '§8.2 without -f, Dockerfile.dockerignore replaces .dockerignore',
    ...DEFAULT_DOCKERFILE_IGNORE,
    mutate: (d) => writeFile(at(d, 'a.txt'), 'a changed\n'),
    step: 2,
    expected: { buildkit: 'busts', classic: 'ignored', buildah: 'busts' },
  },
  {
    name: 'chown-dir',
    facts: '§8.1 owner of a directory (Buildah 1.43: ignored)',
    files: SRC,
    dockerfile: COPY_SRC,
    mutate: (d) => chown(at(d, 'src/sub'), 1000, 1000),
    step: 2,
    expected: { buildkit: 'ignored', classic: 'ignored', 'buildah-1.28': 'busts', 'buildah-1.43': 'ignored' },
  },
  {
    name: 'chown-under-copy-chown',
    facts: '§8.1 owner change under COPY --chown, and the step after it (Buildah 1.43: ignored)',
    files: SRC,
    dockerfile: 'FROM scratch\nCOPY --chown=1:1 src /src\nCOPY other.txt /o\n',
    mutate: (d) => chown(at(d, 'src/a.txt'), 1000, 1000),
    step: 2,
    expected: { buildkit: 'ignored', classic: 'ignored', 'buildah-1.28': 'busts', 'buildah-1.43': 'ignored' },
  },
  {
    name: 'link-after-rebuilt-run',
    facts: '§8.6 COPY --link after a rebuilt RUN: independent only with the containerd image store',
    files: { 'a.txt': { content: 'a\n' } },
    dockerfile: 'FROM @BASE@\nRUN echo 1 > /r\nCOPY --link a.txt /a\n',
    mutate: (d) => writeFile(at(d, 'Dockerfile'), 'FROM @BASE@\nRUN echo 2 > /r\nCOPY --link a.txt /a\n'),
    builders: [...ALL_REAL_BUILDERS, 'buildkit-28-c8d'],
    step: 3,
    expected: {
      ...OLD_GENERATION_REJECTS,
      'buildkit-28': 'busts', 'buildkit-28-c8d': 'ignored', 'classic-28': 'busts', 'buildah-1.43': 'busts',
    },
  },
  {
    name: 'link-after-rebuilt-copy',
    facts: '§8.6 COPY --link after a rebuilt COPY',
    files: { 'a.txt': { content: 'a\n' }, 'b.txt': { content: 'b\n' } },
    dockerfile: 'FROM scratch\nCOPY a.txt /a\nCOPY --link b.txt /b\n',
    mutate: (d) => writeFile(at(d, 'a.txt'), 'a changed\n'),
    builders: [...ALL_REAL_BUILDERS, 'buildkit-28-c8d'],
    step: 3,
    expected: {
      ...OLD_GENERATION_REJECTS,
      'buildkit-28': 'busts', 'buildkit-28-c8d': 'ignored', 'classic-28': 'busts',
    },
  },
  {
    name: 'link-own-source-changed',
    facts: '§8.6 COPY --link whose own source changed',
    files: { 'a.txt': { content: 'a\n' }, 'b.txt': { content: 'b\n' } },
    dockerfile: 'FROM scratch\nCOPY a.txt /a\nCOPY --link b.txt /b\n',
    mutate: (d) => writeFile(at(d, 'b.txt'), 'b changed\n'),
    builders: [...ALL_REAL_BUILDERS, 'buildkit-28-c8d'],
    step: 3,
    expected: {
      ...OLD_GENERATION_REJECTS,
      'buildkit-28': 'busts', 'buildkit-28-c8d': 'busts', 'classic-28': 'busts',
    },
  },
  excludeScenario('exclude-source-relative-pattern', '§8.7 COPY --exclude=*.log src: BuildKit matches below the source, Buildah 1.43 at the root, classic 28 ignores it', '*.log', 'src/x.log', {
    'buildkit-28': 'ignored', 'classic-28': 'busts', 'buildah-1.43': 'busts',
  }),
  excludeScenario('exclude-root-relative-pattern', '§8.7 COPY --exclude=src/*.log src', 'src/*.log', 'src/x.log', {
    'buildkit-28': 'busts', 'classic-28': 'busts', 'buildah-1.43': 'ignored',
  }),
  excludeScenario('exclude-doublestar-pattern', '§8.7 COPY --exclude=**/*.log src', '**/*.log', 'src/x.log', {
    'buildkit-28': 'ignored', 'classic-28': 'busts', 'buildah-1.43': 'ignored',
  }),
  excludeScenario('exclude-kept-file-changed', '§8.7 COPY --exclude: a file the pattern does not take still busts', '**/*.log', 'src/a.txt', {
    'buildkit-28': 'busts', 'classic-28': 'busts', 'buildah-1.43': 'busts',
  }),
  {
    name: 'parents-source-changed',
    facts: '§8.8 COPY --parents: Buildah 1.43 supports it, current BuildKit (and classic 28) reject it',
    files: SRC,
    dockerfile: 'FROM scratch\nCOPY --parents src/a.txt /out/\n',
    mutate: (d) => writeFile(at(d, 'src/a.txt'), 'ALPHA!\n'),
    step: 2,
    expected: {
      ...OLD_GENERATION_REJECTS, 'buildkit-28': 'rejected',
      'classic-28': 'rejected', 'buildah-1.43': 'busts',
    },
  },
  {
    name: 'parents-other-file-changed',
    facts: '§8.8 COPY --parents: a file it does not take',
    files: SRC,
    dockerfile: 'FROM scratch\nCOPY --parents src/a.txt /out/\n',
    mutate: (d) => writeFile(at(d, 'src/sub/b.txt'), 'BETA!\n'),
    step: 2,
    expected: {
      ...OLD_GENERATION_REJECTS, 'buildkit-28': 'rejected',
      'classic-28': 'rejected', 'buildah-1.43': 'ignored',
    },
  },
];

/** Find a scenario by name (throws on a typo). */
export function scenario(name: string): Scenario {
  const found = scenarios.find((s) => s.name === name);
  if (!found) throw new Error(`no scenario named ${name}`);
  return found;
}
