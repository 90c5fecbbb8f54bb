/**
 * Running the built CLI (dist/) on hostile inputs, the way an attacker or an unlucky user would: a real
 * process, real files in a temporary directory, optionally as an unprivileged user (`setpriv`: root would
 * bypass file permissions). Each run is measured: wall time, and peak RSS from /usr/bin/time.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { expect } from 'vitest';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const BIN = path.join(ROOT, 'bin/ctxdiff.js');
const GNU_TIME = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
const SETPRIV = fs.existsSync('/usr/bin/setpriv') ? '/usr/bin/setpriv' : null;

/** The unprivileged user the permission cases run as. */
export const NOBODY = 65534;
/** Whether cases that need root to set up (mknod, mount) or to drop privileges can run. */
export const IS_ROOT = process.geteuid?.() === 0;
export const CAN_DROP = IS_ROOT && SETPRIV !== null;

/** Peak RSS every hostile case must stay under. */
export const RSS_LIMIT_KIB = 300 * 1024;

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  /** Peak resident set of the ctxdiff process, KiB (null without /usr/bin/time). */
  rssKiB: number | null;
}

export interface RunOptions {
  cwd?: string;
  input?: string | Buffer;
  /** Run as this uid/gid (setpriv), e.g. NOBODY. */
  asUser?: number;
  /** Kill after this long (the case's time bound is asserted separately). */
  timeoutMs?: number;
  /** File descriptor or path standard output goes to (default: a pipe). */
  stdoutTo?: number;
  env?: NodeJS.ProcessEnv;
}

function argvFor(args: string[], o: RunOptions, rssFile: string | null): string[] {
  let argv = [process.execPath, BIN, ...args];
  if (o.asUser !== undefined) argv = [SETPRIV!, `--reuid=${o.asUser}`, `--regid=${o.asUser}`, '--clear-groups', ...argv];
  if (rssFile && GNU_TIME) argv = [GNU_TIME, '-f', '%M', '-o', rssFile, ...argv];
  return argv;
}

let seq = 0;
function rssPath(): string {
  return path.join(os.tmpdir(), `ctxdiff-hostile-rss-${process.pid}-${seq++}`);
}

function readRss(file: string): number | null {
  try {
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
    const n = Number(lines[lines.length - 1]);
    return Number.isFinite(n) ? n : null;
  } catch {
    return null;
  } finally {
    fs.rmSync(file, { force: true });
  }
}

/** Runs the CLI to completion (synchronously). */
export function runCli(args: string[], o: RunOptions = {}): RunResult {
  const rss = rssPath();
  const [cmd, ...rest] = argvFor(args, o, rss);
  const start = performance.now();
  const r = spawnSync(cmd!, rest, {
    cwd: o.cwd ?? ROOT,
    input: o.input,
    env: { ...process.env, NO_COLOR: '1', ...o.env },
    encoding: 'utf8',
    maxBuffer: 256 << 20,
    timeout: o.timeoutMs ?? 120_000,
    stdio: ['pipe', o.stdoutTo ?? 'pipe', 'pipe'],
  });
  const ms = performance.now() - start;
  return { code: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', ms, rssKiB: readRss(rss) };
}

/** Starts the CLI without waiting (for signals, concurrent writers); `done` resolves with its result. */
export function startCli(args: string[], o: RunOptions = {}): { child: ChildProcess; done: Promise<RunResult> } {
  const rss = rssPath();
  const [cmd, ...rest] = argvFor(args, o, rss);
  const start = performance.now();
  const child = spawn(cmd!, rest, { cwd: o.cwd ?? ROOT, env: { ...process.env, NO_COLOR: '1', ...o.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<RunResult>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, ms: performance.now() - start, rssKiB: readRss(rss) }));
  });
  return { child, done };
}

/** A temporary directory any user can enter and read (cases run as nobody need that), removed by `cleanup`. */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ctxdiff-hostile-${prefix}-`));
  fs.chmodSync(dir, 0o755);
  return dir;
}

/** Removes a temporary directory made by tempDir, whatever permissions its contents were left with. */
export function cleanup(dir: string): void {
  spawnSync('chmod', ['-R', 'u+rwx', dir]);
  // rm(1) walks with relative steps: it also removes paths longer than PATH_MAX, which fs.rmSync cannot.
  spawnSync('rm', ['-rf', dir]);
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Every temporary file ctxdiff could have left below `dir` (names `.NAME.<pid>-<rand>.tmp`). */
export function leftovers(dir: string): string[] {
  const out: string[] = [];
  const visit = (d: string) => {
    let names: fs.Dirent[];
    try {
      names = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const n of names) {
      const abs = path.join(d, n.name);
      if (/^\..*\.\d+-[0-9a-z]+\.tmp$/.test(n.name)) out.push(abs);
      if (n.isDirectory()) visit(abs);
    }
  };
  visit(dir);
  return out;
}

export interface Bounds {
  /** Time bound, ms. */
  ms: number;
  /** Peak RSS bound, KiB (default RSS_LIMIT_KIB). */
  rssKiB?: number;
  /** Directory that must hold no temporary file afterwards. */
  clean?: string;
}

/** The run stayed within its bounds and left nothing behind. */
export function expectBounded(r: RunResult, b: Bounds): void {
  expect(r.signal, `killed by ${r.signal} (stderr: ${r.stderr.slice(0, 300)})`).toBeNull();
  expect(r.ms, 'time bound').toBeLessThan(b.ms);
  if (r.rssKiB !== null) expect(r.rssKiB, 'peak RSS (KiB)').toBeLessThan(b.rssKiB ?? RSS_LIMIT_KIB);
  if (b.clean) expect(leftovers(b.clean)).toEqual([]);
}

/** The run failed with exactly one line on stderr matching `line`, exit 2, within its bounds. */
export function expectOneLineError(r: RunResult, line: RegExp, b: Bounds): void {
  expectBounded(r, b);
  expect(r.stderr).toMatch(/^ctxdiff: [^\n]*\n$/);
  expect(r.stderr).toMatch(line);
  expect(r.code).toBe(2);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

/** The run succeeded (exit 0) with nothing on stderr but the warnings matched by `warnings`. */
export function expectOk(r: RunResult, b: Bounds, warnings: RegExp[] = []): void {
  expectBounded(r, b);
  expect(r.code, r.stderr).toBe(0);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  expect(lines.length, r.stderr).toBe(warnings.length);
  lines.forEach((l, i) => expect(l).toMatch(warnings[i]!));
}

/** Mounts a filesystem for a case (root only); returns an unmount function. */
export function mount(args: string[]): () => void {
  const r = spawnSync('mount', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mount ${args.join(' ')}: ${r.stderr}`);
  const target = args[args.length - 1]!;
  return () => {
    spawnSync('umount', [target]);
  };
}
