/**
 * Walk a build-context directory the way the builder does: apply the ignore rules while walking (excluded
 * directories are not even read unless an exception could re-include something below them), record every
 * entry's raw attributes without following symlinks or opening anything but regular files, and hash
 * regular files on a worker pool.
 */
import fs from 'node:fs';
import path from 'node:path';
import { IoError } from './errors.js';
import { FilePool, STAT_FIELDS, hashAt, type BatchResult } from './hash.js';
import { createIgnoreMatcher, locateIgnoreFile, parseIgnoreFile, type IgnoreMatcher, type MatchResult } from './ignore.js';
import { getProfile } from './profiles.js';
import type { Context, Entry, EntryType } from './types.js';
import { readDockerfiles } from './dockerfiles.js';
import { readXattrs } from './xattrs.js';

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
  /** Hash worker threads (default: CPUs, at most 4; 0 = on this thread). */
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

const S_IFMT = 0o170000;
const TYPE_BY_FMT: Record<number, EntryType> = {
  0o100000: 'file',
  0o040000: 'dir',
  0o120000: 'symlink',
  0o010000: 'fifo',
  0o140000: 'socket',
  0o020000: 'char',
  0o060000: 'block',
};

function typeOf(mode: number): EntryType {
  return TYPE_BY_FMT[mode & S_IFMT] ?? 'file';
}

/** Linux dev_t → major/minor (glibc encoding). */
function devNumbers(rdev: bigint): { devMajor: number; devMinor: number } {
  const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
  const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
  return { devMajor: major, devMinor: minor };
}

function splitNs(ns: bigint): { mtimeSec: number; mtimeNsec: number } {
  let sec = ns / 1_000_000_000n;
  let nsec = ns % 1_000_000_000n;
  if (nsec < 0n) {
    nsec += 1_000_000_000n;
    sec -= 1n;
  }
  return { mtimeSec: Number(sec), mtimeNsec: Number(nsec) };
}

/** Raw attributes of a path (lstat: links are not followed). */
export function statEntry(abs: string, rel: string, withXattrs = false): Entry {
  let st: fs.BigIntStats;
  try {
    st = fs.lstatSync(abs, { bigint: true });
  } catch (e) {
    throw IoError.from(abs, e);
  }
  const mode = Number(st.mode);
  const type = typeOf(mode);
  const e: Entry = {
    path: rel,
    type,
    mode: mode & 0o7777,
    uid: Number(st.uid),
    gid: Number(st.gid),
    size: type === 'file' ? Number(st.size) : 0,
    ...splitNs(st.mtimeNs),
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

const INCLUDED: MatchResult = { excluded: false, rule: null };

/** A directory the builder creates when unpacking a file below it: mode 0755, owner 0:0, mtime 0. */
function impliedDir(rel: string): Entry {
  return { path: rel, type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0, mtimeSec: 0, mtimeNsec: 0 };
}

/** Yield to the event loop at most this often (ms), so worker answers are taken in while walking. */
const YIELD_EVERY_MS = 4;

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
  const entries: (Entry | null)[] = [];
  const fileEntry: number[] = []; // pool slot → index in entries
  const progress: WalkProgress = { entries: 0, files: 0, bytes: 0 };
  let failure: Error | undefined;
  const onBatch = (r: BatchResult, first: number) => {
    if (r.failures.length > 0) {
      const f = r.failures[0]!;
      failure ??= IoError.from(f.path, Object.assign(new Error(f.message), { code: f.code }));
    }
    const n = r.stats.length / STAT_FIELDS;
    for (let i = 0; i < n; i++) {
      const e = entries[fileEntry[first + i]!]!;
      const o = i * STAT_FIELDS;
      e.mode = r.stats[o]! & 0o7777;
      e.uid = r.stats[o + 1]!;
      e.gid = r.stats[o + 2]!;
      e.size = r.stats[o + 3]!;
      e.mtimeSec = r.stats[o + 4]!;
      e.mtimeNsec = r.stats[o + 5]!;
      const h = hashAt(r, i);
      if (h !== undefined) e.hash = h;
      progress.bytes += e.size;
    }
    for (const [i, x] of r.xattrs) entries[fileEntry[first + i]!]!.xattrs = x;
  };
  const withXattrs = options.xattrs ?? getProfile(builder).attributes.xattrs === 'busts';
  const pool = options.hash === false ? null : new FilePool(root, onBatch, { threads: options.threads, xattrs: withXattrs });
  /**
   * An excluded directory the walker enters: BuildKit 0.8 sends it whatever is below; current BuildKit sends
   * it (real attributes) when something below is re-included; the classic builder and Buildah never send it,
   * but unpacking a re-included file creates it with default attributes.
   */
  const dirPolicy: 'always' | 'if-used' | 'implied' = matcher?.sendsDescendedDirs
    ? 'always'
    : (matcher?.sendsParentsOfReincluded ?? true) ? 'if-used' : 'implied';
  let lastYield = performance.now();

  /** Walk one directory; returns how many entries were added below it. */
  const walkDir = async (abs: string, prefix: string, parent: MatchResult | undefined): Promise<number> => {
    let dirents: fs.Dirent[];
    try {
      dirents = fs.readdirSync(abs, { withFileTypes: true });
    } catch (e) {
      throw IoError.from(abs, e);
    }
    dirents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    let added = 0;
    for (const d of dirents) {
      const name = d.name;
      const rel = prefix === '' ? name : `${prefix}/${name}`;
      const m = matcher ? matcher.matchInWalk(rel, parent) : INCLUDED;
      if (m.excluded) {
        // An excluded directory is read only if an exception may re-include something below it.
        if (!d.isDirectory() || !matcher!.mustDescend(rel)) continue;
        const at = entries.length;
        const real = statEntry(`${abs}/${name}`, rel, withXattrs);
        if (real.type !== 'dir') continue;
        entries.push(dirPolicy === 'implied' ? impliedDir(rel) : real);
        const below = await walkDir(`${abs}/${name}`, rel, m);
        if (below === 0 && dirPolicy !== 'always') entries[at] = null;
        else added += below + 1;
        continue;
      }
      added++;
      progress.entries++;
      if (pool && d.isFile()) {
        fileEntry.push(entries.length);
        entries.push({ path: rel, type: 'file', mode: 0, uid: 0, gid: 0, size: 0, mtimeSec: 0, mtimeNsec: 0 });
        pool.add(rel);
        progress.files++;
        continue;
      }
      const e = statEntry(`${abs}/${name}`, rel, withXattrs);
      entries.push(e);
      if (e.type === 'file') {
        progress.files++;
        progress.bytes += e.size;
      } else if (e.type === 'dir') {
        added += await walkDir(`${abs}/${name}`, rel, m);
      }
    }
    const now = performance.now();
    if (now - lastYield >= YIELD_EVERY_MS) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      lastYield = performance.now();
      options.onProgress?.({ ...progress });
    }
    return added;
  };

  try {
    await walkDir(root, '', undefined);
    await pool?.drain();
  } finally {
    await pool?.close();
  }
  if (failure) throw failure;

  const list = entries.filter((e): e is Entry => e !== null);
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
