/**
 * doctor as a CI gate: which findings a project has chosen to live with. Three ways, all by rule id (RULES):
 * `--ignore RULE` on the command line, `"ignore"` in the config file (.ctxdiff.json), and a comment
 * `# ctxdiff-ignore RULE[, RULE…]` on the line above the finding's line in the Dockerfile or the ignore file
 * (in the ignore file, a pragma with no rule line below it covers that file's findings about the file as a
 * whole). Suppressed findings are not dropped silently: the report lists them.
 */
import path from 'node:path';
import { readRegularFile } from '../core/regular-file.js';
import { UsageError } from '../core/errors.js';
import { RULES } from './doctor.js';
import type { DoctorReport, Finding } from './doctor/types.js';
import { SEVERITIES, type Severity } from './severity.js';

/** The config file's name, at the context root (or given with --config). */
export const CONFIG_FILE = '.ctxdiff.json';

export interface DoctorConfig {
  /** Rule ids whose findings are suppressed. */
  ignore?: string[];
  /** Least severity that fails with --exit-code. */
  failOn?: Severity;
  /** Builder profile id. */
  builder?: string;
  /** The Dockerfile, relative to the config file's directory. */
  file?: string;
}

export interface Suppressed {
  id: string;
  file: string;
  line: number | null;
  /** What suppressed it: `--ignore`, the config file, or the pragma's place (`Dockerfile:4`). */
  by: string;
}

const KNOWN_KEYS: Record<keyof DoctorConfig, true> = { ignore: true, failOn: true, builder: true, file: true };

/** Unknown rule ids are errors: a typo would otherwise silently suppress nothing. */
export function checkRuleIds(ids: readonly string[], where: string): void {
  const known = new Set(RULES.map((r) => r.id));
  const bad = ids.filter((id) => !known.has(id));
  if (bad.length) throw new UsageError(`${where}: unknown rule ${bad.map((b) => `"${b}"`).join(', ')} (ctxdiff doctor --list-rules lists them)`);
}

/**
 * Read a config file (`file`), or `.ctxdiff.json` in `dir` when `file` is undefined (absent: empty config).
 * Every key is checked: an unknown key, a wrong type or an unknown rule id is a one-line error.
 */
export function readConfig(file: string | undefined, dir: string | null, builderIds: readonly string[]): { config: DoctorConfig; path: string | null } {
  const p = file ?? (dir !== null ? path.join(dir, CONFIG_FILE) : null);
  if (p === null) return { config: {}, path: null };
  // Only a regular file is read (a FIFO there would hang), as for every build file.
  const bytes = readRegularFile(p, `config file ${p}`, { optional: true, maxBytes: 1 << 20 });
  if (bytes === null) {
    if (file === undefined) return { config: {}, path: null };
    throw new UsageError(`config file ${p}: not found`);
  }
  const text = bytes.toString('utf8');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`config file ${p}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new UsageError(`config file ${p}: must be a JSON object`);
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!(k in KNOWN_KEYS)) throw new UsageError(`config file ${p}: unknown key "${k}" (known: ${Object.keys(KNOWN_KEYS).join(', ')})`);
  const config: DoctorConfig = {};
  if (o.ignore !== undefined) {
    if (!Array.isArray(o.ignore) || !o.ignore.every((x) => typeof x === 'string')) throw new UsageError(`config file ${p}: "ignore" must be a list of rule ids`);
    checkRuleIds(o.ignore as string[], `config file ${p}`);
    config.ignore = o.ignore as string[];
  }
  if (o.failOn !== undefined) {
    if (!SEVERITIES.includes(o.failOn as Severity)) throw new UsageError(`config file ${p}: "failOn" must be one of ${SEVERITIES.join(', ')}`);
    config.failOn = o.failOn as Severity;
  }
  if (o.builder !== undefined) {
    if (typeof o.builder !== 'string' || !builderIds.includes(o.builder)) throw new UsageError(`config file ${p}: "builder" must be one of ${builderIds.join(', ')}`);
    config.builder = o.builder;
  }
  if (o.file !== undefined) {
    if (typeof o.file !== 'string' || o.file === '') throw new UsageError(`config file ${p}: "file" must be a path`);
    config.file = path.join(path.dirname(p), o.file);
  }
  return { config, path: p };
}

const PRAGMA = /^\s*#\s*ctxdiff-ignore\s*[:=]?\s*(.*)$/;

/**
 * The pragmas of a file: for each line a pragma covers (1-based), the rule ids and the pragma's own line.
 * A pragma covers the next line that is not itself a pragma (so several can stack above one line).
 * `wholeFile`: the ids of pragmas with no line below them but blank lines and comments (ignore files).
 */
export function pragmasOf(text: string): { byLine: Map<number, { ids: Set<string>; at: number }>; wholeFile: Map<string, number> } {
  const lines = text.split(/\r?\n/);
  const byLine = new Map<number, { ids: Set<string>; at: number }>();
  const wholeFile = new Map<string, number>();
  let pending: { ids: string[]; at: number }[] = [];
  lines.forEach((l, i) => {
    const m = PRAGMA.exec(l);
    if (m) {
      pending.push({ ids: m[1]!.split(/[\s,]+/).filter(Boolean), at: i + 1 });
      return;
    }
    if (l.trim() === '' || /^\s*#/.test(l) || pending.length === 0) return;
    const entry = byLine.get(i + 1) ?? { ids: new Set<string>(), at: pending[0]!.at };
    for (const p of pending) for (const id of p.ids) entry.ids.add(id);
    byLine.set(i + 1, entry);
    pending = [];
  });
  for (const p of pending) for (const id of p.ids) wholeFile.set(id, p.at);
  return { byLine, wholeFile };
}

export interface GateInput {
  /** Rule ids from --ignore. */
  ignore: readonly string[];
  /** Rule ids from the config file, and its path. */
  configIgnore: readonly string[];
  configPath: string | null;
  /** The texts of the files findings point into, by their `file` (Dockerfile, ignore file). */
  texts: Record<string, string | undefined>;
}

/** The report without the suppressed findings, and the list of those, each with what suppressed it. */
export function applyGate(report: DoctorReport, g: GateInput): { report: DoctorReport; suppressed: Suppressed[]; warnings: string[] } {
  const pragmas = new Map<string, ReturnType<typeof pragmasOf>>();
  const warnings: string[] = [];
  const known = new Set(RULES.map((r) => r.id));
  for (const [file, text] of Object.entries(g.texts)) {
    if (text === undefined) continue;
    const p = pragmasOf(text);
    pragmas.set(file, p);
    for (const [line, { ids }] of p.byLine) for (const id of ids) if (!known.has(id)) warnings.push(`${file}:${line - 1}: ctxdiff-ignore names an unknown rule "${id}"`);
    for (const [id, at] of p.wholeFile) if (!known.has(id)) warnings.push(`${file}:${at}: ctxdiff-ignore names an unknown rule "${id}"`);
  }
  const cli = new Set(g.ignore);
  const cfg = new Set(g.configIgnore);
  const suppressed: Suppressed[] = [];
  const kept: Finding[] = [];
  for (const f of report.findings) {
    const by = cli.has(f.id) ? '--ignore' : cfg.has(f.id) ? (g.configPath ?? CONFIG_FILE) : pragmaFor(f, pragmas.get(f.file));
    if (by === null) kept.push(f);
    else suppressed.push({ id: f.id, file: f.location ?? f.file, line: f.line, by });
  }
  return { report: { ...report, findings: kept }, suppressed, warnings };
}

function pragmaFor(f: Finding, p: ReturnType<typeof pragmasOf> | undefined): string | null {
  if (!p) return null;
  const where = f.location ?? f.file;
  if (f.line !== null) {
    const e = p.byLine.get(f.line);
    return e?.ids.has(f.id) ? `${where}:${e.at}` : null;
  }
  const at = p.wholeFile.get(f.id);
  return at !== undefined ? `${where}:${at}` : null;
}
