/**
 * Snapshots: a walked build context saved to one file, so that build N+1 can be diffed against build N.
 *
 * # Snapshot file format, version 2
 *
 * A snapshot (conventionally `*.ctxsnap`) is a 52-byte frame header, a DEFLATE-compressed section holding
 * the metadata and every entry attribute but the content hashes, then the hashes uncompressed (they are
 * random bytes: compressing them costs time and saves nothing). Integers are little-endian unless noted.
 *
 * ## Frame header
 *
 * | offset | size | field |
 * |---|---|---|
 * | 0  | 8 | magic: `89 43 54 58 53 4E 41 50` (`\x89CTXSNAP`) |
 * | 8  | 4 | u32 format version: 2 (version 1 is read too: the same without the stat cache's columns) |
 * | 12 | 4 | u32 compression of the packed section: 1 = raw DEFLATE (RFC 1951) |
 * | 16 | 8 | u64 `P`: length of the packed section |
 * | 24 | 8 | u64 `U`: length of the packed section once inflated (the "unpacked section") |
 * | 32 | 8 | u64 `R`: length of the raw section |
 * | 40 | 4 | u32 CRC-32 of the unpacked section (the CRC-32 of zlib and gzip) |
 * | 44 | 4 | u32 CRC-32 of bytes 52 to the end of the file |
 * | 48 | 4 | u32 CRC-32 of bytes 0–47 |
 * | 52 | P | packed section |
 * | 52+P | R | raw section; the file ends here (its length is exactly 52 + P + R) |
 *
 * Only the magic and the version are common to all versions: a reader checks the magic, then refuses a
 * version it does not know before it looks at anything else.
 *
 * ## Unpacked section
 *
 * A u32 `L`, `L` bytes of UTF-8 JSON (the metadata header), then the entry columns back to back in the
 * order of `columns` below, each `columns[name]` bytes long. The section ends exactly there.
 * `invocation` (how the build was invoked; values of secret-looking build args only as a hash) and
 * `namedContexts` (each named build context as a complete snapshot of its own, base64) are optional: a
 * reader that does not know them ignores them.
 * ```json
 * { "toolVersion": "0.1.0", "createdAt": "2026-01-01T00:00:00.000Z",
 *   "context": { "name": "…", "builder": "buildkit", "xattrs": false,
 *                "ignore": { "file": ".dockerignore", "text": "…" },
 *                "dockerfiles": { "Dockerfile": "FROM scratch\n…" }, "dockerfile": "Dockerfile",
 *                "root": { "mode": 493, "uid": 0, "gid": 0, "mtimeSec": 1700000000, "mtimeNsec": 5 },
 *                "invocation": { "buildArgs": { "V": "1", "API_TOKEN": { "sha256": "…" } }, "target": "app",
 *                                "contexts": { "shared": "../shared" } },
 *                "namedContexts": { "shared": "<base64 of that context's own snapshot>" } },
 *   "entries": 3, "hashes": 2,
 *   "columns": { "type": 3, "flags": 3, "mode": 6, "uid": 3, "gid": 3, "size": 4, "mtimeSec": 15,
 *                "mtimeNsec": 12, "paths": 20, "targets": 0, "devMajor": 0, "devMinor": 0, "xattrs": 0,
 *                "ctimeSec": 10, "ctimeNsec": 8, "ino": 6, "dev": 2 },
 *   "stat": { "machine": "3f1c…", "startedAtNs": "1767225600000000000" } }
 * ```
 * `stat` (version 2 only) is present when the entries flagged 64 were recorded by a walk: the machine (an
 * opaque id, see context/stat-cache.ts) and the start of that walk in nanoseconds since the epoch (a decimal
 * string). Version 1 has neither `stat` nor the columns from ctimeSec on (nor flag 64).
 * `ignore` is `null` when there is no ignore file; `dockerfile` and `root` are absent when unknown; `xattrs`
 * says whether extended attributes were read (absent: unknown, taken as not read). `walks` (snapshots of
 * directories, ctxdiff 0.1.0 after builder profiles per generation; absent before) records what every other
 * builder profile's walk of the same directory sends, as a difference from the entries recorded:
 * `{ "same": ["kaniko", …], "variants": [{ "builders": ["buildah", …], "ignore": {…} | null, "removed":
 * ["path", …], "entries": [Entry, …] }] }` (entries as the `Entry` objects of types.ts: hash in hex, xattr
 * values in base64); a profile listed nowhere was not recorded (its walk failed). Readers
 * ignore unknown keys. `entries` is the number of entries `N`, `hashes` the number `H` of content hashes.
 * `changedWhileRead` (absent when empty) lists the paths of the files that changed while they were read
 * (Entry.changedWhileRead). Before inflating the whole section, a reader inflates its start and checks the
 * sizes this header declares (see checkDeclaredSizes): a compression bomb is refused before it inflates.
 *
 * ## Entry columns
 *
 * Entries are stored in the order given (the canonical `comparePaths` order, which makes the front coding of
 * paths effective). Most columns hold one value per entry; the sparse ones one value per entry whose flags
 * say it has that attribute, in entry order. `varint` = unsigned LEB128, at most 8 bytes, value < 2^53.
 *
 * | column | encoding | values |
 * |---|---|---|
 * | type | u8 | 0 file, 1 dir, 2 symlink, 3 fifo, 4 socket, 5 char, 6 block |
 * | flags | u8 | 1 has target, 2 has hash, 4 has devMajor, 8 has devMinor, 16 mtimeSec is negative, 32 has xattrs, 64 has file identity |
 * | mode | u16 | permission bits incl. setuid/setgid/sticky |
 * | uid, gid | varint | |
 * | size | varint | bytes |
 * | mtimeSec | varint | absolute value of the whole seconds since the epoch; sign in flags |
 * | mtimeNsec | u32 | nanoseconds within the second |
 * | paths | varint `k`, varint `s`, `s` bytes | the path's bytes (UTF-8; a name that is not UTF-8 as its raw bytes): its first `k` bytes are those of the previous entry's path (`k` = 0 for the first), the other `s` follow |
 * | targets | varint `s`, `s` bytes | sparse: symlink target bytes (as paths) |
 * | devMajor, devMinor | varint | sparse: device numbers |
 * | xattrs | varint `c`, then `c` × (varint `s`, `s` bytes name UTF-8, varint `v`, `v` bytes value) | sparse: extended attributes, names in ascending order |
 * | ctimeSec | varint | sparse (flag 64, only with flag 2): ctime, whole seconds since the epoch |
 * | ctimeNsec | u32 | sparse (flag 64): nanoseconds within the second |
 * | ino, dev | varint | sparse (flag 64): `st_ino` and `st_dev`, what the stat cache compares with size and times |
 *
 * ## Raw section
 * The `H` content hashes (xxhash64) of the entries that have one, in entry order, 8 bytes each, big-endian:
 * the bytes that the 16 lowercase hex digits of `Entry.hash` spell. `R` = 8 × `H`.
 *
 * ## Integrity
 * A reader checks, in order: magic, version, header CRC, compression method, file length (truncated or
 * trailing bytes), CRC of the sections, inflated length (inflating is bounded by `U`) and CRC, then the
 * structure (JSON header, column lengths, codes, bounds). Any failure is a `SnapshotFormatError` naming the
 * file. Writers replace a snapshot atomically (temporary file in the same directory, fsync, rename).
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { runOnReaderThread, type ThreadTaskResult } from '../context/threads.js';
import { IoError, SnapshotFormatError } from '../core/errors.js';
import { writeOutputFile } from '../core/safe-output.js';
import { decodeName, encodeName, encodedLength, isPlainName } from '../core/names.js';
import type { BuildInvocation, Context, EntryType } from '../core/types.js';
import { VERSION } from '../core/version.js';
import { columnsOf, entriesOf, joinedPathBytes, numericColumns, type EntryColumns, type EntryExtras, type PendingStatCache, type StatInfo } from '../context/entry-columns.js';
import { TYPE_CODES } from '../context/scan-result.js';
import { FINAL_BLOCK, crc32Combine, deflatePart, deflatePartSync } from './deflate.js';

/** The format version this module writes (and the newest it reads; version 1 is read too). */
export const SNAPSHOT_SCHEMA_VERSION = 2;
/** The oldest format version this module reads. */
const OLDEST_VERSION = 1;

/** Who wrote a snapshot, and when. */
export interface SnapshotMeta {
  /** Format version of the file (see SNAPSHOT_SCHEMA_VERSION). */
  schemaVersion: number;
  /** Version of the ctxdiff that wrote it. */
  toolVersion: string;
  /** Creation time, ISO 8601. */
  createdAt: string;
}

/** The first 8 bytes of every snapshot file. */
const MAGIC = Buffer.from([0x89, 0x43, 0x54, 0x58, 0x53, 0x4e, 0x41, 0x50]);
const HEADER_SIZE = 52;
const COMPRESSION_DEFLATE_RAW = 1;
/** Entry types by their code in the `type` column. The codes are part of the format: append only. */
const TYPES: readonly EntryType[] = ['file', 'dir', 'symlink', 'fifo', 'socket', 'char', 'block'];
const TYPE_CODE: Readonly<Record<EntryType, number>> = {
  file: 0, dir: 1, symlink: 2, fifo: 3, socket: 4, char: 5, block: 6,
};
// The walk hands its scans' type codes on as they are (EntryColumns.type): they must be this format's.
if (!TYPE_CODES.every((t, code) => TYPE_CODE[t] === code)) throw new Error('snapshot: scan and snapshot type codes differ');

const FLAG_TARGET = 1;
const FLAG_HASH = 2;
const FLAG_DEV_MAJOR = 4;
const FLAG_DEV_MINOR = 8;
const FLAG_NEGATIVE_MTIME = 16;
const FLAG_XATTRS = 32;
/** Version 2: has ctimeSec, ctimeNsec, ino and dev (the stat cache's file identity). */
const FLAG_STAT = 64;
const FLAGS_V1 = FLAG_TARGET | FLAG_HASH | FLAG_DEV_MAJOR | FLAG_DEV_MINOR | FLAG_NEGATIVE_MTIME | FLAG_XATTRS;
const ALL_FLAGS = FLAGS_V1 | FLAG_STAT;

/** Column names, in their order in the unpacked section (version 1 ends at xattrs). */
const COLUMNS = [
  'type', 'flags', 'mode', 'uid', 'gid', 'size', 'mtimeSec', 'mtimeNsec', 'paths', 'targets', 'devMajor', 'devMinor', 'xattrs',
  'ctimeSec', 'ctimeNsec', 'ino', 'dev',
] as const;
type ColumnName = (typeof COLUMNS)[number];
const COLUMNS_V1: readonly ColumnName[] = COLUMNS.slice(0, 13);
const columnsOfVersion = (version: number): readonly ColumnName[] => (version === 1 ? COLUMNS_V1 : COLUMNS);

const inflateRaw = promisify(zlib.inflateRaw);

/** The metadata header (JSON) at the start of the unpacked section. */
interface MetaHeader {
  toolVersion: string;
  createdAt: string;
  context: Omit<Context, 'entries'>;
  entries: number;
  hashes: number;
  columns: Record<ColumnName, number>;
  /** Paths of the files that changed while they were read (Entry.changedWhileRead); absent when none. */
  changedWhileRead?: string[];
  /** Version 2, when the entries flagged FLAG_STAT were recorded by a walk: where and when (see StatInfo). */
  stat?: StatInfo;
}

/** A snapshot's bytes, as the three parts of the file. */
interface Encoded {
  header: Buffer;
  packed: Buffer[];
  raw: Buffer;
}

// ---------------------------------------------------------------------------------------------------------
// Metadata

function completeMeta(meta: Partial<SnapshotMeta> | undefined): SnapshotMeta {
  if (meta?.schemaVersion !== undefined && meta.schemaVersion !== SNAPSHOT_SCHEMA_VERSION) {
    throw new RangeError(`snapshot: can only write format version ${SNAPSHOT_SCHEMA_VERSION}, not ${meta.schemaVersion}`);
  }
  return {
    schemaVersion: SNAPSHOT_SCHEMA_VERSION,
    toolVersion: meta?.toolVersion ?? VERSION,
    createdAt: meta?.createdAt ?? new Date().toISOString(),
  };
}

type Root = NonNullable<Context['root']>;

function pickRoot(root: Root): Root {
  return { mode: root.mode, uid: root.uid, gid: root.gid, mtimeSec: root.mtimeSec, mtimeNsec: root.mtimeNsec };
}

/** The context's metadata, with exactly the keys the format stores. */
function contextMeta(ctx: Omit<Context, 'entries'>): Omit<Context, 'entries'> {
  return {
    name: ctx.name,
    builder: ctx.builder,
    ...(ctx.xattrs !== undefined ? { xattrs: ctx.xattrs } : {}),
    ignore: ctx.ignore ? { file: ctx.ignore.file, text: ctx.ignore.text } : null,
    dockerfiles: ctx.dockerfiles,
    ...(ctx.dockerfile !== undefined ? { dockerfile: ctx.dockerfile } : {}),
    ...(ctx.root ? { root: pickRoot(ctx.root) } : {}),
    ...(ctx.invocation ? { invocation: ctx.invocation } : {}),
    ...(ctx.walks ? { walks: ctx.walks } : {}),
  };
}

/** The recorded invocation, when well-formed (a malformed one is dropped, as an unknown key would be). */
function readInvocation(v: unknown): BuildInvocation | undefined {
  if (!isObject(v)) return undefined;
  const strings = (o: unknown) => isObject(o) && Object.values(o).every((x) => typeof x === 'string');
  const args = v.buildArgs;
  if (args !== undefined && !(isObject(args) && Object.values(args).every((x) => typeof x === 'string' || (isObject(x) && typeof x.sha256 === 'string')))) {
    return undefined;
  }
  if (v.contexts !== undefined && !strings(v.contexts)) return undefined;
  if ((v.dockerfile !== undefined && typeof v.dockerfile !== 'string') || (v.target !== undefined && typeof v.target !== 'string')) return undefined;
  return v as BuildInvocation;
}

/** The header's `context`: the context's metadata, and its named contexts, each as a snapshot of its own. */
function headerContext(ctx: Omit<Context, 'entries'>): Record<string, unknown> {
  const named = ctx.namedContexts;
  if (!named || Object.keys(named).length === 0) return contextMeta(ctx);
  const encoded: Record<string, string> = {};
  for (const [name, c] of Object.entries(named)) encoded[name] = encodeSnapshot({ ...c, namedContexts: {} }).toString('base64');
  return { ...contextMeta(ctx), namedContexts: encoded };
}

// ---------------------------------------------------------------------------------------------------------
// Encoding

/** An append-only byte buffer. */
class ByteWriter {
  buf: Buffer;
  pos = 0;
  constructor(capacity: number) {
    this.buf = Buffer.allocUnsafe(Math.max(64, capacity));
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }

  /** Unsigned LEB128 of a safe non-negative integer (at most 8 bytes). */
  varint(v: number): void {
    if (this.pos + 8 > this.buf.length) this.ensure(8);
    this.pos = putVarint(this.buf, this.pos, v);
  }

  bytes(src: Uint8Array, start: number, end: number): void {
    this.ensure(end - start);
    const b = this.buf;
    let p = this.pos;
    for (let i = start; i < end; i++) b[p++] = src[i]!;
    this.pos = p;
  }

  result(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

function isU32(v: number): boolean {
  return v >>> 0 === v;
}

function isSafeCount(v: number): boolean {
  return Number.isSafeInteger(v) && v >= 0;
}

/** Whether a name can be stored: well-formed, or its only lone surrogates are escaped bytes (core/names.ts). */
function isEncodableName(s: string): boolean {
  return isPlainName(s) || /^(?:[^\ud800-\udfff]|[\ud800-\udbff][\udc00-\udfff]|[\udc80-\udcff])*$/.test(s);
}

/** Writes `v` (a safe non-negative integer) as unsigned LEB128 at `p`; returns the next offset. */
function putVarint(b: Buffer, p: number, v: number): number {
  while (v > 0x7fffffff) {
    b[p++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  while (v >= 0x80) {
    b[p++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  b[p++] = v;
  return p;
}

/** Bytes of the paths column made at a time (see SectionEncoder.paths). */
const PATHS_PART = 4 << 20;

/**
 * Front-codes ASCII paths (see the paths column) from their bytes, in the given order of rows (row r's path
 * is `lengths[r]` bytes at `bytes[starts[r]]`), from `order[from]` until `w` holds `limit` bytes or the rows
 * end; returns the next row. `prev` carries the previous path from one part to the next.
 */
function frontCodeBytes(
  w: ByteWriter,
  order: Int32Array,
  from: number,
  limit: number,
  bytes: Buffer,
  starts: Int32Array,
  lengths: Int32Array,
  prev: { prevStart: number; prevLength: number },
): number {
  let { prevStart, prevLength } = prev;
  let i = from;
  for (; i < order.length && w.pos < limit; i++) {
    const row = order[i]!;
    const start = starts[row]!;
    const length = lengths[row]!;
    const max = length < prevLength ? length : prevLength;
    let k = 0;
    while (k < max && bytes[start + k] === bytes[prevStart + k]) k++;
    w.ensure(16 + length - k);
    w.varint(k);
    w.varint(length - k);
    const b = w.buf;
    let q = w.pos;
    for (let j = start + k, end = start + length; j < end; j++) b[q++] = bytes[j]!;
    w.pos = q;
    prevStart = start;
    prevLength = length;
  }
  prev.prevStart = prevStart;
  prev.prevLength = prevLength;
  return i;
}

/**
 * Front-codes paths one at a time (see the paths column), for lists that are not all ASCII: the shared
 * prefix is found on the UTF-16 strings (never splitting a surrogate pair), so its UTF-8 bytes are shared
 * too; ASCII is written without a round trip through the encoder.
 */
class PathCoder {
  private prev = '';
  private prevAscii = true;

  /** Appends `p`, front-coded against the previous path; false (nothing written) when it is not well-formed. */
  write(w: ByteWriter, p: string): boolean {
    const prevPath = this.prev;
    const max = Math.min(p.length, prevPath.length);
    let k = 0;
    while (k < max && p.charCodeAt(k) === prevPath.charCodeAt(k)) k++;
    if (k > 0 && (p.charCodeAt(k - 1) & 0xfc00) === 0xd800) k--;
    const kBytes = this.prevAscii ? k : encodedLength(p.slice(0, k));
    w.ensure(16 + 3 * (p.length - k));
    const start = w.pos;
    w.varint(kBytes);
    const lengthAt = w.pos;
    w.varint(p.length - k); // provisional: the byte length, if the suffix is ASCII
    const b = w.buf;
    let q = w.pos;
    let suffixAscii = true;
    for (let j = k; j < p.length; j++) {
      const c = p.charCodeAt(j);
      if (c >= 0x80) {
        suffixAscii = false;
        break;
      }
      b[q++] = c;
    }
    if (suffixAscii) {
      w.pos = q;
    } else {
      if (!isEncodableName(p)) {
        w.pos = start;
        return false;
      }
      // A name's bytes (core/names.ts): escaped bytes of a name that is not UTF-8 are written as they were.
      const suffix = encodeName(p.slice(k));
      w.pos = lengthAt;
      w.varint(suffix.length);
      w.bytes(suffix, 0, suffix.length);
    }
    this.prev = p;
    // Conservative (a non-ASCII prefix of an ASCII path only costs a byteLength call next time).
    this.prevAscii = (this.prevAscii || k === 0) && suffixAscii;
    return true;
  }
}

/** Appends a name as varint length and its bytes (the targets column; see core/names.ts). */
function writeString(w: ByteWriter, s: string): void {
  const bytes = encodeName(s);
  w.varint(bytes.length);
  w.bytes(bytes, 0, bytes.length);
}

/** Appends one entry's extended attributes (the xattrs column): names in ascending order, values base64. */
function writeXattrs(w: ByteWriter, xattrs: Record<string, string>): void {
  const names = Object.keys(xattrs).sort();
  w.varint(names.length);
  for (const name of names) {
    const nb = Buffer.from(name, 'utf8');
    const vb = Buffer.from(xattrs[name]!, 'base64');
    w.varint(nb.length);
    w.bytes(nb, 0, nb.length);
    w.varint(vb.length);
    w.bytes(vb, 0, vb.length);
  }
}

/** The small columns a row pass writes as it goes (most entries have none of these). */
type RowColumn = 'targets' | 'devMajor' | 'devMinor' | 'xattrs';

/**
 * A snapshot's sections encoded from entries as columns, column by column, so that a writer holds the
 * entries and two of the snapshot's columns at a time, not all of them. The constructor checks every entry
 * (a RangeError for what the format cannot hold exactly, before anything is made) and makes what a row tells
 * as a whole: the flags, the raw section, the rarely used columns (symlink targets, device numbers, extended
 * attributes). `columns()` then makes the unpacked section's columns in order, each from one column of the
 * entries, the large ones in two buffers taken in turn: a column's bytes stay valid until the next but one is
 * made. `header()`, once every column is made, is the metadata header that precedes them (it holds their
 * lengths). Entries given as objects are put into the column form first (`columnsOf`): one encoder serves both.
 */
class SectionEncoder {
  private readonly n: number;
  /** Entries with a hash (FLAG_HASH). */
  private readonly hashCount: number;
  private readonly flags: Buffer;
  private readonly rowColumns: Record<RowColumn, Buffer>;
  private readonly withStat: boolean;
  private readonly scratch: [Buffer, Buffer];
  private readonly lengths = {} as Record<ColumnName, number>;

  constructor(
    private readonly ctx: Omit<Context, 'entries'>,
    private readonly cols: EntryColumns,
    private readonly meta: SnapshotMeta,
  ) {
    const n = (this.n = cols.length);
    const { order, hashAt, extras } = cols;
    const { type: types, mode: modes, uid: uids, gid: gids, size: sizes, mtimeSec: secs, mtimeNsec: nsecs } = cols;
    const bad = (i: number, what: string, value: unknown): never => {
      throw new RangeError(`snapshot: entry ${JSON.stringify(cols.path(order[i]!))}: invalid ${what} ${JSON.stringify(value)}`);
    };
    const flagsCol = (this.flags = Buffer.allocUnsafe(n));
    // The stat cache's columns, for the files a walk hashed (see FLAG_STAT).
    const withStat = (this.withStat = cols.stat !== undefined && cols.dev !== undefined);
    const { ctimeSec: csecs, ctimeNsec: cnsecs, ino: inos, dev: devs } = cols;
    const w = { targets: new ByteWriter(64), devMajor: new ByteWriter(64), devMinor: new ByteWriter(64), xattrs: new ByteWriter(64) };
    const anyExtras = extras.size > 0;
    let hashCount = 0;
    for (let i = 0; i < n; i++) {
      const row = order[i]!;
      const type = types[row]!;
      const mode = modes[row]!;
      const sec = secs[row]!;
      if (!(type >= 0 && type < TYPES.length && Number.isInteger(type))) bad(i, 'type code', type);
      if (!(Number.isInteger(mode) && mode >= 0 && mode <= 0xffff)) bad(i, 'mode', mode);
      if (!isU32(uids[row]!)) bad(i, 'uid', uids[row]);
      if (!isU32(gids[row]!)) bad(i, 'gid', gids[row]);
      if (!isSafeCount(sizes[row]!)) bad(i, 'size', sizes[row]);
      if (!Number.isSafeInteger(sec)) bad(i, 'mtimeSec', sec);
      if (!isU32(nsecs[row]!)) bad(i, 'mtimeNsec', nsecs[row]);
      let flags = 0;
      if (sec < 0 || Object.is(sec, -0)) flags |= FLAG_NEGATIVE_MTIME;
      const at = hashAt[row]!;
      if (at >= 0) {
        flags |= FLAG_HASH;
        hashCount++;
        // Only what the format holds exactly is recorded (anything else: the file is read next time).
        if (withStat) {
          const dev = devs![row]!;
          if (dev >= 0 && isSafeCount(dev) && isSafeCount(csecs![row]!) && isU32(cnsecs![row]!) && isSafeCount(inos![row]!)) flags |= FLAG_STAT;
        }
      }
      const e = anyExtras ? extras.get(row) : undefined;
      if (e !== undefined) {
        if (e.target !== undefined) {
          if (!isEncodableName(e.target)) bad(i, 'symlink target (not well-formed Unicode)', e.target);
          flags |= FLAG_TARGET;
          writeString(w.targets, e.target);
        }
        if (e.devMajor !== undefined) {
          if (!isU32(e.devMajor)) bad(i, 'devMajor', e.devMajor);
          flags |= FLAG_DEV_MAJOR;
          w.devMajor.varint(e.devMajor);
        }
        if (e.devMinor !== undefined) {
          if (!isU32(e.devMinor)) bad(i, 'devMinor', e.devMinor);
          flags |= FLAG_DEV_MINOR;
          w.devMinor.varint(e.devMinor);
        }
        if (e.xattrs !== undefined) {
          flags |= FLAG_XATTRS;
          writeXattrs(w.xattrs, e.xattrs);
        }
      }
      flagsCol[i] = flags;
    }
    this.hashCount = hashCount;
    this.rowColumns = { targets: w.targets.result(), devMajor: w.devMajor.result(), devMinor: w.devMinor.result(), xattrs: w.xattrs.result() };
    // The widest column a number takes is 8 bytes an entry (a safe integer's LEB128); pages not written cost nothing.
    this.scratch = [Buffer.allocUnsafe(8 * n), Buffer.allocUnsafe(8 * n)];
  }

  private rawSection: Buffer | undefined;

  /**
   * The raw section: the hashes, in entry order. Made once the columns are (it is written last), in the
   * first of the columns' scratch buffers (8 bytes an entry, as wide as it can be): no buffer of its own.
   */
  get raw(): Buffer {
    if (this.rawSection) return this.rawSection;
    const { n, flags } = this;
    const { order, hashAt, hashBytes } = this.cols;
    const raw = this.scratch[0];
    let p = 0;
    for (let i = 0; i < n; i++) {
      if ((flags[i]! & FLAG_HASH) === 0) continue;
      const at = hashAt[order[i]!]!;
      for (let j = 0; j < 8; j++) raw[p + j] = hashBytes[at + j]!;
      p += 8;
    }
    return (this.rawSection = raw.subarray(0, p));
  }

  /** The unpacked section's columns, in order (see the class). */
  *columns(): Generator<Buffer, void, undefined> {
    for (let k = 0; k < COLUMNS.length; k++) {
      const name = COLUMNS[k]!;
      if (name === 'paths') {
        // In parts of about PATHS_PART bytes: the paths are the largest column by far.
        let length = 0;
        for (const part of this.paths()) {
          length += part.length;
          yield part;
        }
        this.lengths[name] = length;
        continue;
      }
      const bytes = this.column(name, this.scratch[k % 2]!);
      this.lengths[name] = bytes.length;
      yield bytes;
    }
  }

  private column(name: Exclude<ColumnName, 'paths'>, out: Buffer): Buffer {
    const { cols, n } = this;
    const order = cols.order;
    switch (name) {
      case 'type': {
        const types = cols.type;
        for (let i = 0; i < n; i++) out[i] = types[order[i]!]!;
        return out.subarray(0, n);
      }
      case 'flags':
        return this.flags;
      case 'mode': {
        const modes = cols.mode;
        for (let i = 0; i < n; i++) {
          const mode = modes[order[i]!]!;
          out[2 * i] = mode & 0xff;
          out[2 * i + 1] = mode >>> 8;
        }
        return out.subarray(0, 2 * n);
      }
      case 'uid':
        return this.varints(cols.uid, out, false);
      case 'gid':
        return this.varints(cols.gid, out, false);
      case 'size':
        return this.varints(cols.size, out, false);
      case 'mtimeSec': {
        // Its sign is a flag (FLAG_NEGATIVE_MTIME).
        const secs = cols.mtimeSec;
        let p = 0;
        for (let i = 0; i < n; i++) p = putVarint(out, p, Math.abs(secs[order[i]!]!));
        return out.subarray(0, p);
      }
      case 'mtimeNsec':
        return this.u32s(cols.mtimeNsec, out, false);
      case 'targets':
      case 'devMajor':
      case 'devMinor':
      case 'xattrs':
        return this.rowColumns[name];
      case 'ctimeSec':
        return this.withStat ? this.varints(cols.ctimeSec!, out, true) : out.subarray(0, 0);
      case 'ctimeNsec':
        return this.withStat ? this.u32s(cols.ctimeNsec!, out, true) : out.subarray(0, 0);
      case 'ino':
        return this.withStat ? this.varints(cols.ino!, out, true) : out.subarray(0, 0);
      case 'dev':
        return this.withStat ? this.varints(cols.dev!, out, true) : out.subarray(0, 0);
    }
  }

  /** A column of LEB128 numbers in entry order (`statOnly`: of the entries flagged FLAG_STAT only). */
  private varints(values: Uint32Array | Float64Array, out: Buffer, statOnly: boolean): Buffer {
    const { n, flags } = this;
    const order = this.cols.order;
    let p = 0;
    for (let i = 0; i < n; i++) if (!statOnly || flags[i]! & FLAG_STAT) p = putVarint(out, p, values[order[i]!]!);
    return out.subarray(0, p);
  }

  /** A column of little-endian u32 in entry order (`statOnly`: of the entries flagged FLAG_STAT only). */
  private u32s(values: Uint32Array, out: Buffer, statOnly: boolean): Buffer {
    const { n, flags } = this;
    const order = this.cols.order;
    let p = 0;
    for (let i = 0; i < n; i++) {
      if (statOnly && !(flags[i]! & FLAG_STAT)) continue;
      const v = values[order[i]!]!;
      out[p] = v & 0xff;
      out[p + 1] = (v >>> 8) & 0xff;
      out[p + 2] = (v >>> 16) & 0xff;
      out[p + 3] = v >>> 24;
      p += 4;
    }
    return out.subarray(0, p);
  }

  /**
   * The paths column (front-coded, see the format), in parts of about PATHS_PART bytes, written in turn into
   * two buffers: a part is compressed while the next is made, and the one before it is done with by then
   * (as the columns' scratch buffers are, see pack).
   */
  private *paths(): Generator<Buffer, void, undefined> {
    const { cols, n } = this;
    const order = cols.order;
    const writers = [new ByteWriter(PATHS_PART + (64 << 10)), new ByteWriter(PATHS_PART + (64 << 10))] as const;
    let turn = 0;
    const ascii = cols.asciiPaths;
    const coder = ascii ? null : new PathCoder();
    const state = { prevStart: 0, prevLength: 0 };
    for (let i = 0; i < n; ) {
      const w = writers[turn++ % 2]!;
      w.pos = 0;
      if (ascii) {
        i = frontCodeBytes(w, order, i, PATHS_PART, ascii.bytes, ascii.starts, ascii.lengths, state);
      } else {
        for (; i < n && w.pos < PATHS_PART; i++) {
          const p = cols.path(order[i]!);
          if (!coder!.write(w, p)) throw new RangeError(`snapshot: entry ${JSON.stringify(p)}: invalid path (not well-formed Unicode) ${JSON.stringify(p)}`);
        }
      }
      yield w.result();
    }
  }


  /** The metadata header (its length, then its JSON), once every column is made. */
  header(): Buffer {
    const { ctx, meta, cols } = this;
    const columns = Object.fromEntries(COLUMNS.map((c) => [c, this.lengths[c]])) as Record<ColumnName, number>;
    if (COLUMNS.some((c) => columns[c] === undefined)) throw new Error('snapshot: header asked before every column is made');
    const changedWhileRead = (cols.changedWhileRead ?? []).map((row) => cols.path(row));
    const stat = this.withStat ? cols.stat : undefined;
    const header: MetaHeader = {
      toolVersion: meta.toolVersion,
      createdAt: meta.createdAt,
      context: headerContext(ctx) as Omit<Context, 'entries'>,
      entries: this.n,
      hashes: this.hashCount,
      columns,
      ...(changedWhileRead.length > 0 ? { changedWhileRead } : {}),
      ...(stat ? { stat: { machine: stat.machine, startedAtNs: stat.startedAtNs } } : {}),
    };
    const json = Buffer.from(JSON.stringify(header), 'utf8');
    const h = Buffer.allocUnsafe(4 + json.length);
    h.writeUInt32LE(json.length, 0);
    json.copy(h, 4);
    return h;
  }
}

/** The code of an entry type in the `type` column. */
export function entryTypeCode(type: EntryType): number {
  return TYPE_CODE[type];
}

/** Total length of parts. */
const lengthOf = (parts: readonly Buffer[]): number => parts.reduce((sum, b) => sum + b.length, 0);

/**
 * CRC-32 of parts joined. Empty parts are skipped: Node 20's zlib.crc32 of a zero-length
 * Buffer.allocUnsafe(0) with a start value returns 0, not the start value.
 */
function crc32Of(parts: readonly Buffer[], start = 0): number {
  let crc = start;
  for (const b of parts) if (b.length > 0) crc = zlib.crc32(b, crc);
  return crc;
}

/** The three parts of the file, from the header and the columns made and compressed (see pack). */
function framed(head: Buffer, packedHead: Buffer[], columnsCrc: number, columnsLength: number, packedColumns: Buffer[], raw: Buffer): Encoded {
  const packed = [...packedHead, ...packedColumns, FINAL_BLOCK];
  const h = Buffer.alloc(HEADER_SIZE);
  MAGIC.copy(h, 0);
  h.writeUInt32LE(SNAPSHOT_SCHEMA_VERSION, 8);
  h.writeUInt32LE(COMPRESSION_DEFLATE_RAW, 12);
  h.writeBigUInt64LE(BigInt(lengthOf(packed)), 16);
  h.writeBigUInt64LE(BigInt(head.length + columnsLength), 24);
  h.writeBigUInt64LE(BigInt(raw.length), 32);
  h.writeUInt32LE(crc32Combine(crc32Of([head]), columnsCrc, columnsLength), 40);
  h.writeUInt32LE(crc32Of([...packed, raw]), 44);
  h.writeUInt32LE(zlib.crc32(h.subarray(0, 48)), 48);
  return { header: h, packed, raw };
}

/**
 * Makes and compresses the sections on this thread: each column is compressed (deflate.ts) as soon as it is
 * made, the header last and put first.
 */
function packSync(enc: SectionEncoder): Encoded {
  const packed: Buffer[] = [];
  let crc = 0;
  let length = 0;
  for (const column of enc.columns()) {
    crc = crc32Of([column], crc);
    length += column.length;
    packed.push(...deflatePartSync(column));
  }
  const head = enc.header();
  return framed(head, deflatePartSync(head), crc, length, packed, enc.raw);
}

/**
 * The same bytes as packSync, compressed on the thread pool: a column is compressed while the next is made,
 * and the one before it is done with before that (the encoder's buffers taken in turn): two at most are held.
 */
async function pack(enc: SectionEncoder): Promise<Encoded> {
  const compressing: Promise<Buffer[]>[] = [];
  let crc = 0;
  let length = 0;
  for (const column of enc.columns()) {
    crc = crc32Of([column], crc);
    length += column.length;
    const done = deflatePart(column);
    done.catch(() => {}); // awaited below; not an unhandled rejection meanwhile
    compressing.push(done);
    if (compressing.length >= 2) await compressing[compressing.length - 2];
  }
  const packed = (await Promise.all(compressing)).flat();
  const head = enc.header();
  return framed(head, await deflatePart(head), crc, length, packed, enc.raw);
}

function validateContext(ctx: Context): void {
  if (!Array.isArray(ctx.entries)) throw new TypeError('snapshot: context.entries must be an array');
}

/**
 * Serialises a context into snapshot bytes (format above). `meta` fields default to the current format
 * version, this package's version and now. Throws RangeError for an entry attribute the format cannot
 * hold exactly (a uid beyond 32 bits, a fractional size, a hash that is not 16 lowercase hex digits, …).
 */
export function encodeSnapshot(ctx: Context, meta?: Partial<SnapshotMeta>): Buffer {
  validateContext(ctx);
  const { header, packed, raw } = packSync(new SectionEncoder(ctx, columnsOf(ctx.entries), completeMeta(meta)));
  return Buffer.concat([header, ...packed, raw]);
}

async function encodeAsync(ctx: Context, meta: SnapshotMeta): Promise<Encoded> {
  validateContext(ctx);
  return pack(new SectionEncoder(ctx, columnsOf(ctx.entries), meta));
}

// ---------------------------------------------------------------------------------------------------------
// Decoding

interface Frame {
  version: number;
  unpackedLength: number;
  unpackedCrc: number;
  packed: Buffer;
  raw: Buffer;
  /** `raw` is a buffer of its own (not a view into the file's bytes): the decoded hashes may keep it as it is. */
  rawOwned?: boolean;
}

/** Checks the frame header and the sections' checksum; returns the sections. */
function parseFrame(buf: Buffer, file: string): Frame {
  const fail = (reason: string): never => {
    throw new SnapshotFormatError(file, reason);
  };
  if (buf.length === 0) fail('empty file, not a ctxdiff snapshot');
  const magicLength = Math.min(buf.length, MAGIC.length);
  if (!buf.subarray(0, magicLength).equals(MAGIC.subarray(0, magicLength))) fail('not a ctxdiff snapshot');
  if (buf.length < 12) fail(`truncated snapshot (${buf.length} bytes)`);
  const version = buf.readUInt32LE(8);
  if (version > SNAPSHOT_SCHEMA_VERSION) {
    fail(`snapshot format version ${version} is newer than this ctxdiff reads (${SNAPSHOT_SCHEMA_VERSION}); upgrade ctxdiff`);
  }
  if (version < OLDEST_VERSION) fail(`unknown snapshot format version ${version}`);
  if (buf.length < HEADER_SIZE) fail(`truncated snapshot (${buf.length} bytes)`);
  if (zlib.crc32(buf.subarray(0, 48)) !== buf.readUInt32LE(48)) fail('corrupt snapshot (header checksum mismatch)');
  const method = buf.readUInt32LE(12);
  if (method !== COMPRESSION_DEFLATE_RAW) fail(`corrupt snapshot (unknown compression method ${method})`);
  const packedLength = Number(buf.readBigUInt64LE(16));
  const unpackedLength = Number(buf.readBigUInt64LE(24));
  const rawLength = Number(buf.readBigUInt64LE(32));
  const expected = HEADER_SIZE + packedLength + rawLength;
  if (!Number.isSafeInteger(expected) || unpackedLength > 2 ** 52) fail('corrupt snapshot (impossible lengths)');
  if (buf.length < expected) fail(`truncated snapshot (${buf.length} of ${expected} bytes)`);
  if (buf.length > expected) fail(`corrupt snapshot (${buf.length - expected} unexpected bytes at the end)`);
  if (zlib.crc32(buf.subarray(HEADER_SIZE)) !== buf.readUInt32LE(44)) fail('corrupt snapshot (checksum mismatch)');
  return {
    version,
    unpackedLength,
    unpackedCrc: buf.readUInt32LE(40),
    packed: buf.subarray(HEADER_SIZE, HEADER_SIZE + packedLength),
    raw: buf.subarray(HEADER_SIZE + packedLength),
  };
}

/**
 * Inflate options bounding the output to the declared length, in one output buffer of that length: zlib then
 * never holds the output twice (its pieces, and their concatenation). Pages of it that a lying header leaves
 * unwritten cost no memory.
 */
function inflateOptions(frame: Frame): zlib.ZlibOptions {
  const length = Math.max(1, frame.unpackedLength);
  return { maxOutputLength: length, chunkSize: Math.max(zlib.constants.Z_MIN_CHUNK, Math.min(length, zlib.constants.Z_MAX_CHUNK)) };
}

/** The most entries a snapshot may declare (far above any real context; bounds what a forged header claims). */
const MAX_ENTRIES = 1 << 25;
/** The largest metadata header (build files are at most 16 MiB each). */
const MAX_HEADER_BYTES = 128 << 20;
/** Bounds per entry on the variable-length columns (a varint is at most 8 bytes; paths and targets ≤ 64 KiB). */
const MAX_COLUMN_BYTES_PER_ENTRY: Readonly<Record<ColumnName, number>> = {
  type: 1, flags: 1, mode: 2, uid: 8, gid: 8, size: 8, mtimeSec: 8, mtimeNsec: 4,
  paths: 16 + (64 << 10), targets: 8 + (64 << 10), devMajor: 8, devMinor: 8, xattrs: 8 + (1 << 20),
  ctimeSec: 8, ctimeNsec: 4, ino: 8, dev: 8,
};

/**
 * Before the whole section is inflated: inflates only the start of it (a prefix of the packed bytes, so
 * the output is bounded whatever they hold), reads the metadata header there and checks that the sizes it
 * declares add up to the declared inflated length and stay within sane bounds for its entry count. A
 * compression bomb (a small file whose section inflates to gigabytes) is refused here, in milliseconds,
 * instead of after the inflating. The full decode checks everything again, exactly.
 */
function checkDeclaredSizes(frame: Frame, file: string): MetaHeader | null {
  const fail = (reason: string): never => {
    throw new SnapshotFormatError(file, `corrupt snapshot (${reason})`);
  };
  const u = frame.unpackedLength;
  const packed = frame.packed;
  for (let prefix = 16 << 10; ; prefix *= 4) {
    const input = packed.subarray(0, Math.min(prefix, packed.length));
    let head: Buffer;
    try {
      head = zlib.inflateRawSync(input, { finishFlush: zlib.constants.Z_SYNC_FLUSH, maxOutputLength: Math.max(1, Math.min(u, 4 + MAX_HEADER_BYTES)) });
    } catch (err) {
      // More output than the declared length (or the header bound) from a prefix: not what the header says.
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') fail('section inflates to more than its declared length');
      throw inflateError(file, err);
    }
    if (head.length >= 4) {
      const jsonLength = head.readUInt32LE(0);
      if (jsonLength > MAX_HEADER_BYTES || 4 + jsonLength > u) fail('metadata header overruns its section');
      if (head.length >= 4 + jsonLength) {
        const header = parseMetaHeader(head, jsonLength, frame.version, fail);
        const n = header.entries;
        if (n > MAX_ENTRIES) fail(`${n} entries declared, more than the ${MAX_ENTRIES} a snapshot may hold`);
        if (header.hashes > n) fail('more hashes than entries declared');
        let total = 4 + jsonLength;
        // A version-1 file has no stat columns (whatever its header says of them).
        for (const c of columnsOfVersion(frame.version)) {
          const len = header.columns[c];
          if (len > n * MAX_COLUMN_BYTES_PER_ENTRY[c]) fail(`${c} column longer than ${n} entries can fill`);
          total += len;
        }
        if (total !== u) fail('column lengths do not add up to the declared section length');
        return header;
      }
    }
    if (input.length === packed.length) return null; // the whole section is small: the full decode says what is wrong
  }
}

function inflateError(file: string, err: unknown): SnapshotFormatError {
  const reason = err instanceof Error ? err.message : String(err);
  return new SnapshotFormatError(file, `corrupt snapshot (cannot decompress: ${reason})`, { cause: err });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && isSafeCount(v);
}

/** The metadata header: `jsonLength` bytes of JSON after the section's u32 length, parsed and validated. */
function parseMetaHeader(section: Buffer, jsonLength: number, version: number, fail: (reason: string) => never): MetaHeader {
  let parsed: unknown;
  try {
    parsed = JSON.parse(section.toString('utf8', 4, 4 + jsonLength));
  } catch {
    fail('metadata header is not valid JSON');
  }
  return checkHeader(parsed, version) ?? fail('metadata header is malformed');
}

/** Validates the JSON metadata header; returns null when malformed. */
function checkHeader(h: unknown, version: number): MetaHeader | null {
  if (!isObject(h) || typeof h.toolVersion !== 'string' || typeof h.createdAt !== 'string') return null;
  if (!isCount(h.entries) || !isCount(h.hashes)) return null;
  const c = h.context;
  const cols = h.columns;
  if (!isObject(c) || !isObject(cols) || !columnsOfVersion(version).every((k) => isCount(cols[k]))) return null;
  const st = h.stat;
  if (st !== undefined && !(version >= 2 && isObject(st) && typeof st.machine === 'string' && typeof st.startedAtNs === 'string' && /^\d{1,30}$/.test(st.startedAtNs))) {
    return null;
  }
  if (typeof c.name !== 'string' || typeof c.builder !== 'string') return null;
  const ig = c.ignore;
  if (ig !== null && !(isObject(ig) && typeof ig.file === 'string' && typeof ig.text === 'string')) return null;
  if (!isObject(c.dockerfiles) || !Object.values(c.dockerfiles).every((t) => typeof t === 'string')) return null;
  if (c.dockerfile !== undefined && typeof c.dockerfile !== 'string') return null;
  if (c.xattrs !== undefined && typeof c.xattrs !== 'boolean') return null;
  const cw = h.changedWhileRead;
  if (cw !== undefined && !(Array.isArray(cw) && cw.every((p) => typeof p === 'string'))) return null;
  const r = c.root;
  if (r !== undefined && !(isObject(r) && ['mode', 'uid', 'gid', 'mtimeSec', 'mtimeNsec'].every((k) => typeof r[k] === 'number'))) {
    return null;
  }
  if (c.walks !== undefined && !isWalks(c.walks)) return null;
  return h as unknown as MetaHeader;
}

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** The shape of `context.walks` (see the format above): what the readers of its entries rely on. */
function isWalks(w: unknown): boolean {
  if (!isObject(w) || !isStrings(w.same) || !Array.isArray(w.variants)) return false;
  return w.variants.every((v: unknown) => {
    if (!isObject(v) || !isStrings(v.builders) || !isStrings(v.removed) || !Array.isArray(v.entries)) return false;
    const ig = v.ignore;
    if (ig !== null && !(isObject(ig) && typeof ig.file === 'string' && typeof ig.text === 'string')) return false;
    return v.entries.every((e: unknown) =>
      isObject(e) && typeof e.path === 'string' && e.path !== '' && TYPES.includes(e.type as EntryType) &&
      ['mode', 'uid', 'gid', 'size', 'mtimeSec', 'mtimeNsec'].every((k) => Number.isSafeInteger(e[k])) &&
      (e.hash === undefined || (typeof e.hash === 'string' && /^[0-9a-f]{16}$/.test(e.hash))) &&
      (e.target === undefined || typeof e.target === 'string') &&
      (e.xattrs === undefined || (isObject(e.xattrs) && Object.values(e.xattrs).every((x) => typeof x === 'string'))) &&
      (e.devMajor === undefined || Number.isSafeInteger(e.devMajor)) && (e.devMinor === undefined || Number.isSafeInteger(e.devMinor)));
  });
}

const U32_MAX = 0xffffffff;

/** The offset after the number readVarint read last. */
let varintEnd = 0;

/**
 * Reads an unsigned LEB128 of at most 8 bytes at `p`, none of them at or past `end`; -1 when malformed. The
 * offset after it is left in `varintEnd`.
 */
function readVarint(b: Buffer, p: number, end: number): number {
  let v = 0;
  let mul = 1;
  for (let k = 0; k < 8 && p < end; k++) {
    const byte = b[p++]!;
    v += (byte & 0x7f) * mul;
    if (byte < 0x80) {
      varintEnd = p;
      return v;
    }
    mul *= 0x80;
  }
  return -1;
}

/**
 * Reads unsigned LEB128 numbers from `p` (none past `end`) into `out[r]` for the rows r in [from, to): every row,
 * or with `flagsAt` >= 0 those whose flags byte (`b[flagsAt + r]`) has `flag`. Returns the offset after them;
 * -1 when one is malformed, -2 when one is above `max`.
 */
function readVarints(b: Buffer, p: number, end: number, out: Uint32Array | Float64Array, max: number, from: number, to: number, flagsAt: number, flag: number): number {
  for (let r = from; r < to; r++) {
    if (flagsAt >= 0 && (b[flagsAt + r]! & flag) === 0) continue;
    const v = readVarint(b, p, end);
    if (v < 0) return -1;
    if (v > max) return -2;
    out[r] = v;
    p = varintEnd;
  }
  return p;
}

/** The bytes of `n` front-coded paths (see the paths column) from `p` to `end` in full; -1 when they overrun it. */
function frontCodedLength(b: Buffer, p: number, end: number, n: number): number {
  let total = 0;
  for (let i = 0; i < n; i++) {
    const k = readVarint(b, p, end);
    if (k < 0) return -1;
    const s = readVarint(b, varintEnd, end);
    if (s < 0) return -1;
    p = varintEnd + s;
    if (p > end) return -1;
    total += k + s;
  }
  return total;
}

/**
 * The paths column decoded in runs of rows: every path in full, back to back in `bytes` (sized by
 * frontCodedLength), row r's at `starts[r]`, `lengths[r]` bytes long.
 */
class FrontDecoder {
  readonly starts: Int32Array;
  readonly lengths: Int32Array;
  /** Per row, the bytes its path shares with the one before, at most 255 (EntryColumns.sharedPrefix). */
  readonly shared: Uint8Array;
  /** Whether every byte decoded so far is ASCII. */
  ascii = true;
  private out = 0;
  private prevStart = 0;
  private prevLength = 0;

  constructor(
    private readonly b: Buffer,
    /** The offset of the next path's prefix length in `b`. */
    public position: number,
    private readonly end: number,
    readonly bytes: Buffer,
    n: number,
  ) {
    this.starts = new Int32Array(n);
    this.lengths = new Int32Array(n);
    this.shared = new Uint8Array(n);
  }

  /** Decodes the paths of rows [from, to), the next ones; false when one is out of bounds. */
  decode(from: number, to: number): boolean {
    const { b, end, bytes, starts, lengths, shared } = this;
    let p = this.position, out = this.out, prevStart = this.prevStart, prevLength = this.prevLength;
    let high = 0;
    for (let r = from; r < to; r++) {
      const k = readVarint(b, p, end);
      const s = k < 0 ? -1 : readVarint(b, varintEnd, end);
      if (s < 0) return false;
      p = varintEnd;
      if (k > prevLength || p + s > end || out + k + s > bytes.length) return false;
      // The shared prefix, byte by byte: a few dozen bytes, where Buffer#copy's call costs more than the copy.
      for (let j = 0; j < k; j++) bytes[out + j] = bytes[prevStart + j]!;
      for (let j = 0; j < s; j++) {
        const c = b[p + j]!;
        high |= c;
        bytes[out + k + j] = c;
      }
      p += s;
      shared[r] = k < 255 ? k : 255;
      starts[r] = prevStart = out;
      lengths[r] = prevLength = k + s;
      out += k + s;
    }
    if (high >= 0x80) this.ascii = false;
    this.position = p;
    this.out = out;
    this.prevStart = prevStart;
    this.prevLength = prevLength;
    return true;
  }
}

/**
 * Decodes the verified sections into the context's metadata and its entries as columns (rows in entry
 * order, paths as UTF-8 bytes). Throws SnapshotFormatError on any inconsistency.
 */
/** Rows decoded per step of a SectionDecoder: a few milliseconds of work, even before V8 optimizes it. */
const DECODE_ROWS_PER_STEP = 1 << 13;
/**
 * Rows of the first step: few enough that V8 does not compile the loops while they first run, so every
 * line of the step has run (and V8 has seen what it handles) before they are compiled. A loop compiled
 * during its first run leaves code after it that has never run, and that code is thrown away at once (a
 * deoptimization, `node --trace-deopt`), at every later step, until the whole function is compiled again.
 */
const DECODE_ROWS_FIRST_STEP = 64;

/** A decoding in steps (see decodeSections): `step` decodes the next rows, true once all are; then `finish`. */
interface SectionDecoder {
  step(): boolean;
  finish(): { context: Omit<Context, 'entries'>; entries: EntryColumns; header: MetaHeader };
}

function decodeSections(unpacked: Buffer, raw: Buffer, file: string, version: number, rawOwned = false): SectionDecoder {
  const fail = (reason: string): never => {
    throw new SnapshotFormatError(file, `corrupt snapshot (${reason})`);
  };
  if (unpacked.length < 4) fail('no metadata header');
  const jsonLength = unpacked.readUInt32LE(0);
  if (4 + jsonLength > unpacked.length) fail('metadata header overruns its section');
  const header = parseMetaHeader(unpacked, jsonLength, version, fail);
  const n = header.entries;
  if (raw.length !== header.hashes * 8) fail('hash section length does not match the hash count');
  const columns = columnsOfVersion(version);
  const knownFlags = version === 1 ? FLAGS_V1 : ALL_FLAGS;

  // Column boundaries (a version-1 file has no stat columns: they are empty).
  const start = {} as Record<ColumnName, number>;
  const end = {} as Record<ColumnName, number>;
  let off = 4 + jsonLength;
  for (const c of COLUMNS) {
    start[c] = off;
    if (columns.includes(c)) off += header.columns[c];
    end[c] = off;
  }
  if (off !== unpacked.length) fail('column lengths do not add up to the section length');
  const fixed: [ColumnName, number][] = [['type', 1], ['flags', 1], ['mode', 2], ['mtimeNsec', 4]];
  for (const [c, width] of fixed) if (header.columns[c] !== n * width) fail(`${c} column has the wrong length`);

  const b = unpacked;
  let pUid = start.uid, pGid = start.gid, pSize = start.size, pSec = start.mtimeSec;
  let pTarget = start.targets, pMajor = start.devMajor, pMinor = start.devMinor, pX = start.xattrs;
  let pCsec = start.ctimeSec, pCnsec = start.ctimeNsec, pIno = start.ino, pDev = start.dev;
  const xattrsEnd = end.xattrs;
  const targetsEnd = end.targets, cnsecEnd = end.ctimeNsec;
  const typeAt = start.type, flagsAt = start.flags, modeAt = start.mode, nsecAt = start.mtimeNsec;

  /** Reads an unsigned LEB128 at `p` (for the rarer columns); returns the value, the next offset in `next`. */
  let next = 0;
  const varint = (p: number): number => {
    const v = readVarint(b, p, b.length);
    if (v < 0) fail('malformed number');
    next = varintEnd;
    return v;
  };

  // The stat cache's columns only when the header says where and when they were recorded.
  const withStat = header.stat !== undefined;
  const cols = numericColumns(n, withStat);
  const { type: types, mode: modes, uid: uids, gid: gids, size: sizes, mtimeSec: secs, mtimeNsec: nsecs } = cols;
  const { ctimeSec: csecs, ctimeNsec: cnsecs, ino: inos, dev: devs } = cols;
  const hashAt = new Int32Array(n);
  // A copy unless it is one already: the file's buffer is not kept alive by its last 8 bytes per file.
  const hashBytes = rawOwned ? raw : Buffer.from(raw);
  const extras = new Map<number, EntryExtras>();
  // Every path in full, back to back, in a buffer of the exact size (a first pass over the paths column).
  const total = frontCodedLength(b, start.paths, end.paths, n);
  if (total < 0) fail('path out of bounds');
  if (total > 2 ** 31 - 1) fail('paths too long');
  const paths = new FrontDecoder(b, start.paths, end.paths, Buffer.allocUnsafe(total), n);
  let hashIndex = 0;

  /** Column `what`'s numbers of rows [from, to) (those with `flag` set, when given) into `out`; the offset after them. */
  const numbers = (what: ColumnName, p: number, out: Uint32Array | Float64Array, max: number, from: number, to: number, flag = 0): number => {
    const q = readVarints(b, p, end[what], out, max, from, to, flag === 0 ? -1 : flagsAt, flag);
    if (q < 0) fail(q === -2 ? (what === 'uid' || what === 'gid' ? 'owner beyond 32 bits' : `${what} beyond its range`) : 'malformed number');
    return q;
  };

  // Decoded a column at a time over each step's rows: tight loops, each with its own offset.
  let i = 0;
  const step = (): boolean => {
    const from = i;
    const stop = Math.min(n, i + (i === 0 ? DECODE_ROWS_FIRST_STEP : DECODE_ROWS_PER_STEP));
    let rare = false;
    let stat = false;
    for (let r = from; r < stop; r++) {
      const type = b[typeAt + r]!;
      if (type >= TYPES.length) fail(`unknown entry type code ${type}`);
      const flags = b[flagsAt + r]!;
      if ((flags & ~knownFlags) !== 0) fail(`unknown entry flags ${flags}`);
      types[r] = type;
      modes[r] = b[modeAt + 2 * r]! | (b[modeAt + 2 * r + 1]! << 8);
      const q = nsecAt + 4 * r;
      nsecs[r] = (b[q]! | (b[q + 1]! << 8) | (b[q + 2]! << 16) | (b[q + 3]! << 24)) >>> 0;
      if (flags & FLAG_HASH) {
        if (hashIndex >= header.hashes) fail('more hashes flagged than stored');
        hashAt[r] = 8 * hashIndex++;
      } else hashAt[r] = -1;
      if (flags & (FLAG_TARGET | FLAG_DEV_MAJOR | FLAG_DEV_MINOR | FLAG_XATTRS)) rare = true;
      if (flags & FLAG_STAT) stat = true;
    }
    if (!paths.decode(from, stop)) fail('path out of bounds');
    pUid = numbers('uid', pUid, uids, U32_MAX, from, stop);
    pGid = numbers('gid', pGid, gids, U32_MAX, from, stop);
    pSize = numbers('size', pSize, sizes, Number.MAX_SAFE_INTEGER, from, stop);
    pSec = numbers('mtimeSec', pSec, secs, Number.MAX_SAFE_INTEGER, from, stop);
    for (let r = from; r < stop; r++) if (b[flagsAt + r]! & FLAG_NEGATIVE_MTIME) secs[r] = -secs[r]!;
    if (stat) {
      if (!withStat) fail('file identities without the header that says where they were recorded');
      pCsec = numbers('ctimeSec', pCsec, csecs!, Number.MAX_SAFE_INTEGER, from, stop, FLAG_STAT);
      pIno = numbers('ino', pIno, inos!, Number.MAX_SAFE_INTEGER, from, stop, FLAG_STAT);
      pDev = numbers('dev', pDev, devs!, Number.MAX_SAFE_INTEGER, from, stop, FLAG_STAT);
      for (let r = from; r < stop; r++) {
        if ((b[flagsAt + r]! & FLAG_STAT) === 0) continue;
        if (pCnsec + 4 > cnsecEnd) fail('ctimeNsec column does not match the entries');
        cnsecs![r] = b.readUInt32LE(pCnsec);
        pCnsec += 4;
      }
    }
    // The rarer attributes, an object per row that has any.
    for (let r = from; rare && r < stop; r++) {
      const flags = b[flagsAt + r]!;
      if ((flags & (FLAG_TARGET | FLAG_DEV_MAJOR | FLAG_DEV_MINOR | FLAG_XATTRS)) === 0) continue;
      const x: EntryExtras = {};
      if (flags & FLAG_TARGET) {
        const len = varint(pTarget);
        if (next + len > targetsEnd) fail('symlink target out of bounds');
        x.target = decodeName(b, next, next + len);
        pTarget = next + len;
      }
      if (flags & FLAG_DEV_MAJOR) {
        x.devMajor = varint(pMajor);
        pMajor = next;
      }
      if (flags & FLAG_DEV_MINOR) {
        x.devMinor = varint(pMinor);
        pMinor = next;
      }
      if (flags & FLAG_XATTRS) {
        const xa: Record<string, string> = {};
        const count = varint(pX);
        pX = next;
        for (let j = 0; j < count; j++) {
          const nl = varint(pX);
          if (next + nl > xattrsEnd) fail('xattr name out of bounds');
          const name = b.toString('utf8', next, next + nl);
          const vl = varint(next + nl);
          if (next + vl > xattrsEnd) fail('xattr value out of bounds');
          xa[name] = b.toString('base64', next, next + vl);
          pX = next + vl;
        }
        x.xattrs = xa;
      }
      extras.set(r, x);
    }
    i = stop;
    return i >= n;
  };

  const finish = () => {
    const ends: [ColumnName, number][] = [
      ['uid', pUid], ['gid', pGid], ['size', pSize], ['mtimeSec', pSec], ['paths', paths.position], ['targets', pTarget],
      ['devMajor', pMajor], ['devMinor', pMinor], ['xattrs', pX], ['ctimeSec', pCsec], ['ctimeNsec', pCnsec],
      ['ino', pIno], ['dev', pDev],
    ];
    for (const [c, p] of ends) if (p !== end[c]) fail(`${c} column does not match the entries`);
    if (hashIndex !== header.hashes) fail('fewer hashes flagged than stored');

    // Paths are their bytes: UTF-8, or a name's raw bytes where it is not (decoded as in core/names.ts).
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    const { bytes, starts, lengths, ascii } = paths;
    const pathBytes = { bytes, starts, lengths };
    const path = pathReader(pathBytes, ascii);
    let changedWhileRead: number[] | undefined;
    if (header.changedWhileRead !== undefined && header.changedWhileRead.length > 0) {
      const changed = new Set(header.changedWhileRead);
      changedWhileRead = [];
      for (let i = 0; i < n; i++) if (changed.has(path(i))) changedWhileRead.push(i);
    }
    const entries: EntryColumns = {
      ...(changedWhileRead !== undefined && changedWhileRead.length > 0 ? { changedWhileRead } : {}),
      length: n,
      order,
      path,
      pathBytes,
      sharedPrefix: paths.shared,
      ...(ascii ? { asciiPaths: pathBytes } : {}),
      ...cols,
      hashAt,
      hashBytes,
      extras,
      ...(header.stat ? { stat: statOf(header)! } : {}),
  };
    const invocation = readInvocation((header.context as { invocation?: unknown }).invocation);
    const context: Omit<Context, 'entries'> = contextMeta({ ...header.context, invocation });
    // Named contexts are small next to the build context: each is decoded with its entries as objects.
    const named = (header.context as { namedContexts?: unknown }).namedContexts;
    if (isObject(named)) {
      context.namedContexts = {};
      for (const [name, b64] of Object.entries(named)) {
        if (typeof b64 !== 'string') fail(`named context ${name} is malformed`);
        context.namedContexts[name] = decodeSnapshot(Buffer.from(b64 as string, 'base64'), `${file} (named context ${name})`).context;
      }
    }
    return { context, entries, header };
  };
  return { step, finish };
}

/**
 * Row r's path as a string. Made here, not in decodeSections: a closure keeps alive every variable its
 * function's closures use, and decodeSections' include the whole unpacked section.
 */
function pathReader({ bytes, starts, lengths }: { bytes: Buffer; starts: Int32Array; lengths: Int32Array }, ascii: boolean) {
  if (ascii) return (row: number) => bytes.toString('latin1', starts[row]!, starts[row]! + lengths[row]!);
  return (row: number) => decodeName(bytes, starts[row]!, starts[row]! + lengths[row]!);
}

interface Decoded {
  context: Omit<Context, 'entries'>;
  entries: EntryColumns;
  meta: SnapshotMeta;
}

/**
 * Decodes the inflated section; with `pause`, awaits it between steps of rows (so that the thread serves its
 * other work, e.g. a walk's reader threads, while it decodes a large snapshot).
 */
function decodeUnpacked(frame: Frame, unpacked: Buffer, file: string): Decoded;
function decodeUnpacked(frame: Frame, unpacked: Buffer, file: string, pause: () => Promise<void>): Promise<Decoded>;
function decodeUnpacked(frame: Frame, unpacked: Buffer, file: string, pause?: () => Promise<void>): Decoded | Promise<Decoded> {
  if (unpacked.length !== frame.unpackedLength || zlib.crc32(unpacked) !== frame.unpackedCrc) {
    throw new SnapshotFormatError(file, 'corrupt snapshot (checksum mismatch after decompression)');
  }
  // Checksums passed, so a failure is a damaged or hand-made file; never let a RangeError escape.
  const guard = <T>(f: () => T): T => {
    try {
      return f();
    } catch (err) {
      if (err instanceof SnapshotFormatError) throw err;
      throw new SnapshotFormatError(file, `corrupt snapshot (${err instanceof Error ? err.message : String(err)})`, { cause: err });
    }
  };
  const decoder = guard(() => decodeSections(unpacked, frame.raw, file, frame.version, frame.rawOwned));
  const done = (): Decoded => {
    const { context, entries, header } = guard(() => decoder.finish());
    return { context, entries, meta: { schemaVersion: frame.version, toolVersion: header.toolVersion, createdAt: header.createdAt } };
  };
  if (!pause) {
    while (!guard(() => decoder.step()));
    return done();
  }
  return (async () => {
    while (!guard(() => decoder.step())) await pause();
    return done();
  })();
}

/**
 * Parses snapshot bytes. `file` names the source in error messages. Throws SnapshotFormatError when the
 * bytes are empty, not a snapshot, of a newer format version, truncated or corrupt.
 */
export function decodeSnapshot(buf: Buffer, file: string): { context: Context; meta: SnapshotMeta } {
  const { context, entries, meta } = decodeSnapshotColumns(buf, file);
  return { context: { ...context, entries: entriesOf(entries) }, meta };
}

/** Like decodeSnapshot, with the entries as columns (and, when the snapshot has them, the stat cache's fields). */
export function decodeSnapshotColumns(buf: Buffer, file: string): Decoded {
  const frame = parseFrame(buf, file);
  checkDeclaredSizes(frame, file);
  return decodeFrame(frame, file);
}

/** Inflates a checked frame's section and decodes it, on the calling thread at once. */
function decodeFrame(frame: Frame, file: string): Decoded {
  let unpacked: Buffer;
  try {
    unpacked = zlib.inflateRawSync(frame.packed, inflateOptions(frame));
  } catch (err) {
    throw inflateError(file, err);
  }
  return decodeUnpacked(frame, unpacked, file);
}

// ---------------------------------------------------------------------------------------------------------
// Files

/**
 * Writes a snapshot atomically: the bytes go to a temporary file in the same directory, which is fsynced
 * and renamed over `file`, so `file` is always either the previous snapshot or the complete new one. The
 * context is encoded before anything is written (an unencodable context leaves `file` untouched), and the
 * temporary file is removed on failure. Throws IoError when the file cannot be written.
 */
export async function writeSnapshot(file: string, ctx: Context, meta?: Partial<SnapshotMeta>): Promise<SnapshotMeta> {
  const full = completeMeta(meta);
  await writeAtomically(file, await encodeAsync(ctx, full));
  return full;
}

/**
 * Writes a snapshot of entries given as columns (see EntryColumns), atomically like writeSnapshot. The bytes
 * are those `writeSnapshot` writes for the same context with its entries as objects.
 */
export async function writeSnapshotColumns(
  file: string,
  ctx: Omit<Context, 'entries'>,
  entries: EntryColumns,
  meta?: Partial<SnapshotMeta>,
): Promise<SnapshotMeta> {
  const full = completeMeta(meta);
  await writeAtomically(file, await pack(new SectionEncoder(ctx, entries, full)));
  return full;
}

/** Writes a snapshot's parts safely (core/safe-output.ts: temporary file, fsync, rename; never over a non-file). */
async function writeAtomically(file: string, { header, packed, raw }: Encoded): Promise<void> {
  await writeOutputFile(file, [header, ...packed, raw]);
}

/** Reads and parses a snapshot file. Throws IoError when it cannot be read, SnapshotFormatError when invalid. */
export async function readSnapshot(file: string): Promise<{ context: Context; meta: SnapshotMeta }> {
  const { context, entries, meta } = await readSnapshotColumns(file);
  return { context: { ...context, entries: entriesOf(entries) }, meta };
}

/**
 * Like readSnapshot, with the entries as columns: no object per entry (what a diff of large contexts and the
 * stat cache read). Throws what readSnapshot throws.
 */
export async function readSnapshotColumns(file: string): Promise<Decoded> {
  return (await openSnapshotColumns(file)).decode();
}

/** A snapshot file read and its frame checked, its entries not decoded yet (see openSnapshotColumns). */
export interface OpenedSnapshot {
  /** Entries the header declares. */
  entries: number;
  /** Where and when the walk that recorded the entries' file identities ran (absent: none recorded). */
  stat: StatInfo | undefined;
  /**
   * Inflates and decodes the rest (once: later calls return the same promise, whatever they ask); rejects as
   * readSnapshotColumns throws. See DecodeOptions.
   */
  decode(options?: DecodeOptions): Promise<Decoded>;
}

export interface DecodeOptions {
  /**
   * Decode on a reader thread (context/threads.ts), leaving this thread free for other work (the other side of
   * a diff), when the snapshot declares at least `minEntries` entries (default 50,000: below, starting the
   * work there costs more than it saves).
   */
  thread?: boolean;
  minEntries?: number;
}

/** DecodeOptions.minEntries by default. */
const THREAD_DECODE_FROM = 50_000;

/**
 * A snapshot's entries as a stat cache (WalkOptions.cache) before they are decoded, and how many it declares:
 * they are decoded once the walk that uses them calls `begin` (see PendingStatCache).
 */
export function statCacheOf(opened: OpenedSnapshot): SnapshotStatCache {
  let begin!: () => void;
  const begun = new Promise<void>((resolve) => (begin = resolve));
  const entries = begun.then(() => opened.decode()).then((d) => d.entries);
  entries.catch(() => {}); // whoever waits for them is told; nobody else
  const pathBytes = entries.then(joinedPathBytes);
  pathBytes.catch(() => {});
  return { stat: opened.stat, entries, begin, declared: opened.entries, pathBytes };
}

/**
 * A snapshot as a pending stat cache, with the entry count it declares and, once decoded, the bytes of its
 * paths (joinedPathBytes): a walk of the same context makes room for about as many at once.
 */
export type SnapshotStatCache = PendingStatCache & { declared: number; pathBytes: Promise<number> };

/**
 * Reads a snapshot file and checks its frame and its metadata header (the start of its section); `decode`
 * inflates and decodes the rest when asked (so a walk whose stat cache it is can start first, and have its
 * reader threads busy while this thread decodes). Throws what readSnapshotColumns throws for the file and its
 * frame; `decode` rejects with what the rest of the decoding finds.
 */
export async function openSnapshotColumns(file: string): Promise<OpenedSnapshot> {
  let buf: Buffer;
  try {
    buf = await fsp.readFile(file);
  } catch (err) {
    throw IoError.from(file, err);
  }
  let frame: Frame | null = parseFrame(buf, file);
  const header = checkDeclaredSizes(frame, file);
  let decoded: Promise<Decoded> | undefined;
  const decode = async (onThread: boolean): Promise<Decoded> => {
    const f = frame!;
    frame = null; // once inflated, the file's bytes can go (its hashes are taken out first)
    if (onThread) return decodeOnThread(file, f);
    let unpacked: Buffer;
    try {
      unpacked = await inflateRaw(f.packed, inflateOptions(f));
    } catch (err) {
      throw inflateError(file, err);
    }
    const own: Frame = { ...f, packed: Buffer.alloc(0), raw: Buffer.from(f.raw), rawOwned: true };
    return decodeUnpacked(own, unpacked, file, () => new Promise<void>((resolve) => setImmediate(resolve)));
  };
  const entries = header?.entries ?? 0;
  const onThread = (o: DecodeOptions | undefined) => o?.thread === true && entries >= (o.minEntries ?? THREAD_DECODE_FROM);
  return { entries, stat: header ? statOf(header) : undefined, decode: (o) => (decoded ??= decode(onThread(o))) };
}

/** What a reader thread sends back for decodeOnThread: the decoded snapshot (its paths as bytes), or why not. */
type ThreadDecoded =
  | { ok: true; context: Omit<Context, 'entries'>; meta: SnapshotMeta; cols: Omit<EntryColumns, 'path' | 'asciiPaths'> & { ascii: boolean } }
  | { ok: false; reason: string };

/** A Buffer over the bytes of a view (what a Buffer becomes when it crosses threads). */
const asBuffer = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

/** The ArrayBuffers of `views` that can move between threads (Node's shared pool of small Buffers cannot). */
function movable(views: readonly (ArrayBufferView | undefined)[]): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const v of views) if (v && v.buffer instanceof ArrayBuffer && v.buffer.byteLength > Buffer.poolSize) out.add(v.buffer);
  return [...out];
}

/**
 * Decodes a snapshot's frame on a reader thread (decodeFrameTask there); its file's bytes move there. The
 * thread then ends, and the inflated section and the file's bytes it leaves with it.
 */
async function decodeOnThread(file: string, frame: Frame): Promise<Decoded> {
  const r = await runOnReaderThread<ThreadDecoded>(
    { module: import.meta.url, name: 'decodeFrameTask', arg: { file, frame } },
    movable([frame.packed, frame.raw]),
    true,
  );
  if (!r.ok) throw new SnapshotFormatError(file, r.reason);
  const { ascii, pathBytes: pb, hashBytes, ...cols } = r.cols;
  const pathBytes = { ...pb!, bytes: asBuffer(pb!.bytes) };
  const entries: EntryColumns = {
    ...cols,
    path: pathReader(pathBytes, ascii),
    pathBytes,
    ...(ascii ? { asciiPaths: pathBytes } : {}),
    hashBytes: asBuffer(hashBytes),
  };
  return { context: r.context, entries, meta: r.meta };
}

/**
 * The reader thread's part of decodeOnThread (run there by runOnReaderThread): inflates and decodes the frame
 * as openSnapshotColumns does, and sends the columns back moved, not copied. A snapshot that does not decode
 * comes back as its reason.
 */
export function decodeFrameTask(arg: { file: string; frame: Frame }): ThreadTaskResult<ThreadDecoded> {
  const { file } = arg;
  try {
    const frame: Frame = { ...arg.frame, packed: asBuffer(arg.frame.packed), raw: asBuffer(arg.frame.raw) };
    const { context, entries, meta } = decodeFrame(frame, file);
    const { path: _path, asciiPaths, ...cols } = entries;
    const pb = cols.pathBytes!;
    const views: ArrayBufferView[] = [pb.bytes, pb.starts, pb.lengths];
    for (const v of Object.values(cols) as unknown[]) if (ArrayBuffer.isView(v)) views.push(v);
    return { value: { ok: true, context, meta, cols: { ...cols, ascii: asciiPaths !== undefined } }, transfer: movable(views) };
  } catch (err) {
    if (err instanceof SnapshotFormatError) return { value: { ok: false, reason: err.message.slice(file.length + 2) }, transfer: [] };
    throw err;
  }
}

/** The StatInfo a header records, with whether its walk read extended attributes (its context's `xattrs`). */
function statOf(header: MetaHeader): StatInfo | undefined {
  return header.stat ? { ...header.stat, xattrs: header.context.xattrs === true } : undefined;
}

/** Whether `file` starts with the snapshot magic bytes (reads 8 bytes; false when it cannot be read). */
export function isSnapshotFile(file: string): boolean {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const head = Buffer.alloc(MAGIC.length);
    return fs.readSync(fd, head, 0, head.length, 0) === MAGIC.length && head.equals(MAGIC);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
