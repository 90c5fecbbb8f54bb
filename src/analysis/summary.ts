/**
 * Summaries of long path lists: changes grouped by directory (to a depth) and by the kinds of change, so
 * that 100,000 mtime changes read as a few lines. Shared by every reporter.
 */
import type { ChangeKind } from './diff.js';

export interface PathGroup {
  /** Directory prefix ("." for the root level), with the paths grouped under it. */
  directory: string;
  count: number;
  /** How many paths show each kind of change. */
  kinds: Partial<Record<ChangeKind, number>>;
  /** The paths themselves (canonical order). */
  paths: string[];
}

/** The directory of `path` cut to `depth` components ("." at depth 0 or for top-level entries). */
export function directoryAt(path: string, depth: number): string {
  if (depth <= 0) return '.';
  let cut = -1;
  for (let d = 0; d < depth; d++) {
    const next = path.indexOf('/', cut + 1);
    if (next < 0) break;
    cut = next;
  }
  return cut < 0 ? '.' : path.slice(0, cut);
}

/** Group items by directory at `depth` (in first-seen order, which is canonical order for sorted input). */
export function groupByDirectory<T extends { path: string; kinds: readonly ChangeKind[] }>(items: readonly T[], depth: number): PathGroup[] {
  const groups = new Map<string, PathGroup>();
  for (const it of items) {
    const dir = directoryAt(it.path, depth);
    let g = groups.get(dir);
    if (!g) groups.set(dir, (g = { directory: dir, count: 0, kinds: {}, paths: [] }));
    g.count++;
    g.paths.push(it.path);
    for (const k of it.kinds) g.kinds[k] = (g.kinds[k] ?? 0) + 1;
  }
  return [...groups.values()];
}

/** "mtime", "mode+mtime": a stable signature for a set of kinds. */
export function kindsSignature(kinds: readonly ChangeKind[]): string {
  if (kinds.length === 1) return kinds[0]!;
  return [...kinds].sort().join('+');
}
