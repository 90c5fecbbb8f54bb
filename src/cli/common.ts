/**
 * What every command shares: common options, loading a context with progress, rendering a report. The CLI
 * loads the code a command runs (walk, reporters, …) when the command runs: what every run loads is kept to
 * argument parsing, as it is part of the time of every run.
 */
import type * as Commander from 'commander';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { UsageError } from '../core/errors.js';
import { escapeControls } from '../core/names.js';
import { count, humanSize, styleFor } from '../reporters/format.js';
import { builderIds, DEFAULT_BUILDER, DEFAULT_STORE, getProfile, IMAGE_STORES, type BuilderProfile, type ImageStore } from '../builders/profiles.js';
import { formatsOf } from '../reporters/formats.js';
import type { Reports } from '../reporters/index.js';
import type { ContextSource, LoadedColumns, LoadedContext, LoadOptions } from '../sources/index.js';
import type { EntryColumns, PendingStatCache } from '../context/entry-columns.js';
import type { WalkProgress } from '../context/walk.js';

/**
 * commander, required as the CommonJS module it is: imported as ESM, Node first scans its sources for their
 * exports, which adds ~5 ms to every run.
 */
export const { Command, CommanderError, Option } = createRequire(import.meta.url)('commander') as typeof Commander;
export type Command = Commander.Command;

export interface CommonOptions {
  /** --output: where the report goes (every command but snapshot, whose -o is the snapshot). */
  output?: string;
  builder: string;
  store?: ImageStore;
  file?: string;
  json?: boolean;
  format?: string;
  debug?: boolean;
  progress?: boolean;
  xattrs?: boolean;
  /** --no-cache: false (read every file, re-use no hash from a snapshot). */
  cache?: boolean;
}

export const out = (s: string) => process.stdout.write(s);

/** Every warning of this run: printed on stderr as it comes (control characters in the names it quotes
 * escaped), and handed to the report (JSON `warnings`…). */
const warnings: string[] = [];
export function warn(s: string): void {
  if (!warnings.includes(s)) warnings.push(s);
  process.stderr.write(`ctxdiff: warning: ${escapeControls(s)}\n`);
}

export function formatOf(o: CommonOptions): string {
  if (o.json && o.format && o.format !== 'json') throw new UsageError('--json and --format disagree');
  return o.json ? 'json' : (o.format ?? 'text');
}

/** What a walk is expected to come to (an earlier snapshot's totals), for the progress line's estimate. */
export interface ProgressTotal {
  entries: number;
  bytes: number;
}

/** The entries and regular files' bytes of a table (a snapshot's totals). */
export function totalsOf(cols: EntryColumns): ProgressTotal {
  let bytes = 0;
  for (let r = 0; r < cols.length; r++) if (cols.type[r] === 0) bytes += cols.size[r]!;
  return { entries: cols.length, bytes };
}

/**
 * The totals of a snapshot whose entries are still to be decoded (a pending stat cache): the entries it
 * declares at once, their bytes filled in once decoded.
 */
export function pendingTotal(pending: PendingStatCache & { declared: number }): ProgressTotal {
  const total: ProgressTotal = { entries: pending.declared, bytes: 0 };
  pending.entries.then((e) => Object.assign(total, totalsOf(e)), () => {});
  return total;
}

/** The progress line (see progressReporter). `seconds` since the walk started. */
export function progressLine(p: WalkProgress, seconds: number, total?: ProgressTotal): string {
  const rate = (n: number) => (seconds > 0 ? n / seconds : 0);
  let line = `walking: ${count(p.entries)} entries (${count(rate(p.entries))}/s), ${humanSize(p.bytes)} (${humanSize(Math.round(rate(p.bytes)))}/s)`;
  line += p.reading ? ' read' : ' stat-checked';
  if (p.reused > 0) line += `, ${count(p.reused)} files unchanged (not read)`;
  if (total && total.entries > 0) {
    // While only attributes are read, the entries tell how far along the walk is; while contents are, the
    // entries and the bytes both do (small files cost per entry, large ones per byte).
    const fe = Math.min(1, p.entries / total.entries);
    const fb = total.bytes > 0 ? Math.min(1, p.bytes / total.bytes) : fe;
    const f = p.reading ? (fe + fb) / 2 : fe;
    if (f > 0.01 && f < 1 && seconds >= 0.5) line += `, about ${formatEta((seconds * (1 - f)) / f)} left`;
  }
  return line;
}

function formatEta(s: number): string {
  if (s < 60) return `${Math.max(1, Math.round(s))} s`;
  return `${Math.floor(s / 60)} min ${String(Math.round(s % 60)).padStart(2, '0')} s`;
}

/**
 * Progress on stderr, only when stderr is a terminal: entries and bytes per second, and, given what the walk
 * is expected to come to (`total`, from a snapshot of the same context), an estimate of the time left.
 */
export function progressReporter(o: CommonOptions, total?: ProgressTotal): { onProgress?: (p: WalkProgress) => void; done(): void } {
  if (!process.stderr.isTTY || o.progress === false) return { done() {} };
  let shown = false;
  let last = 0;
  const started = Date.now();
  return {
    onProgress: (p) => {
      const now = Date.now();
      if (now - last < 100) return; // ten updates a second are plenty
      last = now;
      shown = true;
      process.stderr.write(`\r\x1b[K${progressLine(p, (now - started) / 1000, total)}`);
    },
    done: () => {
      if (shown) process.stderr.write('\r\x1b[K');
    },
  };
}

/** The builder profile the options name: resolved once per command, then passed down as an object. */
export function profileOf(o: CommonOptions): BuilderProfile {
  return getProfile(o.builder, o.store ? { store: o.store } : {});
}

/**
 * A file of a directory context as a path from the current directory, with `/` (what CI annotations and
 * code scanning expect: the job runs at the repository root); absolute when it is not below the current
 * directory. `file` is relative to `dir`, or absolute.
 */
export function pathFromCwd(dir: string, file: string): string {
  const abs = path.resolve(dir, file);
  const rel = path.relative(process.cwd(), abs);
  // Outside the current directory: the absolute path says where it is better than ../../…
  if (rel.startsWith('..') || path.isAbsolute(rel)) return abs.split(path.sep).join('/');
  return (rel === '' ? '.' : rel).split(path.sep).join('/');
}

/** True for an existing directory (not `-`, stdin). */
export function isDirectory(spec: string): boolean {
  return spec !== '-' && fs.statSync(spec, { throwIfNoEntry: false })?.isDirectory() === true;
}

/**
 * Loads a context. `unreadable` is the exit-code policy for a path inside a directory context that cannot be
 * read (README, "Guarantees"): `error` (exit 2) for the commands whose answer depends on contents (snapshot,
 * tree, diff), `warn` for the others.
 */
export async function load(spec: string, o: CommonOptions, profile: BuilderProfile, unreadable: 'error' | 'warn' = 'error'): Promise<LoadedContext> {
  const progress = progressReporter(o);
  const opts: LoadOptions = {
    profile,
    dockerfile: o.file,
    unreadable,
    onWarning: warn,
    onProgress: progress.onProgress,
    ...(o.xattrs !== undefined ? { xattrs: o.xattrs } : {}),
  };
  void loadReporters();
  try {
    const { loadContext } = await import('../sources/index.js');
    const loaded = await loadContext(spec, opts);
    for (const w of loaded.warnings) if (!warnings.includes(w)) warn(w);
    return loaded;
  } finally {
    progress.done();
  }
}

/**
 * Like load, with the entries as columns (no object per entry: for large contexts). A directory re-uses
 * hashes from `cache` (a snapshot of it, see WalkOptions.cache), and the progress line estimates what is left
 * from `total`.
 */
export async function loadColumns(
  spec: string | ContextSource,
  o: CommonOptions,
  profile: BuilderProfile,
  extra: { cache?: EntryColumns | PendingStatCache; total?: ProgressTotal; pathBytes?: Promise<number>; decodeOnThread?: boolean } = {},
): Promise<LoadedColumns> {
  const progress = progressReporter(o, extra.total);
  const opts: LoadOptions = {
    profile,
    dockerfile: o.file,
    unreadable: 'error',
    onWarning: warn,
    onProgress: progress.onProgress,
    ...(o.xattrs !== undefined ? { xattrs: o.xattrs } : {}),
    ...(extra.cache ? { cache: extra.cache, cacheSkipped: (why: string) => o.debug && warn(`stat cache not used: ${why}`) } : {}),
    ...(extra.total ? { expectedEntries: extra.total.entries } : {}),
    ...(extra.pathBytes ? { expectedPathBytes: extra.pathBytes } : {}),
    ...(extra.decodeOnThread ? { decodeOnThread: true } : {}),
  };
  void loadReporters();
  try {
    const source = typeof spec === 'string' ? await sourceOf(spec) : spec;
    const loaded = await source.loadColumns(opts);
    for (const w of loaded.warnings) if (!warnings.includes(w)) warn(w);
    return loaded;
  } finally {
    progress.done();
  }
}

/** The source a context argument names (directory, snapshot, tar; see sources/index.ts). */
export async function sourceOf(spec: string): Promise<ContextSource> {
  const { resolveSource } = await import('../sources/index.js');
  return resolveSource(spec);
}

let reporters: Promise<typeof import('../reporters/index.js')> | undefined;

/** Starts loading the reporters (once): a command that walks a context calls it first, so the walk hides it. */
export function loadReporters(): Promise<typeof import('../reporters/index.js')> {
  if (!reporters) {
    reporters = import('../reporters/index.js');
    reporters.catch(() => {}); // emit reports a failure; a command that fails first never asks
  }
  return reporters;
}

export async function emit<K extends keyof Reports>(o: CommonOptions, kind: K, report: Reports[K]): Promise<void> {
  const { render } = await loadReporters();
  // `snapshot -o` names the snapshot itself: its report always goes to standard output.
  const file = kind === 'snapshot' ? undefined : o.output;
  if (file === undefined) {
    out(await render(formatOf(o), kind, report, styleFor(process.stdout), { warnings: [...warnings] }));
    return;
  }
  // --output FILE: the report, uncoloured, written atomically (a device, FIFO or symlink there is refused).
  const text = await render(formatOf(o), kind, report, styleFor({ isTTY: false }, {}), { warnings: [...warnings] });
  const { writeOutputFile } = await import('../core/safe-output.js');
  await writeOutputFile(file, [Buffer.from(text)]);
}

export function parseDepth(v: string): number {
  if (!/^\d+$/.test(v)) throw new UsageError(`--depth takes a whole number, not "${v}"`);
  return Number(v);
}

/**
 * The options every command has. `kind` names the report the command emits: `--format` offers only the
 * formats that report has (reporters/formats.ts).
 */
export function addCommon(cmd: Command, opts: { file?: boolean; kind?: string } = { file: true }): Command {
  cmd.addOption(
    new Option('-b, --builder <builder>', 'builder profile (ctxdiff builders lists them)').choices(builderIds()).default(DEFAULT_BUILDER),
  );
  cmd.addOption(
    new Option('--store <store>', 'image store, where it changes a verdict (COPY --link)').choices(IMAGE_STORES).default(DEFAULT_STORE),
  );
  if (opts.file) cmd.option('-f, --file <Dockerfile>', 'the Dockerfile (as with docker build -f); its <Dockerfile>.dockerignore applies');
  cmd.option('--json', 'JSON output (same as --format json)');
  cmd.addOption(new Option('--format <format>', 'output format').choices([...formatsOf(opts.kind ?? cmd.name())]));
  if (!cmd.options.some((x) => x.long === '--output')) {
    cmd.option('--output <file>', 'write the report to a file (atomically) instead of standard output');
  }
  cmd.option('--no-progress', 'no progress on stderr');
  cmd.option('--xattrs', 'read extended attributes (default: only for builders that count them)');
  cmd.option('--no-xattrs', 'do not read extended attributes');
  return cmd;
}

