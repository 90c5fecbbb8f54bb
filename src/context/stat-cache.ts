/**
 * The stat cache: a walk that has the snapshot of an earlier walk of the same context on the same machine
 * re-uses the recorded hash of a regular file instead of reading it, when the file's device, inode, size,
 * mtime and ctime (both to the nanosecond) are all the recorded ones — as git trusts its index.
 *
 * - ctime cannot be set by user programs (utimes sets atime and mtime, and sets ctime to now): a rewrite that
 *   restores size and mtime (the BuildKit transfer hazard) still moves ctime, so it is read again.
 * - Racy entries: a file changed within the same timestamp tick as the one recorded could keep every
 *   recorded value. So an entry whose mtime or ctime is not older than the start of the walk that recorded
 *   it, less RACY_WINDOW_NS (the file system's timestamp granularity, taken at its coarsest in common use,
 *   and any lag of the file system's clock behind the walk's), is never trusted: it is read again.
 * - Another machine: device and inode numbers mean nothing elsewhere (and a CI artifact's files are other
 *   files), so a snapshot recorded on another machine (its `machine` id differs) never lends a hash.
 * - What lends a hash is the file's identity and times, not its path: the walk's pass (ColumnCollector.reuse)
 *   tries the recorded entry next in canonical order first, and looks the path up only when that is not the
 *   file. An entry of another path with the same identity is the same file (a hard link), unchanged.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import type { EntryColumns, PendingStatCache, StatInfo } from './entry-columns.js';
import { msOfTime } from './scan-result.js';

/** How much older than the recording walk's start an entry's mtime and ctime must be to be trusted: 2 s. */
export const RACY_WINDOW_NS = 2_000_000_000n;

let machine: string | undefined;

/**
 * This machine's id as snapshots record it: a digest of the OS installation's id (/etc/machine-id, which
 * containers made from one image may share) and the host name (which they usually do not). Opaque: it
 * reveals neither.
 */
export function machineId(): string {
  if (machine === undefined) {
    let id = '';
    for (const file of ['/etc/machine-id', '/var/lib/dbus/machine-id']) {
      try {
        id = fs.readFileSync(file, 'utf8').trim();
        if (id) break;
      } catch {
        // not there: the host name alone
      }
    }
    machine = createHash('sha256').update(`ctxdiff-machine\0${id}\0${os.hostname()}`).digest('hex').slice(0, 32);
  }
  return machine;
}

/**
 * The StatInfo a walk records that started at `startedAtMs` (Date.now() then; before anything is read) and
 * reads extended attributes when `xattrs`.
 */
export function startStatInfo(xattrs: boolean, startedAtMs = Date.now()): StatInfo {
  return { machine: machineId(), startedAtNs: (BigInt(startedAtMs) * 1_000_000n).toString(), xattrs };
}

/** Why `cache` cannot lend hashes to a walk on this machine, or null when it can. */
export function cacheUnusable(cache: EntryColumns | PendingStatCache): string | null {
  const stat = cache.stat;
  if (!stat || ('dev' in cache && cache.dev === undefined)) return 'it records no file identities (an older snapshot, or not taken from a directory)';
  if (stat.machine !== machineId()) return 'it was taken on another machine';
  return null;
}

/** The entries of a stat cache, once they are there (null when they turn out to record no file identities). */
export async function cacheEntries(cache: EntryColumns | PendingStatCache): Promise<EntryColumns | null> {
  let entries = cache as EntryColumns;
  if ('entries' in cache) {
    cache.begin?.();
    entries = await cache.entries;
  }
  return cacheUnusable(entries) === null ? entries : null;
}

/**
 * The first second and nanosecond at which an entry of `cache` counts as racy: its mtime or ctime at or after
 * that instant means the file is read again.
 */
export function racyFrom(cache: EntryColumns): { sec: number; nsec: number } {
  let ns = BigInt(cache.stat!.startedAtNs) - RACY_WINDOW_NS;
  if (ns < 0n) ns = 0n;
  return { sec: Number(ns / 1_000_000_000n), nsec: Number(ns % 1_000_000_000n) };
}

/**
 * Whether row `row` of `cache` is a regular file with a hash whose identity and times equal those of row
 * `mine` of `walk` (a fresh lstat), and is not racy (see racyFrom). With `msTimes`, the walk's row has its
 * times in milliseconds as Node's Stats gives them (scan-result.ts, F_MS_TIMES): the recorded times are
 * compared in that form. Two times a few hundred nanoseconds apart can have one such form, but not a
 * recorded ctime and a later one: any change sets ctime to the time it is made, after the recording walk
 * started, and a recorded ctime that is not racy is older than that by RACY_WINDOW_NS.
 */
export function reusable(
  cache: EntryColumns,
  row: number,
  walk: Pick<EntryColumns, 'size' | 'mtimeSec' | 'mtimeNsec' | 'ctimeSec' | 'ctimeNsec' | 'ino' | 'dev'>,
  mine: number,
  racy: { sec: number; nsec: number },
  msTimes = false,
): boolean {
  if (cache.hashAt[row]! < 0 || cache.type[row] !== 0) return false;
  const dev = cache.dev![row]!;
  if (dev < 0 || dev !== walk.dev![mine] || cache.ino![row] !== walk.ino![mine] || cache.size[row] !== walk.size[mine]) return false;
  const msec = cache.mtimeSec[row]!;
  const mnsec = cache.mtimeNsec[row]!;
  const csec = cache.ctimeSec![row]!;
  const cnsec = cache.ctimeNsec![row]!;
  if (msTimes) {
    if (msOfTime(msec, mnsec) !== walk.mtimeSec[mine] || msOfTime(csec, cnsec) !== walk.ctimeSec![mine]) return false;
  } else {
    if (msec !== walk.mtimeSec[mine] || mnsec !== walk.mtimeNsec[mine]) return false;
    if (csec !== walk.ctimeSec![mine] || cnsec !== walk.ctimeNsec![mine]) return false;
  }
  const before = (sec: number, nsec: number) => sec < racy.sec || (sec === racy.sec && nsec < racy.nsec);
  return before(msec, mnsec) && before(csec, cnsec);
}
