/** Text reporter: aligned columns and human sizes for people at a terminal. */
import { columns, count, humanSize, octalMode, plural, type Style } from './format.js';
import { groupByDirectory } from '../analysis/summary.js';
import type { StepChange, StepVerdict } from '../analysis/verdicts.js';
import { describeKind, describeShift } from './describe.js';
import { ignoredGroups } from './diff-groups.js';
import type { DiffReport, Reporter } from './types.js';

export const textReporter: Reporter = {
  snapshot: (r, s) =>
    `${s.bold('snapshot')} ${r.file}: ${count(r.entries)} entries, ${count(r.files)} files, ` +
    `${humanSize(r.bytes)} (builder ${r.context.builder}, ignore file ${r.context.ignore?.file ?? 'none'})\n`,
  tree: (r) => {
    const digests = r.digests;
    const rows = r.nodes.map((n) => [
      n.checksum,
      n.type === 'dir' ? count(n.count) : '',
      humanSize(n.size),
      n.type === 'dir' && n.path !== '.' ? `${n.path}/` : n.path,
      ...(digests ? [digests[n.path] ?? ''] : []),
    ]);
    const head = ['CHECKSUM', 'ENTRIES', 'SIZE', 'PATH', ...(digests ? ['BUILDKIT DIGEST'] : [])];
    return columns([head, ...rows], new Set([1, 2]));
  },
  ls: (r) => {
    const rows = r.context.entries.map((e) => [
      e.type,
      octalMode(e.mode),
      e.type === 'file' ? humanSize(e.size) : '',
      e.type === 'symlink' ? `${e.path} -> ${e.target}` : e.type === 'dir' ? `${e.path}/` : e.path,
    ]);
    return columns([['TYPE', 'MODE', 'SIZE', 'PATH'], ...rows], new Set([2]));
  },
  diff: renderDiffText,
};

/** What changed at one path, in words (kinds, ignore-rule shift, ignored kinds, note). */
function changeLine(c: StepVerdict['changes'][number]): string {
  let d = c.kinds.map((k) => describeKind(k, c.before, c.after)).join(', ');
  if (c.ignore) d += ` — ${describeShift(c.ignore)}`;
  if (c.ignoredKinds.length > 0) d += ` (also ${c.ignoredKinds.join(', ')}: ignored)`;
  if (c.note) d += ` — ${c.note}`;
  return d;
}

/** Per-step change lines: every path with --all or when few, else grouped by directory (a group of one path names it). */
function stepChangeLines(step: StepVerdict, r: DiffReport, limit = 12): string[] {
  const lines: string[] = [];
  if (r.all || step.changes.length <= limit) {
    const label = (c: StepChange) => (c.context !== undefined ? `${c.context}:${c.path}` : c.path);
    const width = Math.max(...step.changes.map((c) => label(c).length));
    for (const c of step.changes) {
      const mount = step.cause === 'mount' && c.input !== undefined ? ` (--mount=${c.input})` : '';
      lines.push(`      ${label(c).padEnd(width)}  ${changeLine(c)}${mount}`);
    }
    return lines;
  }
  const groups = groupByDirectory(step.changes, r.depth);
  const shown = [...groups].sort((a, b) => b.count - a.count).slice(0, limit);
  const label = (g: (typeof groups)[number]) => (g.count === 1 ? g.paths[0]! : g.directory === '.' ? '(top level)' : g.directory + '/');
  const width = Math.max(...shown.map((g) => label(g).length));
  for (const g of groups) {
    if (!shown.includes(g)) continue;
    if (g.count === 1) {
      const c = step.changes.find((x) => x.path === g.paths[0])!;
      lines.push(`      ${label(g).padEnd(width)}  ${changeLine(c)}`);
      continue;
    }
    const kinds = Object.entries(g.kinds).map(([k, n]) => `${k} ${count(n!)}`).join(', ');
    lines.push(`      ${label(g).padEnd(width)}  ${plural(g.count, 'path')}: ${kinds}`);
  }
  const hidden = groups.length - shown.length;
  const more = hidden > 0 ? `${plural(hidden, 'more directory', 'more directories')}; ` : '';
  lines.push(`      (${more}--all lists every path, --depth N groups deeper)`);
  return lines;
}

function verdictWord(v: StepVerdict, s: Style): string {
  return v.verdict === 'rebuilt' ? s.red(s.bold('REBUILT')) : v.verdict === 'unknown' ? s.yellow('unknown') : s.green('cached');
}

export function causeWords(v: StepVerdict): string {
  switch (v.cause) {
    case 'sources':
      return v.verdict === 'unknown' && v.note ? v.note : `its sources changed (${plural(v.changes.length, 'path')})`;
    case 'instruction':
      return `the instruction changed${v.note ? ` (${v.note})` : ''}`;
    case 'previous-step':
      return v.verdict === 'unknown' ? `${v.note} (line ${v.causeLine})` : `an earlier step was rebuilt (line ${v.causeLine})`;
    case 'mount':
      if (v.verdict === 'unknown') return v.note ?? v.cause;
      return `a bind mount's source changed (${count(v.changes.length)} path${v.changes.length === 1 ? '' : 's'})`;
    case 'named-context': {
      const names = [...new Set(v.changes.map((c) => c.context))].join(', ');
      return `its sources in named context ${names} changed (${count(v.changes.length)} path${v.changes.length === 1 ? '' : 's'})`;
    }
    case 'build-arg':
      return v.verdict === 'unknown' ? `${v.note} (line ${v.causeLine})` : `${v.note} (line ${v.causeLine})`;
    case 'stage':
      if (v.verdict === 'unknown') return `the stage it copies from (line ${v.causeLine}): ${v.note}`;
      return `the stage it copies from changed the copied paths (line ${v.causeLine})${v.note ? `; ${v.note}` : ''}`;
    case 'remote':
    case 'unresolved':
    case 'unsupported-flag':
    case 'incomplete-snapshot':
      return v.note ?? v.cause;
    case 'none':
      return '';
  }
}

/** Causes whose step lists the changed paths that bust it. */
const CHANGE_CAUSES = new Set(['sources', 'mount', 'named-context']);

function renderDiffText(r: DiffReport, s: Style): string {
  const res = r.result;
  const out: string[] = [];
  out.push(
    `${s.bold('ctxdiff diff')} ${r.before.name} → ${r.after.name}  (builder ${res.builder}; ` +
      `${res.dockerfile ? `Dockerfile ${res.dockerfile}` : 'no Dockerfile: the whole context as COPY . /'}; ${plural(res.changedPaths, 'path')} ${res.changedPaths === 1 ? 'differs' : 'differ'})`,
  );
  out.push('');
  // One table for all steps (aligned across stages), with change lines and stage headings between rows.
  const cells = res.steps.map((step) => [
    `  ${step.line ? `line ${step.line}` : ''}`,
    step.text.length > 60 ? step.text.slice(0, 57) + '...' : step.text,
  ]);
  const w0 = Math.max(0, ...cells.map((c) => c[0]!.length));
  const w1 = Math.max(0, ...cells.map((c) => c[1]!.length));
  let stage: number | null = null;
  res.steps.forEach((step, i) => {
    if (step.stageIndex !== stage) {
      stage = step.stageIndex;
      if (res.dockerfile) out.push(s.bold(`stage ${step.stage}`) + s.dim(` (FROM ${step.base})`));
    }
    const [c0, c1] = cells[i]!;
    out.push(`${c0!.padEnd(w0)}  ${c1!.padEnd(w1)}  ${verdictWord(step, s)}  ${causeWords(step)}`.trimEnd());
    if (step.changes.length > 0 && CHANGE_CAUSES.has(step.cause)) out.push(...stepChangeLines(step, r));
  });
  for (const nb of res.notBuilt) out.push(s.bold(`stage ${nb.stage}`) + s.dim(` (line ${nb.line}): not built (--target ${res.target})`));
  const groups = ignoredGroups(r);
  if (groups.length > 0) {
    out.push('');
    out.push(s.bold('Changes this builder ignores (no step affected):'));
    for (const g of groups) {
      const dirs = g.directories
        .slice(0, r.all ? undefined : 6)
        .map((d) => (d.count === 1 ? d.paths[0]! : `${d.directory === '.' ? '(top level)' : d.directory + '/'} ${count(d.count)}`))
        .join(', ');
      const more = !r.all && g.directories.length > 6 ? `, … ${plural(g.directories.length - 6, 'more directory', 'more directories')}` : '';
      out.push(`  ${count(g.count).padStart(7)} path${g.count === 1 ? ' ' : 's'}  ${g.explanation}  [${dirs}${more}]`);
      if (r.all) for (const d of g.directories) for (const p of d.paths) out.push(`      ${p}`);
    }
  }
  if (res.hazards.length > 0) {
    out.push('');
    out.push(s.bold(s.yellow('Hazards (changes the builder may not see, stale results):')));
    for (const h of res.hazards) out.push(`  ${h.path}: ${h.message} (steps at line ${h.lines.join(', ')})`);
  }
  for (const w of res.warnings) out.push(`note: ${w}`);
  const rebuilt = res.steps.filter((x) => x.verdict === 'rebuilt').length;
  const unknown = res.steps.filter((x) => x.verdict === 'unknown').length;
  out.push('');
  out.push(
    `${rebuilt > 0 ? s.red(`${rebuilt} of ${plural(res.steps.length, 'step')} rebuilt`) : s.green(res.steps.length === 1 ? 'the one step cached' : `all ${res.steps.length} steps cached`)}` +
      `${unknown ? `, ${unknown} not judged` : ''}; ${plural(res.changedPaths, 'path')} changed${res.changedPaths > 0 ? `, ${count(res.ignored.length)} of ${res.changedPaths === 1 ? 'it' : 'them'} ignored by ${res.builder}` : ''}.`,
  );
  return out.join('\n') + '\n';
}
