/** Markdown reporter: for CI step summaries (e.g. GitHub's $GITHUB_STEP_SUMMARY). */
import { count, humanSize, plural, type Style } from './format.js';
import { describeKind, describeShift } from './describe.js';
import { ignoredGroups } from './diff-groups.js';
import { details, mdCode, mdText } from './md.js';
import type { StepChange } from '../analysis/verdicts.js';
import type { DiffReport, RenderMeta, Reporter } from './types.js';

/** Paths named in a step's table cell; the rest are in a collapsed list below the table. */
const SHOWN_IN_CELL = 5;
/** Paths listed in one collapsed list at most (the JSON report has them all). */
const LISTED = 1000;

export const markdownReporter: Reporter = {
  tree: (r) => {
    const lines = [
      `### Build context checksums (${mdText(r.tree.builder)})`,
      '',
      '| checksum | entries | size | path |',
      '|---|--:|--:|---|',
      ...r.nodes.map(
        (n) => `| \`${n.checksum}\` | ${n.type === 'dir' ? count(n.count) : ''} | ${humanSize(n.size)} | ${mdCode(n.type === 'dir' && n.path !== '.' ? n.path + '/' : n.path)} |`,
      ),
    ];
    return lines.join('\n') + '\n';
  },
  diff: diffMarkdown,
};

function changeWords(c: StepChange): string {
  let d = c.kinds.map((k) => describeKind(k, c.before, c.after)).join(', ');
  if (c.ignore) d += ` — ${describeShift(c.ignore)}`;
  return d;
}

function diffMarkdown(r: DiffReport, _s: Style, meta: RenderMeta = { warnings: [] }): string {
  const res = r.result;
  const rebuilt = res.steps.filter((s) => s.verdict === 'rebuilt').length;
  const title =
    rebuilt > 0 ? `${rebuilt} of ${plural(res.steps.length, 'step')} rebuilt` : res.steps.length === 1 ? 'the one step cached' : `all ${res.steps.length} steps cached`;
  const out = [
    `### ctxdiff: ${title} (${mdText(res.builder)})`,
    '',
    `${mdCode(r.before.name, false)} → ${mdCode(r.after.name, false)}, ${res.dockerfile ? `Dockerfile ${mdCode(res.dockerfile, false)}` : 'no Dockerfile (whole context)'}, ${plural(res.changedPaths, 'path')} ${res.changedPaths === 1 ? 'differs' : 'differ'}.`,
    '',
    '| stage | line | step | verdict | cause |',
    '|---|--:|---|---|---|',
  ];
  const long: string[] = [];
  for (const s of res.steps) {
    let cause: string;
    if ((s.cause === 'sources' || s.cause === 'mount' || s.cause === 'named-context') && s.changes.length > 0) {
      const label = (c: StepChange) => (c.context !== undefined ? `${c.context}:${c.path}` : c.path);
      const named = s.changes.slice(0, SHOWN_IN_CELL).map((c) => `${mdCode(label(c))} ${mdText(changeWords(c))}`);
      const more = s.changes.length - named.length;
      cause = `${s.cause} (${plural(s.changes.length, 'path')}): ${named.join('; ')}${more > 0 ? `; and ${plural(more, 'more path')} (listed below)` : ''}`;
      if (more > 0) {
        const listed = s.changes.slice(0, LISTED).map((c) => `- ${mdCode(label(c), false)} ${mdText(changeWords(c))}`);
        if (s.changes.length > LISTED) listed.push(`- … and ${plural(s.changes.length - LISTED, 'more path')} (the JSON report lists every path)`);
        long.push('', ...details(`line ${s.line} ${mdCode(s.text, false)}: ${plural(s.changes.length, 'changed path')}`, listed));
      }
    } else if (s.cause === 'none') cause = '';
    else cause = `${mdText(s.cause)}${s.causeLine ? ` (line ${s.causeLine})` : ''}${s.note ? `: ${mdText(s.note)}` : ''}`;
    out.push(`| ${mdText(s.stage)} | ${s.line || ''} | ${mdCode(s.text)} | ${s.verdict === 'rebuilt' ? '**rebuilt**' : s.verdict} | ${cause} |`);
  }
  if (res.notBuilt.length) out.push('', `Not built (${mdCode(`--target ${res.target ?? ''}`)}): ${res.notBuilt.map((nb) => `stage ${mdCode(nb.stage)} (line ${nb.line})`).join(', ')}.`);
  out.push(...long);
  const groups = ignoredGroups(r);
  if (groups.length) {
    out.push('', '**Ignored by this builder:**', '');
    for (const g of groups) {
      const dirs = g.directories.map((d) => (d.count === 1 && d.paths.length === 1 ? mdCode(d.paths[0]!, false) : `${mdCode(d.directory === '.' ? '(top level)' : `${d.directory}/`, false)} ${count(d.count)}`));
      if (dirs.length <= SHOWN_IN_CELL) out.push(`- ${plural(g.count, 'path')}: ${mdText(g.explanation)} (${dirs.join(', ')})`);
      else out.push(`- ${plural(g.count, 'path')}: ${mdText(g.explanation)}`, '', ...details(`in ${plural(dirs.length, 'directory', 'directories')}`, dirs.map((d) => `  - ${d}`)), '');
    }
  }
  if (res.hazards.length) {
    out.push('', '**Hazards:**', '');
    for (const h of res.hazards) out.push(`- ${mdCode(h.path, false)}: ${mdText(h.message)}`);
  }
  const warnings = [...new Set([...meta.warnings, ...res.warnings])];
  if (warnings.length) {
    out.push('', '**Warnings:**', '');
    for (const w of warnings) out.push(`- ${mdText(w)}`);
  }
  return out.join('\n') + '\n';
}
