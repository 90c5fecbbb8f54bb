import { describe, expect, it } from 'vitest';
import { columns, count, humanSize, octalMode } from '../src/reporters/format.js';

describe('format', () => {
  it('count groups thousands like en-US', () => {
    for (const n of [0, 7, 999, 1000, 12345, 999999, 1000000, 1234567890, -1234, -999]) {
      expect(count(n)).toBe(n.toLocaleString('en-US'));
    }
  });

  it('humanSize is exact below 1 KiB and uses binary units above', () => {
    expect(humanSize(0)).toBe('0 B');
    expect(humanSize(1023)).toBe('1023 B');
    expect(humanSize(1024)).toBe('1.00 KiB');
    expect(humanSize(1536)).toBe('1.50 KiB');
    expect(humanSize(320 * 1024 * 1024)).toBe('320 MiB');
    expect(humanSize(2 * 1024 ** 3)).toBe('2.00 GiB');
  });

  it('octalMode keeps special bits', () => {
    expect(octalMode(0o644)).toBe('0644');
    expect(octalMode(0o4755)).toBe('4755');
  });

  it('columns aligns, right-aligns numbers, and trims trailing space', () => {
    expect(columns([['A', 'N', 'P'], ['xx', '1', 'p'], ['y', '100', 'long path']], new Set([1]))).toBe(
      'A     N  P\nxx    1  p\ny   100  long path\n',
    );
  });
});
