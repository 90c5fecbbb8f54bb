/** Reporters for the insight commands (why, du, doctor), merged into the registry in index.ts. */
import type { Style } from '../format.js';

// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface InsightReports {}

type Renderers = { [K in keyof InsightReports]?: (report: InsightReports[K], style: Style) => string };

export const insightReporters: { text: Renderers; json: Renderers; markdown: Renderers } = {
  text: {},
  json: {},
  markdown: {},
};
