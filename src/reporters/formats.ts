/**
 * The output formats, and which command has which, in a module of their own so the CLI can offer each
 * command its formats (`--help`, `--format` choices) without loading the reporters. A test holds this table
 * to the reporters the registry really has (reporters/index.ts).
 */
export const FORMATS = ['text', 'json', 'markdown', 'sarif', 'github', 'gitlab'] as const;

export type Format = (typeof FORMATS)[number];

/** Formats per kind of report (= per command), in the order `--help` lists them. */
export const FORMATS_BY_REPORT: Readonly<Record<string, readonly Format[]>> = {
  snapshot: ['text', 'json'],
  tree: ['text', 'json', 'markdown'],
  ls: ['text', 'json'],
  diff: ['text', 'json', 'markdown', 'sarif', 'github'],
  why: ['text', 'json', 'markdown'],
  du: ['text', 'json', 'markdown'],
  doctor: ['text', 'json', 'markdown', 'sarif', 'github', 'gitlab'],
  explain: ['text', 'json', 'markdown'],
};

/** The formats a kind of report has (every format for a kind not in the table). */
export function formatsOf(kind: string): readonly Format[] {
  return FORMATS_BY_REPORT[kind] ?? FORMATS;
}
