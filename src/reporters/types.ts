/** The data each command hands to a reporter. Reporters turn it into text, JSON or Markdown. */
import type { Tree, TreeNode } from '../analysis/tree.js';
import type { BuilderProfile } from '../builders/profiles.js';
import type { InsightReports } from './insights.js';
import type { ExplainView } from './explain.js';
import type { SourceKind } from '../sources/index.js';
import type { Context } from '../core/types.js';
import type { VerdictReport } from '../analysis/verdicts.js';
import type { RenderMeta, Style } from './format.js';

export type { RenderMeta } from './format.js';

export interface SnapshotReport {
  file: string;
  /** The context's metadata (its entries are only counted). */
  context: Omit<Context, 'entries'>;
  entries: number;
  files: number;
  bytes: number;
}

export interface TreeReport {
  context: Context;
  tree: Tree;
  /** The nodes to show (already limited to the requested depth). */
  nodes: TreeNode[];
  depth?: number;
  /** BuildKit's sha256 content digest per node path, with `--digest buildkit`. */
  digests?: Record<string, string>;
}

export interface LsReport {
  context: Context;
}

export interface DiffReport {
  before: { name: string; kind: SourceKind };
  after: { name: string; kind: SourceKind };
  profile: BuilderProfile;
  result: VerdictReport;
  /** Directory depth at which long path lists are grouped. */
  depth: number;
  /** List every path instead of grouping. */
  all: boolean;
  /** The Dockerfile as a path from the current directory (when the after side is a directory), for annotations. */
  dockerfilePath?: string;
}

export interface Reports extends InsightReports {
  snapshot: SnapshotReport;
  tree: TreeReport;
  ls: LsReport;
  diff: DiffReport;
  explain: ExplainView;
}

/** A format's renderers, one per kind of report it can show (reporters/index.ts maps formats to them). */
export type Reporter = { [K in keyof Reports]?: (report: Reports[K], style: Style, meta: RenderMeta) => string };
