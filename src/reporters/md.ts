/**
 * Markdown building blocks that keep what they are given literal: a path or an instruction containing `|`,
 * backticks, `*`, `<`… renders as written (in a table cell too), never as markup or a new column.
 */

/** Plain text: every character Markdown could take for markup is backslash-escaped (`|` too, for tables). */
export function mdText(s: string): string {
  return oneLine(s).replace(/[\\`*_[\]<>|~#]/g, (c) => `\\${c}`);
}

/**
 * A code span: fenced by one more backtick than the longest run of backticks inside (CommonMark), padded with
 * a space when it starts or ends with one. In a table cell (`table`) `|` becomes `\|`: GitHub splits cells
 * before it reads code spans, and shows `\|` in a cell as `|`.
 */
export function mdCode(s: string, table = true): string {
  let text = oneLine(s);
  if (table) text = text.replace(/\|/g, '\\|');
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  const pad = text.startsWith('`') || text.endsWith('`') || (text.startsWith(' ') && text.endsWith(' ') && text.trim() !== '') ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

/** A collapsed block: `summary` (already Markdown) and the lines under it. */
export function details(summary: string, lines: string[]): string[] {
  return ['<details>', `<summary>${summary}</summary>`, '', ...lines, '', '</details>'];
}

/** Line breaks inside one table cell or list item become spaces. */
function oneLine(s: string): string {
  return s.replace(/\r\n|[\r\n]/g, ' ');
}
