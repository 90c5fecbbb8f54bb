/**
 * Reading regular files: their attributes (fstat of the open descriptor) and the xxhash64 of their content
 * (xxhash-wasm). Files are read with synchronous calls into a page-aligned buffer (a WebAssembly.Memory is
 * always page-aligned; reads from the page cache into an unaligned buffer are several times slower), in
 * fixed-size chunks, so memory stays bounded for any file size.
 *
 * `FilePool` spreads the reading of a context over worker threads (sync I/O in workers beats async I/O on
 * the main thread by a wide margin): workers read whole directories (`DirScanner`, scan.ts) and batches of
 * files, and the calling thread takes a share whenever the workers hold all they may. Results travel as
 * columns (NUL-joined strings, a Float64Array, the hashes' bytes): structured-cloning arrays of strings or
 * objects costs more than the reading. A hash is 8 bytes, big-endian (as the snapshot format stores it, and
 * as its 16 hex digits read); it never becomes a string on the reading threads.
 */
import fs from 'node:fs';
import type { Worker } from 'node:worker_threads';
import { fsPath } from '../core/names.js';
import xxhash, { type XXHashAPI } from 'xxhash-wasm';
import { HASH_BYTES, N_GID, N_MODE, N_NSEC, N_SEC, N_SIZE, N_TYPE, N_UID, NUMS, putRaw, scanResult, type DirTask, type ScanBudget, type ScanConfig, type ScanResult } from './scan-result.js';
import { defaultThreads, releaseReaderThread, takeReaderThread } from './threads.js';
import { readXattrs } from './xattrs.js';
import { S_CNSEC, S_CSEC, S_FIELDS, S_GID, S_MNSEC, S_MODE, S_MSEC, S_SIZE, S_UID, fstatRaw, lstatRaw } from './native.js';

/** Read chunk size: 1 MiB. */
export const CHUNK_SIZE = 1 << 20;
/** Files this large or larger are hashed streaming (see FileHasher.hashStream); smaller ones in one call. */
export const STREAM_FROM = 64 << 10;
/** Numbers per file in a batch result: mode bits, uid, gid, size, mtimeSec, mtimeNsec, ctimeSec, ctimeNsec, ino, dev. */
export const STAT_FIELDS = 10;

let apiPromise: Promise<XXHashAPI> | undefined;
/** The xxhash-wasm API, instantiated once per thread. */
export function xxhashApi(): Promise<XXHashAPI> {
  return (apiPromise ??= xxhash());
}

export function hex64(v: bigint): string {
  return v.toString(16).padStart(16, '0');
}

const OPEN_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK;

/** A failure to read one file, reported by path. */
export interface ReadFailure {
  path: string;
  code: string;
  message: string;
}

/** A file of a batch that could not be read: its index in the batch, and why. */
export interface BatchFailure extends ReadFailure {
  index: number;
}

/** Results of one batch: STAT_FIELDS numbers and HASH_BYTES of hash per file (zeros for one that failed). */
export interface BatchResult {
  stats: Float64Array;
  hashes: Uint8Array;
  /** In index order. */
  failures: BatchFailure[];
  /** Extended attributes, sparse: [index in batch, attributes]. */
  xattrs: [number, Record<string, string>][];
  /** Indices of the files that changed while they were read (see FileHasher.statAndHash). */
  changed: number[];
}

/**
 * Writes a file's attributes from lstat at `nums[o + N_TYPE..N_NSEC]` (as statAndHash does, size from lstat);
 * false when even lstat fails.
 */
export function lstatInto(at: string | Buffer, nums: Float64Array, o: number): boolean {
  const raw = new Float64Array(S_FIELDS);
  try {
    lstatRaw(at, raw);
  } catch {
    return false;
  }
  nums[o + N_TYPE] = 0;
  nums[o + N_MODE] = raw[S_MODE]! & 0o7777;
  nums[o + N_UID] = raw[S_UID]!;
  nums[o + N_GID] = raw[S_GID]!;
  nums[o + N_SIZE] = raw[S_SIZE]!;
  nums[o + N_SEC] = raw[S_MSEC]!;
  nums[o + N_NSEC] = raw[S_MNSEC]!;
  return true;
}

/** Reads and hashes files synchronously with one reusable aligned buffer. One per thread. */
export class FileHasher {
  private readonly buf: Uint8Array;
  constructor(private readonly api: XXHashAPI) {
    const mem = new WebAssembly.Memory({ initial: CHUNK_SIZE / 65536 });
    this.buf = new Uint8Array(mem.buffer, 0, CHUNK_SIZE);
  }

  static async create(): Promise<FileHasher> {
    return new FileHasher(await xxhashApi());
  }

  /** Bytes the last hashFd read. */
  bytesRead = 0;

  /**
   * Hash the rest of an open regular file; returns the hash, and sets `bytesRead`. `expected` is the size
   * fstat gave. A small file is read with one call asking for one byte more and hashed in one call; a short
   * read of a regular file is its end, so the usual second read that returns 0 is saved (a file that grew is
   * read on). Larger files are streamed in CHUNK_SIZE reads.
   */
  hashFd(fd: number, expected = CHUNK_SIZE): bigint {
    if (expected >= STREAM_FROM) return this.hashStream(fd, 0);
    const buf = this.buf;
    const total = fs.readSync(fd, buf, 0, expected + 1, null);
    if (total > expected) return this.hashStream(fd, total); // it grew since fstat
    this.bytesRead = total;
    return this.api.h64Raw(buf.subarray(0, total));
  }

  /**
   * Hash a file in CHUNK_SIZE reads until a short one; `have` bytes of it may be in the buffer already. Every
   * operation of the loop runs in its first turn, which files of a few hundred KiB take too: the code the JIT
   * makes from it is never thrown away at the first file larger than a chunk (a deoptimization that also
   * threw away the scanning code it was inlined into).
   */
  private hashStream(fd: number, have: number): bigint {
    const buf = this.buf;
    const h = this.api.create64();
    let size = 0;
    for (;;) {
      const n = have > 0 ? have : fs.readSync(fd, buf, 0, CHUNK_SIZE, null);
      const more = have > 0 || n === CHUNK_SIZE;
      have = 0;
      if (n > 0) {
        h.update(buf.subarray(0, n));
        size += n;
      }
      if (!more) break;
    }
    this.bytesRead = size;
    return h.digest();
  }

  /** Whether the last statAndHash saw the file change while it was read, twice in a row (see there). */
  changed = false;

  /**
   * Open a regular file (never following a symlink at the last component), record its attributes (fstat of
   * the descriptor) as type, mode, uid, gid, size read, mtime, ctime, inode and device at `nums[o +
   * N_TYPE..N_DEV]` (see scan-result.ts), and return its hash. Throws the system error when it cannot be
   * opened or read.
   *
   * A file that changes while it is read (written to, truncated, grown) would be recorded in a state it
   * never had: the size at open and the bytes read, and for a file read in several calls the size, mtime
   * and ctime after the read (a second fstat), must agree, else the file is read once more. If it changed again, the second reading is recorded and
   * `changed` is set: the caller marks the entry "changed while read" (a diff of it is unknown).
   */
  statAndHash(abs: string | Buffer, nums: Float64Array, o: number, withXattrs = false): bigint {
    let hash = this.readOnce(abs, nums, o, withXattrs);
    this.changed = false;
    if (this.unstable) {
      hash = this.readOnce(abs, nums, o, withXattrs);
      this.changed = this.unstable;
    }
    return hash;
  }

  /** The kept extended attributes the last statAndHash read (asked `withXattrs`), on the open descriptor. */
  xattrs: Record<string, string> | undefined;

  /** Set by readOnce: the file was not the same before, during and after the read. */
  private unstable = false;
  /** Raw stats (native.ts's layout) at open and, for a streamed file, after the read. */
  private readonly atOpen = new Float64Array(S_FIELDS);
  private readonly afterRead = new Float64Array(S_FIELDS);

  private readOnce(abs: string | Buffer, nums: Float64Array, o: number, withXattrs: boolean): bigint {
    const fd = fs.openSync(abs, OPEN_FLAGS);
    try {
      const st = this.atOpen;
      fstatRaw(fd, st, abs);
      const size = st[S_SIZE]!;
      const hash = this.hashFd(fd, size);
      // A small file is read with one call: bytes read against the size at open tell whether it changed.
      // A streamed one (several reads, time for a writer to come between) is also fstat'ed again after.
      this.unstable = this.bytesRead !== size || (size >= STREAM_FROM && this.changedSince(fd, abs));
      putRaw(nums, o, st);
      nums[o + N_TYPE] = 0;
      nums[o + N_SIZE] = this.bytesRead;
      this.xattrs = withXattrs ? readXattrs(abs, fd) : undefined;
      return hash;
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Whether the open file's size, mtime or ctime differ from its fstat at open. */
  private changedSince(fd: number, abs: string | Buffer): boolean {
    const a = this.atOpen;
    const b = this.afterRead;
    fstatRaw(fd, b, abs);
    return a[S_SIZE] !== b[S_SIZE] || a[S_MSEC] !== b[S_MSEC] || a[S_MNSEC] !== b[S_MNSEC] || a[S_CSEC] !== b[S_CSEC] || a[S_CNSEC] !== b[S_CNSEC];
  }

  /** Stat and hash a batch of files given relative to `root` (NUL-joined). */
  processBatch(root: string, joined: string, withXattrs: boolean): BatchResult {
    const paths = joined.split('\0');
    const stats = new Float64Array(paths.length * STAT_FIELDS);
    const hashes = new Uint8Array(paths.length * HASH_BYTES);
    const view = new DataView(hashes.buffer);
    const failures: BatchFailure[] = [];
    const xattrs: [number, Record<string, string>][] = [];
    const changed: number[] = [];
    const nums = new Float64Array(NUMS);
    for (let i = 0; i < paths.length; i++) {
      const abs = `${root}/${paths[i]}`;
      const at = fsPath(abs);
      try {
        view.setBigUint64(i * HASH_BYTES, this.statAndHash(at, nums, 0, withXattrs), false);
        stats.set(nums.subarray(N_MODE, N_MODE + STAT_FIELDS), i * STAT_FIELDS);
        if (this.changed) changed.push(i);
        if (this.xattrs) xattrs.push([i, this.xattrs]);
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        failures.push({ index: i, path: abs, code: err.code ?? 'EIO', message: err.message });
        // Its attributes as lstat gives them (a file that cannot be read is still listed by some commands).
        if (lstatInto(at, nums, 0)) stats.set(nums.subarray(N_MODE, N_MODE + STAT_FIELDS), i * STAT_FIELDS);
      }
    }
    return batchResult({ stats, hashes, failures, xattrs, changed });
  }
}

/** A BatchResult of one shape whichever thread made it (see scanResult). */
export function batchResult(r: BatchResult): BatchResult {
  // Empty lists made here, not by structured clone (whose arrays have shapes of their own).
  return {
    stats: r.stats,
    hashes: r.hashes,
    failures: r.failures.length > 0 ? r.failures : [],
    xattrs: r.xattrs.length > 0 ? r.xattrs : [],
    changed: r.changed.length > 0 ? r.changed : [],
  };
}

export interface FilePoolOptions {
  /** Worker threads (default: number of CPUs, at most 4; at least 1). */
  threads?: number;
  /** Whether the calling thread takes work too (see takeLocal): then a share of the queue is left for it. */
  local?: boolean;
}

/** What the pool reports as work completes (called on the calling thread; may add more work). */
export interface FilePoolHandlers {
  /** Directories were read (errors in `r.errors` are serialized). */
  onScan(r: ScanResult): void;
  /** Files queued with `addFiles` were read; `slots` are theirs, in batch order. */
  onFiles(r: BatchResult, slots: number[]): void;
}

/**
 * Files waiting to be read, first in, first out. Taken from the front without moving what follows (a walk
 * of a million small files queues most of them at once; `splice(0, n)` would move the rest at every batch).
 */
class FileQueue {
  private paths: string[] = [];
  private slots: number[] = [];
  private head = 0;

  get length(): number {
    return this.paths.length - this.head;
  }

  push(path: string, slot: number): void {
    this.paths.push(path);
    this.slots.push(slot);
  }

  /** The first `n` files (at most as many as are queued), removed from the queue. */
  take(n: number): { paths: string[]; slots: number[] } {
    const start = this.head;
    const end = Math.min(this.paths.length, start + n);
    const out = { paths: this.paths.slice(start, end), slots: this.slots.slice(start, end) };
    this.head = end;
    if (end === this.paths.length) {
      this.paths = [];
      this.slots = [];
      this.head = 0;
    } else if (end >= 4096 && 2 * end >= this.paths.length) {
      // What was taken is let go once it is half the arrays: each file is moved at most once more.
      this.paths = this.paths.slice(end);
      this.slots = this.slots.slice(end);
      this.head = 0;
    }
    return out;
  }
}

interface PoolWorker {
  worker: Worker;
  /** Removes the pool's listeners (before the thread is handed back). */
  detach: () => void;
  /** Set once the worker has started and said so: work is handed only to ready workers. */
  ready: boolean;
  inflight: number;
}

type Job = { id: number; dirs: DirTask[] } | { id: number; files: string; slots: number[] };

/** Messages a pool worker sends: `ready` once it has started and taken its set-up, then one answer per job. */
export type WorkerReply = { ready: true } | { id: number; scan: ScanResult } | { id: number; files: BatchResult };

/** What a pool sends a worker: its set-up first (the context it reads), then jobs. */
export type WorkerRequest = { setup: WorkerSetup } | { id: number; dirs: DirTask[] } | { id: number; files: string };

/** The context a pool worker reads, and how much a directory job may read. */
export interface WorkerSetup {
  config: ScanConfig;
  budget: ScanBudget;
}

/**
 * Reads a context's directories and files on worker threads. `addDirs` queues directories to read (each
 * worker reads them depth-first with a `DirScanner`, up to `SCAN_BUDGET` a message, and hands back the
 * directories and files it did not get to); `addFiles` queues files to read and hash in batches. Results
 * come to the handlers in no particular order; `drain` waits until no work is left. Workers pull: each has
 * at most MAX_INFLIGHT messages in flight, so that none waits on a round trip and the last ones still
 * spread evenly. Directories go first: reading them uncovers the rest of the work. Workers come from
 * threads.ts (started ahead of the walk when the program could). A worker gets work only once it says it has
 * taken its set-up; until then the calling thread (takeLocal) keeps all of it.
 */
export class FilePool {
  private workers: PoolWorker[] = [];
  private dirs: DirTask[] = [];
  private readonly files = new FileQueue();
  private readonly inflight = new Map<number, Job>();
  private nextId = 0;
  private doneFiles = 0;
  private doneBytes = 0;
  private error: unknown;
  private wake: (() => void) | undefined;
  private readonly localShares: number;

  /** Below this many files (or bytes), a walk reads the context on the calling thread (see walkContext). */
  static readonly INLINE_FILES = 64;
  static readonly INLINE_BYTES = 4 << 20;
  /** What one worker reads per directory message before it hands the rest back. */
  static readonly SCAN_BUDGET: ScanBudget = { files: 512, bytes: 8 << 20 };
  /** What the calling thread reads at a time when it shares the work (it must come back to answer workers). */
  static readonly LOCAL_BUDGET: ScanBudget = { files: 256, bytes: 4 << 20 };
  /** Target bytes per file batch, and the bounds on files per batch. */
  static readonly BATCH_BYTES = 4 << 20;
  static readonly MIN_FILES = 1;
  static readonly MAX_FILES = 256;
  static readonly MAX_INFLIGHT = 2;

  constructor(
    private readonly config: ScanConfig,
    private readonly handlers: FilePoolHandlers,
    options: FilePoolOptions = {},
  ) {
    const threads = Math.max(1, options.threads ?? defaultThreads());
    this.localShares = options.local ? 1 : 0;
    for (let i = 0; i < threads; i++) this.spawn();
  }

  /**
   * Queues directories given in canonical order (a scan's spilled ones). The queue is a stack whose top is
   * the first of them in canonical order, so the walk goes about in canonical order and its entries can be
   * put in that order as it goes (the stat cache's pass runs along), not all at the end.
   */
  addDirs(tasks: DirTask[]): void {
    for (let i = tasks.length - 1; i >= 0; i--) this.dirs.push(tasks[i]!);
    this.pump();
  }

  /** The top `take` directories of the queue, in canonical order. */
  private takeDirs(take: number): DirTask[] {
    return this.dirs.splice(this.dirs.length - take, take).reverse();
  }

  addFiles(paths: string[], slots: number[]): void {
    for (let i = 0; i < paths.length; i++) this.files.push(paths[i]!, slots[i]!);
    this.pump();
  }

  private batchFiles(): number {
    const avg = this.doneFiles === 0 ? FilePool.BATCH_BYTES : this.doneBytes / this.doneFiles;
    return Math.max(FilePool.MIN_FILES, Math.min(FilePool.MAX_FILES, Math.floor(FilePool.BATCH_BYTES / Math.max(avg, 1))));
  }

  private pump(): void {
    for (;;) {
      let free: PoolWorker | undefined;
      let freeSlots = 0;
      for (const w of this.workers) {
        if (!w.ready) continue;
        freeSlots += FilePool.MAX_INFLIGHT - w.inflight;
        if (w.inflight < FilePool.MAX_INFLIGHT && (free === undefined || w.inflight < free.inflight)) free = w;
      }
      if (free === undefined) return;
      let job: Job;
      if (this.dirs.length > 0) {
        const take = Math.ceil(this.dirs.length / (freeSlots + this.localShares));
        job = { id: this.nextId++, dirs: this.takeDirs(take) };
      } else if (this.files.length > 0) {
        const batch = this.files.take(this.batchFiles());
        job = { id: this.nextId++, files: batch.paths.join('\0'), slots: batch.slots };
      } else {
        return;
      }
      this.inflight.set(job.id, job);
      free.inflight++;
      free.worker.postMessage('dirs' in job ? { id: job.id, dirs: job.dirs } : { id: job.id, files: job.files });
    }
  }

  /** Whether queued or running work is left. */
  get busy(): boolean {
    return this.dirs.length > 0 || this.files.length > 0 || this.inflight.size > 0;
  }

  /**
   * Work for the calling thread: some of what is queued once every worker holds all it may, or null. The
   * caller reads it (DirScanner, FileHasher) and hands the results back like a worker's.
   */
  takeLocal(): { dirs: DirTask[] } | { paths: string[]; slots: number[] } | null {
    this.pump();
    if (this.dirs.length > 0) return { dirs: this.takeDirs(Math.ceil(this.dirs.length / 2)) };
    if (this.files.length > 0) {
      return this.files.take(Math.ceil(this.batchFiles() / 2));
    }
    return null;
  }

  /** Wait until a worker answers or starts (or fails), if there is work for one. */
  async settle(): Promise<void> {
    if (this.error === undefined && this.busy) await new Promise<void>((resolve) => (this.wake = resolve));
    if (this.error !== undefined) throw this.error;
  }

  /** Wait until every queued directory and file has been handed to the handlers. */
  async drain(): Promise<void> {
    this.pump();
    while (this.busy && this.error === undefined) {
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    if (this.error !== undefined) throw this.error;
  }

  private spawn(): void {
    const worker = takeReaderThread();
    const pw: PoolWorker = { worker, detach: () => {}, ready: false, inflight: 0 };
    worker.postMessage({ setup: { config: this.config, budget: FilePool.SCAN_BUDGET } } satisfies WorkerRequest);
    const onMessage = (msg: WorkerReply) => {
      if ('ready' in msg) {
        // Until now the calling thread kept the work (takeLocal): starting a worker takes tens of ms.
        pw.ready = true;
        this.pump();
        this.wake?.();
        return;
      }
      const job = this.inflight.get(msg.id);
      if (!job) return;
      this.inflight.delete(msg.id);
      pw.inflight--;
      try {
        if ('scan' in msg) {
          this.doneFiles += msg.scan.files;
          this.doneBytes += msg.scan.bytes;
          this.handlers.onScan(scanResult(msg.scan));
        } else {
          const r = batchResult(msg.files);
          for (let i = 3; i < r.stats.length; i += STAT_FIELDS) this.doneBytes += r.stats[i]!;
          this.doneFiles += r.stats.length / STAT_FIELDS;
          this.handlers.onFiles(r, (job as { slots: number[] }).slots);
        }
      } catch (e) {
        this.error ??= e;
      }
      this.pump();
      this.wake?.();
    };
    const onError = (e: Error) => {
      this.error ??= e;
      this.wake?.();
    };
    const onExit = (code: number) => {
      if ((pw.inflight > 0 || !pw.ready) && this.workers.includes(pw)) {
        this.error ??= new Error(`file reader thread exited (code ${code}) ${pw.ready ? 'with work in hand' : 'before it started'}`);
        this.wake?.();
      }
    };
    worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    pw.detach = () => worker.off('message', onMessage).off('error', onError).off('exit', onExit);
    this.workers.push(pw);
  }

  /**
   * Done with the workers: one with no job in hand goes back to threads.ts (which keeps the ones started
   * ahead for the next walk, started or still starting); one with work in hand, or any after a failure, ends.
   */
  async close(): Promise<void> {
    const ws = this.workers;
    this.workers = [];
    await Promise.all(
      ws.map((w) => {
        w.detach();
        return this.error === undefined && w.inflight === 0 ? releaseReaderThread(w.worker) : w.worker.terminate();
      }),
    );
  }
}

