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
import { styleFor } from '../reporters/format.js';
import { builderIds, DEFAULT_BUILDER, DEFAULT_STORE, getProfile, IMAGE_STORES, type BuilderProfile, type ImageStore } from '../builders/profiles.js';
import { formatsOf } from '../reporters/formats.js';
import type { Reports } from '../reporters/index.js';
import type { ContextSource, LoadedColumns, LoadedContext, LoadOptions } from '../sources/index.js';
import type { EntryColumns, PendingStatCache } from '../context/entry-columns.js';
import { nativeSupport } from '../context/native.js';
import { progressReporter, type ProgressTotal } from './progress.js';

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
  debugNative(o);
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

let nativeSaid = false;
/** With --debug, says once on stderr when walks go without the native helpers (slower; context/native.ts). */
function debugNative(o: CommonOptions): void {
  const why = o.debug && !nativeSaid ? nativeSupport() : null;
  nativeSaid ||= o.debug === true;
  if (why) process.stderr.write(`ctxdiff: debug: ${why}\n`);
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
  debugNative(o);
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

