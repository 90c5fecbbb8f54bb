/**
 * The progress line of a long walk, on stderr when it is a terminal: entries and bytes per second and, given
 * what the walk is expected to come to (an earlier snapshot's totals), an estimate of the time left.
 *
 * Rates and the estimate are taken over the last few seconds, not since the start: a walk's pace is not even.
 * It starts slow (the code loads, the reader threads start, a stat cache's snapshot is decoded on the same
 * thread) and changes with what it meets (a directory of large files after many small ones, the few files the
 * stat cache cannot vouch for read after the rest only stat-checked). An average since the start told a
 * million-file `diff SNAPSHOT DIR` it had 6 s left when 2.4 s were.
 */
import { count, humanSize } from '../reporters/format.js';
import type { WalkProgress } from '../context/walk.js';
import type { EntryColumns, PendingStatCache } from '../context/entry-columns.js';

/** What a walk is expected to come to (an earlier snapshot's totals), for the progress line's estimate. */
export interface ProgressTotal {
  entries: number;
  bytes: number;
}

/** The entries and regular files' bytes of a table (a snapshot's totals). */
export function totalsOf(cols: EntryColumns): ProgressTotal {
  let bytes = 0;
  for (let r = 0; r < cols.length; r++) if (cols.type[r] === 0) bytes += cols.size[r]!;
  return { entries: cols.length, bytes };
}

/**
 * The totals of a snapshot whose entries are still to be decoded (a pending stat cache): the entries it
 * declares at once, their bytes filled in once decoded.
 */
export function pendingTotal(pending: PendingStatCache & { declared: number }): ProgressTotal {
  const total: ProgressTotal = { entries: pending.declared, bytes: 0 };
  pending.entries.then((e) => Object.assign(total, totalsOf(e)), () => {});
  return total;
}

/**
 * Seconds of the recent past the rates and the estimate are taken over, at most: half the time since the
 * start until then (so that the slow start weighs little even in a walk of a few seconds), at least half a
 * second.
 */
export const PROGRESS_WINDOW_SECONDS = 3;

interface Sample {
  seconds: number;
  entries: number;
  bytes: number;
  /** How far along the walk was (0..1), against the totals; 0 without them. */
  done: number;
}

/** How far along a walk is against the totals: while only attributes are read, the entries tell; while contents are, the entries and the bytes both do (small files cost per entry, large ones per byte). */
function doneOf(p: WalkProgress, total: ProgressTotal | undefined): number {
  if (!total || total.entries <= 0) return 0;
  const fe = Math.min(1, p.entries / total.entries);
  const fb = total.bytes > 0 ? Math.min(1, p.bytes / total.bytes) : fe;
  return p.reading ? (fe + fb) / 2 : fe;
}

function formatEta(s: number): string {
  const whole = Math.round(s);
  if (whole < 60) return `${Math.max(1, whole)} s`;
  return `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, '0')} s`;
}

/**
 * Makes the progress line from successive progress reports (`line`, with the seconds since the walk started),
 * its rates and estimate over the window (PROGRESS_WINDOW_SECONDS).
 */
export class ProgressMeter {
  private readonly samples: Sample[] = [{ seconds: 0, entries: 0, bytes: 0, done: 0 }];

  constructor(private readonly total?: ProgressTotal) {}

  line(p: WalkProgress, seconds: number): string {
    const now: Sample = { seconds, entries: p.entries, bytes: p.bytes, done: doneOf(p, this.total) };
    const s = this.samples;
    // The base is the latest sample at least a window old (the start, until there is one).
    const window = Math.max(0.5, Math.min(PROGRESS_WINDOW_SECONDS, seconds / 2));
    while (s.length > 1 && s[1]!.seconds <= seconds - window) s.shift();
    const base = s[0]!;
    s.push(now);
    const span = seconds - base.seconds;
    const rate = (n: number) => (span > 0 ? Math.max(0, n) / span : 0);
    let line = `walking: ${count(p.entries)} entries (${count(rate(p.entries - base.entries))}/s), ${humanSize(p.bytes)} (${humanSize(Math.round(rate(p.bytes - base.bytes)))}/s)`;
    line += p.reading ? ' read' : ' stat-checked';
    if (p.reused > 0) line += `, ${count(p.reused)} files unchanged (not read)`;
    const f = now.done;
    const pace = rate(f - base.done);
    if (f > 0.01 && f < 1 && seconds >= 0.5 && pace > 0) line += `, about ${formatEta((1 - f) / pace)} left`;
    return line;
  }
}

/**
 * Progress on stderr, only when stderr is a terminal and not turned off (`--no-progress`: `o.progress`
 * false; see ProgressMeter); `done()` clears the line.
 */
export function progressReporter(o: { progress?: boolean }, total?: ProgressTotal): { onProgress?: (p: WalkProgress) => void; done(): void } {
  if (!process.stderr.isTTY || o.progress === false) return { done() {} };
  const meter = new ProgressMeter(total);
  let shown = false;
  let last = 0;
  const started = Date.now();
  return {
    onProgress: (p) => {
      const now = Date.now();
      if (now - last < 100) return; // ten updates a second are plenty
      last = now;
      shown = true;
      process.stderr.write(`\r\x1b[K${meter.line(p, (now - started) / 1000)}`);
    },
    done: () => {
      if (shown) process.stderr.write('\r\x1b[K');
    },
  };
}
