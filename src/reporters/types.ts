/** The data each command hands to a reporter. Reporters turn it into text, JSON or Markdown. */
import type { Tree, TreeNode } from '../tree.js';
import type { Context } from '../types.js';

export interface SnapshotReport {
  file: string;
  context: Context;
  files: number;
  bytes: number;
}

export interface TreeReport {
  context: Context;
  tree: Tree;
  /** The nodes to show (already limited to the requested depth). */
  nodes: TreeNode[];
  depth?: number;
}

export interface LsReport {
  context: Context;
}

export interface Reports {
  snapshot: SnapshotReport;
  tree: TreeReport;
  ls: LsReport;
}
