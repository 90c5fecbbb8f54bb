/**
 * Reading regular files: their attributes (fstat of the open descriptor) and the xxhash64 of their content
 * (xxhash-wasm). Files are read with synchronous calls into a page-aligned buffer (a WebAssembly.Memory is
 * always page-aligned; reads from the page cache into an unaligned buffer are several times slower), in
 * fixed-size chunks, so memory stays bounded for any file size.
 *
 * `FilePool` spreads batches of files over worker threads (sync I/O in workers beats async I/O on the main
 * thread by a wide margin, and keeps the walking thread free); small jobs run on the calling thread to avoid
 * worker start-up cost. Batches travel as one NUL-joined string and come back as a Float64Array plus one
 * string of fixed-width hashes: structured-cloning arrays of strings costs more than the hashing.
 */
import fs from 'node:fs';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import xxhash, { type XXHashAPI } from 'xxhash-wasm';
import { readXattrs } from './xattrs.js';

/** Read chunk size: 1 MiB. */
export const CHUNK_SIZE = 1 << 20;
/** Numbers per file in a batch result: mode, uid, gid, size, mtimeSec, mtimeNsec. */
export const STAT_FIELDS = 6;
const HASH_WIDTH = 16;
const FAILED = '-'.repeat(HASH_WIDTH);

let apiPromise: Promise<XXHashAPI> | undefined;
/** The xxhash-wasm API, instantiated once per thread. */
export function xxhashApi(): Promise<XXHashAPI> {
  return (apiPromise ??= xxhash());
}

export function hex64(v: bigint): string {
  return v.toString(16).padStart(HASH_WIDTH, '0');
}

const OPEN_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK;

/** A failure to read one file, reported by path. */
export interface ReadFailure {
  path: string;
  code: string;
  message: string;
}

/** Results of one batch: STAT_FIELDS numbers per file, and the hashes as one string of 16-digit slices. */
export interface BatchResult {
  stats: Float64Array;
  hashes: string;
  failures: ReadFailure[];
  /** Extended attributes, sparse: [index in batch, attributes]. */
  xattrs: [number, Record<string, string>][];
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

  /**
   * Hash the rest of an open regular file; returns the hash and the bytes read. `expected` is the size fstat
   * gave: a file that fits is read with one call asking for one byte more, and a short read of a regular
   * file is its end, so the usual second read that returns 0 is saved (a file that grew is read on).
   */
  hashFd(fd: number, expected = CHUNK_SIZE): { hash: string; size: number } {
    const buf = this.buf;
    let total = 0;
    let n: number;
    if (expected < CHUNK_SIZE) {
      total = fs.readSync(fd, buf, 0, expected + 1, null);
      if (total <= expected) return { hash: hex64(this.api.h64Raw(buf.subarray(0, total))), size: total };
    }
    // Fill the buffer once: most files fit, and are hashed in one call.
    while ((n = fs.readSync(fd, buf, total, CHUNK_SIZE - total, null)) > 0) {
      total += n;
      if (total === CHUNK_SIZE) break;
    }
    if (total < CHUNK_SIZE) return { hash: hex64(this.api.h64Raw(buf.subarray(0, total))), size: total };
    const h = this.api.create64();
    let size = 0;
    n = total;
    while (n > 0) {
      h.update(buf.subarray(0, n));
      size += n;
      n = fs.readSync(fd, buf, 0, CHUNK_SIZE, null);
    }
    return { hash: hex64(h.digest()), size };
  }

  /** Hash one regular file by absolute path (never follows a symlink at the last component). */
  hashFile(path: string): { hash: string; size: number } {
    const fd = fs.openSync(path, OPEN_FLAGS);
    try {
      return this.hashFd(fd);
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Stat and hash a batch of files given relative to `root` (NUL-joined). */
  processBatch(root: string, joined: string, withXattrs: boolean): BatchResult {
    const paths = joined.split('\0');
    const stats = new Float64Array(paths.length * STAT_FIELDS);
    const hashes: string[] = new Array(paths.length);
    const failures: ReadFailure[] = [];
    const xattrs: [number, Record<string, string>][] = [];
    for (let i = 0; i < paths.length; i++) {
      const abs = `${root}/${paths[i]}`;
      let fd = -1;
      try {
        fd = fs.openSync(abs, OPEN_FLAGS);
        const st = fs.fstatSync(fd, { bigint: true });
        const { hash, size } = this.hashFd(fd, Number(st.size));
        const ns = st.mtimeNs;
        let sec = ns / 1_000_000_000n;
        let nsec = ns % 1_000_000_000n;
        if (nsec < 0n) (nsec += 1_000_000_000n), (sec -= 1n);
        const o = i * STAT_FIELDS;
        stats[o] = Number(st.mode);
        stats[o + 1] = Number(st.uid);
        stats[o + 2] = Number(st.gid);
        stats[o + 3] = size;
        stats[o + 4] = Number(sec);
        stats[o + 5] = Number(nsec);
        hashes[i] = hash;
        if (withXattrs) {
          const x = readXattrs(abs);
          if (x) xattrs.push([i, x]);
        }
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        hashes[i] = FAILED;
        failures.push({ path: abs, code: err.code ?? 'EIO', message: err.message });
      } finally {
        if (fd >= 0) fs.closeSync(fd);
      }
    }
    return { stats, hashes: hashes.join(''), failures, xattrs };
  }
}

/** Hash `i` of a batch result, or undefined when that file failed. */
export function hashAt(r: BatchResult, i: number): string | undefined {
  const h = r.hashes.slice(i * HASH_WIDTH, (i + 1) * HASH_WIDTH);
  return h === FAILED ? undefined : h;
}

export interface FilePoolOptions {
  /** Worker threads (default: number of CPUs, at most 4). 0 = on the calling thread. */
  threads?: number;
  /** Read extended attributes too (default true). */
  xattrs?: boolean;
}

type OnBatch = (result: BatchResult, first: number) => void;

interface PoolWorker {
  worker: Worker;
  inflight: number;
}

interface QueuedBatch {
  id: number;
  first: number;
  files: number;
  paths: string;
}

/**
 * Reads and hashes files in batches. `add` queues a file (relative to `root`) and returns its slot; results
 * are handed to `onBatch` with the slot of the batch's first file, in no particular order; `drain` waits for
 * all of them. Workers pull: each has at most MAX_INFLIGHT batches in flight, so a worker that drew large files does
 * not hold up the rest; batch sizes follow the bytes per file seen so far (about 4 MiB a batch), so a
 * context of a few huge files is still spread over every worker. The caller must yield to the event loop
 * now and then while adding (see `walkContext`), so that answers are taken in and work keeps flowing.
 */
export class FilePool {
  private workers: PoolWorker[] = [];
  private readonly threads: number;
  private pending: string[] = [];
  private pendingFirst = 0;
  private queue: QueuedBatch[] = [];
  private byId = new Map<number, QueuedBatch>();
  private nextBatch = 0;
  private count = 0;
  private doneFiles = 0;
  private doneBytes = 0;
  private error: unknown;
  private wake: (() => void) | undefined;

  /** Target bytes per batch, and the bounds on files per batch. */
  static readonly BATCH_BYTES = 4 << 20;
  static readonly MIN_FILES = 1;
  static readonly MAX_FILES = 256;
  static readonly FIRST_BATCH_FILES = 16;
  /** Below this many files in all, work on the calling thread (worker start-up costs more). */
  static readonly INLINE_FILES = 64;
  /**
   * Batches a worker may hold: enough that it never waits while the walking thread is busy between two
   * yields, few enough that the last batches still spread evenly.
   */
  static readonly MAX_INFLIGHT = 8;

  constructor(
    private readonly root: string,
    private readonly onBatch: OnBatch,
    options: FilePoolOptions = {},
  ) {
    this.threads = options.threads ?? Math.min(4, Math.max(1, os.availableParallelism()));
    this.xattrs = options.xattrs !== false;
  }

  private readonly xattrs: boolean;

  private batchFiles(): number {
    if (this.doneFiles === 0) return FilePool.FIRST_BATCH_FILES;
    const avg = this.doneBytes / this.doneFiles;
    return Math.max(FilePool.MIN_FILES, Math.min(FilePool.MAX_FILES, Math.floor(FilePool.BATCH_BYTES / Math.max(avg, 1))));
  }

  /** Queue a file by its path relative to root; returns its slot. */
  add(rel: string): number {
    if (this.pending.length === 0) this.pendingFirst = this.count;
    this.pending.push(rel);
    if (this.threads > 0 && this.pending.length >= this.batchFiles()) {
      this.enqueue();
      this.pump();
    }
    return this.count++;
  }

  private enqueue(): void {
    const b = { id: this.nextBatch++, first: this.pendingFirst, files: this.pending.length, paths: this.pending.join('\0') };
    this.pending = [];
    this.queue.push(b);
  }

  private pump(): void {
    if (this.count < FilePool.INLINE_FILES) return;
    while (this.workers.length < this.threads && this.workers.length < this.queue.length) this.spawn();
    for (const w of this.workers) {
      while (w.inflight < FilePool.MAX_INFLIGHT && this.queue.length > 0) {
        const b = this.queue.shift()!;
        this.byId.set(b.id, b);
        w.inflight++;
        w.worker.postMessage({ id: b.id, root: this.root, paths: b.paths, xattrs: this.xattrs });
      }
    }
  }

  /** Wait until every queued file has been handed to onBatch. */
  async drain(): Promise<void> {
    try {
      if (this.threads === 0 || this.count < FilePool.INLINE_FILES) {
        if (this.pending.length > 0) await this.runInline();
        return;
      }
      if (this.pending.length > 0) this.enqueue();
      this.pump();
      while ((this.queue.length > 0 || this.byId.size > 0) && this.error === undefined) {
        await new Promise<void>((resolve) => (this.wake = resolve));
      }
      if (this.error !== undefined) throw this.error;
    } finally {
      await this.close();
    }
  }

  private async runInline(): Promise<void> {
    const hasher = await FileHasher.create();
    const first = this.pendingFirst;
    const joined = this.pending.join('\0');
    this.pending = [];
    this.onBatch(hasher.processBatch(this.root, joined, this.xattrs), first);
  }

  private spawn(): void {
    const url = import.meta.url.endsWith('.ts')
      ? new URL('../dist/hash-worker.js', import.meta.url) // running from sources (tests): use the build
      : new URL('./hash-worker.js', import.meta.url);
    const pw: PoolWorker = { worker: new Worker(url), inflight: 0 };
    pw.worker.on('message', (msg: { id: number } & BatchResult) => {
      const b = this.byId.get(msg.id);
      if (!b) return;
      this.byId.delete(msg.id);
      pw.inflight--;
      this.doneFiles += b.files;
      for (let i = 3; i < msg.stats.length; i += STAT_FIELDS) this.doneBytes += msg.stats[i]!;
      try {
        this.onBatch(msg, b.first);
      } catch (e) {
        this.error ??= e;
      }
      this.pump();
      this.wake?.();
    });
    pw.worker.on('error', (e) => {
      this.error ??= e;
      this.wake?.();
    });
    this.workers.push(pw);
  }

  async close(): Promise<void> {
    const ws = this.workers;
    this.workers = [];
    await Promise.all(ws.map((w) => w.worker.terminate()));
  }
}
