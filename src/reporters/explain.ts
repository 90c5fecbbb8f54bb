/** Reporters for `explain` (a real build held against the prediction), merged into the registry in index.ts. */
import type { ExplainedStep, ExplainReport } from '../analysis/explain.js';
import type { SourceKind } from '../sources/index.js';
import { describeKind } from './describe.js';
import { count, type Style } from './format.js';

export interface ExplainView {
  /** The explained build's log, and the earlier build's when given. */
  log: string;
  earlierLog?: string;
  /** The contexts the prediction compares, when there is one. */
  since?: { name: string; kind: SourceKind };
  context?: { name: string; kind: SourceKind };
  result: ExplainReport;
}

const SCHEMA_VERSION = 1;
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

const VERDICT_LABEL: Record<ExplainedStep['verdict'], string> = {
  agree: 'agree',
  'unexpected-rebuild': 'REBUILT, predicted cached',
  'unexpected-hit': 'CACHED, predicted rebuilt',
  unpredicted: 'no prediction',
  unknown: 'unknown',
  failed: 'failed',
  'not-in-log': 'not in log',
};

function summary(r: ExplainReport) {
  const n = (v: ExplainedStep['verdict']) => r.steps.filter((s) => s.verdict === v).length;
  return {
    steps: r.steps.length,
    agree: n('agree'),
    unexpectedRebuild: n('unexpected-rebuild'),
    unexpectedHit: n('unexpected-hit'),
    unpredicted: n('unpredicted'),
    unknown: n('unknown'),
    failed: n('failed'),
    notInLog: n('not-in-log'),
    unplaced: r.unplaced.length,
    disagreements: r.disagreements,
  };
}

/** The changes that explain an agreeing rebuild, as `diff` names them. */
function changesText(s: ExplainedStep, quote: (p: string) => string): string {
  if (s.changes.length === 0) return '';
  const shown = s.changes.slice(0, 5).map((c) => `${quote(c.path)} ${c.kinds.map((k) => describeKind(k, c.before, c.after)).join(', ')}`);
  return `${shown.join('; ')}${s.changes.length > 5 ? `; … ${s.changes.length - 5} more` : ''}`;
}

function headline(r: ExplainReport): string {
  const s = summary(r);
  if (!r.predicted) return `${count(s.steps)} steps (no prediction: no earlier context given)`;
  if (r.disagreements === 0) return `the build and the prediction agree on all ${count(s.agree)} steps it shows`;
  const parts = [];
  if (s.unexpectedRebuild) parts.push(`${count(s.unexpectedRebuild)} rebuilt that ctxdiff predicted cached`);
  if (s.unexpectedHit) parts.push(`${count(s.unexpectedHit)} cached that ctxdiff predicted rebuilt`);
  return `the build and the prediction disagree: ${parts.join(', ')}`;
}

function explainText(v: ExplainView, st: Style): string {
  const r = v.result;
  const out: string[] = [];
  const against = v.since && v.context ? `; prediction ${v.since.name} → ${v.context.name}` : '';
  out.push(st.dim(`log ${v.log} (${r.format})${v.earlierLog ? `, earlier ${v.earlierLog} (${r.earlierFormat})` : ''}; builder ${r.builder}; Dockerfile ${r.dockerfile ?? 'none'}${against}`));
  // Evidence quoted under Findings is not repeated under every step it explains; a step that follows
  // another line's cause shows only its own log line.
  const key = (e: { log?: string; line: number; text: string }) => `${e.log ?? ''}:${e.line}:${e.text}`;
  const quoted = new Set(r.findings.flatMap((f) => f.evidence.map(key)));
  for (const s of r.steps) {
    const actual = s.actual === 'rebuilt' ? st.red('rebuilt') : s.actual === 'cached' ? st.green('cached') : s.actual;
    const verdict =
      s.verdict === 'agree' ? st.green('agree') : s.verdict === 'unexpected-rebuild' || s.verdict === 'unexpected-hit' ? st.bold(st.yellow(VERDICT_LABEL[s.verdict])) : st.dim(VERDICT_LABEL[s.verdict]);
    out.push(`line ${s.line} ${st.dim(`[${s.stage}]`)} ${s.text}`);
    out.push(`  builder: ${actual}; predicted: ${s.predicted}; ${verdict}${s.message ? ` — ${s.message}` : ''}`);
    const changes = changesText(s, (p) => p);
    if (changes && s.actual === 'rebuilt') out.push(`    ${changes}`);
    if (s.verdict !== 'agree' && s.verdict !== 'not-in-log') {
      const own = s.causeLine !== undefined ? s.evidence.slice(0, 1) : s.evidence.filter((e) => !quoted.has(key(e)));
      for (const e of own.slice(0, 4)) out.push(st.dim(`    ${e.log === 'earlier' ? 'earlier log' : 'log'} line ${e.line}: ${e.text}`));
    }
  }
  if (r.findings.length) {
    out.push('', st.bold('Findings:'));
    for (const f of r.findings) {
      out.push(`  ${f.message}`);
      for (const e of f.evidence.slice(0, 6)) out.push(st.dim(`    ${e.log === 'earlier' ? 'earlier log' : 'log'} line ${e.line}: ${e.text}`));
    }
  }
  if (r.unplaced.length) {
    out.push('', st.bold('Log steps not placed on a Dockerfile line:'));
    for (const u of r.unplaced) out.push(`  ${u.log === 'earlier' ? 'earlier log' : 'log'} line ${u.line}: ${u.text}`);
  }
  for (const w of r.warnings) out.push(st.yellow(`warning: ${w}`));
  out.push('', headline(r));
  return out.join('\n') + '\n';
}

const logLineJson = (l: { line: number; text: string; log?: 'earlier' }) => ({ line: l.line, text: l.text, ...(l.log ? { log: l.log } : {}) });

function explainJson(v: ExplainView, _s?: unknown, meta?: { warnings: string[] }): string {
  const r = v.result;
  return (
    JSON.stringify(
      {
        schemaVersion: SCHEMA_VERSION,
        log: { file: v.log, format: r.format },
        earlierLog: v.earlierLog ? { file: v.earlierLog, format: r.earlierFormat } : null,
        since: v.since ? { source: v.since.name, kind: v.since.kind } : null,
        context: v.context ? { source: v.context.name, kind: v.context.kind } : null,
        builder: r.builder,
        dockerfile: r.dockerfile,
        predicted: r.predicted,
        summary: summary(r),
        steps: r.steps.map((s) => ({
          stage: s.stage,
          line: s.line,
          instruction: s.instruction,
          text: s.text,
          actual: s.actual,
          logLine: s.logged?.line ?? null,
          printed: s.logged?.text ?? null,
          predicted: s.predicted,
          ...(s.predictedCause !== undefined ? { predictedCause: s.predictedCause } : {}),
          verdict: s.verdict,
          cause: s.cause,
          ...(s.causeLine !== undefined ? { causeLine: s.causeLine } : {}),
          message: s.message,
          evidence: s.evidence.map(logLineJson),
          changes: s.changes.map((c) => ({ path: c.path, kinds: c.kinds })),
        })),
        findings: r.findings.map((f) => ({ ...f, evidence: f.evidence.map(logLineJson) })),
        unplaced: r.unplaced,
        // Every warning of the run: the explanation's own and those printed on stderr.
        warnings: [...new Set([...r.warnings, ...(meta?.warnings ?? [])])],
      },
      null,
      2,
    ) + '\n'
  );
}

function explainMarkdown(v: ExplainView): string {
  const r = v.result;
  const out = [
    `### ctxdiff explain: ${headline(r)} (${r.builder})`,
    '',
    `Log \`${cell(v.log)}\` (${r.format})${v.earlierLog ? `, earlier \`${cell(v.earlierLog)}\`` : ''}${v.since && v.context ? `; prediction \`${cell(v.since.name)}\` → \`${cell(v.context.name)}\`` : ''}.`,
    '',
    '| stage | line | step | builder | predicted | verdict | why |',
    '|---|--:|---|---|---|---|---|',
  ];
  for (const s of r.steps) {
    const strong = s.verdict === 'unexpected-rebuild' || s.verdict === 'unexpected-hit';
    const changes = s.actual === 'rebuilt' ? changesText(s, (p) => `\`${cell(p)}\``) : '';
    const why = [s.message, changes].filter(Boolean).join(': ');
    out.push(
      `| ${cell(s.stage)} | ${s.line} | \`${cell(s.text)}\` | ${s.actual} | ${s.predicted} | ${strong ? `**${VERDICT_LABEL[s.verdict]}**` : VERDICT_LABEL[s.verdict]} | ${cell(why)} |`,
    );
  }
  if (r.findings.length) {
    out.push('', '**Findings:**', '');
    for (const f of r.findings) {
      out.push(`- ${cell(f.message)}`);
      for (const e of f.evidence.slice(0, 6)) out.push(`  - ${e.log === 'earlier' ? 'earlier log' : 'log'} line ${e.line}: \`${cell(e.text)}\``);
    }
  }
  if (r.unplaced.length) {
    out.push('', '**Log steps not placed on a Dockerfile line:**', '');
    for (const u of r.unplaced) out.push(`- ${u.log === 'earlier' ? 'earlier log' : 'log'} line ${u.line}: \`${cell(u.text)}\``);
  }
  return out.join('\n') + '\n';
}

export const explainReporters = {
  text: { explain: explainText },
  json: { explain: explainJson },
  markdown: { explain: explainMarkdown },
};
