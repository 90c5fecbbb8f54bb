/** The output formats, in a module of their own so the CLI can list them without loading the reporters. */
export const FORMATS = ['text', 'json', 'markdown'] as const;

export type Format = (typeof FORMATS)[number];
