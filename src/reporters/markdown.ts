/** Markdown reporter: for CI step summaries (e.g. GitHub's $GITHUB_STEP_SUMMARY). */
import { count, humanSize } from './format.js';
import { describeKind } from './describe.js';
import { ignoredGroups } from './diff-groups.js';
import type { DiffReport, Reporter } from './types.js';

const cell = (s: string) => s.replace(/\|/g, '\\|');

export const markdownReporter: Reporter = {
  tree: (r) => {
    const lines = [
      `### Build context checksums (${r.tree.builder})`,
      '',
      '| checksum | entries | size | path |',
      '|---|--:|--:|---|',
      ...r.nodes.map(
        (n) => `| \`${n.checksum}\` | ${n.type === 'dir' ? count(n.count) : ''} | ${humanSize(n.size)} | \`${cell(n.type === 'dir' && n.path !== '.' ? n.path + '/' : n.path)}\` |`,
      ),
    ];
    return lines.join('\n') + '\n';
  },
  diff: diffMarkdown,
};

function diffMarkdown(r: DiffReport): string {
  const res = r.result;
  const rebuilt = res.steps.filter((s) => s.verdict === 'rebuilt').length;
  const out = [
    `### ctxdiff: ${rebuilt > 0 ? `${rebuilt} of ${res.steps.length} steps rebuilt` : `all ${res.steps.length} steps cached`} (${res.builder})`,
    '',
    `\`${cell(r.before.name)}\` → \`${cell(r.after.name)}\`, ${res.dockerfile ? `Dockerfile \`${cell(res.dockerfile)}\`` : 'no Dockerfile (whole context)'}, ${count(res.changedPaths)} paths differ.`,
    '',
    '| stage | line | step | verdict | cause |',
    '|---|--:|---|---|---|',
  ];
  for (const s of res.steps) {
    const cause =
      s.cause === 'sources' ? `sources: ${s.changes.slice(0, 5).map((c) => `\`${cell(c.path)}\` ${c.kinds.map((k) => describeKind(k, c.before, c.after)).join(', ')}`).join('; ')}${s.changes.length > 5 ? `; … ${s.changes.length - 5} more` : ''}`
      : s.cause === 'none' ? ''
      : `${s.cause}${s.causeLine ? ` (line ${s.causeLine})` : ''}${s.note ? `: ${cell(s.note)}` : ''}`;
    out.push(`| ${cell(s.stage)} | ${s.line || ''} | \`${cell(s.text)}\` | ${s.verdict === 'rebuilt' ? '**rebuilt**' : s.verdict} | ${cell(cause)} |`);
  }
  const groups = ignoredGroups(r);
  if (groups.length) {
    out.push('', '**Ignored by this builder:**', '');
    for (const g of groups) out.push(`- ${count(g.count)} paths: ${g.explanation}`);
  }
  if (res.hazards.length) {
    out.push('', '**Hazards:**', '');
    for (const h of res.hazards) out.push(`- \`${cell(h.path)}\`: ${h.message}`);
  }
  return out.join('\n') + '\n';
}
