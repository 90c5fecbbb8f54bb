/** Reporters for the insight commands (why, du, doctor), merged into the registry in index.ts. */
import type { DoctorReport } from '../analysis/doctor.js';
import type { DuReport } from '../analysis/du.js';
import { columns, count, humanSize, plural, type RenderMeta, type Style } from './format.js';
import { doc } from './json-doc.js';
import { mdCode, mdText } from './md.js';
import type { IgnoreRule } from '../ignore/matcher.js';
import type { WhyReport, WhyResult } from '../analysis/why.js';

export interface InsightReports {
  why: WhyReport;
  du: DuReport;
  doctor: DoctorReport;
}

type Renderers = { [K in keyof InsightReports]?: (report: InsightReports[K], style: Style) => string };

const ruleRef = (r: IgnoreRule) => `${r.file}:${r.line} \`${r.text.trim()}\``;

// ---------------------------------------------------------------------------------------------------------
// why
// ---------------------------------------------------------------------------------------------------------

/** One sentence: the verdict and its reason. */
function whyReason(r: WhyResult): string {
  if (r.notWalkedBelow !== null) {
    const by = r.rule ? ruleRef(r.rule) : 'a rule';
    let s = `${by} excludes ${r.notWalkedBelow}/, which the builder never enters`;
    if (r.own && !r.own.excluded && r.own.rule) s += ` (so ${ruleRef(r.own.rule)} cannot re-include it)`;
    return s;
  }
  if (!r.rule) return 'no rule matches';
  if (r.descended) return `excluded by ${ruleRef(r.rule)}; entered only because an exception may re-include something below`;
  return r.included ? `re-included by ${ruleRef(r.rule)}` : `excluded by ${ruleRef(r.rule)}`;
}

function whyText(rep: WhyReport, s: Style): string {
  const out: string[] = [];
  out.push(
    s.dim(`builder ${rep.builder}; ignore file ${rep.ignoreFile ?? 'none'}; Dockerfile ${rep.dockerfile ?? 'none'}`),
  );
  for (const r of rep.results) {
    const verdict = r.included ? s.green('sent') : s.red('not sent');
    out.push(`${s.bold(r.path)}: ${verdict} — ${whyReason(r)}`);
    if (!rep.dockerfile) continue;
    if (r.steps.length === 0) {
      out.push(`  no COPY/ADD step or bind mount of ${rep.dockerfile} takes it`);
      continue;
    }
    const head = r.included ? 'taken by' : 'covered by (but not sent)';
    for (const st of r.steps) {
      const how = st.mount !== undefined ? `bind mount ${JSON.stringify(st.mount)}` : `source ${JSON.stringify(st.source)}`;
      out.push(`  ${st.mount !== undefined ? (r.included ? 'mounted by' : 'mounted by (but not sent)') : head} line ${st.line}: ${st.text}  ${s.dim(`(stage ${st.stage}, ${how})`)}`);
    }
  }
  return out.join('\n') + '\n';
}

const ruleJson = (r: IgnoreRule | null) => (r ? { file: r.file, line: r.line, pattern: r.pattern, exception: r.exclusion } : null);

function whyJson(rep: WhyReport, _s?: Style, meta?: RenderMeta): string {
  return doc({
    builder: rep.builder,
    ignoreFile: rep.ignoreFile,
    dockerfile: rep.dockerfile,
    results: rep.results.map((r) => ({
      path: r.path,
      included: r.included,
      rule: ruleJson(r.rule),
      notWalkedBelow: r.notWalkedBelow,
      ...(r.own ? { ownRule: ruleJson(r.own.rule), ownExcluded: r.own.excluded } : {}),
      descended: r.descended,
      steps: r.steps.map((st) => ({
        line: st.line,
        instruction: st.keyword,
        stage: st.stage,
        text: st.text,
        source: st.source,
        ...(st.mount !== undefined ? { mount: st.mount } : {}),
        coverage: st.coverage,
      })),
    })),
  }, meta?.warnings);
}

function whyMarkdown(rep: WhyReport): string {
  const out = [
    `### ctxdiff why (${rep.builder})`,
    '',
    '| path | sent | reason | COPY/ADD steps |',
    '|---|---|---|---|',
    ...rep.results.map(
      (r) =>
        `| ${mdCode(r.path)} | ${r.included ? 'yes' : 'no'} | ${mdText(whyReason(r))} | ${
          r.steps.map((st) => `line ${st.line} ${mdCode(st.text)}`).join('<br>') || '—'
        } |`,
    ),
  ];
  return out.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------------------
// du
// ---------------------------------------------------------------------------------------------------------

function duText(r: DuReport, s: Style): string {
  const out: string[] = [];
  out.push(
    `${s.bold('ctxdiff du')} ${r.context}  (builder ${r.builder}; ignore file ${r.ignoreFile ?? 'none'})`,
    '',
    `sent to the builder: ${plural(r.total.files, 'file')}, ${humanSize(r.total.bytes)} (${plural(r.total.entries, 'entry', 'entries')})`,
  );
  if (r.withoutIgnore && r.saved) {
    out.push(
      `without the ignore file: ${plural(r.withoutIgnore.files, 'file')}, ${humanSize(r.withoutIgnore.bytes)}`,
      `the ignore file saves:   ${plural(r.saved.files, 'file')}, ${humanSize(r.saved.bytes)}`,
    );
  }
  const section = (title: string, rows: string[][], right: Set<number>) => {
    if (rows.length <= 1) return;
    out.push('', s.bold(title));
    out.push(columns(rows, right).trimEnd().replace(/^/gm, '  '));
  };
  section('Largest directories', [['SIZE', 'FILES', 'PATH'], ...r.largestDirectories.map((d) => [humanSize(d.bytes), count(d.files), `${d.path}/`])], new Set([0, 1]));
  section('Largest files', [['SIZE', 'PATH'], ...r.largestFiles.map((f) => [humanSize(f.bytes), f.path])], new Set([0]));
  section('By extension', [['SIZE', 'FILES', 'EXTENSION'], ...r.byExtension.map((e) => [humanSize(e.bytes), count(e.files), e.extension])], new Set([0, 1]));
  if (r.savedByRule) {
    section(
      'What each ignore rule saves',
      [['SIZE', 'FILES', 'RULE'], ...r.savedByRule.map((x) => [humanSize(x.bytes), count(x.files), `${x.file}:${x.line} ${x.text.trim()}`])],
      new Set([0, 1]),
    );
  }
  return out.join('\n') + '\n';
}

function duJson(r: DuReport, _s?: Style, meta?: RenderMeta): string {
  return doc({
    context: r.context,
    builder: r.builder,
    ignoreFile: r.ignoreFile,
    total: r.total,
    withoutIgnore: r.withoutIgnore,
    saved: r.saved,
    largestDirectories: r.largestDirectories,
    largestFiles: r.largestFiles,
    byExtension: r.byExtension,
    savedByRule: r.savedByRule?.map((x) => ({ file: x.file, line: x.line, pattern: x.pattern, files: x.files, bytes: x.bytes })) ?? null,
  }, meta?.warnings);
}

function duMarkdown(r: DuReport): string {
  const out = [
    `### Build context size (${r.builder})`,
    '',
    '| | files | size |',
    '|---|--:|--:|',
    `| sent to the builder | ${count(r.total.files)} | ${humanSize(r.total.bytes)} |`,
  ];
  if (r.withoutIgnore && r.saved) {
    out.push(`| without ${r.ignoreFile ? mdCode(r.ignoreFile) : 'an ignore file'} | ${count(r.withoutIgnore.files)} | ${humanSize(r.withoutIgnore.bytes)} |`);
    out.push(`| saved by ${r.ignoreFile ? mdCode(r.ignoreFile) : 'an ignore file'} | ${count(r.saved.files)} | ${humanSize(r.saved.bytes)} |`);
  }
  if (r.largestDirectories.length) {
    out.push('', '**Largest directories**', '', '| size | files | path |', '|--:|--:|---|');
    for (const d of r.largestDirectories) out.push(`| ${humanSize(d.bytes)} | ${count(d.files)} | ${mdCode(`${d.path}/`)} |`);
  }
  if (r.largestFiles.length) {
    out.push('', '**Largest files**', '', '| size | path |', '|--:|---|');
    for (const f of r.largestFiles) out.push(`| ${humanSize(f.bytes)} | ${mdCode(f.path)} |`);
  }
  if (r.byExtension.length) {
    out.push('', '**By extension**', '', '| size | files | extension |', '|--:|--:|---|');
    for (const e of r.byExtension) out.push(`| ${humanSize(e.bytes)} | ${count(e.files)} | ${mdCode(e.extension)} |`);
  }
  return out.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------------------
// doctor
// ---------------------------------------------------------------------------------------------------------

function doctorText(r: DoctorReport, s: Style): string {
  const out: string[] = [];
  out.push(`${s.bold('ctxdiff doctor')} ${r.context}  (builder ${r.builder}; Dockerfile ${r.dockerfile ?? 'none'}; ignore file ${r.ignoreFile ?? 'none'})`);
  if (r.findings.length === 0) {
    out.push('', s.green('no findings') + (r.suppressed?.length ? ` (${count(r.suppressed.length)} suppressed: ${[...new Set(r.suppressed.map((x) => x.id))].join(', ')})` : ''));
    return out.join('\n') + '\n';
  }
  const paint = (sev: string) => (sev === 'error' ? s.red(sev) : sev === 'warning' ? s.yellow(sev) : s.dim(sev));
  for (const f of r.findings) {
    out.push('');
    out.push(`${paint(f.severity)} ${f.location ?? f.file}${f.line !== null ? `:${f.line}` : ''} [${f.id}] ${f.message}`);
    const fix = f.fix.split('\n');
    out.push(`  fix: ${fix[0]}`);
    for (const l of fix.slice(1)) out.push(`       ${l}`);
  }
  const by = (sev: string) => r.findings.filter((f) => f.severity === sev).length;
  const suppressed = r.suppressed?.length ? `; ${count(r.suppressed.length)} suppressed (${[...new Set(r.suppressed.map((x) => x.id))].join(', ')})` : '';
  out.push('', `${plural(by('error'), 'error')}, ${plural(by('warning'), 'warning')}, ${count(by('info'))} info${suppressed}`);
  return out.join('\n') + '\n';
}

function doctorJson(r: DoctorReport, _s?: Style, meta?: RenderMeta): string {
  return doc({
    context: r.context,
    builder: r.builder,
    dockerfile: r.dockerfile,
    ignoreFile: r.ignoreFile,
    findings: r.findings.map((f) => ({
      id: f.id,
      severity: f.severity,
      file: f.file,
      line: f.line,
      message: f.message,
      fix: f.fix,
      ...(f.paths ? { paths: f.paths } : {}),
      ...(f.location !== undefined ? { location: f.location } : {}),
    })),
    suppressed: r.suppressed ?? [],
  }, meta?.warnings);
}

function doctorMarkdown(r: DoctorReport): string {
  const out = [`### ctxdiff doctor: ${r.findings.length === 0 ? 'no findings' : plural(r.findings.length, 'finding')} (${r.builder})`, ''];
  for (const f of r.findings) {
    out.push(`- **${f.severity}** ${mdCode(`${f.location ?? f.file}${f.line !== null ? `:${f.line}` : ''}`, false)} (${mdText(f.id)}): ${mdText(f.message)}`);
    if (f.fix.includes('\n')) {
      const fence = '`'.repeat(Math.max(3, ...[...f.fix.matchAll(/`+/g)].map((m) => m[0].length + 1)));
      out.push('', `  ${fence}dockerfile`, ...f.fix.split('\n').map((l) => `  ${l}`), `  ${fence}`, '');
    } else out.push(`  — fix: ${mdText(f.fix)}`);
  }
  return out.join('\n') + '\n';
}

export const insightReporters: { text: Renderers; json: Renderers; markdown: Renderers } = {
  text: { why: whyText, du: duText, doctor: doctorText },
  json: { why: whyJson, du: duJson, doctor: doctorJson },
  markdown: { why: whyMarkdown, du: duMarkdown, doctor: doctorMarkdown },
};
