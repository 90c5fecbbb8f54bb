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
import { FORMATS, type Format } from './formats.js';
import { ciReporters } from './ci.js';
import type { RenderMeta, Reporter, Reports } from './types.js';

export type { RenderMeta, Reporter, Reports } from './types.js';
export type { Format } from './formats.js';

export const REPORTERS: Record<Format, Reporter> = {
  text: { ...textReporter, ...insightReporters.text, ...explainReporters.text },
  json: { ...jsonReporter, ...insightReporters.json, ...explainReporters.json },
  markdown: { ...markdownReporter, ...insightReporters.markdown, ...explainReporters.markdown },
  sarif: ciReporters.sarif,
  github: ciReporters.github,
  gitlab: ciReporters.gitlab,
};

export function formats(): Format[] {
  return [...FORMATS];
}

/** Render a report in a format; a format that has no renderer for this kind is a usage error. */
export function render<K extends keyof Reports>(format: string, kind: K, report: Reports[K], style: Style, meta: RenderMeta = { warnings: [] }): string {
  const reporter: Reporter | undefined = (REPORTERS as Record<string, Reporter>)[format];
  if (!reporter) throw new UsageError(`unknown format "${format}" (choose from: ${formats().join(', ')})`);
  const fn = reporter[kind];
  if (!fn) {
    const ok = formats().filter((f) => REPORTERS[f][kind]);
    throw new UsageError(`${kind} has no ${format} output (choose from: ${ok.join(', ')})`);
  }
  // Text and markdown never show a control character raw (a name with a newline or an escape sequence);
  // the machine formats (JSON, SARIF, annotations, Code Quality) carry values exactly, each encoding its own.
  return fn(format === 'text' || format === 'markdown' ? escapeReport(report) : report, style, meta);
}
