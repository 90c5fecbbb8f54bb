/** Small formatting helpers shared by the text reporters. */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** 1536 → "1.5 KiB"; below 1 KiB exact bytes. */
export function humanSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${UNITS[u]}`;
}

/** 1234567 → "1,234,567" (by hand: toLocaleString would start up ICU, ~10 ms). */
export function count(n: number): string {
  const s = String(Math.trunc(Math.abs(n)));
  let out = '';
  for (let i = s.length; i > 0; i -= 3) out = s.slice(Math.max(0, i - 3), i) + (out ? ',' + out : '');
  return (n < 0 ? '-' : '') + out;
}

/** Permission bits as 4 octal digits: 0o644 → "0644", 0o4755 → "4755". */
export function octalMode(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}

/** Render rows as aligned columns; `right` marks right-aligned column indexes. */
export function columns(rows: string[][], right: ReadonlySet<number> = new Set()): string {
  if (rows.length === 0) return '';
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 && !right.has(i) ? c : right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n') + '\n';
}

/** What every renderer may show besides its report: the warnings the run printed on stderr. */
export interface RenderMeta {
  warnings: string[];
}

export interface Style {
  bold(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  dim(s: string): string;
}

const plain: Style = { bold: (s) => s, red: (s) => s, green: (s) => s, yellow: (s) => s, dim: (s) => s };
const sgr = (code: number) => (s: string) => `\x1b[${code}m${s}\x1b[0m`;
const ansi: Style = { bold: sgr(1), red: sgr(31), green: sgr(32), yellow: sgr(33), dim: sgr(2) };

/**
 * Colour for a terminal, or as the environment forces it: FORCE_COLOR (https://force-color.org) set to
 * anything but `0`/`false` colours even a pipe, `0`/`false` never; else NO_COLOR set and not empty
 * (https://no-color.org) never colours. FORCE_COLOR comes first, as in Node itself.
 */
export function styleFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): Style {
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force === '0' || force.toLowerCase() === 'false' ? plain : ansi;
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
  return stream.isTTY && !noColor ? ansi : plain;
}

/** "1 path", "2 paths", "1 entry", "3 entries" (the count with thousands separators). */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${count(n)} ${n === 1 ? word : many}`;
}
