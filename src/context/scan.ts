/**
 * Scanning a build context's directories: the synchronous core of the walk, run on the worker threads of
 * `FilePool` (and on the calling thread for small contexts). A scan reads directories depth-first, applies
 * the ignore rules exactly as the walk defines them (see `walkContext`), records every entry's raw
 * attributes (lstat; regular files: fstat of the open descriptor) and hashes regular files.
 *
 * Results are columns, cheap to send between threads: entry paths as one NUL-joined string, numbers in a
 * Float64Array, hashes as bytes (HASH_BYTES each), and the rare extras (symlink targets, device
 * numbers, extended attributes, errors) sparse. Each scanned directory lists its own entries, in name order;
 * the caller stitches directories together into the canonical order.
 *
 * A scan stops at a budget (files and bytes read), so that work spreads over threads: the files left in the
 * directory being read are handed back unread ("deferred", to be hashed in batches elsewhere) and the
 * directories not yet read are handed back as tasks ("spilled").
 */
import fs from 'node:fs';
import { IoError } from '../core/errors.js';
import { decodeName, fsPath, isPlainName } from '../core/names.js';
import { lstatInto, type FileHasher } from './hash.js';
import { createIgnoreMatcher, type IgnoreMatcher, type MatchResult } from '../ignore/matcher.js';
import type { Entry } from '../core/types.js';
import { readXattrs } from './xattrs.js';
import { S_FIELDS, S_GID, S_MNSEC, S_MODE, S_MSEC, S_RMAJOR, S_RMINOR, S_SIZE, S_UID, lstatRaw, nativeFs, rawFromStats, succeeded } from './native.js';
import {
  F_CHANGED, F_DEFERRED, F_ERROR, F_EXCLUDED_DIR, F_EXTRAS, F_FAILED, F_HASH, F_MS_TIMES, F_UNREAD, F_WALKED, HashColumn, NUMS, N_CSEC, N_DEV,
  N_FLAGS, N_GID, N_INO, N_MODE, N_SEC, N_SIZE, N_TYPE, N_UID, TYPE_CODES, putRaw, scanResult, typeCodeOf,
  type DirTask, type Extras, type ScanBudget, type ScanConfig, type ScanResult, type SerializedError,
} from './scan-result.js';

const INCLUDED: MatchResult = { excluded: false, rule: null };

/** A directory's entries in name order (the walk's order); IoError naming the directory if it cannot be read. */
export function readDirSorted(abs: string): fs.Dirent[] {
  return readDirNames(abs).dirents;
}

/**
 * A directory's entries in name order, names decoded losslessly (core/names.ts): `raw` says whether some
 * name was not UTF-8 (its entries' paths hold escapes: use fsPath for them). `abs` may hold escapes itself.
 */
export function readDirNames(abs: string): { dirents: fs.Dirent[]; raw: boolean } {
  const where = fsPath(abs);
  let dirents: fs.Dirent[];
  try {
    dirents = fs.readdirSync(where, { withFileTypes: true });
  } catch (e) {
    throw IoError.from(abs, e);
  }
  // Node decodes names as UTF-8, replacing what is not: such a name is read again as bytes.
  for (let i = 0; i < dirents.length; i++) {
    if (dirents[i]!.name.includes('\uFFFD')) return { dirents: readDirBytes(where, abs).sort(byName), raw: true };
  }
  return { dirents: dirents.sort(byName), raw: false };
}

function readDirBytes(where: string | Buffer, abs: string): fs.Dirent[] {
  let raw: fs.Dirent<Buffer>[];
  try {
    raw = fs.readdirSync(where, { withFileTypes: true, encoding: 'buffer' });
  } catch (e) {
    throw IoError.from(abs, e);
  }
  // The same Dirent (its type), with the name decoded losslessly.
  return raw.map((d) => Object.assign(Object.create(Object.getPrototypeOf(d) as object) as fs.Dirent, d, { name: decodeName(d.name) }));
}

/** Growable result columns. */
class ResultWriter {
  dirs: string[] = [];
  /** Where each directory's entries start. */
  dirStarts: number[] = [];
  paths: string[] = [];
  nums = new Float64Array(256 * NUMS);
  hashes = new HashColumn();
  extras: [number, Extras][] = [];
  errors: [number, Error | SerializedError][] = [];
  deferred: number[] = [];
  files = 0;
  bytes = 0;

  get length(): number {
    return this.paths.length;
  }

  beginDir(path: string): void {
    this.dirs.push(path);
    this.dirStarts.push(this.paths.length);
  }

  /** Appends an entry; returns the offset of its numbers. */
  add(path: string): number {
    const i = this.paths.length;
    this.paths.push(path);
    if ((i + 1) * NUMS > this.nums.length) {
      const bigger = new Float64Array(this.nums.length * 2);
      bigger.set(this.nums);
      this.nums = bigger;
    }
    return i * NUMS; // fresh zeros: every entry is written once
  }

  result(spilled: DirTask[]): ScanResult {
    const { dirStarts } = this;
    const counts = new Int32Array(dirStarts.length);
    for (let k = 0; k < counts.length; k++) counts[k] = (dirStarts[k + 1] ?? this.paths.length) - dirStarts[k]!;
    return scanResult({
      dirs: this.dirs.join('\0'),
      counts,
      paths: this.paths.join('\0'),
      nums: this.nums.slice(0, this.paths.length * NUMS),
      hashes: this.hashes.result(),
      extras: this.extras,
      errors: this.errors,
      spilled,
      deferred: Int32Array.from(this.deferred),
      files: this.files,
      bytes: this.bytes,
    });
  }
}

/** A directory on the scan's stack. */
interface Pending {
  path: string;
  abs: string;
  parent: MatchResult | undefined;
}

const byName = (a: fs.Dirent, b: fs.Dirent) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** Reads directories of one context (one per thread). */
export class DirScanner {
  private readonly matcher: IgnoreMatcher | null;
  /**
   * The last directory listing and result writer, kept only so that objects of their shapes stay alive. V8
   * holds the shapes (maps) that optimized code was compiled for weakly: a full GC that finds no object of
   * one drops it and throws away every function compiled against it. Between two directories no Dirent may
   * be alive, and a full GC then threw away the optimized scanning code of a whole thread, to be compiled
   * again (~100 ms of compiling per thread on the 100k-file bench tree). FileHasher keeps its last stat.
   */
  private keepDirents: fs.Dirent[] = [];
  private keepWriter: ResultWriter | null = null;
  private keepStat: fs.Stats | null = null;
  /** The native helpers, when used (native.ts): lstat's times are exact, no F_MS_TIMES. */
  private readonly native = nativeFs();
  /** The raw stat of the entry at hand (native.ts's S_* layout). */
  private readonly raw = new Float64Array(S_FIELDS);

  constructor(
    private readonly config: ScanConfig,
    private readonly hasher: FileHasher | null,
  ) {
    this.matcher = config.ignore ? createIgnoreMatcher(config.ignore.rules, config.ignore.variant) : null;
  }

  /** Reads `tasks` and the directories below them, depth-first, until done or over `budget`. */
  scan(tasks: DirTask[], budget: ScanBudget): ScanResult {
    const out = new ResultWriter();
    this.keepWriter = out;
    const stack: Pending[] = [];
    for (let i = tasks.length - 1; i >= 0; i--) stack.push(this.pending(tasks[i]!));
    while (stack.length > 0) {
      if (out.dirs.length > 0 && (out.files >= budget.files || out.bytes >= budget.bytes)) break;
      this.scanDir(stack.pop()!, stack, out, budget);
    }
    const spilled: DirTask[] = [];
    for (let i = stack.length - 1; i >= 0; i--) spilled.push(this.task(stack[i]!));
    return out.result(spilled);
  }

  private pending(t: DirTask): Pending {
    const abs = t.path === '' ? this.config.root : `${this.config.root}/${t.path}`;
    if (t.match === null) return { path: t.path, abs, parent: undefined };
    const rule = this.matcher?.rules[t.match.rule] ?? null;
    const parent: MatchResult = t.match.hits ? { excluded: t.match.excluded, rule, ruleHits: t.match.hits } : { excluded: t.match.excluded, rule };
    return { path: t.path, abs, parent };
  }

  private task(p: Pending): DirTask {
    if (p.parent === undefined) return { path: p.path, match: null };
    const m = p.parent;
    const rule = m.rule && this.matcher ? this.matcher.rules.indexOf(m.rule) : -1;
    return { path: p.path, match: { excluded: m.excluded, rule, hits: m.ruleHits ?? null } };
  }

  /** Reads one directory; pushes the directories to read below it (last first). */
  private scanDir(dir: Pending, stack: Pending[], out: ResultWriter, budget: ScanBudget): void {
    out.beginDir(dir.path);
    const below: Pending[] = [];
    try {
      // With the native helpers, entries are lstat'ed by name relative to the directory (one path component
      // looked up each, not the whole path); without them, or when that cannot be opened, by path.
      const plainDir = isPlainName(dir.abs);
      if (this.native && plainDir) this.dfd = Math.max(-1, this.native.dirfd(dir.abs));
      const listing = readDirNames(dir.abs);
      const dirents = listing.dirents;
      // Paths that hold escaped bytes (a name that is not UTF-8, here or above) reach the system as bytes.
      const plain = !listing.raw && plainDir;
      if (!plain) this.closeDir();
      this.keepDirents = dirents;
      const { matcher, hasher } = this;
      const { dirPolicy, xattrs, statOnly } = this.config;
      const prefix = dir.path;
      for (const d of dirents) {
        const name = d.name;
        const rel = prefix === '' ? name : `${prefix}/${name}`;
        const abs = `${dir.abs}/${name}`;
        const at = plain ? abs : fsPath(abs);
        const m = matcher ? matcher.matchInWalk(rel, dir.parent) : INCLUDED;
        if (m.excluded) {
          // An excluded directory is read only if an exception may re-include something below it.
          if (!d.isDirectory() || !matcher!.mustDescend(rel)) continue;
          const st = this.lstatHere(at, abs, name);
          if (typeCodeOf(st[S_MODE]!) !== 1) continue;
          if (dirPolicy === 'implied') {
            // The builder creates it when unpacking a file below it: mode 0755, owner 0:0, mtime 0.
            const o = out.add(rel);
            out.nums[o + N_TYPE] = 1;
            out.nums[o + N_MODE] = 0o755;
          } else {
            this.lstatEntry(at, abs, rel, out, xattrs, st);
          }
          out.nums[(out.length - 1) * NUMS + N_FLAGS] |= F_WALKED | F_EXCLUDED_DIR;
          below.push({ path: rel, abs, parent: m });
          continue;
        }
        if (hasher && d.isFile() && !statOnly) {
          const o = out.add(rel);
          if (out.files >= budget.files || out.bytes >= budget.bytes) {
            out.nums[o + N_FLAGS] = F_DEFERRED;
            out.deferred.push(out.length - 1);
            continue;
          }
          try {
            const hash = hasher.statAndHash(at, out.nums, o, xattrs);
            out.nums[o + N_FLAGS] = hasher.changed ? F_HASH | F_CHANGED : F_HASH;
            out.hashes.push(hash);
            out.files++;
            out.bytes += out.nums[o + N_SIZE]!;
            const x = hasher.xattrs;
            if (x) {
              out.nums[o + N_FLAGS] |= F_EXTRAS;
              out.extras.push([out.length - 1, { xattrs: x }]);
            }
          } catch (e) {
            const err = e as NodeJS.ErrnoException;
            out.nums.fill(0, o, o + NUMS);
            lstatInto(at, out.nums, o); // its attributes, for the commands that list it all the same
            out.nums[o + N_FLAGS] = F_FAILED;
            out.errors.push([out.length - 1, { kind: 'io', path: abs, code: err.code ?? 'EIO', message: err.message }]);
          }
          continue;
        }
        if (statOnly && hasher && d.isFile() && this.unreadFile(at, abs, rel, name, out)) continue;
        const code = this.lstatEntry(at, abs, rel, out, xattrs, this.lstatHere(at, abs, name));
        if (code === 1) {
          out.nums[(out.length - 1) * NUMS + N_FLAGS] |= F_WALKED;
          below.push({ path: rel, abs, parent: m });
        } else if (code === 0 && statOnly && hasher) {
          out.nums[(out.length - 1) * NUMS + N_FLAGS] |= F_UNREAD;
        } else if (code === 0 && this.config.checkReadable) {
          const o = (out.length - 1) * NUMS;
          const failure = this.unreadable(at, out.nums, o);
          if (failure !== null) {
            out.nums[o + N_FLAGS] |= F_FAILED;
            out.errors.push([out.length - 1, { kind: 'io', path: abs, code: failure, message: failure }]);
          }
        }
      }
    } catch (e) {
      // The walk fails here; what precedes stays, so the caller can tell which failure comes first.
      const o = out.add('');
      out.nums[o + N_FLAGS] = F_ERROR;
      out.errors.push([out.length - 1, e instanceof Error ? e : new Error(String(e))]);
    } finally {
      this.closeDir();
    }
    for (let i = below.length - 1; i >= 0; i--) stack.push(below[i]!);
  }

  /** The directory being read, open for lstatat (native helpers only), or -1. */
  private dfd = -1;

  private closeDir(): void {
    if (this.dfd >= 0) this.native!.closefd(this.dfd);
    this.dfd = -1;
  }

  /** lstat of entry `name` of the directory being read (`at`, `abs`: its path) into this.raw; IoError naming `abs`. */
  private lstatHere(at: string | Buffer, abs: string, name: string): Float64Array {
    if (this.dfd < 0) return lstat(at, abs, this.raw);
    try {
      succeeded(this.native!.lstatat(this.dfd, name, this.raw), 'lstat', abs);
    } catch (e) {
      throw IoError.from(abs, e);
    }
    return this.raw;
  }

  private readonly euid = process.geteuid?.() ?? -1;
  private readonly groups = new Set(process.getgroups?.() ?? []);

  /**
   * Whether this process could not read a regular file (the error code), from its permission bits and, only
   * when they do not grant read access, access(2) (ACLs and capabilities decide there): null when readable.
   */
  private unreadable(at: string | Buffer, nums: Float64Array, o: number): string | null {
    if (this.euid === 0) return null;
    const mode = nums[o + N_MODE]!;
    const bit = nums[o + N_UID] === this.euid ? 0o400 : this.groups.has(nums[o + N_GID]!) ? 0o040 : 0o004;
    if (mode & bit) return null;
    try {
      fs.accessSync(at, fs.constants.R_OK);
      return null;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code ?? 'EACCES';
    }
  }

  /**
   * Records a regular file the stat cache decides on (F_UNREAD) from its lstat: the native one (times exact),
   * else Node's plain one, its times in milliseconds (F_MS_TIMES): no BigInt, no Date per file. Its extended
   * attributes are not read: the stat cache lends the recorded ones with the hash, or the file is read, and
   * they with it. False, recording nothing, when
   * lstat finds no regular file there (it was replaced since the directory was read): the caller records it
   * as any other entry.
   */
  private unreadFile(at: string | Buffer, abs: string, rel: string, name: string, out: ResultWriter): boolean {
    if (this.native) {
      const raw = this.lstatHere(at, abs, name);
      if (typeCodeOf(raw[S_MODE]!) !== 0) return false;
      const o = out.add(rel);
      putRaw(out.nums, o, raw);
      out.nums[o + N_FLAGS] = F_UNREAD;
      out.files++;
      out.bytes += raw[S_SIZE]!;
      return true;
    }
    let st: fs.Stats;
    try {
      st = fs.lstatSync(at);
    } catch (e) {
      throw IoError.from(abs, e);
    }
    this.keepStat = st;
    if (typeCodeOf(st.mode) !== 0) return false;
    const o = out.add(rel);
    const nums = out.nums;
    nums[o + N_FLAGS] = F_UNREAD | F_MS_TIMES;
    nums[o + N_TYPE] = 0;
    nums[o + N_MODE] = st.mode & 0o7777;
    nums[o + N_UID] = st.uid;
    nums[o + N_GID] = st.gid;
    nums[o + N_SIZE] = st.size;
    nums[o + N_SEC] = st.mtimeMs;
    nums[o + N_CSEC] = st.ctimeMs;
    nums[o + N_INO] = st.ino;
    nums[o + N_DEV] = st.dev;
    out.files++;
    out.bytes += st.size;
    return true;
  }

  /**
   * Records an entry from lstat (links are not followed); returns its type code. `at` is what the system is
   * given for `abs` (its bytes when it holds escapes).
   */
  private lstatEntry(at: string | Buffer, abs: string, rel: string, out: ResultWriter, withXattrs: boolean, st: Float64Array): number {
    const o = out.add(rel);
    const nums = out.nums;
    const code = putRaw(nums, o, st);
    let extras: Extras | undefined;
    if (code === 2) {
      extras = { target: readTarget(at, abs) };
    } else if (code === 5 || code === 6) {
      extras = { devMajor: st[S_RMAJOR]!, devMinor: st[S_RMINOR]! };
    }
    if (withXattrs) {
      const x = readXattrs(at);
      if (x) (extras ??= {}).xattrs = x;
    }
    if (extras) {
      nums[o + N_FLAGS] |= F_EXTRAS;
      out.extras.push([out.length - 1, extras]);
    }
    if (code === 0) {
      out.files++;
      out.bytes += nums[o + N_SIZE]!;
    }
    return code;
  }
}

/** lstat of `at` into `raw` (native.ts's S_* layout), which it returns; IoError naming `abs`. */
function lstat(at: string | Buffer, abs: string, raw = new Float64Array(S_FIELDS)): Float64Array {
  try {
    lstatRaw(at, raw);
  } catch (e) {
    throw IoError.from(abs, e);
  }
  return raw;
}

/** A symlink's target, bytes decoded losslessly (a target need not be UTF-8 either). */
function readTarget(at: string | Buffer, abs: string): string {
  try {
    return decodeName(fs.readlinkSync(at, { encoding: 'buffer' }));
  } catch (err) {
    throw IoError.from(abs, err);
  }
}

/**
 * Raw attributes of a path (lstat: links are not followed), or with `follow` of what a symlink there points
 * to (the context root only: the builder follows a symlinked context directory, and nothing below it).
 */
export function statEntry(abs: string, rel: string, withXattrs = false, follow = false): Entry {
  const at = fsPath(abs);
  let st: Float64Array;
  if (follow) {
    st = new Float64Array(S_FIELDS);
    try {
      rawFromStats(fs.statSync(at, { bigint: true }), st);
    } catch (e) {
      throw IoError.from(abs, e);
    }
  } else {
    st = lstat(at, abs);
  }
  const mode = st[S_MODE]!;
  const type = TYPE_CODES[typeCodeOf(mode)]!;
  const e: Entry = {
    path: rel,
    type,
    mode: mode & 0o7777,
    uid: st[S_UID]!,
    gid: st[S_GID]!,
    size: type === 'file' ? st[S_SIZE]! : 0,
    mtimeSec: st[S_MSEC]!,
    mtimeNsec: st[S_MNSEC]!,
  };
  if (type === 'symlink') {
    e.target = readTarget(at, abs);
  } else if (type === 'char' || type === 'block') {
    e.devMajor = st[S_RMAJOR]!;
    e.devMinor = st[S_RMINOR]!;
  }
  if (withXattrs) {
    const x = readXattrs(at);
    if (x) e.xattrs = x;
  }
  return e;
}
