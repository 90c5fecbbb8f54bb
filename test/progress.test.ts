/** The progress line (src/cli/common.ts): entries and bytes per second, and the time left against a snapshot's totals. */
import { describe, expect, it } from 'vitest';
import { progressLine } from '../src/cli/common.js';

const p = (entries: number, bytes: number, reading = true, reused = 0) => ({ entries, files: entries, bytes, reused, reading });

describe('progress line', () => {
  it('shows entries and bytes per second', () => {
    expect(progressLine(p(50_000, 100 * 2 ** 20), 2)).toBe('walking: 50,000 entries (25,000/s), 100 MiB (50.0 MiB/s) read');
  });

  it('estimates the time left from the totals of a snapshot of the same context', () => {
    // A quarter of the entries and of the bytes in 3 s: 9 s left.
    expect(progressLine(p(25_000, 25 * 2 ** 20), 3, { entries: 100_000, bytes: 100 * 2 ** 20 })).toMatch(/, about 9 s left$/);
    // While only attributes are checked (the stat cache), the entries tell how far it is.
    const line = progressLine(p(50_000, 90 * 2 ** 20, false), 1, { entries: 100_000, bytes: 100 * 2 ** 20 });
    expect(line).toContain('stat-checked');
    expect(line).toMatch(/, about 1 s left$/);
    expect(progressLine(p(10_000, 0, true, 9_000), 130, { entries: 20_000, bytes: 0 })).toMatch(/9,000 files unchanged \(not read\), about 2 min 10 s left$/);
  });

  it('gives no estimate without totals, at the very start, or past them', () => {
    expect(progressLine(p(10, 10), 0.1, { entries: 100, bytes: 100 })).not.toContain('left');
    expect(progressLine(p(200, 200), 5, { entries: 100, bytes: 100 })).not.toContain('left');
    expect(progressLine(p(50, 50), 5)).not.toContain('left');
  });
});
