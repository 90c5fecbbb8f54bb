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
import { IoError } from './errors.js';
import { FileHasher, FilePool, STAT_FIELDS, defaultThreads, hashAt, type BatchResult } from './hash.js';
import { createIgnoreMatcher, locateIgnoreFile, parseIgnoreFile, type IgnoreMatcher } from './ignore.js';
import { getProfile } from './profiles.js';
import {
  DirScanner, F_ERROR, F_EXCLUDED_DIR, F_EXTRAS, F_FAILED, F_HASH, F_WALKED, N_FLAGS, N_GID, N_MODE, N_NSEC, N_SEC, N_SIZE,
  N_TYPE, N_UID, NUMS, TYPE_CODES, deserializeError, statEntry,
  type DirPolicy, type Extras, type ScanConfig, type ScanResult, type SerializedError,
} from './scan.js';
import type { Context, Entry } from './types.js';
import { readDockerfiles } from './dockerfiles.js';

export { statEntry };

export interface WalkProgress {
  entries: number;
  files: number;
  bytes: number;
}

export interface WalkOptions {
  /** Builder profile id (chooses the ignore files and matcher). Default: buildkit. */
  builder?: string;
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
}

/** Load the ignore rules in force for a context directory under a builder profile. */
export function loadIgnore(
  dir: string,
  builder: string | undefined,
  dockerfile: string | undefined,
): { matcher: IgnoreMatcher | null; info: Context['ignore'] } {
  const profile = getProfile(builder);
  const info = locateIgnoreFile(dir, dockerfile, profile);
  if (!info) return { matcher: null, info: null };
  const rules = parseIgnoreFile(info.text, info.file, profile.matcher);
  return { matcher: createIgnoreMatcher(rules, profile.matcher), info };
}

/** Walk progress is reported at most this often (ms); the calling thread yields to the event loop as often. */
const PROGRESS_EVERY_MS = 4;

/**
 * Entries as scans and file batches deliver them (in arrival order), and the directories they belong to;
 * `assemble` puts them in canonical order.
 */
class Collector {
  readonly entries: Entry[] = [];
  private readonly flags: number[] = [];
  /** Directory path → its entries: [start, end) in `entries`. */
  private readonly dirs = new Map<string, { start: number; end: number }>();
  private readonly errors = new Map<number, Error | SerializedError>();
  readonly progress: WalkProgress = { entries: 0, files: 0, bytes: 0 };

  /** Takes in a scan; returns its deferred files (paths relative to the root, and their slots). */
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
      if (f & F_HASH) e.hash = hashes.slice(h * 16, ++h * 16);
      if (more?.xattrs !== undefined) e.xattrs = more.xattrs;
      entries.push(e);
      flags.push(f);
    }
    for (const [i, err] of r.errors) this.errors.set(base + i, err);
    const names = r.dirs.split('\0');
    let at = base;
    for (let k = 0; k < r.counts.length; k++) {
      const start = at;
      at += r.counts[k]!;
      this.dirs.set(names[k]!, { start, end: at });
    }
    this.progress.entries += n;
    this.progress.files += r.files + r.deferred.length;
    this.progress.bytes += r.bytes;
    const slots = r.deferred.map((i) => base + i);
    return { paths: slots.map((s) => entries[s]!.path), slots };
  }

  /** Takes in a batch of deferred files. */
  addFiles(r: BatchResult, slots: number[]): void {
    let failed = 0;
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i]!;
      const e = this.entries[slot]!;
      const h = hashAt(r, i);
      if (h === undefined) {
        const f = r.failures[failed++]!;
        this.flags[slot] = F_FAILED;
        this.errors.set(slot, { kind: 'io', path: f.path, code: f.code, message: f.message });
        continue;
      }
      const o = i * STAT_FIELDS;
      e.mode = r.stats[o]!;
      e.uid = r.stats[o + 1]!;
      e.gid = r.stats[o + 2]!;
      e.size = r.stats[o + 3]!;
      e.mtimeSec = r.stats[o + 4]!;
      e.mtimeNsec = r.stats[o + 5]!;
      e.hash = h;
      this.flags[slot] = F_HASH;
      this.progress.bytes += e.size;
    }
    for (const [i, x] of r.xattrs) this.entries[slots[i]!]!.xattrs = x;
  }

  /**
   * The entries in canonical order: each directory followed by what is below it, names in code-unit order.
   * Throws the walk's first error in that order; then the first file that could not be read.
   */
  assemble(dirPolicy: DirPolicy): Entry[] {
    const out: Entry[] = [];
    let failure: number | undefined;
    const visit = (dir: string): number => {
      const d = this.dirs.get(dir);
      if (d === undefined) throw new Error(`walk: directory ${JSON.stringify(dir)} was never read`);
      let added = 0;
      for (let i = d.start; i < d.end; i++) {
        const f = this.flags[i]!;
        if (f & F_ERROR) throw deserializeError(this.errors.get(i)!);
        const e = this.entries[i]!;
        if (f & F_EXCLUDED_DIR) {
          const at = out.length;
          out.push(e);
          const below = visit(e.path);
          if (below === 0 && dirPolicy !== 'always') out.length = at;
          else added += below + 1;
          continue;
        }
        if (f & F_FAILED) failure ??= i;
        added++;
        out.push(e);
        if (f & F_WALKED) added += visit(e.path);
      }
      return added;
    };
    visit('');
    if (failure !== undefined) throw deserializeError(this.errors.get(failure)!);
    return out;
  }
}

/** Walk a context directory into a Context (entries in canonical order, hashed). */
export async function walkContext(dir: string, options: WalkOptions = {}): Promise<Context> {
  const builder = getProfile(options.builder).id;
  const root = path.resolve(dir);
  let rootStat: Entry;
  try {
    rootStat = statEntry(root, '.');
  } catch (e) {
    throw e instanceof IoError ? IoError.from(dir, e.cause) : e;
  }
  if (rootStat.type !== 'dir') throw new IoError(dir, 'not a directory');

  const { matcher, info } = loadIgnore(root, builder, options.dockerfile);
  const withXattrs = options.xattrs ?? getProfile(builder).attributes.xattrs === 'busts';
  const hash = options.hash !== false;
  /**
   * An excluded directory the walker enters: BuildKit 0.8 sends it whatever is below; current BuildKit sends
   * it (real attributes) when something below is re-included; the classic builder and Buildah never send it,
   * but unpacking a re-included file creates it with default attributes.
   */
  const dirPolicy: DirPolicy = matcher?.sendsDescendedDirs
    ? 'always'
    : (matcher?.sendsParentsOfReincluded ?? true) ? 'if-used' : 'implied';
  const config: ScanConfig = {
    root,
    ignore: matcher ? { rules: [...matcher.rules], variant: matcher.variant } : null,
    hash,
    xattrs: withXattrs,
    dirPolicy,
  };
  const threads = options.threads ?? defaultThreads();
  const collector = new Collector();
  let lastProgress = performance.now();
  const progress = (): boolean => {
    const now = performance.now();
    if (now - lastProgress < PROGRESS_EVERY_MS) return false;
    lastProgress = now;
    options.onProgress?.({ ...collector.progress });
    return true;
  };

  // Read on this thread first: most contexts are small, and workers cost more to start than they save there.
  const hasher = hash ? await FileHasher.create() : null;
  const scanner = new DirScanner(config, hasher);
  const first = scanner.scan([{ path: '', match: null }], { files: FilePool.INLINE_FILES, bytes: FilePool.INLINE_BYTES });
  let deferred = collector.addScan(first);
  let dirs = first.spilled;
  if (hash && threads > 1 && (dirs.length > 0 || deferred.paths.length > 0)) {
    const pool: FilePool = new FilePool(
      config,
      {
        onScan: (r) => {
          const d = collector.addScan(r);
          if (r.spilled.length > 0) pool.addDirs(r.spilled);
          if (d.paths.length > 0) pool.addFiles(d.paths, d.slots);
          progress();
        },
        onFiles: (r, slots) => {
          collector.addFiles(r, slots);
          progress();
        },
      },
      { threads: threads - 1, local: true },
    );
    try {
      pool.addDirs(dirs);
      pool.addFiles(deferred.paths, deferred.slots);
      // This thread reads too, whenever the workers have all they can hold.
      while (pool.busy) {
        const job = pool.takeLocal();
        if (job === null) {
          await pool.settle();
          continue;
        }
        if ('dirs' in job) {
          const r = scanner.scan(job.dirs, FilePool.LOCAL_BUDGET);
          const d = collector.addScan(r);
          if (r.spilled.length > 0) pool.addDirs(r.spilled);
          if (d.paths.length > 0) pool.addFiles(d.paths, d.slots);
        } else {
          collector.addFiles(hasher!.processBatch(root, job.paths.join('\0'), withXattrs), job.slots);
        }
        progress();
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      await pool.close();
    }
  } else {
    while (dirs.length > 0 || deferred.paths.length > 0) {
      if (dirs.length > 0) {
        const r = scanner.scan(dirs, FilePool.SCAN_BUDGET);
        const d = collector.addScan(r);
        dirs = r.spilled;
        deferred = { paths: deferred.paths.concat(d.paths), slots: deferred.slots.concat(d.slots) };
      } else {
        const take = FilePool.MAX_FILES;
        const slots = deferred.slots.splice(0, take);
        collector.addFiles(hasher!.processBatch(root, deferred.paths.splice(0, take).join('\0'), withXattrs), slots);
      }
      if (progress()) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  const list = collector.assemble(dirPolicy);
  const dockerfiles = readDockerfiles(root, options.dockerfile);
  return {
    name: options.name ?? dir,
    builder,
    xattrs: withXattrs,
    ignore: info,
    dockerfiles: dockerfiles.texts,
    ...(dockerfiles.chosen !== undefined ? { dockerfile: dockerfiles.chosen } : {}),
    entries: list,
    root: {
      mode: rootStat.mode,
      uid: rootStat.uid,
      gid: rootStat.gid,
      mtimeSec: rootStat.mtimeSec,
      mtimeNsec: rootStat.mtimeNsec,
    },
  };
}
