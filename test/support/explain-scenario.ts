/**
 * The real builds `ctxdiff explain` is proven on, shared by test/realbuilders.explain.test.ts (which asserts
 * on them) and test/support/record-buildlogs.ts (which saves their logs as fixtures/buildlogs/). One sequence
 * per builder, atomic under the builder's lock:
 *   01-fresh        prune, build (nothing cached)
 *   02-changed      b.txt changed, build (the COPY of b.txt rebuilds)
 *   03-pruned       prune between the builds, nothing changed (BuildKit: with a `--cache-from` that cannot be
 *                   reached: the cache import fails)
 *   04-base-changed a different image re-tagged under the base image's name, nothing changed
 *   05-build-arg    `--build-arg V=2` (the Dockerfile's default is 1), nothing else changed
 *   06-stale        a.txt's content changed keeping its size and its exact (nanosecond) mtime, V=2 again:
 *                   BuildKit, holding the previous context, does not re-send it (builder-facts §2: the COPY
 *                   stays cached on the old content); classic and Buildah rebuild from a.txt on
 *   07-identical    a.txt edited (new size and mtime), V=2 again: the stage is rebuilt but its RUN writes the
 *                   same /v, so the COPY --from stays cached in every builder (builder-facts §8.5)
 * A snapshot of the context is taken at each build (snaps/NN.ctxsnap), as a CI job would keep it.
 * Builders: those of the harness, plus the current BuildKit (`buildkit-28`: Docker 28's embedded BuildKit via
 * `docker buildx build --progress=rawjson` on the daemon with the containerd image store, whose FROM lines
 * carry the base image's digest), driven here until the harness has it.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { exclusive as exclusiveAt } from './process-lock.js';
import { baseImage, buildWithLog, exclusive, profileOf, pruneCache, realBuilders, REPO_ROOT, tagImage, type RealBuilderId } from './realbuilders.js';

/** Harness builders; `buildkit-28-c8d` (Docker 28 with the containerd image store) is driven by nextOps below. */
export type ExplainBuilder = RealBuilderId;

export const BASE_NAME = 'ctxdiff-explain-base:latest';
const APP_TAG = 'ctxdiff-explain-app:latest';
/** A registry that is never there: the cache import fails at once. */
export const UNREACHABLE_CACHE = 'localhost:1/ctxdiff-explain:cache';

export const DOCKERFILE = [
  `FROM ${BASE_NAME} AS base`, // 1
  'ARG V=1', // 2
  'COPY a.txt /a', // 3
  'RUN echo $V > /v', // 4
  'COPY b.txt /b', // 5
  'FROM scratch', // 6
  'COPY --from=base /v /v', // 7
  '',
].join('\n');

export const BUILD_NAMES = ['01-fresh', '02-changed', '03-pruned', '04-base-changed', '05-build-arg', '06-stale', '07-identical'] as const;
export type BuildName = (typeof BUILD_NAMES)[number];

export interface RecordedBuild {
  name: BuildName;
  log: string;
  /** The snapshot of the context taken at this build. */
  snapshot: string;
  buildArgs: Record<string, string>;
}

export interface ExplainRun {
  builder: ExplainBuilder;
  /** The ctxdiff profile that models the builder. */
  profile: string;
  contextDir: string;
  builds: Record<BuildName, RecordedBuild>;
}

interface Ops {
  profile: string;
  /** Whether the builder takes `--cache-from` of a registry (BuildKit). */
  cacheFrom: boolean;
  prune(): Promise<void>;
  /** Name the harness's base image `BASE_NAME`. */
  tagBaseA(): Promise<void>;
  /** Build an image from `dockerfile` in `dir`, tagged `tag`; returns the log. */
  build(dir: string, tag: string, opts: { buildArgs?: Record<string, string>; extraArgs?: string[] }): Promise<string>;
  /** Run `fn` atomically against the builder. */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
}

function harnessOps(builder: RealBuilderId): Ops {
  return {
    profile: profileOf(builder).id,
    cacheFrom: builder === 'buildkit-0.8',
    prune: () => pruneCache(builder),
    tagBaseA: async () => tagImage(builder, await baseImage(builder), BASE_NAME),
    build: async (dir, tag, opts) => (await buildWithLog(builder, dir, { tag, ...opts })).log,
    exclusive: (fn) => exclusive(builder, fn),
  };
}

// The current BuildKit, on Docker 28's containerd-store daemon (start-current-builders.sh with CTXDIFF_NEXT_C8D=1).
const nextDocker = () => process.env.CTXDIFF_NEXT_DOCKER ?? '/opt/ctxdiff-next/bin/docker';
const c8dHost = () => process.env.CTXDIFF_NEXT_C8D_DOCKER_HOST ?? 'unix:///tmp/ctxdiff-dockerd-next-c8d.sock';
const nextRootfs = () => process.env.CTXDIFF_NEXT_BUSYBOX_ROOTFS ?? '/opt/ctxdiff-next/busybox-rootfs.tar';
const C8D_LOCK = path.join(os.tmpdir(), 'ctxdiff-realbuilders', 'lock-docker-28-c8d');
const NEXT_BASE = 'ctxdiff-base:busybox';

function runDocker(args: string[], allowFail = false): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, DOCKER_HOST: c8dHost(), CTXDIFF_NEXT_DOCKER_HOST: c8dHost() };
    const child = spawn(nextDocker(), args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => out.push(b));
    child.on('error', reject);
    child.on('close', (code) => {
      const output = Buffer.concat(out).toString('utf8');
      if (code !== 0 && !allowFail) reject(new Error(`docker ${args.join(' ')} failed (exit ${code}):\n${output.split('\n').slice(-15).join('\n')}`));
      else resolve({ code: code ?? 1, output });
    });
  });
}

function nextOps(): Ops {
  const lock = <T>(fn: () => Promise<T>) => exclusiveAt(C8D_LOCK, fn);
  const ensureBase = async () => {
    if ((await runDocker(['image', 'inspect', NEXT_BASE], true)).code !== 0) await runDocker(['import', '-c', 'CMD ["/bin/sh"]', nextRootfs(), NEXT_BASE]);
  };
  return {
    profile: 'buildkit',
    cacheFrom: true,
    exclusive: lock,
    prune: () =>
      lock(async () => {
        await runDocker(['rmi', '-f', APP_TAG, BASE_NAME], true);
        await runDocker(['builder', 'prune', '-af']);
      }),
    tagBaseA: () =>
      lock(async () => {
        await ensureBase();
        await runDocker(['tag', NEXT_BASE, BASE_NAME]);
      }),
    build: (dir, tag, opts) =>
      lock(async () => {
        const args = Object.entries(opts.buildArgs ?? {}).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]);
        const r = await runDocker(['buildx', 'build', '--network', 'none', '--progress=rawjson', '-t', tag, ...args, ...(opts.extraArgs ?? []), dir]);
        return r.output;
      }),
  };
}

/** The builders to prove explain on that can be used here, and why the others cannot. */
export async function explainBuilders(): Promise<{ available: ExplainBuilder[]; reason?: string }> {
  const harness = await realBuilders();
  const available: ExplainBuilder[] = [...harness.available];
  const reasons = harness.reason ? [harness.reason] : [];
  const probe = existsSync(nextDocker()) ? await runDocker(['version', '--format', '{{.Server.Version}}'], true) : { code: 1, output: `${nextDocker()} not found` };
  if (probe.code === 0) {
    if (!available.includes('buildkit-28-c8d')) available.push('buildkit-28-c8d');
  } else reasons.push(`buildkit-28: ${probe.output.trim().split('\n').pop()}`);
  if (reasons.length && (process.env.CI === 'true' || process.env.CI === '1')) throw new Error(`builders unusable under CI: ${reasons.join('; ')}`);
  return { available, ...(reasons.length ? { reason: reasons.join('; ') } : {}) };
}

const CLI = path.join(REPO_ROOT, 'bin', 'ctxdiff.js');

/** Run the built ctxdiff CLI. */
export function ctxdiff(args: string[], cwd?: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', ...(cwd ? { cwd } : {}) });
  return { code: r.status ?? 2, stdout: r.stdout, stderr: r.stderr };
}

/** Run the whole sequence on `builder` in `workDir` (created). */
export async function runExplainScenario(builder: ExplainBuilder, workDir: string): Promise<ExplainRun> {
  const ops = builder === 'buildkit-28-c8d' ? nextOps() : harnessOps(builder);
  const ctx = path.join(workDir, 'ctx');
  const baseB = path.join(workDir, 'base-b');
  const snaps = path.join(workDir, 'snaps');
  await mkdir(ctx, { recursive: true });
  await mkdir(baseB, { recursive: true });
  await mkdir(snaps, { recursive: true });
  await writeFile(path.join(ctx, 'Dockerfile'), DOCKERFILE);
  await writeFile(path.join(ctx, 'a.txt'), 'a\n');
  await writeFile(path.join(ctx, 'b.txt'), 'b1\n');
  await writeFile(path.join(baseB, 'Dockerfile'), 'FROM ctxdiff-base:busybox\nRUN echo b > /base-id\n');
  const builds = {} as Record<BuildName, RecordedBuild>;
  const step = async (name: BuildName, opts: { buildArgs?: Record<string, string>; extraArgs?: string[] } = {}) => {
    const snapshot = path.join(snaps, `${name}.ctxsnap`);
    const s = ctxdiff(['snapshot', ctx, '-o', snapshot, '--builder', ops.profile]);
    if (s.code !== 0) throw new Error(`ctxdiff snapshot failed: ${s.stderr}`);
    const log = await ops.build(ctx, APP_TAG, opts);
    builds[name] = { name, log, snapshot, buildArgs: opts.buildArgs ?? {} };
  };
  await ops.exclusive(async () => {
    await ops.prune();
    await ops.tagBaseA();
    await step('01-fresh');
    await writeFile(path.join(ctx, 'b.txt'), 'b2\n');
    await step('02-changed');
    await ops.prune();
    await ops.tagBaseA();
    await step('03-pruned', ops.cacheFrom ? { extraArgs: ['--cache-from', UNREACHABLE_CACHE] } : {});
    await ops.build(baseB, BASE_NAME, {});
    await step('04-base-changed');
    await step('05-build-arg', { buildArgs: { V: '2' } });
    await rewriteKeepingStat(path.join(ctx, 'a.txt'), 'A\n');
    await step('06-stale', { buildArgs: { V: '2' } });
    await writeFile(path.join(ctx, 'a.txt'), 'a7\n');
    await step('07-identical', { buildArgs: { V: '2' } });
  });
  return { builder, profile: ops.profile, contextDir: ctx, builds };
}

/**
 * Give `file` new content of the same size and put its mtime back to the nanosecond (GNU touch takes
 * `@sec.nsec` at full precision; fs.utimes goes through a double and loses the last digits).
 */
export async function rewriteKeepingStat(file: string, content: string): Promise<void> {
  const old = await stat(file, { bigint: true });
  if (BigInt(Buffer.byteLength(content)) !== old.size) throw new Error(`${file}: new content must keep the size (${old.size} bytes)`);
  await writeFile(file, content);
  const sec = old.mtimeNs / 1_000_000_000n;
  const nsec = (old.mtimeNs % 1_000_000_000n).toString().padStart(9, '0');
  execFileSync('touch', ['-m', '-d', `@${sec}.${nsec}`, file]);
  const now = await stat(file, { bigint: true });
  if (now.mtimeNs !== old.mtimeNs || now.size !== old.size) throw new Error(`${file}: mtime ${now.mtimeNs} not restored to ${old.mtimeNs}`);
}
