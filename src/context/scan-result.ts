/**
 * The layout of a scan's results: the columns the scanner (scan.ts) writes, the hasher (hash.ts) fills and
 * the walk (walk.ts) stitches together, and what crosses threads with them (tasks, budgets, errors). Its own
 * module so that each of those imports the layout, not each other.
 */
import { S_CNSEC, S_CSEC, S_DEV, S_GID, S_INO, S_MNSEC, S_MODE, S_MSEC, S_SIZE, S_UID } from './native.js';
import { IgnoreSyntaxError, IoError } from '../core/errors.js';
import type { EntryType } from '../core/types.js';
import type { IgnoreRule, IgnoreVariant } from '../ignore/matcher.js';

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
  /**
   * When not hashing: still find the regular files that cannot be read (F_FAILED with the error, attributes
   * kept), as the builder would fail to send them. Costs an access() only for files whose permission bits
   * do not grant this process read access.
   */
  checkReadable?: boolean;
  /**
   * Regular files are lstat'ed like every other entry and flagged F_UNREAD instead of being read: the walk
   * then decides which to read (the stat cache, see stat-cache.ts).
   */
  statOnly: boolean;
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
export const NUMS = 12;
/**
 * Offsets in an entry's numbers. After the attributes a builder sees, what the stat cache compares (see
 * stat-cache.ts): ctime (seconds, nanoseconds), inode and device numbers.
 */
export const N_FLAGS = 0, N_TYPE = 1, N_MODE = 2, N_UID = 3, N_GID = 4, N_SIZE = 5, N_SEC = 6, N_NSEC = 7;
export const N_CSEC = 8, N_CNSEC = 9, N_INO = 10, N_DEV = 11;

/** Entry flags. */
export const F_HASH = 1; // has a hash in `hashes`
export const F_WALKED = 2; // a directory whose own entries follow (in this or another result)
export const F_EXCLUDED_DIR = 4; // an excluded directory the walk entered: dropped when nothing below it is
export const F_DEFERRED = 8; // a regular file not read yet (see ScanResult.deferred)
export const F_FAILED = 16; // a regular file that could not be read (error in `errors`)
export const F_ERROR = 32; // not an entry: the walk fails here (error in `errors`); the rest of its directory is missing
export const F_EXTRAS = 64; // has extras
export const F_CHANGED = 128; // a regular file that changed while it was read (FileHasher.statAndHash)
export const F_UNREAD = 256; // a regular file lstat'ed, not read (ScanConfig.statOnly): the walk reads it or re-uses a hash
/**
 * On F_UNREAD files only: the mtime (N_SEC) and ctime (N_CSEC) are milliseconds as Node's Stats gives them (a
 * double, see msOfTime), N_NSEC and N_CNSEC 0. The stat cache's pass resolves them: a file it re-uses takes
 * the recorded times (equal to these), one it reads those of its descriptor. Saves a BigInt stat per file.
 */
export const F_MS_TIMES = 512;

/**
 * A time as Node's Stats has it in milliseconds (`mtimeMs`): the same operations on the same values, so the
 * same double, bit for bit, as from the seconds and nanoseconds of the stat (seconds rounded down).
 */
export function msOfTime(sec: number, nsec: number): number {
  return sec * 1e3 + nsec / 1e6;
}

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

/** Error → something structured clone carries without loss of what the walk reports. */
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
 * Writes a raw stat (native.ts's S_* layout) at `nums[o + N_TYPE..N_DEV]`: its type code, permission bits,
 * owner, size (0 but for a regular file), mtime, ctime, inode and device. Returns the type code.
 */
export function putRaw(nums: Float64Array, o: number, raw: Float64Array): number {
  const mode = raw[S_MODE]!;
  const code = typeCodeOf(mode);
  nums[o + N_TYPE] = code;
  nums[o + N_MODE] = mode & 0o7777;
  nums[o + N_UID] = raw[S_UID]!;
  nums[o + N_GID] = raw[S_GID]!;
  nums[o + N_SIZE] = code === 0 ? raw[S_SIZE]! : 0;
  nums[o + N_SEC] = raw[S_MSEC]!;
  nums[o + N_NSEC] = raw[S_MNSEC]!;
  nums[o + N_CSEC] = raw[S_CSEC]!;
  nums[o + N_CNSEC] = raw[S_CNSEC]!;
  nums[o + N_INO] = raw[S_INO]!;
  nums[o + N_DEV] = raw[S_DEV]!;
  return code;
}

