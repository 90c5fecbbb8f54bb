/**
 * A context's entries as columns, without an object per entry: what the walk makes (walk.ts), the snapshot
 * encodes and decodes (format.ts) and the diff merges (analysis/diff.ts), and what the stat cache compares.
 */
import { comparePaths, type Context, type Entry, type EntryType } from '../core/types.js';
import { TYPE_CODES } from './scan-result.js';

/** The rarer attributes of an entry. */
export type EntryExtras = Pick<Entry, 'target' | 'devMajor' | 'devMinor' | 'xattrs'>;

/**
 * Where and when a walk recorded what the stat cache compares (see stat-cache.ts): the machine (an opaque
 * id) and the time the walk started, in nanoseconds since the epoch (as a decimal string: beyond 2^53).
 */
export interface StatInfo {
  machine: string;
  startedAtNs: string;
  /**
   * Whether the walk read extended attributes (a snapshot's context.xattrs; not a header key of its own): a
   * file it records without any had none, and a file the stat cache shows unchanged still has what it records.
   */
  xattrs?: boolean;
}

/**
 * A context's entries as a table of rows in any order, with the canonical order given apart: what
 * `writeSnapshotColumns` encodes, for walks that never make an object per entry. Entry i (in canonical
 * order) is row `order[i]`.
 */
export interface EntryColumns {
  length: number;
  order: Int32Array;
  /** Row r's path. */
  path(row: number): string;
  /**
   * Optional, when every path is ASCII: their bytes, row r's path being `bytes[starts[r] .. starts[r] +
   * lengths[r])`. Front coding compares bytes much faster than the characters of strings, and the walk then
   * never makes a string per path.
   */
  asciiPaths?: PathBytes;
  /** Optional: every path's UTF-8 bytes, as `asciiPaths` (which, when given, are these). */
  pathBytes?: PathBytes;
  /**
   * Optional, with `pathBytes`: per entry i in canonical order (not per row), a number of leading bytes its path
   * shares with entry i-1's, at most 255 (a decoded snapshot's front coding gives it): a merge of two tables
   * that just matched entries i-1 and j-1 compares entries i and j from the smaller of the two on.
   */
  sharedPrefix?: Uint8Array;
  /**
   * Per row (typed arrays as wide as the snapshot format's values): the type code of the scan (scan-result.ts
   * TYPE_CODES, which the snapshot format's `type` column shares), permission bits, owner, size, mtime; and,
   * when `stat` is given, what the stat cache compares: ctime, inode and device (dev < 0: not recorded for
   * that row).
   */
  type: Uint8Array;
  mode: Uint16Array;
  uid: Uint32Array;
  gid: Uint32Array;
  size: Float64Array;
  mtimeSec: Float64Array;
  mtimeNsec: Uint32Array;
  ctimeSec?: Float64Array;
  ctimeNsec?: Uint32Array;
  ino?: Float64Array;
  dev?: Float64Array;
  /** Per row: where its content hash (8 bytes, as in the raw section) starts in `hashBytes`; -1: none. */
  hashAt: Int32Array;
  hashBytes: Buffer;
  /** Rows of the files that changed while they were read (Entry.changedWhileRead), in canonical order. */
  changedWhileRead?: number[];
  /** The rarer attributes, by row. */
  extras: ReadonlyMap<number, EntryExtras>;
  /** Set when the stat-cache fields were recorded (by a walk, or read from a snapshot that has them). */
  stat?: StatInfo;
}

/**
 * A stat cache whose entries are not read yet (a snapshot not decoded yet, while the walk that uses it
 * starts): whether it can serve this machine is known first, from where and when its entries were recorded.
 */
export interface PendingStatCache {
  /** EntryColumns.stat of the entries to come (absent: they record no file identities). */
  stat: StatInfo | undefined;
  /** The entries; with `begin`, they come only once begin() was called. */
  entries: Promise<EntryColumns>;
  /** How many entries are coming, when known (for the walk to make room for them). */
  declared?: number;
  /**
   * Starts producing the entries on the calling thread: the walk calls it once its reader threads have work
   * (or when it needs the entries, whichever comes first), so that decoding them delays no reader.
   */
  begin?(): void;
}

/**
 * The bytes a table's paths take as a walk collects them (each followed by a separator), to make room for
 * those of a walk of the same context at once; 0 when the table has no path bytes.
 */
export function joinedPathBytes(cols: EntryColumns): number {
  return cols.pathBytes ? cols.pathBytes.bytes.length + cols.length : 0;
}

/** What compareRows reads of a table. */
export type PathSource = Pick<EntryColumns, 'path' | 'pathBytes'>;

export interface PathBytes {
  bytes: Buffer;
  starts: Int32Array;
  lengths: Int32Array;
  /** A DataView of `bytes`, made by compareRows when it first reads them (it reads them four at a time). */
  view?: DataView;
}

const viewOf = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** The numeric columns of a table of `n` rows (the stat cache's with `stat`). */
export function numericColumns(n: number, stat: boolean) {
  return {
    type: new Uint8Array(n),
    mode: new Uint16Array(n),
    uid: new Uint32Array(n),
    gid: new Uint32Array(n),
    size: new Float64Array(n),
    mtimeSec: new Float64Array(n),
    mtimeNsec: new Uint32Array(n),
    ...(stat ? { ctimeSec: new Float64Array(n), ctimeNsec: new Uint32Array(n), ino: new Float64Array(n), dev: new Float64Array(n).fill(-1) } : {}),
  };
}

/** A context whose entries are columns. */
export interface ColumnContext {
  context: Omit<Context, 'entries'>;
  entries: EntryColumns;
}

const HEX16 = /^[0-9a-f]{16}$/;
const TYPE_CODE: Readonly<Record<string, number>> = Object.fromEntries(TYPE_CODES.map((t, i) => [t, i]));

function invalid(entry: Entry, what: string, value: unknown): never {
  throw new RangeError(`snapshot: entry ${JSON.stringify(entry.path)}: invalid ${what} ${JSON.stringify(value)}`);
}

const isU32 = (v: number) => v >>> 0 === v;
const isSafeCount = (v: number) => Number.isSafeInteger(v) && v >= 0;

/**
 * Entries as columns, in the order given. Throws RangeError for an attribute the columns (and the snapshot
 * format) cannot hold exactly: an unknown type, a malformed hash, a mode beyond 16 bits, a uid beyond 32, ….
 */
export function columnsOf(entries: readonly Entry[]): EntryColumns {
  const n = entries.length;
  const cols = numericColumns(n, false);
  const hashAt = new Int32Array(n).fill(-1);
  const hashes: string[] = [];
  const extras = new Map<number, EntryExtras>();
  for (let i = 0; i < n; i++) {
    const e = entries[i]!;
    const code = TYPE_CODE[e.type];
    if (code === undefined) invalid(e, 'type', e.type);
    if (!(Number.isInteger(e.mode) && e.mode >= 0 && e.mode <= 0xffff)) invalid(e, 'mode', e.mode);
    if (!isU32(e.uid)) invalid(e, 'uid', e.uid);
    if (!isU32(e.gid)) invalid(e, 'gid', e.gid);
    if (!isSafeCount(e.size)) invalid(e, 'size', e.size);
    if (!Number.isSafeInteger(e.mtimeSec)) invalid(e, 'mtimeSec', e.mtimeSec);
    if (!isU32(e.mtimeNsec)) invalid(e, 'mtimeNsec', e.mtimeNsec);
    cols.type[i] = code;
    cols.mode[i] = e.mode;
    cols.uid[i] = e.uid;
    cols.gid[i] = e.gid;
    cols.size[i] = e.size;
    cols.mtimeSec[i] = e.mtimeSec;
    cols.mtimeNsec[i] = e.mtimeNsec;
    if (e.hash !== undefined) {
      if (typeof e.hash !== 'string' || !HEX16.test(e.hash)) invalid(e, 'hash', e.hash);
      hashAt[i] = 8 * hashes.length;
      hashes.push(e.hash);
    }
    if (e.target !== undefined || e.devMajor !== undefined || e.devMinor !== undefined || e.xattrs !== undefined) {
      extras.set(i, { target: e.target, devMajor: e.devMajor, devMinor: e.devMinor, xattrs: e.xattrs });
    }
  }
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const changed: number[] = [];
  for (let i = 0; i < n; i++) if (entries[i]!.changedWhileRead) changed.push(i);
  return {
    ...(changed.length > 0 ? { changedWhileRead: changed } : {}),
    length: n,
    order,
    path: (row) => entries[row]!.path,
    ...cols,
    hashAt,
    hashBytes: Buffer.from(hashes.join(''), 'hex'),
    extras,
  };
}

/** Row `row` as an Entry object (`path`: its path, when the caller has it as a string already). */
export function entryOf(cols: EntryColumns, row: number, path?: string): Entry {
  const x = cols.extras.size > 0 ? cols.extras.get(row) : undefined;
  const at = cols.hashAt[row]!;
  // The common case, a file with a hash and nothing else, made at once in its final shape (its keys in the
  // order the general case gives them).
  if (x === undefined && at >= 0 && cols.changedWhileRead === undefined) {
    return {
      path: path ?? cols.path(row),
      type: TYPE_CODES[cols.type[row]!] as EntryType,
      mode: cols.mode[row]!,
      uid: cols.uid[row]!,
      gid: cols.gid[row]!,
      size: cols.size[row]!,
      mtimeSec: cols.mtimeSec[row]!,
      mtimeNsec: cols.mtimeNsec[row]!,
      hash: cols.hashBytes.toString('hex', at, at + 8),
    };
  }
  const e: Entry = {
    path: path ?? cols.path(row),
    type: TYPE_CODES[cols.type[row]!] as EntryType,
    mode: cols.mode[row]!,
    uid: cols.uid[row]!,
    gid: cols.gid[row]!,
    size: cols.size[row]!,
    mtimeSec: cols.mtimeSec[row]!,
    mtimeNsec: cols.mtimeNsec[row]!,
  };
  if (x?.target !== undefined) e.target = x.target;
  if (at >= 0) e.hash = cols.hashBytes.toString('hex', at, at + 8);
  if (x?.xattrs !== undefined) e.xattrs = x.xattrs;
  if (x?.devMajor !== undefined) e.devMajor = x.devMajor;
  if (x?.devMinor !== undefined) e.devMinor = x.devMinor;
  if (cols.changedWhileRead !== undefined && changedRows(cols).has(row)) e.changedWhileRead = true;
  return e;
}

const changedSets = new WeakMap<EntryColumns, Set<number>>();

/** The rows of `cols.changedWhileRead` as a set (made once per table). */
function changedRows(cols: EntryColumns): Set<number> {
  let set = changedSets.get(cols);
  if (set === undefined) changedSets.set(cols, (set = new Set(cols.changedWhileRead)));
  return set;
}

/** Every entry as an object, in canonical order. */
export function entriesOf(cols: EntryColumns): Entry[] {
  const out: Entry[] = new Array(cols.length);
  for (let i = 0; i < cols.length; i++) out[i] = entryOf(cols, cols.order[i]!);
  return out;
}

/** The row of the entry at `path`, or -1 (a linear search: for the odd lookup). */
export function findRow(cols: EntryColumns, path: string): number {
  for (let i = 0; i < cols.length; i++) {
    const row = cols.order[i]!;
    if (cols.path(row) === path) return row;
  }
  return -1;
}

/**
 * Compares the paths of row `ra` of `a` and row `rb` of `b` in canonical order (comparePaths), from their
 * bytes when both sides have them: UTF-8 byte order is code point order, which is UTF-16 code unit order but
 * where both differ in a byte of a multi-byte sequence (a supplementary character against U+E000–U+FFFF):
 * then, as when either side has no bytes, the paths are compared as strings. `same`: a number of leading bytes
 * known to be the same in both (at most the shorter length), not compared again.
 */
export function compareRows(a: PathSource, ra: number, b: PathSource, rb: number, same = 0): number {
  const pa = a.pathBytes;
  const pb = b.pathBytes;
  if (pa !== undefined && pb !== undefined) {
    const x = pa.bytes;
    const y = pb.bytes;
    const i = pa.starts[ra]!;
    const j = pb.starts[rb]!;
    const la = pa.lengths[ra]!;
    const lb = pb.lengths[rb]!;
    const n = la < lb ? la : lb;
    let k = same;
    if (n - k >= 8) {
      // Four bytes at a time while they are the same (most paths compared share most of their bytes).
      const vx = (pa.view ??= viewOf(x));
      const vy = (pb.view ??= viewOf(y));
      const end = n - 4;
      while (k <= end && vx.getUint32(i + k) === vy.getUint32(j + k)) k += 4;
    }
    for (; k < n; k++) {
      let ca = x[i + k]!;
      let cb = y[j + k]!;
      if (ca === cb) continue;
      if (ca >= 0x80 && cb >= 0x80) break; // compared as strings below
      if (ca === 47) ca = 0;
      if (cb === 47) cb = 0;
      return ca - cb;
    }
    if (k === n) return la - lb;
  }
  const sa = a.path(ra);
  const sb = b.path(rb);
  return sa === sb ? 0 : comparePaths(sa, sb);
}

/**
 * Whether neither row `ra` of `a` nor row `rb` of `b` has extras or changed while it was read: all a diff
 * compares of them is then in the numeric columns and the hashes.
 */
export function plainRows(a: EntryColumns, ra: number, b: EntryColumns, rb: number): boolean {
  if ((a.extras.size > 0 && a.extras.has(ra)) || (b.extras.size > 0 && b.extras.has(rb))) return false;
  // A file that changed while it was read: its content is unknown (diffEntries says so).
  return !((a.changedWhileRead !== undefined && changedRows(a).has(ra)) || (b.changedWhileRead !== undefined && changedRows(b).has(rb)));
}

/** Whether row `ra` of `a` and row `rb` of `b` have the same content hash (or both none). */
export function sameHashes(a: EntryColumns, ra: number, b: EntryColumns, rb: number): boolean {
  const ha = a.hashAt[ra]!;
  const hb = b.hashAt[rb]!;
  if (ha < 0 || hb < 0) return ha === hb;
  const p = a.hashBytes;
  const q = b.hashBytes;
  for (let k = 0; k < 8; k++) if (p[ha + k] !== q[hb + k]) return false;
  return true;
}

/**
 * Whether row `ra` of `a` and row `rb` of `b` (at the same path) have the same attributes a diff compares, as
 * far as the numbers and hashes tell: false when either has extras (the caller then compares objects).
 */
export function sameRows(a: EntryColumns, ra: number, b: EntryColumns, rb: number): boolean {
  if (!plainRows(a, ra, b, rb)) return false;
  if (
    a.type[ra] !== b.type[rb] ||
    a.mode[ra] !== b.mode[rb] ||
    a.uid[ra] !== b.uid[rb] ||
    a.gid[ra] !== b.gid[rb] ||
    a.size[ra] !== b.size[rb] ||
    a.mtimeSec[ra] !== b.mtimeSec[rb] ||
    a.mtimeNsec[ra] !== b.mtimeNsec[rb]
  ) {
    return false;
  }
  return sameHashes(a, ra, b, rb);
}
