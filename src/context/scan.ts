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
import { IgnoreSyntaxError, IoError } from '../core/errors.js';
import type { FileHasher } from './hash.js';
import { createIgnoreMatcher, type IgnoreMatcher, type IgnoreRule, type IgnoreVariant, type MatchResult } from '../ignore/ignore.js';
import type { Entry, EntryType } from '../core/types.js';
import { readXattrs } from './xattrs.js';

/** What an excluded directory the walk enters becomes (see `walkContext`). */
export type DirPolicy = 'always' | 'if-used' | 'implied';

/** Everything a scanning thread needs to know about the walk (sent once to each worker). */
export interface ScanConfig {
  /** Absolute path of the context root. */
  root: string;
  /** Ignore rules and the matcher variant, or null when there are none. */
  ignore: { rules: IgnoreRule[]; variant: IgnoreVariant } | null;
  /** Hash regular files (else they are lstat'ed like every other entry). */
  hash: boolean;
  /** Read extended attributes. */
  xattrs: boolean;
  dirPolicy: DirPolicy;
}

/** A directory to read: its path relative to the root ('' = the root) and the walk's verdict for it. */
export interface DirTask {
  path: string;
  /**
   * The directory's own match result, passed to its children's matching as their parent's, or null at the
   * root: `rule` is the index of the deciding rule in ScanConfig.ignore.rules (-1: none), `hits` the per-rule
   * results for variants that inherit them (MatchResult.ruleHits).
   */
  match: { excluded: boolean; rule: number; hits: Uint8Array | null } | null;
}

/** Numbers per entry in `ScanResult.nums`. */
export const NUMS = 8;
/** Offsets in an entry's numbers. */
export const N_FLAGS = 0, N_TYPE = 1, N_MODE = 2, N_UID = 3, N_GID = 4, N_SIZE = 5, N_SEC = 6, N_NSEC = 7;

/** Entry flags. */
export const F_HASH = 1; // has a hash in `hashes`
export const F_WALKED = 2; // a directory whose own entries follow (in this or another result)
export const F_EXCLUDED_DIR = 4; // an excluded directory the walk entered: dropped when nothing below it is
export const F_DEFERRED = 8; // a regular file not read yet (see ScanResult.deferred)
export const F_FAILED = 16; // a regular file that could not be read (error in `errors`)
export const F_ERROR = 32; // not an entry: the walk fails here (error in `errors`); the rest of its directory is missing
export const F_EXTRAS = 64; // has extras

/** Bytes of a content hash (xxhash64, big-endian: as the snapshot stores it and its 16 hex digits read). */
export const HASH_BYTES = 8;

/** Hash `i` of a column of hashes (HASH_BYTES each) as 16 hex digits. */
export function hexAt(hashes: Uint8Array, i: number): string {
  return Buffer.from(hashes.buffer, hashes.byteOffset + i * HASH_BYTES, HASH_BYTES).toString('hex');
}

/** A growable column of hashes, HASH_BYTES each. */
export class HashColumn {
  private bytes = new Uint8Array(HASH_BYTES * 256);
  private view = new DataView(this.bytes.buffer);
  length = 0;

  push(h: bigint): void {
    const at = this.length * HASH_BYTES;
    if (at + HASH_BYTES > this.bytes.length) {
      const bigger = new Uint8Array(this.bytes.length * 2);
      bigger.set(this.bytes);
      this.bytes = bigger;
      this.view = new DataView(bigger.buffer);
    }
    this.view.setBigUint64(at, h, false);
    this.length++;
  }

  /** The hashes pushed, in a buffer of their own (transferable). */
  result(): Uint8Array<ArrayBuffer> {
    return this.bytes.slice(0, this.length * HASH_BYTES);
  }
}

/** Entry types by code (N_TYPE). */
export const TYPE_CODES: readonly EntryType[] = ['file', 'dir', 'symlink', 'fifo', 'socket', 'char', 'block'];
const CODE_OF_FMT: Record<number, number> = {
  0o100000: 0,
  0o040000: 1,
  0o120000: 2,
  0o010000: 3,
  0o140000: 4,
  0o020000: 5,
  0o060000: 6,
};
const S_IFMT = 0o170000;

/** Type code of an st_mode (unknown formats count as regular files). */
export function typeCodeOf(mode: number): number {
  return CODE_OF_FMT[mode & S_IFMT] ?? 0;
}

/** Optional attributes of an entry. */
export interface Extras {
  target?: string;
  devMajor?: number;
  devMinor?: number;
  xattrs?: Record<string, string>;
}

/** An error as it crosses threads. */
export type SerializedError =
  | { kind: 'io'; path: string; code: string | undefined; message: string }
  | { kind: 'ignore'; file: string; line: number; pattern: string; reason: string }
  | { kind: 'other'; message: string; stack: string | undefined };

export interface ScanResult {
  /** Paths of the directories read, NUL-joined, in the order their entries follow. */
  dirs: string;
  /** Entries recorded for each directory read. */
  counts: Int32Array;
  /** Entry paths, NUL-joined. */
  paths: string;
  /** NUMS numbers per entry. */
  nums: Float64Array;
  /** Hashes of the entries flagged F_HASH, HASH_BYTES each (big-endian), in entry order. */
  hashes: Uint8Array;
  /** Sparse: [entry index, extras]. */
  extras: [number, Extras][];
  /**
   * Sparse: [entry index, error] for F_FAILED and F_ERROR entries: Error objects as thrown on the scanning
   * thread (a worker serializes them before sending), failures to read a file serialized.
   */
  errors: [number, Error | SerializedError][];
  /** Directories left to read. */
  spilled: DirTask[];
  /** Indices of the F_DEFERRED entries. */
  deferred: Int32Array;
  /** Regular files read, and their bytes. */
  files: number;
  bytes: number;
}

/** How much one scan may read before it hands the rest back. */
export interface ScanBudget {
  files: number;
  bytes: number;
}

const INCLUDED: MatchResult = { excluded: false, rule: null };
const NS_PER_SEC = 1_000_000_000n;

/** Error → something structured clone carries without loss of what the walk reports. */
/** A directory's entries in name order (the walk's order); IoError naming the directory if it cannot be read. */
export function readDirSorted(abs: string): fs.Dirent[] {
  let dirents: fs.Dirent[];
  try {
    dirents = fs.readdirSync(abs, { withFileTypes: true });
  } catch (e) {
    throw IoError.from(abs, e);
  }
  return dirents.sort(byName);
}

export function serializeError(e: unknown): SerializedError {
  if (e instanceof IoError) {
    const cause = e.cause as NodeJS.ErrnoException | undefined;
    return { kind: 'io', path: e.path, code: cause?.code, message: cause?.message ?? e.message.slice(e.path.length + 2) };
  }
  if (e instanceof IgnoreSyntaxError) {
    const lead = `${e.file}:${e.line}: invalid pattern ${JSON.stringify(e.pattern)}: `;
    return { kind: 'ignore', file: e.file, line: e.line, pattern: e.pattern, reason: e.message.slice(lead.length) };
  }
  const err = e instanceof Error ? e : new Error(String(e));
  return { kind: 'other', message: err.message, stack: err.stack };
}

/** The error a SerializedError stands for (errors of the calling thread pass through). */
export function deserializeError(s: Error | SerializedError): Error {
  if (s instanceof Error) return s;
  switch (s.kind) {
    case 'io':
      return IoError.from(s.path, Object.assign(new Error(s.message), s.code !== undefined ? { code: s.code } : {}));
    case 'ignore':
      return new IgnoreSyntaxError(s.file, s.line, s.pattern, s.reason);
    default:
      return Object.assign(new Error(s.message), { stack: s.stack });
  }
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

/**
 * A ScanResult made on this thread or received from another: always an object of one shape (the same keys,
 * added in the same order), so that the code that takes results in is compiled once, for that shape, and
 * not again for the other (objects made by structured clone have a shape of their own).
 */
export function scanResult(r: ScanResult): ScanResult {
  return {
    dirs: r.dirs,
    counts: r.counts,
    paths: r.paths,
    nums: r.nums,
    hashes: r.hashes,
    extras: r.extras,
    errors: r.errors,
    spilled: r.spilled,
    deferred: r.deferred,
    files: r.files,
    bytes: r.bytes,
  };
}

/**
 * Writes st_mtim as whole seconds and nanoseconds (exact: from the nanosecond count). Before 1970 the
 * remainder of BigInt division is negative; the correction is always computed, on Numbers, so that optimized
 * code never meets an operation it has not seen before (a deoptimization at the first such file).
 */
export function putMtime(nums: Float64Array, o: number, ns: bigint): void {
  const sec = Number(ns / NS_PER_SEC);
  const nsec = Number(ns % NS_PER_SEC);
  const borrow = nsec < 0 ? 1 : 0;
  nums[o + N_SEC] = sec - borrow;
  nums[o + N_NSEC] = nsec + borrow * 1e9;
}

/** Linux dev_t → major/minor (glibc encoding). */
function devNumbers(rdev: bigint): { devMajor: number; devMinor: number } {
  const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
  const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
  return { devMajor: major, devMinor: minor };
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
      const dirents = readDirSorted(dir.abs);
      this.keepDirents = dirents;
      const { matcher, hasher } = this;
      const { dirPolicy, xattrs } = this.config;
      const prefix = dir.path;
      for (const d of dirents) {
        const name = d.name;
        const rel = prefix === '' ? name : `${prefix}/${name}`;
        const abs = `${dir.abs}/${name}`;
        const m = matcher ? matcher.matchInWalk(rel, dir.parent) : INCLUDED;
        if (m.excluded) {
          // An excluded directory is read only if an exception may re-include something below it.
          if (!d.isDirectory() || !matcher!.mustDescend(rel)) continue;
          const st = lstat(abs);
          if (typeCodeOf(Number(st.mode)) !== 1) continue;
          if (dirPolicy === 'implied') {
            // The builder creates it when unpacking a file below it: mode 0755, owner 0:0, mtime 0.
            const o = out.add(rel);
            out.nums[o + N_TYPE] = 1;
            out.nums[o + N_MODE] = 0o755;
          } else {
            this.lstatEntry(abs, rel, out, xattrs, st);
          }
          out.nums[(out.length - 1) * NUMS + N_FLAGS] |= F_WALKED | F_EXCLUDED_DIR;
          below.push({ path: rel, abs, parent: m });
          continue;
        }
        if (hasher && d.isFile()) {
          const o = out.add(rel);
          if (out.files >= budget.files || out.bytes >= budget.bytes) {
            out.nums[o + N_FLAGS] = F_DEFERRED;
            out.deferred.push(out.length - 1);
            continue;
          }
          try {
            const hash = hasher.statAndHash(abs, out.nums, o);
            out.nums[o + N_FLAGS] = F_HASH;
            out.hashes.push(hash);
            out.files++;
            out.bytes += out.nums[o + N_SIZE]!;
            if (xattrs) {
              const x = readXattrs(abs);
              if (x) {
                out.nums[o + N_FLAGS] |= F_EXTRAS;
                out.extras.push([out.length - 1, { xattrs: x }]);
              }
            }
          } catch (e) {
            const err = e as NodeJS.ErrnoException;
            out.nums.fill(0, o, o + NUMS);
            out.nums[o + N_FLAGS] = F_FAILED;
            out.errors.push([out.length - 1, { kind: 'io', path: abs, code: err.code ?? 'EIO', message: err.message }]);
          }
          continue;
        }
        if (this.lstatEntry(abs, rel, out, xattrs) === 1) {
          out.nums[(out.length - 1) * NUMS + N_FLAGS] |= F_WALKED;
          below.push({ path: rel, abs, parent: m });
        }
      }
    } catch (e) {
      // The walk fails here; what precedes stays, so the caller can tell which failure comes first.
      const o = out.add('');
      out.nums[o + N_FLAGS] = F_ERROR;
      out.errors.push([out.length - 1, e instanceof Error ? e : new Error(String(e))]);
    }
    for (let i = below.length - 1; i >= 0; i--) stack.push(below[i]!);
  }

  /** Records an entry from lstat (links are not followed); returns its type code. */
  private lstatEntry(abs: string, rel: string, out: ResultWriter, withXattrs: boolean, st = lstat(abs)): number {
    const mode = Number(st.mode);
    const code = typeCodeOf(mode);
    const o = out.add(rel);
    const nums = out.nums;
    nums[o + N_TYPE] = code;
    nums[o + N_MODE] = mode & 0o7777;
    nums[o + N_UID] = Number(st.uid);
    nums[o + N_GID] = Number(st.gid);
    nums[o + N_SIZE] = code === 0 ? Number(st.size) : 0;
    putMtime(nums, o, st.mtimeNs);
    let extras: Extras | undefined;
    if (code === 2) {
      try {
        extras = { target: fs.readlinkSync(abs) };
      } catch (err) {
        throw IoError.from(abs, err);
      }
    } else if (code === 5 || code === 6) {
      extras = devNumbers(st.rdev);
    }
    if (withXattrs) {
      const x = readXattrs(abs);
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

function lstat(abs: string): fs.BigIntStats {
  try {
    return fs.lstatSync(abs, { bigint: true });
  } catch (e) {
    throw IoError.from(abs, e);
  }
}

/** Raw attributes of a path (lstat: links are not followed). */
export function statEntry(abs: string, rel: string, withXattrs = false): Entry {
  const st = lstat(abs);
  const mode = Number(st.mode);
  const type = TYPE_CODES[typeCodeOf(mode)]!;
  const nums = new Float64Array(NUMS);
  putMtime(nums, 0, st.mtimeNs);
  const e: Entry = {
    path: rel,
    type,
    mode: mode & 0o7777,
    uid: Number(st.uid),
    gid: Number(st.gid),
    size: type === 'file' ? Number(st.size) : 0,
    mtimeSec: nums[N_SEC]!,
    mtimeNsec: nums[N_NSEC]!,
  };
  if (type === 'symlink') {
    try {
      e.target = fs.readlinkSync(abs);
    } catch (err) {
      throw IoError.from(abs, err);
    }
  } else if (type === 'char' || type === 'block') {
    Object.assign(e, devNumbers(st.rdev));
  }
  if (withXattrs) {
    const x = readXattrs(abs);
    if (x) e.xattrs = x;
  }
  return e;
}
