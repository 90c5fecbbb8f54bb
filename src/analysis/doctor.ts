/**
 * `ctxdiff doctor`: cache-busting risks in a build context and its Dockerfile, each with severity, place and a
 * concrete fix. Every check reads the Dockerfile model (never regexes over the raw file), the entries the
 * builder receives, and, for a directory, the whole tree on disk. What counts as volatile, as a secret or as
 * a dependency install is data (the tables below), not code.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isCopy, type CopyInstruction, type DockerfileModel, type Instruction, type Stage } from '../dockerfile/model.js';
import { walkAll, type DiskEntry } from './du.js';
import { IoError } from '../core/errors.js';
import { createIgnoreMatcher, type IgnoreMatcher, type IgnoreRule } from '../ignore/matcher.js';
import { locateIgnoreFile } from '../ignore/ignore-file.js';
import { defaultProfile, PROFILES, type BuilderProfile } from '../builders/profiles.js';
import type { Entry, IgnoreFileInfo } from '../core/types.js';
import { walkContext } from '../context/walk.js';
import { matcherFor, readModel, stepsCovering, type CoveringStep } from './why.js';

import { atLeast, SEVERITIES, type Severity } from './severity.js';

export { atLeast, SEVERITIES, type Severity };

export interface Finding {
  id: string;
  severity: Severity;
  /** The file the finding is about (Dockerfile or ignore file), relative to the context root. */
  file: string;
  /** 1-based line in that file, or null when the finding is about the file as a whole. */
  line: number | null;
  message: string;
  /** What to change: a sentence, or the lines to write (several lines joined with '\n'). */
  fix: string;
  /** Context paths the finding is about. */
  paths?: string[];
}

export interface DoctorReport {
  context: string;
  builder: string;
  dockerfile: string | null;
  ignoreFile: string | null;
  findings: Finding[];
}

/** Everything the checks read. Only `entries` is required; a check whose input is missing is skipped. */
export interface DoctorInput {
  context: string;
  profile: BuilderProfile;
  /** What the builder receives. */
  entries: readonly Entry[];
  ignore: IgnoreFileInfo | null;
  matcher: IgnoreMatcher | null;
  dockerfile: DockerfileModel | null;
  /** The whole directory (see walkAll), when the context is a directory. */
  disk?: readonly DiskEntry[] | null;
  /** The ignore file each builder profile would use for this context and Dockerfile (null: none). */
  ignoreByBuilder?: Record<string, string | null>;
  /** Ignore-file candidates of the chosen profile that exist, in the order the builder tries them. */
  ignoreCandidates?: string[];
  /** First bytes (up to 512) of a context file, or null when it cannot be read. */
  readHead?: (p: string) => Uint8Array | null;
}

// ---------------------------------------------------------------------------------------------------------
// Volatile, tool and secret paths
// ---------------------------------------------------------------------------------------------------------

interface PathKind {
  id: string;
  /** Severity when a COPY/ADD takes the path; one step lower when it is only sent. */
  severity: Severity;
  dirs?: string[];
  files?: RegExp;
  what: string;
  /** Suggest exact paths instead of `**` patterns (secrets: exclude precisely what was found). */
  exact?: boolean;
  /** Only where a project manifest sits beside the path (so `internal/build/` in a Go module is not taken for output). */
  besideManifest?: boolean;
}

/** Files that mark the root of a project whose build writes `dist/`, `build/`, `target/`, … beside them. */
const PROJECT_MANIFESTS = ['package.json', 'Cargo.toml', 'pom.xml', 'build.gradle', 'build.gradle.kts', 'pyproject.toml', 'setup.py', 'go.mod'];

const PATH_KINDS: readonly PathKind[] = [
  { id: 'vcs-metadata-in-context', severity: 'warning', dirs: ['.git', '.hg', '.svn'], what: 'version-control metadata changes with every commit, fetch and checkout' },
  { id: 'dependencies-in-context', severity: 'warning', dirs: ['node_modules', 'bower_components', '.venv', 'venv'], what: 'installed dependencies differ between machines and are reinstalled in the image anyway' },
  {
    id: 'cache-in-context',
    severity: 'warning',
    dirs: ['__pycache__', '.pytest_cache', '.mypy_cache', '.ruff_cache', '.tox', '.cache', '.gradle', '.parcel-cache', '.turbo'],
    files: /\.py[co]$/,
    what: 'tool caches are rewritten by every local run',
  },
  { id: 'coverage-in-context', severity: 'warning', dirs: ['coverage', '.nyc_output', 'htmlcov'], files: /^\.coverage$/, what: 'coverage reports are rewritten by every test run' },
  { id: 'logs-in-context', severity: 'warning', files: /\.log$/, what: 'log files grow with every run' },
  {
    id: 'build-output-in-context',
    severity: 'info',
    dirs: ['dist', 'build', '.next', 'target', 'out'],
    besideManifest: true,
    what: 'build outputs change with every local build (ignore them unless the Dockerfile copies them on purpose)',
  },
  {
    id: 'secret-in-context',
    severity: 'error',
    files: /^(\.env(\.(?!(example|sample|template|dist)$)[^/]+)?|.*\.pem|.*\.key|id_(rsa|dsa|ecdsa|ed25519)|\.npmrc|\.pypirc|\.netrc)$/,
    what: 'secrets sent to the builder can end up in an image layer, and changing them rebuilds the step',
    exact: true,
  },
];

const LOWER: Record<Severity, Severity> = { error: 'warning', warning: 'info', info: 'info' };

function kindOf(e: Entry, sent: ReadonlySet<string>): PathKind | undefined {
  const slash = e.path.lastIndexOf('/');
  const base = e.path.slice(slash + 1);
  const parent = slash < 0 ? '' : e.path.slice(0, slash + 1);
  return PATH_KINDS.find(
    (k) =>
      (e.type === 'dir' ? k.dirs?.includes(base) : k.files?.test(base)) &&
      (!k.besideManifest || PROJECT_MANIFESTS.some((m) => sent.has(parent + m))),
  );
}

/** A COPY names the path (or something inside it) on purpose, e.g. `COPY dist /app`. */
const deliberate = (steps: CoveringStep[], p: string, model: DockerfileModel | null): boolean =>
  steps.length > 0 &&
  steps.every((st) => {
    const ins = model?.instructions.find((i) => i.line === st.line);
    const src = ins && isCopy(ins) ? ins.sources.find((s) => s.raw === st.source) : undefined;
    return src !== undefined && src.path !== '.' && (src.path === p || src.path.startsWith(p + '/') || st.coverage === 'self');
  });

function suggestPattern(kind: PathKind, p: string, isDir: boolean): string {
  if (kind.exact) return p;
  const base = p.slice(p.lastIndexOf('/') + 1);
  if (isDir) return p.includes('/') ? `**/${base}` : base;
  const ext = base.slice(base.lastIndexOf('.'));
  return base.startsWith('.') && !base.slice(1).includes('.') ? `**/${base}` : `**/*${ext}`;
}

function checkPaths(input: DoctorInput, ignoreName: string): Finding[] {
  const groups = new Map<PathKind, { paths: string[]; patterns: Set<string>; steps: CoveringStep[] }>();
  let skipBelow: string | null = null;
  const sent = new Set(input.entries.map((e) => e.path));
  for (const e of input.entries) {
    if (skipBelow !== null && e.path.startsWith(skipBelow)) continue;
    const kind = kindOf(e, sent);
    if (!kind) continue;
    if (e.type === 'dir') skipBelow = e.path + '/';
    const steps = stepsCovering(input.dockerfile, e.path);
    if (deliberate(steps, e.path, input.dockerfile)) continue;
    let g = groups.get(kind);
    if (!g) groups.set(kind, (g = { paths: [], patterns: new Set(), steps: [] }));
    g.paths.push(e.path);
    g.patterns.add(suggestPattern(kind, e.path, e.type === 'dir'));
    for (const st of steps) if (!g.steps.some((x) => x.line === st.line)) g.steps.push(st);
  }
  const out: Finding[] = [];
  for (const [kind, g] of groups) {
    const taken = g.steps.length > 0;
    const shown = g.paths.slice(0, 5).map((p) => (input.entries.find((e) => e.path === p)?.type === 'dir' ? `${p}/` : p));
    const more = g.paths.length > 5 ? ` and ${g.paths.length - 5} more` : '';
    const first = g.steps.sort((a, b) => a.line - b.line)[0];
    out.push({
      id: kind.id,
      severity: taken ? kind.severity : LOWER[kind.severity],
      file: taken ? input.dockerfile!.file : ignoreName,
      line: taken ? first!.line : null,
      message:
        `${shown.join(', ')}${more} ${g.paths.length === 1 ? 'is' : 'are'} sent to the builder` +
        (taken ? ` and taken by \`${first!.text}\` (line ${first!.line})` : ' (no COPY/ADD takes it: it only slows the context transfer)') +
        `: ${kind.what}`,
      fix: [`add to ${ignoreName}:`, ...g.patterns].join('\n'),
      paths: g.paths,
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Broad COPY before a dependency install
// ---------------------------------------------------------------------------------------------------------

interface Ecosystem {
  name: string;
  install: RegExp;
  /** Manifest and lock files, relative to the copied directory. */
  manifests: string[];
  /**
   * For a step that needs the sources too (`go build`): the command that fetches the dependencies from the
   * manifests alone. The fix runs it before the broad COPY and keeps the step after it; no finding when the
   * stage already runs it before the step.
   */
  prefetch?: { command: string; test: RegExp };
}

const ECOSYSTEMS: readonly Ecosystem[] = [
  { name: 'npm', install: /\bnpm\s+(ci|install|i)\b/, manifests: ['package.json', 'package-lock.json', 'npm-shrinkwrap.json'] },
  { name: 'yarn', install: /\byarn(\s+install)?\s*($|&&|;|\||\s-)/, manifests: ['package.json', 'yarn.lock', '.yarnrc.yml'] },
  { name: 'pnpm', install: /\bpnpm\s+(install|i)\b/, manifests: ['package.json', 'pnpm-lock.yaml', 'pnpm-workspace.yaml'] },
  { name: 'pip', install: /\bpip3?\s+install\b.*\s(-r|--requirement)[\s=]+(?<file>[^\s;&|]+)/, manifests: [] },
  { name: 'pip', install: /\bpip3?\s+install\b.*\s(-e\s+)?\.(\s|$)/, manifests: ['pyproject.toml', 'setup.py', 'setup.cfg'] },
  { name: 'poetry', install: /\bpoetry\s+install\b/, manifests: ['pyproject.toml', 'poetry.lock'] },
  { name: 'pipenv', install: /\bpipenv\s+(install|sync)\b/, manifests: ['Pipfile', 'Pipfile.lock'] },
  { name: 'uv', install: /\buv\s+sync\b/, manifests: ['pyproject.toml', 'uv.lock'] },
  { name: 'go', install: /\bgo\s+mod\s+download\b/, manifests: ['go.mod', 'go.sum'] },
  {
    name: 'go',
    install: /\bgo\s+(build|install|test|vet)\b/,
    manifests: ['go.mod', 'go.sum'],
    prefetch: { command: 'go mod download', test: /\bgo\s+mod\s+download\b/ },
  },
  { name: 'bundler', install: /\bbundle\s+install\b/, manifests: ['Gemfile', 'Gemfile.lock'] },
  { name: 'composer', install: /\bcomposer\s+install\b/, manifests: ['composer.json', 'composer.lock'] },
  { name: 'cargo', install: /\bcargo\s+fetch\b/, manifests: ['Cargo.toml', 'Cargo.lock'] },
];

/** The command a RUN executes, as one string (shell form: as written; exec form: arguments joined). */
const runCommand = (ins: Instruction): string => ins.args.join(' ');

/** Instructions that only set metadata the install may need: they stay above it in the reordered lines. */
const METADATA = new Set(['ENV', 'ARG', 'WORKDIR', 'USER', 'SHELL', 'LABEL']);

interface Install {
  eco: Ecosystem;
  manifests: string[];
  /** The matched part of the command, for messages. */
  command: string;
}

function installOf(ins: Instruction): Install | null {
  if (ins.keyword !== 'RUN') return null;
  const command = runCommand(ins);
  for (const eco of ECOSYSTEMS) {
    const m = eco.install.exec(command);
    if (!m) continue;
    const file = m.groups?.file;
    return { eco, manifests: file ? [path.posix.normalize(file)] : eco.manifests, command: m[0].trim() };
  }
  return null;
}

/** `--chown=node:node --link`: a COPY's flags as written, without `--exclude` (the manifests need none). */
function flagsText(ins: CopyInstruction): string {
  const parts: string[] = [];
  for (const [name, values] of Object.entries(ins.flags)) {
    if (name === 'exclude') continue;
    for (const v of values) parts.push(v === 'true' && (name === 'link' || name === 'parents') ? `--${name}` : `--${name}=${v}`);
  }
  return parts.length ? parts.join(' ') + ' ' : '';
}

function checkInstallOrder(input: DoctorInput): Finding[] {
  const model = input.dockerfile;
  if (!model) return [];
  const sentFiles = new Set(input.entries.filter((e) => e.type === 'file').map((e) => e.path));
  const out: Finding[] = [];
  for (const stage of model.stages) {
    const list = stage.instructions;
    const reported = new Set<number>();
    for (let j = 0; j < list.length; j++) {
      const install = installOf(list[j]!);
      if (!install) continue;
      const prefetch = install.eco.prefetch;
      if (prefetch && list.slice(0, j).some((x) => x.keyword === 'RUN' && prefetch.test.test(runCommand(x)))) continue;
      for (let i = 0; i < j; i++) {
        const copy = list[i]!;
        if (!isCopy(copy) || copy.from !== undefined || reported.has(i)) continue;
        const hit = broadSource(copy, install.manifests, sentFiles);
        if (!hit) continue;
        reported.add(i);
        out.push(installFinding(model.file, stage, copy, i, j, hit.manifests, install));
        break;
      }
    }
  }
  return out;
}

/** A directory source of `copy` that brings in manifests (so any other file change reinstalls), with those manifests. */
function broadSource(copy: CopyInstruction, names: string[], sentFiles: Set<string>): { manifests: string[] } | null {
  for (const s of copy.sources) {
    if (s.kind !== 'context' || s.wildcard || s.unresolved?.length) continue;
    const inside = names.map((n) => (s.path === '.' ? n : `${s.path}/${n}`)).filter((p) => sentFiles.has(p));
    // The source must be a directory that holds more than the manifests themselves.
    const prefix = s.path === '.' ? '' : `${s.path}/`;
    const others = [...sentFiles].some((p) => p.startsWith(prefix) && !inside.includes(p));
    if (inside.length > 0 && others) return { manifests: inside };
  }
  return null;
}

function installFinding(file: string, stage: Stage, copy: CopyInstruction, i: number, j: number, manifests: string[], install: Install): Finding {
  const list = stage.instructions;
  const between = list.slice(i + 1, j);
  const dest = copy.dest.endsWith('/') ? copy.dest : `${copy.dest}/`;
  const manifestCopy = `COPY ${flagsText(copy)}${manifests.join(' ')} ${dest}`;
  const metadata = between.filter((x) => METADATA.has(x.keyword)).map((x) => x.text);
  const rest = between.filter((x) => !METADATA.has(x.keyword)).map((x) => x.text);
  const prefetch = install.eco.prefetch;
  const lines = prefetch
    ? [manifestCopy, ...metadata, `RUN ${prefetch.command}`, copy.text, ...rest, list[j]!.text]
    : [manifestCopy, ...metadata, list[j]!.text, copy.text, ...rest];
  const command = install.command;
  return {
    id: 'copy-before-install',
    severity: 'warning',
    file,
    line: copy.line,
    message:
      `\`${copy.original}\` (line ${copy.line}) comes before \`${command}\` (line ${list[j]!.line}): any change to any copied file ` +
      `${prefetch ? `downloads every dependency again. Copy ${manifests.join(' and ')} first, run \`${prefetch.command}\`` : `reinstalls every dependency. Copy ${manifests.join(' and ')} first, install`}, then copy the rest`,
    fix: lines.join('\n'),
    paths: manifests,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Per-build ARG/ENV values above expensive steps
// ---------------------------------------------------------------------------------------------------------

const VOLATILE_NAME =
  /^(BUILD_?(DATE|TIME|TIMESTAMP|ID|NUMBER|NUM|REF)|DATE|TIMESTAMP|NOW|(GIT_)?(COMMIT|SHA|REVISION|REV|HASH)(_?(SHA|ID|HASH|SHORT))?|GIT_(BRANCH|TAG|REF|DESCRIBE)|VCS_REF|CI_(COMMIT_[A-Z_]+|PIPELINE_ID|JOB_ID)|GITHUB_(SHA|RUN_ID|RUN_NUMBER)|BUILD_VERSION|IMAGE_TAG)$/i;

const uses = (ins: Instruction, name: string) => new RegExp(`\\$(\\{)?${name}\\b`).test(ins.original);

function checkVolatileArgs(input: DoctorInput): Finding[] {
  const model = input.dockerfile;
  if (!model) return [];
  // A build-arg value reaches every later RUN (as its environment) under every builder; an ENV value also
  // changes the image config, which rebuilds every later step where any changed step does (profile chain).
  const anyStep = input.profile.chain === 'any-step';
  const out: Finding[] = [];
  for (const stage of model.stages) {
    const list = stage.instructions;
    const volatile = new Set<string>();
    list.forEach((ins, at) => {
      if ((ins.keyword !== 'ARG' && ins.keyword !== 'ENV') || !ins.pairs) return;
      const fromVolatile = ins.keyword === 'ENV' && [...volatile].some((v) => uses(ins, v));
      const names = ins.pairs.filter((p) => VOLATILE_NAME.test(p.key) || fromVolatile).map((p) => p.key);
      if (names.length === 0) return;
      for (const n of names) volatile.add(n);
      const firstUse = list.findIndex((x, k) => k > at && names.some((n) => uses(x, n)));
      const end = firstUse < 0 ? list.length : firstUse;
      const chainAll = anyStep && ins.keyword === 'ENV';
      const affected = list.slice(at + 1, end).filter((x) => (chainAll ? x.keyword !== 'ARG' && x.keyword !== 'ENV' : x.keyword === 'RUN'));
      if (affected.length === 0) return;
      const use = firstUse >= 0 ? list[firstUse]! : null;
      const what = `${ins.keyword} ${names.join(' ')}`;
      out.push({
        id: 'volatile-build-value',
        severity: 'warning',
        file: model.file,
        line: ins.line,
        message:
          `\`${what}\` (line ${ins.line}) takes a per-build value (a date, commit or build number) and sits above ` +
          `${affected.length} ${chainAll ? 'step' : 'RUN step'}${affected.length === 1 ? '' : 's'} (from line ${affected[0]!.line}) ` +
          `that ${chainAll ? `${input.profile.id} rebuilds` : 'it enters the cache key of'} whenever the value changes`,
        fix: use
          ? `move \`${ins.text}\` down to just above line ${use.line} (\`${use.original}\`), its first use`
          : `remove \`${ins.text}\` (nothing uses it), or declare it just above the instruction that needs it`,
      });
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// The Dockerfile and ignore file under a broad COPY
// ---------------------------------------------------------------------------------------------------------

function checkBuildFilesCopied(input: DoctorInput, ignoreName: string): Finding[] {
  const model = input.dockerfile;
  if (!model) return [];
  const sent = new Set(input.entries.map((e) => e.path));
  const candidates = [model.file, input.ignore?.file].filter((p): p is string => p !== undefined && sent.has(p));
  const taken = candidates.map((p) => ({ p, steps: stepsCovering(model, p) })).filter((x) => x.steps.length > 0);
  if (taken.length === 0) return [];
  const first = taken.flatMap((x) => x.steps).sort((a, b) => a.line - b.line)[0]!;
  return [
    {
      id: 'build-files-in-copy',
      severity: 'warning',
      file: model.file,
      line: first.line,
      message:
        `\`${first.text}\` (line ${first.line}) copies ${taken.map((x) => x.p).join(' and ')}: editing ${taken.length === 1 ? 'it' : 'them'}` +
        ` (even a comment) rebuilds this step and everything after it`,
      fix: [`add to ${ignoreName} (the builder still reads ${taken.length === 1 ? 'it' : 'them'}):`, ...taken.map((x) => x.p)].join('\n'),
      paths: taken.map((x) => x.p),
    },
  ];
}

// ---------------------------------------------------------------------------------------------------------
// Ignore rules that match nothing; ignore files shadowed or differing between builders
// ---------------------------------------------------------------------------------------------------------

function ruleMatchesSomething(rule: IgnoreRule, disk: readonly DiskEntry[], variant: BuilderProfile['matcher']): boolean {
  const m = createIgnoreMatcher([{ ...rule, exclusion: false }], variant);
  return disk.some((e) => m.match(e.path).excluded);
}

/**
 * A rule that keeps out a known volatile, tool or secret path (`node_modules`, `*.log`, `.env`): worth
 * keeping even when nothing matches it today.
 */
function isProtective(rule: IgnoreRule): boolean {
  if (rule.exclusion) return false;
  const base = rule.pattern.slice(rule.pattern.lastIndexOf('/') + 1).replace(/^\*\*/, '');
  return PATH_KINDS.some((k) => k.dirs?.includes(base) || k.files?.test(base.replace(/^\*/, 'x')));
}

function checkUnusedRules(input: DoctorInput): Finding[] {
  const disk = input.disk;
  if (!disk || !input.matcher) return [];
  const variant = input.profile.matcher;
  const out: Finding[] = [];
  for (const rule of input.matcher.rules) {
    if (isProtective(rule) || ruleMatchesSomething(rule, disk, variant)) continue;
    const anchored = !rule.pattern.startsWith('**') && !rule.pattern.includes('/');
    const deeper = anchored ? { ...rule, pattern: `**/${rule.pattern}` } : null;
    const fix =
      deeper && ruleMatchesSomething(deeper, disk, variant)
        ? `patterns are anchored at the context root: write \`${rule.exclusion ? '!' : ''}${deeper.pattern}\` to match at any depth`
        : 'remove the line, or correct the pattern (it is matched against paths relative to the context root)';
    out.push({
      id: 'ignore-rule-matches-nothing',
      severity: 'info',
      file: rule.file,
      line: rule.line,
      message: `\`${rule.text.trim()}\` matches nothing in the context`,
      fix,
    });
  }
  return out;
}

function checkIgnoreFiles(input: DoctorInput): Finding[] {
  const out: Finding[] = [];
  const chosen = input.ignore?.file ?? null;
  const shadowed = (input.ignoreCandidates ?? []).filter((c) => c !== chosen);
  if (chosen !== null && shadowed.length > 0) {
    out.push({
      id: 'ignore-file-shadowed',
      severity: 'warning',
      file: chosen,
      line: null,
      message: `${chosen} replaces ${shadowed.join(' and ')} entirely under ${input.profile.id}: none of ${shadowed.length === 1 ? 'its' : 'their'} rules apply to this build`,
      fix: `copy the rules you still need from ${shadowed.join(' and ')} into ${chosen}`,
    });
  }
  const byBuilder = input.ignoreByBuilder;
  if (byBuilder) {
    const differ = Object.entries(byBuilder).filter(([id, f]) => id !== input.profile.id && f !== chosen);
    if (differ.length > 0) {
      const list = differ.map(([id, f]) => `${id} reads ${f ?? 'no ignore file'}`).join(', ');
      out.push({
        id: 'ignore-file-differs-by-builder',
        severity: 'info',
        file: chosen ?? '.dockerignore',
        line: null,
        message: `${input.profile.id} reads ${chosen ?? 'no ignore file'}, but ${list}: the context differs between builders`,
        fix: 'keep one ignore file that every builder you use reads (.dockerignore at the context root), or keep the files in sync',
      });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// ADD of a local file that is not an archive
// ---------------------------------------------------------------------------------------------------------

/** Docker's archive detection: tar, gzip, bzip2, xz or zstd by magic bytes (pkg/archive DetectCompression). */
export function isArchive(head: Uint8Array): boolean {
  const starts = (...b: number[]) => b.every((x, i) => head[i] === x);
  if (starts(0x1f, 0x8b, 0x08) || starts(0x42, 0x5a, 0x68) || starts(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00) || starts(0x28, 0xb5, 0x2f, 0xfd)) return true;
  return head.length >= 262 && String.fromCharCode(...head.subarray(257, 262)) === 'ustar';
}

function checkAddLocal(input: DoctorInput): Finding[] {
  const model = input.dockerfile;
  if (!model) return [];
  const byPath = new Map(input.entries.map((e) => [e.path, e]));
  const out: Finding[] = [];
  for (const ins of model.instructions) {
    if (!isCopy(ins) || ins.keyword !== 'ADD' || ins.from !== undefined) continue;
    const local = ins.sources.filter((s) => s.kind === 'context' && !s.wildcard && !s.unresolved?.length);
    if (local.length === 0 || local.length !== ins.sources.length) continue;
    const plain = local.every((s) => {
      const e = byPath.get(s.path);
      if (!e) return false;
      if (e.type === 'dir') return true;
      if (e.type !== 'file') return false;
      const head = input.readHead?.(s.path);
      return head != null && !isArchive(head);
    });
    if (!plain) continue;
    out.push({
      id: 'add-local-file',
      severity: 'warning',
      file: model.file,
      line: ins.line,
      message: `\`${ins.original}\` adds ${local.map((s) => s.raw).join(', ')}, which ${local.length === 1 ? 'is' : 'are'} not an archive: ADD only differs from COPY by unpacking archives and fetching URLs`,
      fix: ins.text.replace(/^(\s*)ADD\b/i, '$1COPY'),
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------------------------------------

const order = (a: Finding, b: Finding) =>
  SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) ||
  (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) ||
  (a.line ?? 0) - (b.line ?? 0) ||
  (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Run every check on the inputs; findings ordered by severity, then file and line. */
export function diagnose(input: DoctorInput): DoctorReport {
  const ignoreName = input.ignore?.file ?? '.dockerignore';
  const findings = [
    ...checkPaths(input, ignoreName),
    ...checkInstallOrder(input),
    ...checkVolatileArgs(input),
    ...checkBuildFilesCopied(input, ignoreName),
    ...checkUnusedRules(input),
    ...checkIgnoreFiles(input),
    ...checkAddLocal(input),
  ].sort(order);
  return {
    context: input.context,
    builder: input.profile.id,
    dockerfile: input.dockerfile?.file ?? null,
    ignoreFile: input.ignore?.file ?? null,
    findings,
  };
}

function readHeadIn(root: string): (p: string) => Uint8Array | null {
  return (p) => {
    let fd: number | undefined;
    try {
      fd = fs.openSync(path.join(root, p), 'r');
      const buf = Buffer.alloc(512);
      const n = fs.readSync(fd, buf, 0, 512, 0);
      return buf.subarray(0, n);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EISDIR') return null;
      throw IoError.from(p, e);
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  };
}

/**
 * Diagnose a context directory: walk it as the builder would (not hashed), walk it whole for the ignore
 * checks, and look up the ignore file every builder profile would use. `dockerfile` is as given with -f.
 */
export async function diagnoseDirectory(dir: string, options: { profile?: BuilderProfile; dockerfile?: string } = {}): Promise<DoctorReport> {
  const profile = options.profile ?? defaultProfile();
  const root = path.resolve(dir);
  const context = await walkContext(dir, { profile, dockerfile: options.dockerfile, hash: false });
  const matcher = matcherFor(context.ignore, profile);
  const ignoreByBuilder: Record<string, string | null> = {};
  for (const p of Object.values(PROFILES)) ignoreByBuilder[p.id] = locateIgnoreFile(root, options.dockerfile, p)?.file ?? null;
  const ignoreCandidates = candidatesThatExist(root, options.dockerfile, profile);
  return diagnose({
    context: dir,
    profile,
    entries: context.entries,
    ignore: context.ignore,
    matcher,
    dockerfile: readModel(context.dockerfiles, context.dockerfile),
    disk: walkAll(root, matcher),
    ignoreByBuilder,
    ignoreCandidates,
    readHead: readHeadIn(root),
  });
}

/** The profile's ignore-file candidates that exist, in lookup order (shown relative to the root when inside). */
function candidatesThatExist(root: string, dockerfile: string | undefined, profile: BuilderProfile): string[] {
  const out: string[] = [];
  const abs: string[] = [];
  if (dockerfile) for (const c of profile.ignoreFiles.besideDockerfile) abs.push(c.replaceAll('{dockerfile}', path.resolve(dockerfile)));
  for (const c of profile.ignoreFiles.atRoot) abs.push(path.join(root, c));
  for (const a of abs) {
    if (!fs.existsSync(a)) continue;
    const rel = path.relative(root, a);
    out.push(rel.startsWith('..') || path.isAbsolute(rel) ? a : rel.split(path.sep).join('/'));
  }
  return out;
}
