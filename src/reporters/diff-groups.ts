/** Grouping of a diff's ignored changes, shared by every reporter (so text, JSON and Markdown agree). */
import type { ChangeKind } from '../analysis/diff.js';
import { groupByDirectory, kindsSignature } from '../analysis/summary.js';
import { explainIgnored } from './describe.js';
import type { DiffReport } from './types.js';

export interface IgnoredGroup {
  reason: 'attributes' | 'outside';
  explanation: string;
  kinds: ChangeKind[];
  count: number;
  directories: { directory: string; count: number; paths: string[] }[];
}

/** Ignored changes grouped by reason and kinds, then by directory at the report's depth. */
export function ignoredGroups(r: DiffReport): IgnoredGroup[] {
  const byReason = new Map<string, { reason: 'attributes' | 'outside'; kinds: ChangeKind[]; items: { path: string; kinds: ChangeKind[] }[] }>();
  for (const c of r.result.ignored) {
    const key = `${c.reason}/${c.reason === 'outside' ? '' : kindsSignature(c.kinds)}`;
    let g = byReason.get(key);
    if (!g) byReason.set(key, (g = { reason: c.reason, kinds: c.reason === 'outside' ? [] : [...c.kinds].sort(), items: [] }));
    g.items.push(c);
  }
  return [...byReason.values()]
    .map((g) => ({
      reason: g.reason,
      explanation: explainIgnored({ reason: g.reason, kinds: g.kinds }, r.profile),
      kinds: g.kinds,
      count: g.items.length,
      directories: groupByDirectory(g.items, r.depth).map((d) => ({ directory: d.directory, count: d.count, paths: d.paths })),
    }))
    .sort((x, y) => y.count - x.count);
}
