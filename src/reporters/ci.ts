/**
 * Reports for CI systems: SARIF 2.1.0 (GitHub code scanning and other SARIF consumers) for `diff` and
 * `doctor`, GitHub workflow commands (`::warning file=…,line=…::…`, shown as annotations on the lines) for
 * both, and GitLab Code Quality JSON for `doctor`. Paths are as from the current directory (the
 * repository root in a CI job), so the annotations land on the files.
 */
import { createHash } from 'node:crypto';
import type { DoctorReport, Finding } from '../analysis/doctor.js';
import { RULES } from '../analysis/doctor.js';
import type { Severity } from '../analysis/severity.js';
import type { StepVerdict } from '../analysis/verdicts.js';
import { VERSION } from '../core/version.js';
import { plural } from './format.js';
import { causeWords } from './text.js';
import type { DiffReport, RenderMeta, Reporter } from './types.js';

const HOMEPAGE = 'https://github.com/ctxdiff/ctxdiff';
const RULES_DOC = `${HOMEPAGE}/blob/main/docs/rules.md`;

/** What a SARIF rule (and a GitHub annotation title) says about an id. */
export interface RuleInfo {
  id: string;
  title: string;
  why?: string;
  fix?: string;
  severity: Severity;
}

/** The rules of `diff` reports: one per reason a step is rebuilt, one per hazard. */
const DIFF_RULES: Record<string, RuleInfo> = {
  'rebuilt-sources': { id: 'rebuilt-sources', title: 'step rebuilt: the files it takes from the context changed', severity: 'warning' },
  'rebuilt-instruction': { id: 'rebuilt-instruction', title: 'step rebuilt: the instruction changed', severity: 'warning' },
  'rebuilt-previous-step': { id: 'rebuilt-previous-step', title: 'step rebuilt: an earlier step was rebuilt', severity: 'info' },
  'rebuilt-stage': { id: 'rebuilt-stage', title: 'step rebuilt: the stage it copies from was rebuilt', severity: 'info' },
  'hazard-same-size-and-mtime': { id: 'hazard-same-size-and-mtime', title: 'content changed with the same size and mtime: a warm BuildKit may reuse the old file', severity: 'warning' },
  'hazard-directory-mode': { id: 'hazard-directory-mode', title: 'directory mode changed: a warm BuildKit may not see it', severity: 'warning' },
  'hazard-xattrs-only': { id: 'hazard-xattrs-only', title: 'only extended attributes changed: a warm BuildKit may not see it', severity: 'warning' },
};

/** Rule metadata for doctor's findings: the registry's (analysis/doctor.ts RULES). */
const DOCTOR_RULE_BY_ID = new Map<string, RuleInfo>(RULES.map((r) => [r.id, r]));
const doctorRuleInfo = (id: string): RuleInfo | undefined => DOCTOR_RULE_BY_ID.get(id);

/** One annotation, finding or result, in the terms every CI format needs. */
interface Item {
  ruleId: string;
  severity: Severity;
  file: string | null;
  line: number | null;
  title: string;
  message: string;
}

function diffItems(r: DiffReport): Item[] {
  const file = r.dockerfilePath ?? r.result.dockerfile;
  const items: Item[] = [];
  for (const s of r.result.steps) {
    if (s.verdict !== 'rebuilt') continue;
    const rule = DIFF_RULES[`rebuilt-${s.cause}`] ?? DIFF_RULES['rebuilt-sources']!;
    items.push({ ruleId: rule.id, severity: rule.severity, file, line: s.line || null, title: `ctxdiff: ${s.text} is rebuilt`, message: stepMessage(s) });
  }
  for (const h of r.result.hazards) {
    const rule = DIFF_RULES[`hazard-${h.kind}`]!;
    items.push({ ruleId: rule.id, severity: rule.severity, file, line: h.lines[0] ?? null, title: `ctxdiff: hazard at ${h.path}`, message: `${h.path}: ${h.message}` });
  }
  return items;
}

function stepMessage(s: StepVerdict): string {
  const head = `${s.text} (line ${s.line}) is rebuilt: ${causeWords(s)}`;
  if (s.cause !== 'sources' || s.changes.length === 0) return head;
  const named = s.changes.slice(0, 10).map((c) => `${c.path} (${c.kinds.join(', ')})`);
  const more = s.changes.length - named.length;
  return `${head}: ${named.join(', ')}${more > 0 ? ` and ${plural(more, 'more path')}` : ''}`;
}

function doctorItems(r: DoctorReport): Item[] {
  return r.findings.map((f) => ({
    ruleId: f.id,
    severity: f.severity,
    file: findingFile(f),
    line: f.line,
    title: `ctxdiff doctor: ${doctorRuleInfo(f.id)?.title ?? f.id}`,
    message: `${f.message}. Fix: ${f.fix.replace(/\n/g, '\n  ')}`,
  }));
}

const findingFile = (f: Finding) => f.location ?? f.file;

// ---------------------------------------------------------------------------------------------------------
// SARIF 2.1.0
// ---------------------------------------------------------------------------------------------------------

const SARIF_LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { error: 'error', warning: 'warning', info: 'note' };

/** A relative path as a URI reference: each segment percent-encoded, `/` kept. */
export function pathUri(p: string): string {
  return p.split('/').map(encodeURIComponent).join('/');
}

function sarif(items: Item[], rules: RuleInfo[], meta: RenderMeta): string {
  const used = rules.filter((rule) => items.some((i) => i.ruleId === rule.id));
  const index = new Map(used.map((rule, i) => [rule.id, i]));
  const log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'ctxdiff',
            version: VERSION,
            semanticVersion: VERSION,
            informationUri: HOMEPAGE,
            rules: used.map((rule) => ({
              id: rule.id,
              shortDescription: { text: rule.title },
              ...(rule.why ? { fullDescription: { text: rule.why } } : {}),
              ...(rule.fix ? { help: { text: `Fix: ${rule.fix}` } } : {}),
              helpUri: `${RULES_DOC}#${rule.id}`,
              defaultConfiguration: { level: SARIF_LEVEL[rule.severity] },
            })),
          },
        },
        invocations: [
          {
            executionSuccessful: true,
            toolExecutionNotifications: meta.warnings.map((w) => ({ level: 'warning', message: { text: w } })),
          },
        ],
        results: items.map((i) => ({
          ruleId: i.ruleId,
          ...(index.has(i.ruleId) ? { ruleIndex: index.get(i.ruleId) } : {}),
          level: SARIF_LEVEL[i.severity],
          message: { text: i.message },
          locations: i.file
            ? [{ physicalLocation: { artifactLocation: { uri: pathUri(i.file) }, region: { startLine: i.line ?? 1 } } }]
            : [],
        })),
      },
    ],
  };
  return JSON.stringify(log, null, 2) + '\n';
}

function doctorRules(r: DoctorReport): RuleInfo[] {
  const ids = [...new Set(r.findings.map((f) => f.id))];
  return ids.map((id) => doctorRuleInfo(id) ?? { id, title: id, severity: r.findings.find((f) => f.id === id)!.severity });
}

// ---------------------------------------------------------------------------------------------------------
// GitHub workflow commands
// ---------------------------------------------------------------------------------------------------------

const GITHUB_COMMAND: Record<Severity, string> = { error: 'error', warning: 'warning', info: 'notice' };

/** A workflow command's message: `%`, CR and LF escaped (as @actions/core does). */
export const escapeData = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
/** A workflow command's property value: also `:` and `,`. */
export const escapeProperty = (s: string) => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

function github(items: Item[], meta: RenderMeta): string {
  const out: string[] = [];
  for (const w of meta.warnings) out.push(`::warning title=ctxdiff::${escapeData(w)}`);
  for (const i of items) {
    const props = [
      ...(i.file ? [`file=${escapeProperty(i.file)}`] : []),
      ...(i.file && i.line !== null ? [`line=${i.line}`] : []),
      `title=${escapeProperty(i.title)}`,
    ];
    out.push(`::${GITHUB_COMMAND[i.severity]} ${props.join(',')}::${escapeData(i.message)}`);
  }
  return out.length ? out.join('\n') + '\n' : '';
}

// ---------------------------------------------------------------------------------------------------------
// GitLab Code Quality
// ---------------------------------------------------------------------------------------------------------

const GITLAB_SEVERITY: Record<Severity, string> = { error: 'critical', warning: 'major', info: 'info' };

function gitlab(items: Item[]): string {
  const seen = new Map<string, number>();
  const issues = items.map((i) => {
    const base = createHash('sha256').update(`${i.ruleId}\0${i.file ?? ''}\0${i.message}`).digest('hex').slice(0, 32);
    // Two identical findings still get distinct fingerprints (GitLab keys issues by them).
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    return {
      description: i.message,
      check_name: i.ruleId,
      fingerprint: n === 0 ? base : `${base}-${n}`,
      severity: GITLAB_SEVERITY[i.severity],
      location: { path: i.file ?? '.', lines: { begin: i.line ?? 1 } },
    };
  });
  return JSON.stringify(issues, null, 2) + '\n';
}

export const ciReporters: { sarif: Reporter; github: Reporter; gitlab: Reporter } = {
  sarif: {
    diff: (r, _s, meta) => sarif(diffItems(r), Object.values(DIFF_RULES), { warnings: [...new Set([...meta.warnings, ...r.result.warnings])] }),
    doctor: (r, _s, meta) => sarif(doctorItems(r), doctorRules(r), meta),
  },
  github: {
    diff: (r, _s, meta) => github(diffItems(r), { warnings: [...new Set([...meta.warnings, ...r.result.warnings])] }),
    doctor: (r, _s, meta) => github(doctorItems(r), meta),
  },
  gitlab: {
    doctor: (r) => gitlab(doctorItems(r)),
  },
};
