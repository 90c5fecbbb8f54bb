/**
 * Walk a build-context directory the way the builder does: apply the ignore rules while walking (excluded
 * directories are not even read unless an exception could re-include something below them), record every
 * entry's raw attributes without following symlinks or opening anything but regular files, and hash
 * regular files.
 *
 * Small contexts are read on the calling thread. Larger ones are read by this thread and a `FilePool` of
 * workers together: each reads whole directories (`DirScanner`) up to a budget and hands back what it did not
 * get to, so subtrees spread over the threads as they are discovered. A `Collector` takes in the results in
 * whatever order they come and puts the entries in canonical order at the end, which also decides which
 * failure is reported: the first in that order, as a sequential walk would.
 */
import path from 'node:path';
import { IoError } from '../core/errors.js';
import { isPlainName } from '../core/names.js';
import { FileHasher, FilePool, STAT_FIELDS, type BatchResult, type ReadFailure } from './hash.js';
import { createIgnoreMatcher, type IgnoreMatcher } from '../ignore/matcher.js';
import { locateIgnoreFile, parseIgnoreFile } from '../ignore/ignore-file.js';
import { defaultProfile, type BuilderProfile } from '../builders/profiles.js';
import { DirScanner, statEntry } from './scan.js';
import { F_CHANGED, F_DEFERRED, F_ERROR, F_EXCLUDED_DIR, F_EXTRAS, F_FAILED, F_HASH, F_MS_TIMES, F_UNREAD, F_WALKED, HASH_BYTES, N_CNSEC, N_CSEC, N_DEV, N_FLAGS, N_GID, N_INO, N_MODE, N_NSEC, N_SEC, N_SIZE, N_TYPE, N_UID, NUMS, TYPE_CODES, deserializeError, hexAt, type DirPolicy, type Extras, type ScanConfig, type ScanResult, type SerializedError } from './scan-result.js';
import { compareRows, joinedPathBytes, numericColumns, type EntryColumns, type PathSource, type PendingStatCache, type StatInfo } from './entry-columns.js';
import { cacheEntries, cacheUnusable, racyFrom, reusable, startStatInfo } from './stat-cache.js';
import { defaultThreads } from './threads.js';
import type { Context, Entry } from '../core/types.js';
import { readDockerfiles } from '../dockerfile/locate.js';

export { statEntry };

export interface WalkProgress {
  /** Entries recorded so far. */
  entries: number;
  /** Regular files among them, and their bytes (read, or known unchanged from the stat cache). */
  files: number;
  bytes: number;
  /** Files whose hash was re-used from the stat cache (see WalkOptions.cache). */
  reused: number;
  /** Whether file contents are being read (false while only the attributes are, see WalkOptions.cache). */
  reading: boolean;
}

export interface WalkOptions {
  /** Builder profile (chooses the ignore files and matcher). Default: the default profile (buildkit). */
  profile?: BuilderProfile;
  /** The Dockerfile as given with -f (absolute or relative to the working directory). */
  dockerfile?: string;
  /** Hash file contents (default true). */
  hash?: boolean;
  /**
   * Threads that read and hash files, this one included (default: CPUs, at most 4); 0 or 1: this thread only.
   * Small contexts are read on this thread whatever the setting.
   */
  threads?: number;
  /** Called now and then during long walks. */
  onProgress?: (p: WalkProgress) => void;
  /** Context name to record (default: the directory as given). */
  name?: string;
  /**
   * Read extended attributes. Default: when the profile counts them (Buildah, strict). Reading them costs
   * about a tenth of a snapshot's time; BuildKit's xattr-only hazard needs them, so --xattrs turns them on.
   */
  xattrs?: boolean;
  /**
   * What a path inside the context that cannot be read is (a file whose content cannot be read, a directory
   * that cannot be listed): `error` (default), the first one in canonical order is thrown, as an IoError;
   * `warn`: it is reported to onWarning and the walk goes on (the file listed with its attributes and no
   * hash, the directory without its contents). Without hashing (`hash: false`), `warn` also checks that
   * files can be read. The CLI's policy: an error for the commands whose answer depends on contents
   * (snapshot, tree, diff), a warning for the others (ls, du, doctor, why).
   */
  unreadable?: 'error' | 'warn';
  /** Things the user should know (a path that cannot be read, a file that changed while it was read). */
  onWarning?: (message: string) => void;
  /**
   * The stat cache (walkContextColumns only; see stat-cache.ts): an earlier walk's entries, e.g. from a
   * snapshot. When it was recorded on this machine, files are lstat'ed first and only those whose identity or
   * times differ from the recorded ones (or that are racy) are read; the others keep the recorded hash.
   * `cacheSkipped` is told why a cache given cannot be used. A PendingStatCache (a snapshot still being
   * decoded) lets the walk start at once: it waits for the entries only once every directory is read.
   */
  cache?: EntryColumns | PendingStatCache;
  cacheSkipped?: (reason: string) => void;
  /**
   * About how many entries the walk will find (walkContextColumns only; e.g. an earlier snapshot's count), so
   * that it makes room for them at once. Default: the stat cache's count, if any.
   */
  expectedEntries?: number;
  /**
   * About how many bytes the entries' paths will take (joinedPathBytes of an earlier snapshot's entries, once
   * decoded; walkContextColumns only), so that room is made for them at once. Default: the stat cache's.
   */
  expectedPathBytes?: Promise<number>;
  /** Record what a later walk's stat cache needs (ctime, inode, device; walkContextColumns only). Default true. */
  stat?: boolean;
}

/** Load the ignore rules in force for a context directory under a builder profile. */
export function loadIgnore(
  dir: string,
  profile: BuilderProfile,
  dockerfile: string | undefined,
): { matcher: IgnoreMatcher | null; info: Context['ignore'] } {
  const info = locateIgnoreFile(dir, dockerfile, profile);
  if (!info) return { matcher: null, info: null };
  const rules = parseIgnoreFile(info.text, info.file, profile.matcher);
  return { matcher: createIgnoreMatcher(rules, profile.matcher), info };
}

/**
 * How many times larger a full column of a walk's results is made. The copies it leaves are freed only by a
 * full garbage collection (they lived long enough to be old), which may come late: growing fourfold, they
 * add up to a third of the final size, not all of it. The room not used yet costs no memory until written.
 */
const GROWTH = 4;

/** Walk progress is reported at most this often (ms); the calling thread yields to the event loop as often. */
const PROGRESS_EVERY_MS = 4;

/** A directory the canonical-order cursor is in: its entries are slots [i, end). */
interface Frame {
  i: number;
  end: number;
  /** The directory's own slot (-1: the root). */
  slot: number;
  /** An excluded directory not emitted yet: it is dropped if nothing below it is emitted (see DirPolicy). */
  tentative: boolean;
}

/**
 * What every collector of a walk's results shares: entries take slots in arrival order; each directory read
 * knows the range of slots of its own entries. A cursor walks the slots in canonical order as far as the
 * results that have come allow (`advance`), appending them to `order`: each directory followed by what is
 * below it, names in code-unit order.
 */
abstract class SlotIndex {
  /** Slots taken. */
  protected length = 0;
  /** Directory path → its entries: slots [start, end). */
  private readonly dirs = new Map<string, { start: number; end: number }>();
  protected readonly errors = new Map<number, Error | SerializedError>();
  readonly progress: WalkProgress = { entries: 0, files: 0, bytes: 0, reused: 0, reading: true };
  /** Files that could not be read after their entries were emitted (the stat cache's second pass). */
  protected readonly lateFailures: number[] = [];
  private readonly stack: Frame[] = [];
  /** Excluded directories entered with nothing emitted below them yet (a chain, outermost first). */
  private readonly pending: number[] = [];
  /** The first entry in canonical order where the walk fails; the first file that could not be read. */
  private fatal: number | undefined;
  private failure: number | undefined;

  constructor(
    private readonly dirPolicy: DirPolicy,
    /** WalkOptions.unreadable: 'warn' skips what cannot be read (reported by `warnings`) instead of failing. */
    private readonly tolerant = false,
  ) {}

  /** Slots skipped or listed without content because they could not be read (tolerant walks). */
  private readonly unreadableSlots: number[] = [];

  /** The flags (F_*) of the entry in a slot. */
  protected abstract flagsAt(slot: number): number;
  /** The path of the entry in a slot. */
  protected abstract pathAt(slot: number): string;
  /** The slots emitted so far, in canonical order: `order[0 .. emitted)`. */
  protected order = new Int32Array(1024);
  protected emitted = 0;

  /** Records a scan whose entries take the slots from `base` on: its directories, errors and progress. */
  protected indexScan(r: ScanResult, base: number): void {
    for (const [i, err] of r.errors) this.errors.set(base + i, err);
    const names = r.dirs.split('\0');
    let at = base;
    for (let k = 0; k < r.counts.length; k++) {
      const start = at;
      at += r.counts[k]!;
      this.dirs.set(names[k]!, { start, end: at });
      if (names[k] === '' && this.stack.length === 0) this.stack.push({ i: start, end: at, slot: -1, tentative: false });
    }
    this.progress.entries += r.nums.length / NUMS;
    this.progress.files += r.files + r.deferred.length;
    this.progress.bytes += r.bytes;
  }

  /** Records that a deferred file could not be read. */
  protected fail(slot: number, f: ReadFailure): void {
    this.errors.set(slot, { kind: 'io', path: f.path, code: f.code, message: f.message });
  }

  /** Records that a file read after its entry was emitted (the stat cache's second pass) could not be read. */
  protected failLate(slot: number): void {
    if (this.tolerant) this.unreadableSlots.push(slot);
    else this.lateFailures.push(slot);
  }

  /**
   * Emits entries in canonical order until the next one is not known yet (a directory not read, a file not
   * hashed) or the walk is known to fail there.
   */
  protected advance(): void {
    const { stack, pending } = this;
    while (stack.length > 0 && this.fatal === undefined) {
      const top = stack[stack.length - 1]!;
      if (top.i === top.end) {
        stack.pop();
        if (top.tentative && pending[pending.length - 1] === top.slot) pending.pop();
        continue;
      }
      const i = top.i;
      const f = this.flagsAt(i);
      if (f & F_ERROR) {
        if (this.tolerant && isIoError(this.errors.get(i)!)) {
          // A directory that cannot be listed (or the rest of it): reported, and the walk goes on.
          this.unreadableSlots.push(i);
          top.i++;
          continue;
        }
        this.fatal = i;
        return;
      }
      if (f & F_DEFERRED) return;
      let below: { start: number; end: number } | undefined;
      if (f & (F_WALKED | F_EXCLUDED_DIR)) {
        below = this.dirs.get(this.pathAt(i));
        if (below === undefined) return;
      }
      top.i++;
      if (f & F_EXCLUDED_DIR) {
        const tentative = this.dirPolicy !== 'always';
        if (tentative) pending.push(i);
        else this.emitAfterPending(i);
        stack.push({ i: below!.start, end: below!.end, slot: i, tentative });
        continue;
      }
      if (f & F_FAILED) {
        if (this.tolerant) this.unreadableSlots.push(i);
        else this.failure ??= i;
      }
      this.emitAfterPending(i);
      if (f & F_WALKED) stack.push({ i: below!.start, end: below!.end, slot: i, tentative: false });
    }
  }

  private emitAfterPending(slot: number): void {
    const pending = this.pending;
    if (this.emitted + pending.length + 1 > this.order.length) {
      const bigger = new Int32Array(Math.max(GROWTH * this.order.length, this.emitted + pending.length + 1));
      bigger.set(this.order.subarray(0, this.emitted));
      this.order = bigger;
    }
    const order = this.order;
    let n = this.emitted;
    // Truncating an empty array is not free (a runtime call per entry): only when there is anything pending.
    if (pending.length > 0) {
      for (let k = 0; k < pending.length; k++) order[n++] = pending[k]!;
      pending.length = 0;
    }
    order[n++] = slot;
    this.emitted = n;
  }

  /**
   * Emits the rest of the entries once every result is in. Throws the walk's first error in canonical
   * order; then the first file that could not be read.
   */
  protected finish(): void {
    this.advance();
    if (this.fatal !== undefined) throw deserializeError(this.errors.get(this.fatal)!);
    if (this.stack.length > 0) {
      const top = this.stack[this.stack.length - 1]!;
      throw new Error(`walk: ${JSON.stringify(this.pathAt(top.i))} was never read`);
    }
    if (this.lateFailures.length > 0) {
      // The first in canonical order, with any failure met while emitting.
      const late = new Set(this.lateFailures);
      if (this.failure !== undefined) late.add(this.failure);
      for (let i = 0; i < this.emitted; i++) {
        if (late.has(this.order[i]!)) throw deserializeError(this.errors.get(this.order[i]!)!);
      }
    }
    if (this.failure !== undefined) throw deserializeError(this.errors.get(this.failure)!);
  }

  /**
   * What the user should know once the walk is done, in canonical order: each path that could not be read
   * (tolerant walks), each file that changed while it was read.
   */
  warnings(): string[] {
    const out: string[] = [];
    for (const slot of this.unreadableSlots) {
      const err = deserializeError(this.errors.get(slot)!);
      const listing = (this.flagsAt(slot) & F_ERROR) !== 0;
      out.push(`${err.message} (${listing ? 'not listed: what is below it is left out' : 'its content could not be read'}; the builder cannot read it either)`);
    }
    for (let k = 0; k < this.emitted; k++) {
      const slot = this.order[k]!;
      if (this.flagsAt(slot) & F_CHANGED) {
        out.push(`${this.pathAt(slot)}: changed while it was read, twice; recorded as "changed while read" (a diff of it is unknown)`);
      }
    }
    return out;
  }
}

function isIoError(e: Error | SerializedError): boolean {
  return e instanceof IoError || (!(e instanceof Error) && e.kind === 'io');
}

/** Collects a walk's results as Entry objects; `assemble` puts them in canonical order. */
class Collector extends SlotIndex implements WalkSink {
  private readonly entries: Entry[] = [];
  private readonly flags: number[] = [];

  protected flagsAt(slot: number): number {
    return this.flags[slot]!;
  }

  protected pathAt(slot: number): string {
    return this.entries[slot]!.path;
  }

  addScan(r: ScanResult): { paths: string[]; slots: number[] } {
    const { entries, flags } = this;
    const base = entries.length;
    const n = r.nums.length / NUMS;
    const paths = n === 0 ? [] : r.paths.split('\0');
    const nums = r.nums;
    const hashes = r.hashes;
    const extras = r.extras;
    let h = 0;
    let x = 0;
    for (let i = 0; i < n; i++) {
      const o = i * NUMS;
      const f = nums[o + N_FLAGS]!;
      const e: Entry = {
        path: paths[i]!,
        type: TYPE_CODES[nums[o + N_TYPE]!]!,
        mode: nums[o + N_MODE]!,
        uid: nums[o + N_UID]!,
        gid: nums[o + N_GID]!,
        size: nums[o + N_SIZE]!,
        mtimeSec: nums[o + N_SEC]!,
        mtimeNsec: nums[o + N_NSEC]!,
      };
      let more: Extras | undefined;
      if (f & F_EXTRAS) {
        more = extras[x++]![1];
        if (more.target !== undefined) e.target = more.target;
        if (more.devMajor !== undefined) e.devMajor = more.devMajor;
        if (more.devMinor !== undefined) e.devMinor = more.devMinor;
      }
      if (f & F_HASH) e.hash = hexAt(hashes, h++);
      if (f & F_CHANGED) e.changedWhileRead = true;
      if (more?.xattrs !== undefined) e.xattrs = more.xattrs;
      entries.push(e);
      flags.push(f);
    }
    this.length = entries.length;
    this.indexScan(r, base);
    const slots: number[] = [];
    const deferredPaths: string[] = [];
    for (const i of r.deferred) {
      slots.push(base + i);
      deferredPaths.push(entries[base + i]!.path);
    }
    return { paths: deferredPaths, slots };
  }

  addFiles(r: BatchResult, slots: number[]): void {
    let failed = 0;
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i]!;
      const e = this.entries[slot]!;
      const o = i * STAT_FIELDS;
      // A file that could not be read keeps the attributes lstat gave (zeros when even that failed).
      e.mode = r.stats[o]!;
      e.uid = r.stats[o + 1]!;
      e.gid = r.stats[o + 2]!;
      e.size = r.stats[o + 3]!;
      e.mtimeSec = r.stats[o + 4]!;
      e.mtimeNsec = r.stats[o + 5]!;
      if (r.failures[failed]?.index === i) {
        this.flags[slot] = F_FAILED;
        this.fail(slot, r.failures[failed++]!);
        continue;
      }
      e.hash = hexAt(r.hashes, i);
      this.flags[slot] = F_HASH;
      this.progress.bytes += e.size;
    }
    for (const [i, x] of r.xattrs) this.entries[slots[i]!]!.xattrs = x;
    for (const i of r.changed) {
      this.flags[slots[i]!] |= F_CHANGED;
      this.entries[slots[i]!]!.changedWhileRead = true;
    }
  }

  /** The entries in canonical order, once every result is in (see `finish` for what it throws). */
  assemble(): Entry[] {
    this.finish();
    const n = this.emitted;
    const order = this.order;
    const out: Entry[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = this.entries[order[i]!]!;
    return out;
  }
}

/** A copy of `a` with room for `capacity` elements. */
function grown(a: Int32Array, capacity: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(capacity);
  b.set(a);
  return b;
}

type NumericColumns = ReturnType<typeof numericColumns>;

/** Slots a column collector makes room for at first (it doubles them as needed). */
const INITIAL_SLOTS = 16_384;
/** The most slots an expected entry count makes room for at first (about 300 MB of columns). */
const MAX_EXPECTED_SLOTS = 1 << 22;

/**
 * Collects a walk's results as columns (the scans' own numbers, hash bytes and path bytes, as they come), and
 * hands them on as they are, with their canonical order. Makes no object per entry: a walk of
 * 100,000 entries spends much less time collecting and collecting garbage.
 */
class ColumnCollector extends SlotIndex implements WalkSink {
  // By slot (arrival order): each entry's flags (F_*) and numbers, as wide as they need (not NUMS doubles).
  private flags = new Uint16Array(INITIAL_SLOTS);
  private cols: NumericColumns = numericColumns(INITIAL_SLOTS, true);
  /**
   * While every path is ASCII, no string per path: their bytes (as the scans joined them), where each starts
   * and its length. From the first path that is not, `paths` holds every path as a string instead.
   */
  private pathBytes: Buffer | null = Buffer.allocUnsafe(64 * INITIAL_SLOTS);
  private pathEnd = 0;
  private pathStart = new Int32Array(INITIAL_SLOTS);
  private pathLength = new Int32Array(INITIAL_SLOTS);
  private paths: string[] | null = null;
  /** Where the hash of an entry starts in `hashBytes`; -1: none. */
  private hashAt = new Int32Array(INITIAL_SLOTS);
  private hashBytes = Buffer.allocUnsafe(HASH_BYTES * INITIAL_SLOTS);
  private hashEnd = 0;
  private readonly extras = new Map<number, Extras>();

  /**
   * `expected`: about how many entries are coming (what the stat cache's snapshot holds), to make room for
   * them at once: no column is then grown (copied, with the old and the new one alive) nor left twice too big.
   */
  constructor(
    dirPolicy: DirPolicy,
    tolerant: boolean,
    expected = 0,
    /** Whether the walk reads extended attributes (a re-used file then takes the recorded ones). */
    private readonly xattrs = false,
  ) {
    super(dirPolicy, tolerant);
    // A hint only (a hand-made snapshot may declare anything): at most MAX_EXPECTED_SLOTS at once.
    const room = Math.ceil(Math.min(expected, MAX_EXPECTED_SLOTS) * 1.02) + 1024;
    if (room > INITIAL_SLOTS) this.reserve(room, room * HASH_BYTES);
  }

  protected flagsAt(slot: number): number {
    return this.flags[slot]!;
  }

  protected pathAt(slot: number): string {
    if (this.paths !== null) return this.paths[slot]!;
    const start = this.pathStart[slot]!;
    return this.pathBytes!.toString('latin1', start, start + this.pathLength[slot]!);
  }

  /** Makes room for `n` more slots and `hashBytes` more hash bytes. */
  private reserve(n: number, hashBytes: number): void {
    const need = this.length + n;
    if (need > this.hashAt.length) {
      const size = Math.max(need, GROWTH * this.hashAt.length);
      const cols = numericColumns(size, true);
      for (const k of Object.keys(cols) as (keyof NumericColumns)[]) (cols[k] as Float64Array).set(this.cols[k] as Float64Array);
      this.cols = cols;
      const flags = new Uint16Array(size);
      flags.set(this.flags);
      this.flags = flags;
      this.hashAt = grown(this.hashAt, size);
      this.pathStart = grown(this.pathStart, size);
      this.pathLength = grown(this.pathLength, size);
    }
    const bytes = this.hashEnd + hashBytes;
    if (bytes > this.hashBytes.length) {
      const bigger = Buffer.allocUnsafe(Math.max(bytes, GROWTH * this.hashBytes.length));
      this.hashBytes.copy(bigger, 0, 0, this.hashEnd);
      this.hashBytes = bigger;
    }
  }

  addScan(r: ScanResult): { paths: string[]; slots: number[] } {
    const base = this.length;
    const n = r.nums.length / NUMS;
    this.reserve(n, r.hashes.length);
    const { flags, cols, hashAt } = this;
    const { type, mode, uid, gid, size, mtimeSec, mtimeNsec } = cols;
    const ctimeSec = cols.ctimeSec!, ctimeNsec = cols.ctimeNsec!, ino = cols.ino!, dev = cols.dev!;
    const nums = r.nums;
    if (n > 0) this.addPaths(r.paths, base);
    const first = this.hashEnd;
    this.hashBytes.set(r.hashes, first);
    this.hashEnd += r.hashes.length;
    let h = first;
    let x = 0;
    for (let i = 0; i < n; i++) {
      const o = i * NUMS;
      const slot = base + i;
      const f = nums[o + N_FLAGS]!;
      flags[slot] = f;
      type[slot] = nums[o + N_TYPE]!;
      mode[slot] = nums[o + N_MODE]!;
      uid[slot] = nums[o + N_UID]!;
      gid[slot] = nums[o + N_GID]!;
      size[slot] = nums[o + N_SIZE]!;
      mtimeSec[slot] = nums[o + N_SEC]!;
      mtimeNsec[slot] = nums[o + N_NSEC]!;
      ctimeSec[slot] = nums[o + N_CSEC]!;
      ctimeNsec[slot] = nums[o + N_CNSEC]!;
      ino[slot] = nums[o + N_INO]!;
      dev[slot] = nums[o + N_DEV]!;
      if (f & F_HASH) {
        hashAt[slot] = h;
        h += HASH_BYTES;
      } else {
        hashAt[slot] = -1;
      }
      if (f & F_EXTRAS) this.extras.set(slot, r.extras[x++]![1]);
    }
    this.length = base + n;
    this.indexScan(r, base);
    const slots: number[] = [];
    const paths: string[] = [];
    for (const i of r.deferred) {
      slots.push(base + i);
      paths.push(this.pathAt(base + i));
    }
    return { paths, slots };
  }

  /**
   * Makes room for about `bytes` bytes of paths in all (an earlier walk's, from its snapshot) at once, so that
   * the path buffer is not doubled and copied (with both alive) as the walk goes.
   */
  expectPathBytes(bytes: number): void {
    const room = Math.ceil(Math.min(bytes, MAX_EXPECTED_SLOTS * 256) * 1.02);
    const have = this.pathBytes;
    if (have === null || room <= have.length) return;
    const bigger = Buffer.allocUnsafe(room);
    have.copy(bigger, 0, 0, this.pathEnd);
    this.pathBytes = bigger;
  }

  /** Takes in the NUL-joined paths of the entries from slot `base` on. */
  private addPaths(joined: string, base: number): void {
    let bytes = this.pathBytes;
    if (bytes !== null && Buffer.byteLength(joined, 'utf8') !== joined.length) {
      // Not ASCII: from now on, a string per path.
      const paths: string[] = [];
      for (let slot = 0; slot < base; slot++) paths.push(this.pathAt(slot));
      this.paths = paths;
      bytes = this.pathBytes = null;
    }
    if (bytes === null) {
      for (const p of joined.split('\0')) this.paths!.push(p);
      return;
    }
    if (this.pathEnd + joined.length > bytes.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.pathEnd + joined.length, GROWTH * bytes.length));
      bytes.copy(bigger, 0, 0, this.pathEnd);
      bytes = this.pathBytes = bigger;
    }
    const at = this.pathEnd;
    this.pathEnd += bytes.write(joined, at, 'latin1');
    const { pathStart, pathLength } = this;
    let slot = base;
    let from = 0;
    for (;;) {
      const nul = joined.indexOf('\0', from);
      const end = nul === -1 ? joined.length : nul;
      pathStart[slot] = at + from;
      pathLength[slot++] = end - from;
      if (nul === -1) break;
      from = nul + 1;
    }
  }

  addFiles(r: BatchResult, slots: number[]): void {
    this.reserve(0, r.hashes.length);
    const { flags, cols } = this;
    // The batch's hashes are taken in whole (a failed file's zeros are never pointed at).
    const first = this.hashEnd;
    this.hashBytes.set(r.hashes, first);
    this.hashEnd += r.hashes.length;
    const stats = r.stats;
    let failed = 0;
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i]!;
      // A file the stat cache sent to be read was emitted already, and its bytes counted.
      const late = (flags[slot]! & F_UNREAD) !== 0;
      // A batch's numbers are an entry's from N_MODE on.
      const o = i * STAT_FIELDS - N_MODE;
      // A file that could not be read keeps the attributes lstat gave (zeros when even that failed).
      cols.type[slot] = 0;
      cols.mode[slot] = stats[o + N_MODE]!;
      cols.uid[slot] = stats[o + N_UID]!;
      cols.gid[slot] = stats[o + N_GID]!;
      cols.size[slot] = stats[o + N_SIZE]!;
      cols.mtimeSec[slot] = stats[o + N_SEC]!;
      cols.mtimeNsec[slot] = stats[o + N_NSEC]!;
      if (r.failures[failed]?.index === i) {
        flags[slot] = F_FAILED;
        this.hashAt[slot] = -1;
        this.fail(slot, r.failures[failed++]!);
        if (late) this.failLate(slot);
        continue;
      }
      this.hashAt[slot] = first + HASH_BYTES * i;
      cols.ctimeSec![slot] = stats[o + N_CSEC]!;
      cols.ctimeNsec![slot] = stats[o + N_CNSEC]!;
      cols.ino![slot] = stats[o + N_INO]!;
      cols.dev![slot] = stats[o + N_DEV]!;
      flags[slot] = F_HASH;
      if (!late) this.progress.bytes += cols.size[slot]!;
    }
    for (const [i, x] of r.xattrs) {
      const slot = slots[i]!;
      flags[slot]! |= F_EXTRAS;
      this.extras.set(slot, { xattrs: x });
    }
    for (const i of r.changed) flags[slots[i]!]! |= F_CHANGED;
  }

  /** Where the stat cache's pass is (see reuse): the cache, how far into `order` and into the cache's order. */
  private pass: {
    cache: EntryColumns | null;
    racy: { sec: number; nsec: number } | null;
    unsure: Set<number> | null;
    done: number;
    j: number;
    reused: number;
  } | null = null;

  /**
   * The stat cache's pass over the entries emitted so far (`final`: once every directory is read, so every
   * entry is emitted): each file lstat'ed but not read (F_UNREAD) takes the hash `cache` recorded for it when
   * its identity and times are the recorded ones (stat-cache.ts); returns the others, to be read
   * (addFiles). With no cache (a pending one whose entries turned out to record no file identities), every
   * such file is read. Called as the walk goes (the same `cache` each time), each entry is passed once: the
   * files to read are read while directories still are, and little is left for the end.
   */
  reuse(cache: EntryColumns | null, final = true): { paths: string[]; slots: number[] } {
    this.advance();
    const pass = (this.pass ??= {
      cache,
      racy: cache ? racyFrom(cache) : null,
      // A file recorded as changed while it was read never lends its hash.
      unsure: cache?.changedWhileRead !== undefined ? new Set(cache.changedWhileRead) : null,
      done: 0,
      j: 0,
      reused: 0,
    });
    if (pass.cache !== cache) throw new Error('walk: the stat cache changed during its pass');
    const { racy, unsure } = pass;
    // A walk that reads extended attributes takes them from the cache with the hash, if it recorded them.
    const lends = cache !== null && (!this.xattrs || cache.stat?.xattrs === true);
    const mine = this.rowsView();
    const { flags, order, extras, cols } = this;
    const paths: string[] = [];
    const slots: number[] = [];
    let j = pass.j;
    let reused = pass.reused;
    if (cache) {
      // Room for a hash per file not read yet, at once (not doubled as they come).
      let unread = 0;
      for (let i = pass.done; i < this.emitted; i++) if (flags[order[i]!]! & F_UNREAD) unread++;
      this.reserve(0, unread * HASH_BYTES);
    }
    for (let i = pass.done; i < this.emitted; i++) {
      const slot = order[i]!;
      const f = flags[slot]!;
      if ((f & F_UNREAD) === 0) continue;
      if (cache && racy && lends) {
        const ms = (f & F_MS_TIMES) !== 0;
        // The next recorded entry first, without comparing paths: in a tree that did not change, it is this
        // file's. What lends a hash is the file's identity and times (a hard link elsewhere lends as truly),
        // so the path order only helps find the entry: when the next one is not this file, the path's.
        let row = j < cache.length ? cache.order[j]! : -1;
        let found = row >= 0 && reusable(cache, row, mine, slot, racy, ms);
        if (!found) {
          let c = 1;
          while (j < cache.length && (c = compareRows(mine, slot, cache, cache.order[j]!)) > 0) j++;
          row = cache.order[j]!;
          found = c === 0 && reusable(cache, row, mine, slot, racy, ms);
        }
        if (found && !unsure?.has(row)) {
          j++;
          if (ms) this.recordedTimes(slot, cache, row);
          const x = this.xattrs && (f & F_EXTRAS) === 0 ? cache.extras.get(row)?.xattrs : undefined;
          if (x) {
            extras.set(slot, { xattrs: x });
            flags[slot] = f | F_EXTRAS;
          }
          const at = cache.hashAt[row]!;
          const from = cache.hashBytes;
          const to = this.hashBytes;
          const end = this.hashEnd;
          for (let k = 0; k < HASH_BYTES; k++) to[end + k] = from[at + k]!;
          this.hashAt[slot] = end;
          this.hashEnd = end + HASH_BYTES;
          flags[slot] = F_HASH | (flags[slot]! & F_EXTRAS);
          reused++;
          continue;
        }
      }
      if (f & F_EXTRAS) {
        // Read again, extended attributes included.
        extras.delete(slot);
        flags[slot] = f & ~F_EXTRAS;
      }
      if (f & F_MS_TIMES) {
        // Its times and identity are the descriptor's once it is read (addFiles); none if it cannot be.
        flags[slot]! &= ~F_MS_TIMES;
        cols.mtimeSec[slot] = cols.ctimeSec![slot] = 0;
        cols.dev![slot] = -1;
      }
      paths.push(this.pathAt(slot));
      slots.push(slot);
    }
    pass.done = this.emitted;
    pass.j = j;
    pass.reused = reused;
    this.progress.reused = reused;
    if (final) this.progress.reading = true;
    return { paths, slots };
  }

  /** The rows as they stand, for comparing paths and the stat cache's attributes (no copy, no scan). */
  private rowsView(): PathSource & Pick<EntryColumns, 'size' | 'mtimeSec' | 'mtimeNsec' | 'ctimeSec' | 'ctimeNsec' | 'ino' | 'dev'> {
    const { size, mtimeSec, mtimeNsec, ctimeSec, ctimeNsec, ino, dev } = this.cols;
    return {
      path: (row) => this.pathAt(row),
      ...(this.pathBytes !== null ? { pathBytes: this.pathBytesView() } : {}),
      size, mtimeSec, mtimeNsec, ctimeSec, ctimeNsec, ino, dev,
    };
  }

  /** A re-used file's times: the recorded ones, which its lstat gave in milliseconds (F_MS_TIMES). */
  private recordedTimes(slot: number, cache: EntryColumns, row: number): void {
    const { cols } = this;
    cols.mtimeSec[slot] = cache.mtimeSec[row]!;
    cols.mtimeNsec[slot] = cache.mtimeNsec[row]!;
    cols.ctimeSec![slot] = cache.ctimeSec![row]!;
    cols.ctimeNsec![slot] = cache.ctimeNsec![row]!;
  }

  private pathBytesView() {
    return { bytes: this.pathBytes!, starts: this.pathStart, lengths: this.pathLength };
  }

  /** The table as it stands (every slot taken), with the stat cache's columns when `stat`. */
  private table(stat: boolean, info?: StatInfo): EntryColumns {
    const { pathBytes } = this;
    const changed: number[] = [];
    for (let k = 0; k < this.emitted; k++) if (this.flags[this.order[k]!]! & F_CHANGED) changed.push(this.order[k]!);
    const paths = pathBytes !== null ? this.pathBytesView() : undefined;
    const { ctimeSec, ctimeNsec, ino, dev, ...base } = this.cols;
    return {
      ...(changed.length > 0 ? { changedWhileRead: changed } : {}),
      length: this.emitted,
      order: this.order.subarray(0, this.emitted),
      path: (row) => this.pathAt(row),
      ...(paths !== undefined ? { asciiPaths: paths, pathBytes: paths } : {}),
      ...base,
      ...(stat ? { ctimeSec, ctimeNsec, ino, dev } : {}),
      hashAt: this.hashAt,
      hashBytes: this.hashBytes,
      extras: this.extras,
      ...(info ? { stat: info } : {}),
    };
  }

  /**
   * All the entries, with their canonical order, once every result is in (see `finish` for what it throws);
   * with `stat`, the stat cache's columns too.
   */
  assemble(stat: StatInfo | undefined): EntryColumns {
    this.finish();
    return this.table(stat !== undefined, stat);
  }
}

/** What a walk hands its results to, in whatever order they come (see `readContext`). */
interface WalkSink {
  readonly progress: WalkProgress;
  /** Takes in a scan; returns its deferred files (paths relative to the root, and their slots). */
  addScan(r: ScanResult): { paths: string[]; slots: number[] };
  /** Takes in a batch of deferred files. */
  addFiles(r: BatchResult, slots: number[]): void;
  /** The stat cache's pass once every directory is read: returns the files to read (see ColumnCollector). */
  reuse?(cache: EntryColumns | null, final?: boolean): { paths: string[]; slots: number[] };
}

/** A context directory ready to be read: its root, the rules in force and what the walk records. */
interface WalkPlan {
  profile: BuilderProfile;
  root: string;
  rootStat: Entry;
  info: Context['ignore'];
  withXattrs: boolean;
  dirPolicy: DirPolicy;
  config: ScanConfig;
  /** What this walk records for a later one's stat cache (taken before anything is read). */
  stat: StatInfo;
  /** The stat cache this walk uses (WalkOptions.cache, when usable). */
  cache: EntryColumns | PendingStatCache | undefined;
}

function planWalk(dir: string, options: WalkOptions, columns = false): WalkPlan {
  const started = Date.now();
  const profile = options.profile ?? defaultProfile();
  const root = path.resolve(dir);
  let rootStat: Entry;
  try {
    // The root is followed when it is a symlink, as docker build follows it (and only the root).
    rootStat = statEntry(root, '.', false, true);
  } catch (e) {
    throw e instanceof IoError ? IoError.from(dir, e.cause) : e;
  }
  if (rootStat.type !== 'dir') throw new IoError(dir, 'not a directory');

  const { matcher, info } = loadIgnore(root, profile, options.dockerfile);
  const withXattrs = options.xattrs ?? profile.attributes.xattrs === 'busts';
  /**
   * An excluded directory the walker enters: BuildKit 0.8 sends it whatever is below; current BuildKit sends
   * it (real attributes) when something below is re-included; the classic builder and Buildah never send it,
   * but unpacking a re-included file creates it with default attributes.
   */
  const dirPolicy: DirPolicy = matcher?.sendsDescendedDirs
    ? 'always'
    : (matcher?.sendsParentsOfReincluded ?? true) ? 'if-used' : 'implied';
  const hash = options.hash !== false;
  let cache: EntryColumns | PendingStatCache | undefined;
  if (columns && hash && options.cache) {
    const why = cacheUnusable(options.cache);
    if (why === null) cache = options.cache;
    else options.cacheSkipped?.(why);
  }
  const config: ScanConfig = {
    root,
    ignore: matcher ? { rules: [...matcher.rules], variant: matcher.variant } : null,
    hash,
    xattrs: withXattrs,
    dirPolicy,
    ...(options.unreadable === 'warn' && options.hash === false ? { checkReadable: true } : {}),
    statOnly: cache !== undefined,
  };
  const stat = startStatInfo(withXattrs, started);
  return { profile, root, rootStat, info, withXattrs, dirPolicy, config, stat, cache };
}

/**
 * Lets a pending stat cache produce its entries (PendingStatCache.begin), used or not: whoever else waits
 * for them (the other side of a diff) gets them.
 */
function beginPending(cache: WalkOptions['cache']): void {
  if (cache && 'begin' in cache) cache.begin?.();
}

/** Reads every directory and file the plan takes in, handing the results to `sink`. */
async function readContext(plan: WalkPlan, options: WalkOptions, sink: WalkSink): Promise<void> {
  try {
    await readAll(plan, options, sink);
  } finally {
    beginPending(options.cache);
  }
}

async function readAll(plan: WalkPlan, options: WalkOptions, sink: WalkSink): Promise<void> {
  const { root, withXattrs, config } = plan;
  const hash = config.hash;
  const threads = options.threads ?? defaultThreads();
  let lastProgress = performance.now();
  const progress = (): boolean => {
    const now = performance.now();
    if (now - lastProgress < PROGRESS_EVERY_MS) return false;
    lastProgress = now;
    options.onProgress?.({ ...sink.progress });
    return true;
  };

  // Read on this thread first: most contexts are small, and workers cost more to start than they save there.
  const hasher = hash ? await FileHasher.create() : null;
  const scanner = new DirScanner(config, hasher);
  const first = scanner.scan([{ path: '', match: null }], { files: FilePool.INLINE_FILES, bytes: FilePool.INLINE_BYTES });
  let deferred = sink.addScan(first);
  let dirs = first.spilled;
  if (hash && threads > 1 && (dirs.length > 0 || deferred.paths.length > 0)) {
    const pool: FilePool = new FilePool(
      config,
      {
        onScan: (r) => {
          const d = sink.addScan(r);
          if (r.spilled.length > 0) pool.addDirs(r.spilled);
          if (d.paths.length > 0) pool.addFiles(d.paths, d.slots);
          progress();
        },
        onFiles: (r, slots) => {
          sink.addFiles(r, slots);
          progress();
        },
      },
      { threads: threads - 1, local: true },
    );
    try {
      pool.addDirs(dirs);
      pool.addFiles(deferred.paths, deferred.slots);
      // The readers have work: a pending stat cache may take this thread for a while now.
      beginPending(options.cache);
      const cached = plan.cache !== undefined ? cacheEntries(plan.cache) : undefined;
      // Once the cache's entries are there, its pass goes along with the walk (see ColumnCollector.reuse).
      let cache: EntryColumns | null | undefined;
      cached?.then((c) => (cache = c), () => {});
      let cachePass = cached !== undefined;
      for (;;) {
        // This thread reads too, whenever the workers have all they can hold.
        while (pool.busy) {
          const job = pool.takeLocal();
          if (job === null) {
            await pool.settle();
            continue;
          }
          if ('dirs' in job) {
            const r = scanner.scan(job.dirs, FilePool.LOCAL_BUDGET);
            const d = sink.addScan(r);
            if (r.spilled.length > 0) pool.addDirs(r.spilled);
            if (d.paths.length > 0) pool.addFiles(d.paths, d.slots);
          } else {
            sink.addFiles(hasher!.processBatch(root, job.paths.join('\0'), withXattrs), job.slots);
          }
          if (cache !== undefined && cachePass) {
            const d = sink.reuse!(cache, false);
            if (d.paths.length > 0) pool.addFiles(d.paths, d.slots);
          }
          progress();
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
        if (!cachePass) break;
        cachePass = false;
        const d = sink.reuse!(await cached!);
        if (d.paths.length === 0) break;
        pool.addFiles(d.paths, d.slots);
      }
    } finally {
      await pool.close();
    }
  } else {
    let cachePass = plan.cache !== undefined;
    for (;;) {
      while (dirs.length > 0 || deferred.paths.length > 0) {
        if (dirs.length > 0) {
          const r = scanner.scan(dirs, FilePool.SCAN_BUDGET);
          const d = sink.addScan(r);
          dirs = r.spilled;
          deferred = { paths: deferred.paths.concat(d.paths), slots: deferred.slots.concat(d.slots) };
        } else {
          const take = FilePool.MAX_FILES;
          const slots = deferred.slots.splice(0, take);
          sink.addFiles(hasher!.processBatch(root, deferred.paths.splice(0, take).join('\0'), withXattrs), slots);
        }
        if (progress()) await new Promise<void>((resolve) => setImmediate(resolve));
      }
      if (!cachePass) break;
      cachePass = false;
      deferred = sink.reuse!(await cacheEntries(plan.cache!));
    }
  }
}

/** The context's metadata (everything but its entries). */
function contextOf(plan: WalkPlan, dir: string, options: WalkOptions, entries: Entry[]): Context {
  const { rootStat } = plan;
  const dockerfiles = readDockerfiles(plan.root, options.dockerfile);
  return {
    name: options.name ?? dir,
    builder: plan.profile.id,
    xattrs: plan.withXattrs,
    ignore: plan.info,
    dockerfiles: dockerfiles.texts,
    ...(dockerfiles.chosen !== undefined ? { dockerfile: dockerfiles.chosen } : {}),
    entries,
    root: {
      mode: rootStat.mode,
      uid: rootStat.uid,
      gid: rootStat.gid,
      mtimeSec: rootStat.mtimeSec,
      mtimeNsec: rootStat.mtimeNsec,
    },
  };
}

/** For a builder that cannot transfer names that are not UTF-8 (BuilderProfile.namesMustBeUtf8): one warning. */
function warnNamesNotUtf8(profile: BuilderProfile, n: number, pathAt: (i: number) => string, options: WalkOptions): void {
  if (!profile.namesMustBeUtf8 || !options.onWarning) return;
  let first: string | undefined;
  let count = 0;
  for (let i = 0; i < n; i++) {
    const p = pathAt(i);
    if (!isPlainName(p)) {
      first ??= p;
      count++;
    }
  }
  if (first === undefined) return;
  const more = count > 1 ? ` (and ${count - 1} more)` : '';
  options.onWarning(`${first}${more}: name is not UTF-8: ${profile.title} fails to transfer this context ("string field contains invalid UTF-8")`);
}

/** Walk a context directory into a Context (entries in canonical order, hashed). */
export async function walkContext(dir: string, options: WalkOptions = {}): Promise<Context> {
  const plan = planWalk(dir, options);
  const collector = new Collector(plan.dirPolicy, options.unreadable === 'warn');
  await readContext(plan, options, collector);
  const entries = collector.assemble();
  for (const w of collector.warnings()) options.onWarning?.(w);
  warnNamesNotUtf8(plan.profile, entries.length, (i) => entries[i]!.path, options);
  return contextOf(plan, dir, options, entries);
}

/**
 * Walk a context directory like walkContext, into its metadata and its entries as columns with their
 * canonical order (the same entries, in the same order, with the same attributes): no object per entry, for
 * callers that only encode or diff them (large contexts). With `options.cache`, files the stat cache shows
 * unchanged keep their recorded hash unread (`reused` counts them). Fails as walkContext does.
 */
export async function walkContextColumns(
  dir: string,
  options: WalkOptions = {},
): Promise<{ context: Omit<Context, 'entries'>; entries: EntryColumns; reused: number }> {
  const plan = planWalk(dir, options, true);
  const cache = plan.cache;
  const pending = cache && 'entries' in cache ? cache : undefined;
  const whole = cache && !('entries' in cache) ? cache : undefined;
  const expected = options.expectedEntries ?? pending?.declared ?? whole?.length ?? 0;
  const collector = new ColumnCollector(plan.dirPolicy, options.unreadable === 'warn', expected, plan.withXattrs);
  // The stat cache's paths, once there, tell how many bytes of paths are coming.
  const pathHint = (bytes: number) => collector.expectPathBytes(bytes);
  if (options.expectedPathBytes) options.expectedPathBytes.then(pathHint, () => {});
  else if (pending) pending.entries.then((e) => pathHint(joinedPathBytes(e)), () => {});
  else if (whole) pathHint(joinedPathBytes(whole));
  if (plan.cache) collector.progress.reading = false;
  await readContext(plan, options, collector);
  const entries = collector.assemble(options.stat !== false && plan.config.hash ? plan.stat : undefined);
  for (const w of collector.warnings()) options.onWarning?.(w);
  if (!entries.asciiPaths) warnNamesNotUtf8(plan.profile, entries.length, (i) => entries.path(entries.order[i]!), options);
  const { entries: _none, ...context } = contextOf(plan, dir, options, []);
  return { context, entries, reused: collector.progress.reused };
}
