/**
 * `ctxdiff du`: what makes a build context big. Totals as the builder receives them (the walked context),
 * the largest directories and files, a breakdown by extension, and, for a directory, what the ignore file
 * saves: the same directory walked with no ignore rules (stat only, never hashed), each excluded file
 * credited to the rule that keeps it out.
 */
import fs from 'node:fs';
import { readDirSorted } from '../context/scan.js';
import type { BuilderProfile } from '../builders/profiles.js';
import { walkContext } from '../context/walk.js';
import { matcherFor } from './why.js';
import path from 'node:path';
import { IoError } from '../core/errors.js';
import { fsPath } from '../core/names.js';
import type { IgnoreMatcher, IgnoreRule, MatchResult } from '../ignore/matcher.js';
import type { Entry, EntryType } from '../core/types.js';

/** A path found by {@link walkAll}: what is on disk, with the builder's verdict on it. */
export interface DiskEntry {
  path: string;
  type: EntryType;
  /** Bytes for regular files, 0 otherwise. */
  size: number;
  /**
   * Whether the builder's walk keeps the path out: it is excluded, or lies below an excluded directory the
   * walker does not enter.
   */
  excluded: boolean;
  /** The rule that keeps it out (or, for a path that is sent, the last rule that matched it), or null. */
  rule: IgnoreRule | null;
}

const DIRENT_TYPE = (d: fs.Dirent): EntryType =>
  d.isFile() ? 'file'
  : d.isDirectory() ? 'dir'
  : d.isSymbolicLink() ? 'symlink'
  : d.isFIFO() ? 'fifo'
  : d.isSocket() ? 'socket'
  : d.isCharacterDevice() ? 'char'
  : 'block';

/**
 * Walk everything below `dir` (no ignore rules, symlinks not followed, file sizes from lstat, nothing
 * hashed) and judge each path as the builder's walker would with `matcher` (null = no ignore file): the
 * whole tree, excluded parts included, in sorted order. Throws IoError when a directory cannot be read.
 */
export function walkAll(dir: string, matcher: IgnoreMatcher | null, onWarning?: (message: string) => void): DiskEntry[] {
  const root = path.resolve(dir);
  const out: DiskEntry[] = [];
  /** `blocked`: the rule of an excluded ancestor the builder does not enter (undefined: none). */
  const visit = (abs: string, prefix: string, parent: MatchResult | undefined, blocked: IgnoreRule | null | undefined) => {
    let dirents: fs.Dirent[];
    try {
      dirents = readDirSorted(abs);
    } catch (e) {
      // With onWarning (tolerant callers): a directory below the root that cannot be listed is left out. One
      // the builder receives was reported by the walk already; an excluded one is reported here.
      if (!onWarning || prefix === '' || !(e instanceof IoError)) throw e;
      if (blocked !== undefined || parent?.excluded) onWarning(`${prefix}: ${e.message.slice(e.path.length + 2)} (not listed: what the ignore file saves there is not counted)`);
      return;
    }
    for (const d of dirents) {
      const rel = prefix === '' ? d.name : `${prefix}/${d.name}`;
      const childAbs = `${abs}/${d.name}`;
      const type = DIRENT_TYPE(d);
      let size = 0;
      if (type === 'file') {
        try {
          size = fs.lstatSync(fsPath(childAbs)).size;
        } catch (e) {
          throw IoError.from(childAbs, e);
        }
      }
      let m: MatchResult | undefined;
      let excluded: boolean;
      let rule: IgnoreRule | null;
      if (blocked !== undefined) {
        excluded = true;
        rule = blocked;
      } else {
        m = matcher ? matcher.matchInWalk(rel, parent) : { excluded: false, rule: null };
        excluded = m.excluded;
        rule = m.rule;
      }
      out.push({ path: rel, type, size, excluded, rule });
      if (type !== 'dir') continue;
      let below = blocked;
      if (below === undefined && m!.excluded && !matcher!.mustDescend(rel)) below = m!.rule;
      visit(childAbs, rel, m, below);
    }
  };
  visit(root, '', undefined, undefined);
  return out;
}

export interface Totals {
  files: number;
  bytes: number;
  /** Every entry (files, directories, links, …). */
  entries: number;
}

export interface DirUsage {
  path: string;
  files: number;
  bytes: number;
}

export interface ExtensionUsage {
  /** ".ts", ".json", or "(none)". Lower case. */
  extension: string;
  files: number;
  bytes: number;
}

export interface RuleSaving {
  file: string;
  line: number;
  pattern: string;
  /** The line as written. */
  text: string;
  files: number;
  bytes: number;
}

export interface DuReport {
  /** Context name (as given). */
  context: string;
  builder: string;
  ignoreFile: string | null;
  /** What the builder receives. */
  total: Totals;
  /** The same directory with no ignore rules (null when the context is not a directory). */
  withoutIgnore: Totals | null;
  /** withoutIgnore − total (null when unknown). */
  saved: { files: number; bytes: number } | null;
  largestDirectories: DirUsage[];
  largestFiles: { path: string; bytes: number }[];
  byExtension: ExtensionUsage[];
  /** Excluded files and bytes per deciding rule, largest first (null when unknown). */
  savedByRule: RuleSaving[] | null;
}

export interface DuInput {
  context: string;
  builder: string;
  ignoreFile: string | null;
  /** The entries the builder receives (a walked context, snapshot or tar). */
  entries: readonly Entry[];
  /** The whole directory from {@link walkAll}, when the context is a directory. */
  disk?: readonly DiskEntry[] | null;
}

export interface DuOptions {
  /** How many directories, files and extensions to list (default 10). */
  top?: number;
}

/** The extension of a file name, lower-cased: "a.Test.TS" → ".ts"; ".env", "Makefile" → "(none)". */
export function extensionOf(p: string): string {
  const base = p.slice(p.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot <= 0 ? '(none)' : base.slice(dot).toLowerCase();
}

const bySizeThenPath = <T extends { bytes: number }>(key: (t: T) => string) => (a: T, b: T) =>
  b.bytes - a.bytes || (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);

function totalsOf(list: readonly { type: EntryType; size: number }[]): Totals {
  let files = 0;
  let bytes = 0;
  for (const e of list) {
    if (e.type !== 'file') continue;
    files++;
    bytes += e.size;
  }
  return { files, bytes, entries: list.length };
}

/** Compute the du report from the received entries (and the whole directory, when known). */
export function computeDu(input: DuInput, options: DuOptions = {}): DuReport {
  const top = options.top ?? 10;
  const dirs = new Map<string, DirUsage>();
  const exts = new Map<string, ExtensionUsage>();
  const files: { path: string; bytes: number }[] = [];
  for (const e of input.entries) {
    if (e.type === 'dir' && !dirs.has(e.path)) dirs.set(e.path, { path: e.path, files: 0, bytes: 0 });
    if (e.type !== 'file') continue;
    files.push({ path: e.path, bytes: e.size });
    const ext = extensionOf(e.path);
    let x = exts.get(ext);
    if (!x) exts.set(ext, (x = { extension: ext, files: 0, bytes: 0 }));
    x.files++;
    x.bytes += e.size;
    for (let at = e.path.indexOf('/'); at >= 0; at = e.path.indexOf('/', at + 1)) {
      const d = e.path.slice(0, at);
      let u = dirs.get(d);
      if (!u) dirs.set(d, (u = { path: d, files: 0, bytes: 0 }));
      u.files++;
      u.bytes += e.size;
    }
  }
  const total = totalsOf(input.entries);
  let withoutIgnore: Totals | null = null;
  let saved: DuReport['saved'] = null;
  let savedByRule: RuleSaving[] | null = null;
  if (input.disk) {
    withoutIgnore = totalsOf(input.disk);
    saved = { files: withoutIgnore.files - total.files, bytes: withoutIgnore.bytes - total.bytes };
    const rules = new Map<IgnoreRule, RuleSaving>();
    for (const e of input.disk) {
      if (!e.excluded || e.type !== 'file' || !e.rule) continue;
      let s = rules.get(e.rule);
      if (!s) rules.set(e.rule, (s = { file: e.rule.file, line: e.rule.line, pattern: e.rule.pattern, text: e.rule.text, files: 0, bytes: 0 }));
      s.files++;
      s.bytes += e.size;
    }
    savedByRule = [...rules.values()].sort((a, b) => b.bytes - a.bytes || b.files - a.files || a.line - b.line);
  }
  return {
    context: input.context,
    builder: input.builder,
    ignoreFile: input.ignoreFile,
    total,
    withoutIgnore,
    saved,
    largestDirectories: [...dirs.values()].sort(bySizeThenPath((d) => d.path)).slice(0, top),
    largestFiles: files.sort(bySizeThenPath((f) => f.path)).slice(0, top),
    byExtension: [...exts.values()].sort(bySizeThenPath((e) => e.extension)).slice(0, top),
    savedByRule,
  };
}

/**
 * The du report of a context directory: what the builder receives (walked without hashing, as `profile`
 * applies its ignore file) against the whole directory on disk.
 */
export async function duDirectory(
  dir: string,
  options: { profile: BuilderProfile; dockerfile?: string; onWarning?: (message: string) => void } & DuOptions,
): Promise<DuReport> {
  const { profile, onWarning } = options;
  // What cannot be read is a warning here (du's answer is sizes, not contents): see WalkOptions.unreadable.
  const context = await walkContext(dir, { profile, dockerfile: options.dockerfile, hash: false, unreadable: 'warn', ...(onWarning ? { onWarning } : {}) });
  const disk = walkAll(dir, matcherFor(context.ignore, profile), onWarning ?? (() => {}));
  return computeDu({ context: dir, builder: profile.id, ignoreFile: context.ignore?.file ?? null, entries: context.entries, disk }, options);
}
