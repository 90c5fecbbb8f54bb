/**
 * The reporter registry: one place that maps an output format to the functions that render each kind of
 * report. Commands never switch on formats themselves.
 */
import { UsageError } from '../core/errors.js';
import { escapeReport } from './escape.js';
import type { Style } from './format.js';
import { insightReporters } from './insights.js';
import { explainReporters } from './explain.js';
import { jsonReporter } from './json.js';
import { markdownReporter } from './markdown.js';
import { textReporter } from './text.js';
import { FORMATS, formatsOf, type Format } from './formats.js';
import type { RenderMeta, Reporter, Reports } from './types.js';

export type { RenderMeta, Reporter, Reports } from './types.js';
export type { Format } from './formats.js';

/** The reporters loaded with this module. */
const READY: Partial<Record<Format, Reporter>> = {
  text: { ...textReporter, ...insightReporters.text, ...explainReporters.text },
  json: { ...jsonReporter, ...insightReporters.json, ...explainReporters.json },
  markdown: { ...markdownReporter, ...insightReporters.markdown, ...explainReporters.markdown },
};

/**
 * The reporter of a format, or undefined for a format there is none of. The other formats' reporters, the CI
 * ones (SARIF, workflow annotations, Code Quality), load when one is asked for: they bring doctor's rule
 * registry (its rules and what they import), which no other format needs.
 */
export async function reporterOf(format: string): Promise<Reporter | undefined> {
  if (Object.hasOwn(READY, format)) return READY[format as Format];
  if (!(FORMATS as readonly string[]).includes(format)) return undefined;
  const { ciReporters } = await import('./ci.js');
  return ciReporters[format as keyof typeof ciReporters];
}

/** Every format's reporter. */
export async function allReporters(): Promise<Record<Format, Reporter>> {
  const all = await Promise.all(FORMATS.map(async (f) => [f, (await reporterOf(f))!] as const));
  return Object.fromEntries(all) as Record<Format, Reporter>;
}

export function formats(): Format[] {
  return [...FORMATS];
}

/** Render a report in a format; a format that has no renderer for this kind is a usage error. */
export async function render<K extends keyof Reports>(format: string, kind: K, report: Reports[K], style: Style, meta: RenderMeta = { warnings: [] }): Promise<string> {
  const reporter = await reporterOf(format);
  if (!reporter) throw new UsageError(`unknown format "${format}" (choose from: ${formats().join(', ')})`);
  const fn = reporter[kind];
  if (!fn) throw new UsageError(`${kind} has no ${format} output (choose from: ${formatsOf(kind).join(', ')})`);
  // Text and markdown never show a control character raw (a name with a newline or an escape sequence);
  // the machine formats (JSON, SARIF, annotations, Code Quality) carry values exactly, each encoding its own.
  return fn(format === 'text' || format === 'markdown' ? escapeReport(report) : report, style, meta);
}
