/** The progress line (src/cli/progress.ts): entries and bytes per second, and the time left against a snapshot's totals. */
import { describe, expect, it } from 'vitest';
import { PROGRESS_WINDOW_SECONDS, ProgressMeter } from '../src/cli/progress.js';

const p = (entries: number, bytes: number, reading = true, reused = 0) => ({ entries, files: entries, bytes, reused, reading });
const MiB = 2 ** 20;

/** The line after a walk at an even pace of `perSecond` entries (and as many KiB) reported ten times a second up to `seconds`. */
function evenWalk(meter: ProgressMeter, perSecond: number, seconds: number, reading = true): string {
  let line = '';
  for (let i = 1; i <= seconds * 10; i++) {
    const t = i / 10;
    line = meter.line(p(Math.round(perSecond * t), Math.round(perSecond * t) * 1024, reading), t);
  }
  return line;
}

describe('progress line', () => {
  it('shows entries and bytes per second', () => {
    expect(new ProgressMeter().line(p(50_000, 100 * MiB), 2)).toBe('walking: 50,000 entries (25,000/s), 100 MiB (50.0 MiB/s) read');
    expect(evenWalk(new ProgressMeter(), 20_000, 10)).toBe('walking: 200,000 entries (20,000/s), 195 MiB (19.5 MiB/s) read');
  });

  it('estimates the time left from the totals of a snapshot of the same context', () => {
    // A quarter of the entries and of the bytes in 3 s: 9 s left.
    expect(new ProgressMeter({ entries: 100_000, bytes: 100 * MiB }).line(p(25_000, 25 * MiB), 3)).toMatch(/, about 9 s left$/);
    // While only attributes are checked (the stat cache), the entries tell how far it is.
    const line = new ProgressMeter({ entries: 100_000, bytes: 100 * MiB }).line(p(50_000, 90 * MiB, false), 1);
    expect(line).toContain('stat-checked');
    expect(line).toMatch(/, about 1 s left$/);
    expect(new ProgressMeter({ entries: 20_000, bytes: 0 }).line(p(10_000, 0, true, 9_000), 130)).toMatch(/9,000 files unchanged \(not read\), about 2 min 10 s left$/);
    // An even walk: 40,000 of 100,000 entries at 10,000/s, 6 s left.
    expect(evenWalk(new ProgressMeter({ entries: 100_000, bytes: 100_000 * 1024 }), 10_000, 4)).toMatch(/, about 6 s left$/);
  });

  it('takes rates and the estimate over the last seconds, not since the start', () => {
    // A walk that starts slow (2 s at 10,000 entries/s: code loading, a snapshot decoded) and then goes at
    // 100,000/s, of 1,000,000 entries, only stat-checked. At 5 s: 320,000 done, 6.8 s left at the pace it
    // now goes; the average since the start (64,000/s) would say 10.6 s.
    const meter = new ProgressMeter({ entries: 1_000_000, bytes: 0 });
    let line = '';
    for (let i = 1; i <= 50; i++) {
      const t = i / 10;
      const entries = Math.round(t <= 2 ? 10_000 * t : 20_000 + 100_000 * (t - 2));
      line = meter.line(p(entries, 0, false), t);
    }
    expect(PROGRESS_WINDOW_SECONDS).toBe(3);
    expect(line).toMatch(/^walking: 320,000 entries \(100,000\/s\), /);
    expect(line).toMatch(/, about 7 s left$/);
  });

  it('gives no estimate without totals, at the very start, past them, or while nothing moves', () => {
    expect(new ProgressMeter({ entries: 100, bytes: 100 }).line(p(10, 10), 0.1)).not.toContain('left');
    expect(new ProgressMeter({ entries: 100, bytes: 100 }).line(p(200, 200), 5)).not.toContain('left');
    expect(new ProgressMeter().line(p(50, 50), 5)).not.toContain('left');
    const stalled = new ProgressMeter({ entries: 100_000, bytes: 0 });
    stalled.line(p(50_000, 0, false), 1);
    stalled.line(p(50_000, 0, false), 5);
    expect(stalled.line(p(50_000, 0, false), 6)).toBe('walking: 50,000 entries (0/s), 0 B (0 B/s) stat-checked');
  });

  it('rounds to whole seconds, then writes minutes from 60 s on', () => {
    // 119.6 s left: 2 min 00 s, never "1 min 60 s".
    expect(new ProgressMeter({ entries: 1_000, bytes: 0 }).line(p(500, 0, false), 119.6)).toMatch(/, about 2 min 00 s left$/);
    // 59.6 s: 1 min 00 s, never "60 s".
    expect(new ProgressMeter({ entries: 1_000, bytes: 0 }).line(p(500, 0, false), 59.6)).toMatch(/, about 1 min 00 s left$/);
    expect(new ProgressMeter({ entries: 1_000, bytes: 0 }).line(p(500, 0, false), 59.4)).toMatch(/, about 59 s left$/);
  });
});
