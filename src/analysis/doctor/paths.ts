/**
 * Rules about what the context holds: volatile, tool and secret paths sent to the builder (worse when a
 * COPY takes them), and the Dockerfile or ignore file inside a broad COPY. What counts as volatile, as a
 * secret or as build output is data (PATH_KINDS).
 */
import { isCopy, type DockerfileModel } from '../../dockerfile/model.js';
import type { Entry } from '../../core/types.js';
import type { IgnoreRule } from '../../ignore/matcher.js';
import type { Severity } from '../severity.js';
import { stepsCovering, type CoveringStep } from '../why.js';
import type { DoctorInput, Finding, Rule, RuleFamily } from './types.js';

interface PathKind {
  id: string;
  title: string;
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
export const PROJECT_MANIFESTS = ['package.json', 'Cargo.toml', 'pom.xml', 'build.gradle', 'build.gradle.kts', 'pyproject.toml', 'setup.py', 'go.mod'];

const PATH_KINDS: readonly PathKind[] = [
  { id: 'vcs-metadata-in-context', title: 'version-control metadata (.git, .hg, .svn) is sent to the builder', severity: 'warning', dirs: ['.git', '.hg', '.svn'], what: 'version-control metadata changes with every commit, fetch and checkout' },
  { id: 'dependencies-in-context', title: 'installed dependencies (node_modules, .venv) are sent to the builder', severity: 'warning', dirs: ['node_modules', 'bower_components', '.venv', 'venv'], what: 'installed dependencies differ between machines and are reinstalled in the image anyway' },
  {
    id: 'cache-in-context',
    title: 'tool caches (`__pycache__`, `.pytest_cache`, `.gradle`, …) are sent to the builder',
    severity: 'warning',
    dirs: ['__pycache__', '.pytest_cache', '.mypy_cache', '.ruff_cache', '.tox', '.cache', '.gradle', '.parcel-cache', '.turbo'],
    files: /\.py[co]$/,
    what: 'tool caches are rewritten by every local run',
  },
  { id: 'coverage-in-context', title: 'coverage reports are sent to the builder', severity: 'warning', dirs: ['coverage', '.nyc_output', 'htmlcov'], files: /^\.coverage$/, what: 'coverage reports are rewritten by every test run' },
  { id: 'logs-in-context', title: 'log files are sent to the builder', severity: 'warning', files: /\.log$/, what: 'log files grow with every run' },
  {
    id: 'build-output-in-context',
    title: 'local build outputs (dist/, build/, target/) are sent to the builder',
    severity: 'info',
    dirs: ['dist', 'build', '.next', 'target', 'out'],
    besideManifest: true,
    what: 'build outputs change with every local build (ignore them unless the Dockerfile copies them on purpose)',
  },
  {
    id: 'secret-in-context',
    title: 'secrets (.env, keys, .npmrc) are sent to the builder',
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

/**
 * A rule that keeps out a known volatile, tool or secret path (`node_modules`, `*.log`, `.env`): worth
 * keeping even when nothing matches it today.
 */
export function isProtective(rule: IgnoreRule): boolean {
  if (rule.exclusion) return false;
  const base = rule.pattern.slice(rule.pattern.lastIndexOf('/') + 1).replace(/^\*\*/, '');
  return PATH_KINDS.some((k) => k.dirs?.includes(base) || k.files?.test(base.replace(/^\*/, 'x')));
}

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


export const PATH_RULES: RuleFamily = {
  name: 'context paths',
  rules: [
    ...PATH_KINDS.map(
      (k): Rule => ({
        id: k.id,
        severity: k.severity,
        title: k.title,
        why: `${k.what}; a COPY/ADD that takes them rebuilds on every such change (one severity lower when no COPY takes them: they only slow the context transfer)`,
        fix: `the ignore-file lines that exclude them${k.exact ? ' (the exact paths found)' : ''}`,
      }),
    ),
    {
      id: 'build-files-in-copy',
      severity: 'warning',
      title: 'a broad COPY takes the Dockerfile or the ignore file',
      why: 'both are ordinary context files: editing either (even a comment) rebuilds the COPY and everything after it',
      fix: 'the ignore-file lines that exclude them (the builder still reads them)',
    },
  ],
  check: (input, ctx) => [...checkPaths(input, ctx.ignoreName), ...checkBuildFilesCopied(input, ctx.ignoreName)],
};
