/**
 * Real-builder test harness: build contexts with real image builders and report, per Dockerfile step,
 * whether it was a cache hit, and exactly which files a builder received from a context.
 *
 * Builders: Docker 20.10's built-in BuildKit 0.8 (`DOCKER_BUILDKIT=1`) and its classic builder
 * (`DOCKER_BUILDKIT=0`) on a dedicated daemon, and Buildah (vfs storage, `bud --layers`). All offline:
 * `FROM scratch`, or the local busybox image from {@link baseImage}.
 *
 * Environment: `CTXDIFF_DOCKER_SOCK` (the dedicated daemon's socket, default /tmp/ctxdiff-dockerd.sock;
 * an inherited `DOCKER_HOST` is deliberately not used, as pruning empties the daemon), `CTXDIFF_DOCKER`
 * (default /usr/bin/docker), `CTXDIFF_BUILDAH` (default buildah), `CTXDIFF_BUILDAH_ROOT` (default
 * <tmp>/ctxdiff-realbuilders/buildah), `CTXDIFF_REAL_BUILDERS` (comma-separated subset of builder ids to
 * use), `CI` (when `true`, an unusable builder is an error).
 *
 * Every call that touches a builder holds one lock shared by all test processes of the machine, so builds
 * and prunes never overlap; use {@link exclusive} to make a whole scenario (prune, build, mutate, build)
 * atomic.
 */
import { spawn } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
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
  parseDockerfile,
  type ParsedLog,
  type StepCache,
} from './buildlog.js';
import { exclusive as exclusiveAt } from './process-lock.js';

export type { StepCache } from './buildlog.js';

export type RealBuilderId = 'buildkit-0.8' | 'classic' | 'buildah';

/** Every builder the harness knows, in a stable order. */
export const ALL_REAL_BUILDERS: readonly RealBuilderId[] = ['buildkit-0.8', 'classic', 'buildah'];

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
  /** `--build-arg` values. */
  buildArgs?: Record<string, string>;
  /** Tag the image (default: a unique tag). */
  tag?: string;
  /** More arguments for the build command (e.g. `--cache-from`). */
  extraArgs?: string[];
}

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const START_SCRIPT = path.resolve(REPO_ROOT, '../shared/scripts/start-builders.sh');
const WORK_DIR = path.join(os.tmpdir(), 'ctxdiff-realbuilders');
const LOCK_DIR = path.join(WORK_DIR, 'lock');
const BASE_TAG = 'ctxdiff-base:busybox';
/** Applets linked in the base image, enough for `RUN` steps of tests. */
const BASE_APPLETS = ['sh', 'cat', 'chmod', 'cp', 'echo', 'env', 'ln', 'ls', 'mkdir', 'mv', 'rm', 'sleep', 'touch', 'true'];
const COMMAND_TIMEOUT_MS = 10 * 60_000;

/** Run `fn` holding the machine-wide builder lock (re-entrant). */
export function exclusive<T>(fn: () => Promise<T>): Promise<T> {
  return exclusiveAt(LOCK_DIR, fn);
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

const dockerBin = () => process.env.CTXDIFF_DOCKER ?? '/usr/bin/docker';
/**
 * The dedicated daemon started by start-builders.sh. Never an inherited DOCKER_HOST: pruning removes every
 * image of the daemon it talks to.
 */
let dockerHost = `unix://${process.env.CTXDIFF_DOCKER_SOCK ?? '/tmp/ctxdiff-dockerd.sock'}`;
const buildahBin = () => process.env.CTXDIFF_BUILDAH ?? 'buildah';
const buildahRoot = () => process.env.CTXDIFF_BUILDAH_ROOT ?? path.join(WORK_DIR, 'buildah');

let tagCounter = 0;
function uniqueTag(): string {
  return `ctxdiff-rb-${process.pid}-${Date.now().toString(36)}-${++tagCounter}:latest`;
}

interface Driver {
  /** Build and return the combined log; throws if the build fails. */
  build(contextDir: string, dockerfile: string, tag: string, target?: string, buildArgs?: string[]): Promise<string>;
  parseLog(log: string): ParsedLog;
  /** Build `dockerfile` and list everything under /ctx of the resulting filesystem. */
  exportCtx(contextDir: string, dockerfile: string): Promise<ReceivedFile[]>;
  prune(): Promise<void>;
  /** Make the base image available; return its reference. */
  ensureBase(rootfsTar: string): Promise<string>;
  /** Give image `source` the name `target` too. */
  tag(source: string, target: string): Promise<void>;
}

function dockerDriver(buildkit: boolean): Driver {
  const env = () => ({ ...process.env, DOCKER_HOST: dockerHost, DOCKER_BUILDKIT: buildkit ? '1' : '0' });
  const docker = (args: string[]) => runOk(dockerBin(), args, env());
  const buildArgs = (contextDir: string, dockerfile: string, extra: string[]) => [
    'build',
    '--network',
    'none',
    ...(buildkit ? ['--progress=plain'] : []),
    '-f',
    dockerfile,
    ...extra,
    contextDir,
  ];
  return {
    async build(contextDir, dockerfile, tag, target, args = []) {
      const extra = ['-t', tag, ...(target ? ['--target', target] : []), ...args];
      return (await docker(buildArgs(contextDir, dockerfile, extra))).output;
    },
    parseLog: buildkit ? parseBuildkitLog : parseClassicLog,
    async exportCtx(contextDir, dockerfile) {
      const tmp = await mkdtemp(path.join(os.tmpdir(), 'ctxdiff-rb-export-'));
      const tarFile = path.join(tmp, 'fs.tar');
      try {
        if (buildkit) {
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
      const base = await run(dockerBin(), ['image', 'inspect', '-f', '{{.Id}}', BASE_TAG], env());
      const baseId = base.code === 0 ? base.stdout.trim() : undefined;
      await removeImagesExcept(
        'docker',
        baseId,
        async () => (await docker(['images', '-aq', '--no-trunc'])).stdout,
        (ids) => run(dockerBin(), ['rmi', '-f', ...ids], env()),
      );
    },
    async ensureBase(rootfsTar) {
      const exists = await run(dockerBin(), ['image', 'inspect', BASE_TAG], env());
      if (exists.code !== 0) await docker(['import', '-c', 'CMD ["/bin/sh"]', rootfsTar, BASE_TAG]);
      return BASE_TAG;
    },
    async tag(source, target) {
      await docker(['tag', source, target]);
    },
  };
}

function buildahDriver(): Driver {
  const globalArgs = () => ['--storage-driver', 'vfs', '--root', path.join(buildahRoot(), 'root'), '--runroot', path.join(buildahRoot(), 'run')];
  const buildah = (args: string[]) => runOk(buildahBin(), [...globalArgs(), ...args]);
  const bud = (contextDir: string, dockerfile: string, tag: string, target?: string, extra: string[] = []) =>
    buildah(['bud', '--layers', '--isolation', 'chroot', '-f', dockerfile, '-t', tag, ...(target ? ['--target', target] : []), ...extra, contextDir]);
  return {
    async build(contextDir, dockerfile, tag, target, buildArgs) {
      return (await bud(contextDir, dockerfile, tag, target, buildArgs)).output;
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
        await run(buildahBin(), [...globalArgs(), 'umount', container]);
        await buildah(['rm', container]);
        await buildah(['rmi', tag]);
      }
    },
    async prune() {
      await buildah(['rm', '-a']);
      const base = await run(buildahBin(), [...globalArgs(), 'images', '-q', '--no-trunc', BASE_TAG]);
      const baseId = base.code === 0 ? base.stdout.trim() : undefined;
      await removeImagesExcept(
        'buildah',
        baseId,
        async () => (await buildah(['images', '-aq', '--no-trunc'])).stdout,
        (ids) => run(buildahBin(), [...globalArgs(), 'rmi', '-f', ...ids]),
      );
    },
    async ensureBase(rootfsTar) {
      const exists = await run(buildahBin(), [...globalArgs(), 'inspect', '--type', 'image', BASE_TAG]);
      if (exists.code === 0) return BASE_TAG;
      const container = (await buildah(['from', 'scratch'])).stdout.trim().split('\n').pop()!;
      try {
        await buildah(['add', container, rootfsTar, '/']);
        await buildah(['config', '--cmd', '/bin/sh', container]);
        await buildah(['commit', container, BASE_TAG]);
      } finally {
        await run(buildahBin(), [...globalArgs(), 'rm', container]);
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
  for (;;) {
    const ids = [...new Set((await list()).split(/\s+/).filter((id) => id && id !== keepId))];
    if (ids.length === 0) return;
    if (ids.length >= previous) throw new Error(`${tool}: could not remove images ${ids.join(' ')}`);
    previous = ids.length;
    await remove(ids);
  }
}

const DRIVERS: Record<RealBuilderId, Driver> = {
  'buildkit-0.8': dockerDriver(true),
  classic: dockerDriver(false),
  buildah: buildahDriver(),
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
  if (!raw) return [...ALL_REAL_BUILDERS];
  const ids = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const id of ids) {
    if (!(ALL_REAL_BUILDERS as readonly string[]).includes(id)) {
      throw new Error(`CTXDIFF_REAL_BUILDERS: unknown builder "${id}" (known: ${ALL_REAL_BUILDERS.join(', ')})`);
    }
  }
  return ids as RealBuilderId[];
}

/**
 * Run start-builders.sh and adopt what it prints: its daemon's DOCKER_HOST (for the harness's docker calls
 * only) and, unless already set, the builder binaries. Returns a problem line, if any.
 */
async function startBuilders(): Promise<string | undefined> {
  if (!existsSync(START_SCRIPT)) return `${START_SCRIPT} not found; using already running builders`;
  const result = await run('bash', [START_SCRIPT]);
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
  return result.code === 0 ? undefined : result.output.trim().split('\n').pop() || `start-builders.sh exited ${result.code}`;
}

async function probe(builder: RealBuilderId): Promise<void> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'ctxdiff-rb-probe-'));
  try {
    await mkdir(path.join(tmp, 'ctx'));
    await writeFile(path.join(tmp, 'Dockerfile'), PROBE_DOCKERFILE);
    await exclusive(() => DRIVERS[builder].build(path.join(tmp, 'ctx'), path.join(tmp, 'Dockerfile'), uniqueTag()));
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
 * Start (via ../shared/scripts/start-builders.sh, relative to the repo root) or detect the builders, once
 * per process, and check each with a tiny build. Returns the usable ones; `reason` is one line saying why
 * the others are not (set whenever a requested builder is missing). Under `CI=true` a builder that cannot be
 * used makes this throw: CI must fail, never skip.
 */
export function realBuilders(): Promise<{ available: RealBuilderId[]; reason?: string }> {
  detection ??= (async () => {
    const requested = requestedBuilders();
    const startProblem = await startBuilders();
    const available: RealBuilderId[] = [];
    const problems: string[] = [];
    for (const id of requested) {
      try {
        await probe(id);
        available.push(id);
      } catch (error) {
        problems.push(`${id}: ${firstLine(error)}`);
      }
    }
    if (problems.length > 0 && isCi()) {
      throw new Error(`real builders unusable under CI: ${[startProblem, ...problems].filter(Boolean).join('; ')}`);
    }
    if (problems.length === 0) return { available };
    const reason = `real builders unavailable (${problems.join('; ')})${startProblem ? `; ${startProblem}` : ''}`;
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
  const args = [...Object.entries(opts.buildArgs ?? {}).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]), ...(opts.extraArgs ?? [])];
  const log = await exclusive(() => driver.build(path.resolve(contextDir), dockerfile, opts.tag ?? uniqueTag(), opts.target, args));
  try {
    return { steps: mapStepsToDockerfile(stages, driver.parseLog(log)), log };
  } catch (error) {
    throw new Error(`${builder}: ${firstLine(error)}\n--- build log ---\n${log}`);
  }
}

/** Give image `source` the name `target` too (the base image survives {@link pruneCache}, and so do its names). */
export async function tagImage(builder: RealBuilderId, source: string, target: string): Promise<void> {
  await exclusive(() => DRIVERS[builder].tag(source, target));
}

/** Remove all build cache of `builder` (and, for Docker, of both its builders), keeping the base image. */
export async function pruneCache(builder: RealBuilderId): Promise<void> {
  await exclusive(() => DRIVERS[builder].prune());
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
    return await exclusive(() => DRIVERS[builder].exportCtx(path.resolve(contextDir), dockerfile));
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
  return exclusive(async () => DRIVERS[builder].ensureBase(await baseRootfsTar()));
}
