/**
 * Real-builder test harness: build contexts with real image builders and report, per Dockerfile step,
 * whether it was a cache hit, and exactly which files a builder received from a context.
 *
 * Builders, two generations, all offline (`FROM scratch`, or the local busybox image from {@link baseImage}):
 * - 2020-2022 (../shared/scripts/start-builders.sh): Docker 20.10's built-in BuildKit 0.8 (`DOCKER_BUILDKIT=1
 *   docker build`) and its classic builder (`DOCKER_BUILDKIT=0`) on a dedicated daemon; Buildah 1.28 (vfs
 *   storage, `bud --layers`).
 * - current (../shared/scripts/start-current-builders.sh, with `CTXDIFF_NEXT_C8D=1`): Docker 28.5's embedded
 *   BuildKit through `docker buildx build` (buildx 0.29, driver `docker`) and Docker 28's classic builder on
 *   a daemon with the default image store; the same BuildKit on a second daemon with the containerd image
 *   store (`buildkit-28-c8d`, used only where the store changes a verdict: {@link STORE_BUILDERS}); Buildah
 *   1.43 with its own storage.
 *
 * Environment: `CTXDIFF_DOCKER_SOCK` (Docker 20.10's socket, default /tmp/ctxdiff-dockerd.sock; an inherited
 * `DOCKER_HOST` is deliberately not used, as pruning empties the daemon), `CTXDIFF_DOCKER` (default
 * /usr/bin/docker), `CTXDIFF_BUILDAH` (default buildah), `CTXDIFF_BUILDAH_ROOT` (default
 * <tmp>/ctxdiff-realbuilders/buildah); `CTXDIFF_NEXT_DOCKER`, `CTXDIFF_NEXT_DOCKER_HOST`,
 * `CTXDIFF_NEXT_C8D_DOCKER_HOST`, `CTXDIFF_NEXT_BUILDAH` as start-current-builders.sh prints them;
 * `CTXDIFF_REAL_BUILDERS` (comma-separated subset of builder ids to use); `CI` (when `true`, an unusable
 * builder is an error).
 *
 * Every call that touches a builder holds the lock of that builder's state (its daemon, its storage), shared
 * by all test processes of the machine, so builds and prunes on one state never overlap while different
 * builders run in parallel; use {@link exclusive} to make a whole scenario (prune, build, mutate, build)
 * atomic. The 2020 generation keeps the one lock it always had (older checkouts of this harness use it for
 * all three of its builders).
 */
import { spawn } from 'node:child_process';
import { closeSync, createReadStream, existsSync, openSync } from 'node:fs';
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { extract as tarExtract } from 'tar-stream';
import {
  mapStepsToDockerfile,
  parseBuildahLog,
  parseBuildkitLog,
  parseClassicLog,
  parseRawjsonLog,
  parseDockerfile,
  type ParsedLog,
  type StepCache,
} from './buildlog.js';
import { exclusive as exclusiveAt } from './process-lock.js';
import { getProfile, type BuilderProfile } from '../../src/builders/profiles.js';

export type { StepCache } from './buildlog.js';

export type RealBuilderId =
  | 'buildkit-0.8'
  | 'classic-20.10'
  | 'buildah-1.28'
  | 'buildkit-28'
  | 'classic-28'
  | 'buildah-1.43'
  | 'buildkit-28-c8d';

/** The six builders every real-builder suite runs on, oldest generation first. */
export const ALL_REAL_BUILDERS: readonly RealBuilderId[] = [
  'buildkit-0.8',
  'classic-20.10',
  'buildah-1.28',
  'buildkit-28',
  'classic-28',
  'buildah-1.43',
];

/** Builders used only by scenarios about the image store (COPY --link): Docker 28 with the containerd store. */
export const STORE_BUILDERS: readonly RealBuilderId[] = ['buildkit-28-c8d'];

/** Every builder the harness knows. */
const KNOWN_BUILDERS: readonly RealBuilderId[] = [...ALL_REAL_BUILDERS, ...STORE_BUILDERS];

/**
 * The ctxdiff profile (and image store) that models each real builder: `--builder P [--store S]`.
 */
export const PROFILE_OF: Record<RealBuilderId, { builder: string; store?: 'containerd' }> = {
  'buildkit-0.8': { builder: 'buildkit-0.8' },
  'classic-20.10': { builder: 'classic-20.10' },
  'buildah-1.28': { builder: 'buildah-1.28' },
  'buildkit-28': { builder: 'buildkit' },
  'classic-28': { builder: 'classic' },
  'buildah-1.43': { builder: 'buildah' },
  'buildkit-28-c8d': { builder: 'buildkit', store: 'containerd' },
};

/** The ctxdiff profile object (store resolved) that models `builder`. */
export function profileOf(builder: RealBuilderId): BuilderProfile {
  const { builder: id, store } = PROFILE_OF[builder];
  return getProfile(id, store ? { store } : {});
}

/** Which kind of builder an id is (for expectations that hold across generations). */
export const FAMILY_OF: Record<RealBuilderId, 'buildkit' | 'classic' | 'buildah'> = {
  'buildkit-0.8': 'buildkit',
  'classic-20.10': 'classic',
  'buildah-1.28': 'buildah',
  'buildkit-28': 'buildkit',
  'classic-28': 'classic',
  'buildah-1.43': 'buildah',
  'buildkit-28-c8d': 'buildkit',
};

/** A path the builder received from the context (below the context root). */
export interface ReceivedFile {
  /** Relative, POSIX separators. */
  path: string;
  /** Hard links are reported as `file`. */
  type: 'file' | 'dir' | 'symlink' | 'other';
  /**
   * Permission bits including setuid/setgid/sticky (`mode & 0o7777`), as the builder stored them in the
   * image: the classic builder and Buildah drop setuid/setgid there (observed), BuildKit keeps them.
   */
  mode: number;
}

export interface BuildOptions {
  /** Dockerfile path relative to the context directory; default `Dockerfile`. */
  dockerfile?: string;
  /** Stage to build (`--target`). */
  target?: string;
  /** Give no `-f`: the builder finds the default Dockerfile (`Dockerfile`) itself. Not with `dockerfile`. */
  noDashF?: boolean;
  /** `--build-arg` values. */
  buildArgs?: Record<string, string>;
  /** Tag the image (default: a unique tag). */
  tag?: string;
  /** More arguments for the build command (e.g. `--cache-from`). */
  extraArgs?: string[];
}

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const START_SCRIPTS = [
  path.resolve(REPO_ROOT, '../shared/scripts/start-builders.sh'),
  path.resolve(REPO_ROOT, '../shared/scripts/start-current-builders.sh'),
];
const WORK_DIR = path.join(os.tmpdir(), 'ctxdiff-realbuilders');
const BASE_TAG = 'ctxdiff-base:busybox';
/** Applets linked in the base image, enough for `RUN` steps of tests. */
const BASE_APPLETS = ['sh', 'cat', 'chmod', 'cp', 'echo', 'env', 'ln', 'ls', 'mkdir', 'mv', 'rm', 'sleep', 'touch', 'true'];
const COMMAND_TIMEOUT_MS = 10 * 60_000;

/**
 * How long a real-builder test may take, waiting for its builder's lock included: cases run concurrently and
 * queue per builder, and other processes of the machine may hold a lock for minutes. Each command still
 * stops after COMMAND_TIMEOUT_MS.
 */
export const REAL_BUILDER_TEST_TIMEOUT_MS = 30 * 60_000;

/** Run `fn` holding the machine-wide lock of `builder`'s state (re-entrant). */
export function exclusive<T>(builder: RealBuilderId, fn: () => Promise<T>): Promise<T> {
  return exclusiveAt(path.join(WORK_DIR, DRIVERS[builder].lock), fn);
}

// ---------------------------------------------------------------------------------------------------------
// Processes

interface RunResult {
  code: number;
  /** stdout and stderr interleaved in arrival order. */
  output: string;
  stdout: string;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const all: Buffer[] = [];
    const out: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => (all.push(b), out.push(b)));
    child.stderr.on('data', (b: Buffer) => all.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), COMMAND_TIMEOUT_MS);
    child.on('error', (error) => (clearTimeout(timer), reject(error)));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code: code ?? (signal ? 128 : 1),
        output: Buffer.concat(all).toString('utf8'),
        stdout: Buffer.concat(out).toString('utf8'),
      });
    });
  });
}

/**
 * Run a command that may leave daemons behind (the start scripts): its output goes to a temporary file, not
 * a pipe, and it is done when it exits. A daemon it starts inherits the output, so a pipe would stay open
 * (and `close` never come) for as long as the daemon runs.
 */
async function runStarter(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<RunResult> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ctxdiff-rb-start-'));
  const file = path.join(dir, 'output');
  const fd = openSync(file, 'w');
  try {
    const code = await new Promise<number>((resolve, reject) => {
      const child = spawn(cmd, args, { env, stdio: ['ignore', fd, fd] });
      const timer = setTimeout(() => child.kill('SIGKILL'), COMMAND_TIMEOUT_MS);
      child.on('error', (error) => (clearTimeout(timer), reject(error)));
      child.on('exit', (c, signal) => (clearTimeout(timer), resolve(c ?? (signal ? 128 : 1))));
    });
    const output = await readFile(file, 'utf8');
    return { code, output, stdout: output };
  } finally {
    closeSync(fd);
    await rm(dir, { recursive: true, force: true });
  }
}

/** Run and require exit status 0; the error carries the command and the end of its output. */
async function runOk(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<RunResult> {
  const result = await run(cmd, args, env);
  if (result.code !== 0) {
    const tail = result.output.trim().split('\n').slice(-15).join('\n');
    throw new Error(`${path.basename(cmd)} ${args.join(' ')} failed (exit ${result.code}):\n${tail}`);
  }
  return result;
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.trim().split('\n')[0];
}

// ---------------------------------------------------------------------------------------------------------
// Builder drivers

/**
 * The dedicated daemons started by the start scripts. Never an inherited DOCKER_HOST: pruning removes every
 * image of the daemon it talks to.
 */
let dockerHost = `unix://${process.env.CTXDIFF_DOCKER_SOCK ?? '/tmp/ctxdiff-dockerd.sock'}`;
const dockerBin = () => process.env.CTXDIFF_DOCKER ?? '/usr/bin/docker';
const nextDockerBin = () => process.env.CTXDIFF_NEXT_DOCKER ?? '/opt/ctxdiff-next/bin/docker';
const nextDockerHost = () => process.env.CTXDIFF_NEXT_DOCKER_HOST ?? 'unix:///tmp/ctxdiff-dockerd-next.sock';
const c8dDockerHost = () => process.env.CTXDIFF_NEXT_C8D_DOCKER_HOST ?? 'unix:///tmp/ctxdiff-dockerd-next-c8d.sock';
const buildahBin = () => process.env.CTXDIFF_BUILDAH ?? 'buildah';
const buildahRoot = () => process.env.CTXDIFF_BUILDAH_ROOT ?? path.join(WORK_DIR, 'buildah');
const nextBuildahBin = () => process.env.CTXDIFF_NEXT_BUILDAH ?? '/opt/ctxdiff-next/bin/buildah-next';

let tagCounter = 0;
function uniqueTag(): string {
  return `ctxdiff-rb-${process.pid}-${Date.now().toString(36)}-${++tagCounter}:latest`;
}

interface Driver {
  /** Name of the lock of the state this builder shares (daemon or storage), below WORK_DIR. */
  lock: string;
  /** Build and return the combined log; throws if the build fails. `dockerfile` undefined: no -f. */
  build(contextDir: string, dockerfile: string | undefined, tag: string, target?: string, extra?: string[]): Promise<string>;
  parseLog(log: string): ParsedLog;
  /** Build `dockerfile` and list everything under /ctx of the resulting filesystem. */
  exportCtx(contextDir: string, dockerfile: string): Promise<ReceivedFile[]>;
  prune(): Promise<void>;
  /** Make the base image available; return its reference. */
  ensureBase(rootfsTar: string): Promise<string>;
  /** Give image `source` the name `target` too. */
  tag(source: string, target: string): Promise<void>;
}

/**
 * How a Docker daemon's builder is driven: `docker build` with DOCKER_BUILDKIT=1 (Docker 20.10's BuildKit,
 * plain progress), `docker buildx build` (current BuildKit; rawjson progress, the only one that tells a cached
 * `COPY --link` apart), or the classic builder (DOCKER_BUILDKIT=0).
 */
type DockerMode = 'buildkit' | 'buildx' | 'classic';

function dockerDriver(lock: string, mode: DockerMode, bin: () => string, host: () => string): Driver {
  // The Docker 28 wrapper takes its daemon from CTXDIFF_NEXT_DOCKER_HOST; the 20.10 client from DOCKER_HOST.
  const env = () => ({
    ...process.env,
    DOCKER_HOST: host(),
    CTXDIFF_NEXT_DOCKER_HOST: host(),
    DOCKER_BUILDKIT: mode === 'classic' ? '0' : '1',
  });
  const docker = (args: string[]) => runOk(bin(), args, env());
  const buildArgs = (contextDir: string, dockerfile: string | undefined, extra: string[]) => [
    ...(mode === 'buildx' ? ['buildx', 'build', '--progress=rawjson'] : ['build']),
    '--network',
    'none',
    ...(mode === 'buildkit' ? ['--progress=plain'] : []),
    ...(dockerfile !== undefined ? ['-f', dockerfile] : []),
    ...extra,
    contextDir,
  ];
  return {
    lock,
    async build(contextDir, dockerfile, tag, target, args = []) {
      const extra = ['-t', tag, ...(target ? ['--target', target] : []), ...args];
      return (await docker(buildArgs(contextDir, dockerfile, extra))).output;
    },
    parseLog: mode === 'buildkit' ? parseBuildkitLog : mode === 'buildx' ? parseRawjsonLog : parseClassicLog,
    async exportCtx(contextDir, dockerfile) {
      const tmp = await mkdtemp(path.join(os.tmpdir(), 'ctxdiff-rb-export-'));
      const tarFile = path.join(tmp, 'fs.tar');
      try {
        if (mode !== 'classic') {
          await docker(buildArgs(contextDir, dockerfile, ['-o', `type=tar,dest=${tarFile}`]));
        } else {
          const tag = uniqueTag();
          await docker(buildArgs(contextDir, dockerfile, ['-t', tag]));
          const id = (await docker(['create', tag, '/none'])).stdout.trim();
          try {
            await docker(['export', '-o', tarFile, id]);
          } finally {
            await docker(['rm', id]);
            await docker(['rmi', tag]);
          }
        }
        return await listTarCtx(tarFile);
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    },
    async prune() {
      // The daemon is dedicated to these tests: BuildKit keeps its cache apart, the classic builder
      // keeps it as images; both go, except the base image.
      await docker(['container', 'prune', '-f']);
      await docker(['builder', 'prune', '-af']);
      const base = await run(bin(), ['image', 'inspect', '-f', '{{.Id}}', BASE_TAG], env());
      const baseId = base.code === 0 ? base.stdout.trim() : undefined;
      await removeImagesExcept(
        'docker',
        baseId,
        async () => (await docker(['images', '-aq', '--no-trunc'])).stdout,
        (ids) => run(bin(), ['rmi', '-f', ...ids], env()),
      );
    },
    async ensureBase(rootfsTar) {
      const exists = await run(bin(), ['image', 'inspect', BASE_TAG], env());
      if (exists.code !== 0) await docker(['import', '-c', 'CMD ["/bin/sh"]', rootfsTar, BASE_TAG]);
      return BASE_TAG;
    },
    async tag(source, target) {
      await docker(['tag', source, target]);
    },
  };
}

/** `globalArgs`: storage options (Buildah 1.28); the Buildah 1.43 wrapper brings its own. */
function buildahDriver(lock: string, bin: () => string, globalArgs: () => string[]): Driver {
  const buildah = (args: string[]) => runOk(bin(), [...globalArgs(), ...args]);
  const bud = (contextDir: string, dockerfile: string | undefined, tag: string, target?: string, extra: string[] = []) =>
    buildah([
      'bud', '--layers', '--isolation', 'chroot', ...(dockerfile !== undefined ? ['-f', dockerfile] : []), '-t', tag,
      ...(target ? ['--target', target] : []), ...extra, contextDir,
    ]);
  return {
    lock,
    async build(contextDir, dockerfile, tag, target, extra) {
      return (await bud(contextDir, dockerfile, tag, target, extra)).output;
    },
    parseLog: parseBuildahLog,
    async exportCtx(contextDir, dockerfile) {
      const tag = uniqueTag();
      await bud(contextDir, dockerfile, tag);
      const container = (await buildah(['from', tag])).stdout.trim().split('\n').pop()!;
      try {
        const mountPoint = (await buildah(['mount', container])).stdout.trim();
        return await listDirCtx(path.join(mountPoint, 'ctx'));
      } finally {
        await run(bin(), [...globalArgs(), 'umount', container]);
        await buildah(['rm', container]);
        await buildah(['rmi', tag]);
      }
    },
    async prune() {
      await buildah(['rm', '-a']);
      const base = await run(bin(), [...globalArgs(), 'images', '-q', '--no-trunc', BASE_TAG]);
      const baseId = base.code === 0 ? base.stdout.trim() : undefined;
      await removeImagesExcept(
        'buildah',
        baseId,
        async () => (await buildah(['images', '-aq', '--no-trunc'])).stdout,
        (ids) => run(bin(), [...globalArgs(), 'rmi', '-f', ...ids]),
      );
    },
    async ensureBase(rootfsTar) {
      const exists = await run(bin(), [...globalArgs(), 'inspect', '--type', 'image', BASE_TAG]);
      if (exists.code === 0) return BASE_TAG;
      const container = (await buildah(['from', 'scratch'])).stdout.trim().split('\n').pop()!;
      try {
        await buildah(['add', container, rootfsTar, '/']);
        await buildah(['config', '--cmd', '/bin/sh', container]);
        await buildah(['commit', container, BASE_TAG]);
      } finally {
        await run(bin(), [...globalArgs(), 'rm', container]);
      }
      return BASE_TAG;
    },
    async tag(source, target) {
      await buildah(['tag', source, target]);
    },
  };
}

/**
 * Remove every image but `keepId`. A parent cannot go while a child exists, and one `rmi` call may meet
 * them in either order, so repeat until nothing is left or a round makes no progress.
 */
async function removeImagesExcept(
  tool: string,
  keepId: string | undefined,
  list: () => Promise<string>,
  remove: (ids: string[]) => Promise<RunResult>,
): Promise<void> {
  let previous = Infinity;
  let last = '';
  for (;;) {
    const ids = [...new Set((await list()).split(/\s+/).filter((id) => id && id !== keepId))];
    if (ids.length === 0) return;
    if (ids.length >= previous) throw new Error(`${tool}: could not remove images ${ids.join(' ')}: ${last.trim().split('\n').slice(-3).join(' / ')}`);
    previous = ids.length;
    last = (await remove(ids)).output;
  }
}

/** The lock of the 2020 generation: Docker 20.10's daemon and Buildah 1.28 (its historical name). */
const LEGACY_LOCK = 'lock';
const buildah128Args = () => ['--storage-driver', 'vfs', '--root', path.join(buildahRoot(), 'root'), '--runroot', path.join(buildahRoot(), 'run')];

const DRIVERS: Record<RealBuilderId, Driver> = {
  'buildkit-0.8': dockerDriver(LEGACY_LOCK, 'buildkit', dockerBin, () => dockerHost),
  'classic-20.10': dockerDriver(LEGACY_LOCK, 'classic', dockerBin, () => dockerHost),
  'buildah-1.28': buildahDriver(LEGACY_LOCK, buildahBin, buildah128Args),
  'buildkit-28': dockerDriver('lock-docker-28', 'buildx', nextDockerBin, nextDockerHost),
  'classic-28': dockerDriver('lock-docker-28', 'classic', nextDockerBin, nextDockerHost),
  'buildah-1.43': buildahDriver('lock-buildah-1.43', nextBuildahBin, () => []),
  'buildkit-28-c8d': dockerDriver('lock-docker-28-c8d', 'buildx', nextDockerBin, c8dDockerHost),
};

// ---------------------------------------------------------------------------------------------------------
// Received-file listings

function normalizeCtxPath(name: string): string | undefined {
  const clean = name.replace(/^(\.\/)+/, '').replace(/^\/+/, '').replace(/\/+$/, '');
  return clean.startsWith('ctx/') ? clean.slice('ctx/'.length) : undefined;
}

async function listTarCtx(tarFile: string): Promise<ReceivedFile[]> {
  const entries: ReceivedFile[] = [];
  const extract = tarExtract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const rel = normalizeCtxPath(header.name);
      if (rel) {
        const type =
          header.type === 'file' || header.type === 'contiguous-file' || header.type === 'link'
            ? 'file'
            : header.type === 'directory'
              ? 'dir'
              : header.type === 'symlink'
                ? 'symlink'
                : 'other';
        entries.push({ path: rel, type, mode: (header.mode ?? 0) & 0o7777 });
      }
      stream.on('end', () => next());
      stream.resume();
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  createReadStream(tarFile).pipe(extract);
  await done;
  return sortFiles(entries);
}

async function listDirCtx(root: string): Promise<ReceivedFile[]> {
  const entries: ReceivedFile[] = [];
  const walk = async (dir: string, rel: string) => {
    for (const name of await readdir(dir)) {
      const abs = path.join(dir, name);
      const relPath = rel ? `${rel}/${name}` : name;
      const st = await lstat(abs);
      const type = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other';
      entries.push({ path: relPath, type, mode: st.mode & 0o7777 });
      if (st.isDirectory()) await walk(abs, relPath);
    }
  };
  await walk(root, '');
  return sortFiles(entries);
}

function sortFiles(files: ReceivedFile[]): ReceivedFile[] {
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

// ---------------------------------------------------------------------------------------------------------
// Start-up and detection

const PROBE_DOCKERFILE = 'FROM scratch\nLABEL ctxdiff.probe=1\n';

function requestedBuilders(): RealBuilderId[] {
  const raw = process.env.CTXDIFF_REAL_BUILDERS;
  if (!raw) return [...KNOWN_BUILDERS];
  const ids = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const id of ids) {
    if (!(KNOWN_BUILDERS as readonly string[]).includes(id)) {
      throw new Error(`CTXDIFF_REAL_BUILDERS: unknown builder "${id}" (known: ${KNOWN_BUILDERS.join(', ')})`);
    }
  }
  return ids as RealBuilderId[];
}

/**
 * Run both start scripts (the current builders' with CTXDIFF_NEXT_C8D=1, for the containerd-store daemon) and
 * adopt what they print: Docker 20.10's DOCKER_HOST (for the harness's docker calls only) and, unless already
 * set, the other variables. Returns the problem lines, if any. Both scripts are idempotent: with the builders
 * up they only check them.
 */
async function startBuilders(): Promise<string[]> {
  const problems: string[] = [];
  for (const script of START_SCRIPTS) {
    if (!existsSync(script)) {
      problems.push(`${script} not found; using already running builders`);
      continue;
    }
    const result = await runStarter('bash', [script], { ...process.env, CTXDIFF_NEXT_C8D: '1' });
    const exports = /^export (.*)$/m.exec(result.stdout);
    if (exports) {
      for (const pair of exports[1].trim().split(/\s+/)) {
        const eq = pair.indexOf('=');
        if (eq <= 0) continue;
        const [name, value] = [pair.slice(0, eq), pair.slice(eq + 1)];
        if (name === 'DOCKER_HOST') dockerHost = value;
        else process.env[name] ??= value;
      }
    }
    if (result.code !== 0) {
      problems.push(result.output.trim().split('\n').pop() || `${path.basename(script)} exited ${result.code}`);
    }
  }
  return problems;
}

async function probe(builder: RealBuilderId): Promise<void> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'ctxdiff-rb-probe-'));
  try {
    await mkdir(path.join(tmp, 'ctx'));
    await writeFile(path.join(tmp, 'Dockerfile'), PROBE_DOCKERFILE);
    await exclusive(builder, () => DRIVERS[builder].build(path.join(tmp, 'ctx'), path.join(tmp, 'Dockerfile'), uniqueTag()));
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

function isCi(): boolean {
  const ci = process.env.CI;
  return ci === 'true' || ci === '1';
}

let detection: Promise<{ available: RealBuilderId[]; reason?: string }> | undefined;

/**
 * Start (via ../shared/scripts/start-builders.sh and start-current-builders.sh, relative to the repo root) or
 * detect the builders, once per process, and check each with a tiny build (all at once). Returns the usable ones; `reason` is one line saying why
 * the others are not (set whenever a requested builder is missing). Under `CI=true` a builder that cannot be
 * used makes this throw: CI must fail, never skip.
 */
export function realBuilders(): Promise<{ available: RealBuilderId[]; reason?: string }> {
  detection ??= (async () => {
    const requested = requestedBuilders();
    const startProblems = await startBuilders();
    const probes = await Promise.all(
      requested.map((id) => probe(id).then(() => undefined, (error: unknown) => `${id}: ${firstLine(error)}`)),
    );
    const available = requested.filter((_, i) => probes[i] === undefined);
    const problems = probes.filter((p): p is string => p !== undefined);
    if (problems.length > 0 && isCi()) {
      throw new Error(`real builders unusable under CI: ${[...startProblems, ...problems].join('; ')}`);
    }
    if (problems.length === 0) return { available };
    const reason = `real builders unavailable (${problems.join('; ')})${startProblems.length ? `; ${startProblems.join('; ')}` : ''}`;
    return { available, reason };
  })();
  return detection;
}

// ---------------------------------------------------------------------------------------------------------
// Public operations

/**
 * Build `contextDir` with its Dockerfile (`opts.dockerfile`, relative to the context, default `Dockerfile`)
 * under a unique tag, and return the cache outcome of every step the builder reported, in Dockerfile order
 * with Dockerfile line numbers. `FROM` is never listed. BuildKit does not report metadata-only steps
 * (LABEL, ENV, …) nor steps of stages the target does not use; classic and Buildah report LABEL/ENV too.
 */
export async function build(builder: RealBuilderId, contextDir: string, opts: BuildOptions = {}): Promise<StepCache[]> {
  return (await buildWithLog(builder, contextDir, opts)).steps;
}

/** {@link build}, also returning the builder's log as it printed it. */
export async function buildWithLog(builder: RealBuilderId, contextDir: string, opts: BuildOptions = {}): Promise<{ steps: StepCache[]; log: string }> {
  const dockerfile = path.resolve(contextDir, opts.dockerfile ?? 'Dockerfile');
  const stages = parseDockerfile(await readFile(dockerfile, 'utf8'));
  const driver = DRIVERS[builder];
  const given = opts.noDashF ? undefined : dockerfile;
  const args = [...Object.entries(opts.buildArgs ?? {}).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]), ...(opts.extraArgs ?? [])];
  const log = await exclusive(builder, () => driver.build(path.resolve(contextDir), given, opts.tag ?? uniqueTag(), opts.target, args));
  try {
    return { steps: mapStepsToDockerfile(stages, driver.parseLog(log)), log };
  } catch (error) {
    throw new Error(`${builder}: ${firstLine(error)}\n--- build log ---\n${log}`);
  }
}

/** Give image `source` the name `target` too (the base image survives {@link pruneCache}, and so do its names). */
export async function tagImage(builder: RealBuilderId, source: string, target: string): Promise<void> {
  await exclusive(builder, () => DRIVERS[builder].tag(source, target));
}

/**
 * Remove all build cache of `builder`'s state (for Docker: of both builders of its daemon), keeping the base
 * image.
 */
export async function pruneCache(builder: RealBuilderId): Promise<void> {
  await exclusive(builder, () => DRIVERS[builder].prune());
}

const RECEIVE_DOCKERFILE = 'FROM scratch\nCOPY . /ctx\n';

/**
 * The exact list of paths the builder received from `contextDir`: builds `FROM scratch` + `COPY . /ctx`
 * and lists /ctx of the result (relative POSIX paths, directories included, root excluded, sorted).
 * Without `opts.dockerfile` the Dockerfile is written outside the context; with it, that Dockerfile is
 * written (overwritten) at the given path inside the context, so Dockerfile-specific ignore files apply.
 * Notes (observed): for a Dockerfile outside the context, Docker's classic builder appends the name of its
 * temporary Dockerfile to the `.dockerignore` it sends (paths and modes are unaffected); BuildKit 0.8 does
 * not put fifos into the image although a fifo in a COPY source changes the step's cache key.
 */
export async function receivedFiles(
  builder: RealBuilderId,
  contextDir: string,
  opts: { dockerfile?: string } = {},
): Promise<ReceivedFile[]> {
  let tmp: string | undefined;
  let dockerfile: string;
  if (opts.dockerfile) {
    dockerfile = path.resolve(contextDir, opts.dockerfile);
    await mkdir(path.dirname(dockerfile), { recursive: true });
    await writeFile(dockerfile, RECEIVE_DOCKERFILE);
  } else {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'ctxdiff-rb-df-'));
    dockerfile = path.join(tmp, 'Dockerfile');
    await writeFile(dockerfile, RECEIVE_DOCKERFILE);
  }
  try {
    return await exclusive(builder, () => DRIVERS[builder].exportCtx(path.resolve(contextDir), dockerfile));
  } finally {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  }
}

/** Find Debian's static busybox, installing busybox-static if needed. */
async function staticBusybox(): Promise<string> {
  const installed = await run('dpkg-query', ['-W', '-f', '${Status}', 'busybox-static']);
  if (!(installed.code === 0 && installed.stdout.includes('install ok installed'))) {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const attempt = await run('apt-get', ['install', '-y', '--no-install-recommends', 'busybox-static'], env);
    if (attempt.code !== 0) {
      await run('apt-get', ['update'], env);
      await runOk('apt-get', ['install', '-y', '--no-install-recommends', 'busybox-static'], env);
    }
  }
  const bin = '/bin/busybox';
  if (!existsSync(bin)) throw new Error(`busybox-static installed but ${bin} is missing`);
  return bin;
}

/** Build (once per machine) a tiny root filesystem tarball: static busybox, a few applets, /tmp. */
async function baseRootfsTar(): Promise<string> {
  const tarFile = path.join(WORK_DIR, 'busybox-rootfs.tar');
  if (existsSync(tarFile)) return tarFile;
  const busybox = await staticBusybox();
  await mkdir(WORK_DIR, { recursive: true });
  const tmp = await mkdtemp(path.join(WORK_DIR, 'rootfs-'));
  try {
    const root = path.join(tmp, 'root');
    await mkdir(path.join(root, 'bin'), { recursive: true });
    await mkdir(path.join(root, 'tmp'));
    await chmod(path.join(root, 'tmp'), 0o1777);
    await writeFile(path.join(root, 'bin', 'busybox'), await readFile(busybox), { mode: 0o755 });
    for (const applet of BASE_APPLETS) await symlink('busybox', path.join(root, 'bin', applet));
    const partial = path.join(tmp, 'rootfs.tar');
    await runOk('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '-C', root, '-cf', partial, '.']);
    await rename(partial, tarFile);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return tarFile;
}

/**
 * A tiny local image with a shell (static busybox), for `RUN` steps; built offline once and kept by
 * {@link pruneCache}. Returns the reference to use in `FROM` with that builder.
 */
export async function baseImage(builder: RealBuilderId): Promise<string> {
  return exclusive(builder, async () => DRIVERS[builder].ensureBase(await baseRootfsTar()));
}
