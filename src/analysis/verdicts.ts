/**
 * Verdicts: which COPY/ADD (and other) steps of a Dockerfile a change between two contexts rebuilds, under a
 * builder profile, and why; which changes the builder ignores; and the hazards of BuildKit's incremental
 * context transfer. Every builder difference comes from the profile's data (attributes, chain rule).
 */
import { diffContexts, type ChangeKind, type PathChange } from './diff.js';
import { isCopy, type CopyInstruction, type DockerfileModel, type Instruction } from '../dockerfile/model.js';
import { parseDockerfile } from '../dockerfile/parser.js';
import { sourceCovers } from '../dockerfile/path-patterns.js';
import { createIgnoreMatcher, type IgnoreMatcher } from '../ignore/matcher.js';
import { parseIgnoreFile } from '../ignore/ignore-file.js';
import type { AttributeEffects, BuilderProfile, Effect } from '../builders/profiles.js';
import type { Context, Entry, IgnoreFileInfo } from '../core/types.js';

export type Verdict = 'cached' | 'rebuilt' | 'unknown';
/**
 * Why a step is rebuilt: its own context sources changed; the instruction itself changed; an earlier step it
 * depends on was rebuilt; the stage it copies from (`COPY --from`) was rebuilt; or, for `unknown`: a remote
 * source, or a source path with an unresolved variable. `none` for a cached step.
 */
export type Cause = 'sources' | 'instruction' | 'previous-step' | 'stage' | 'remote' | 'unresolved' | 'none';

/** The rule that decides a path in one context's ignore file. */
export interface RuleRef {
  file: string;
  line: number;
  pattern: string;
}

/** A path that appeared or disappeared because the ignore rules changed. */
export interface IgnoreShift {
  before: { excluded: boolean; rule: RuleRef | null };
  after: { excluded: boolean; rule: RuleRef | null };
}

export interface StepChange {
  path: string;
  /** The kinds of change that bust this step. */
  kinds: ChangeKind[];
  /** Other kinds of change at the same path that this builder ignores. */
  ignoredKinds: ChangeKind[];
  before?: Entry;
  after?: Entry;
  ignore?: IgnoreShift;
  /** For a change the builder makes itself (not seen in the files). */
  note?: string;
}

export interface StepVerdict {
  /** Stage name, or its index when unnamed. */
  stage: string;
  stageIndex: number;
  /** The stage's base (its FROM image or stage). */
  base: string;
  line: number;
  endLine: number;
  instruction: string;
  /** The instruction as the builder reads it (continuations joined). */
  text: string;
  verdict: Verdict;
  cause: Cause;
  /** For `previous-step`: the line of the earlier step that was rebuilt; for `stage`: the stage's FROM line. */
  causeLine?: number;
  note?: string;
  /** For COPY/ADD from the context: the changes that bust it. */
  changes: StepChange[];
}

/** A change that affects no step under this builder. */
export interface IgnoredChange {
  path: string;
  kinds: ChangeKind[];
  /** `attributes`: the builder does not count these kinds of change; `outside`: no COPY/ADD takes the path. */
  reason: 'attributes' | 'outside';
  before?: Entry;
  after?: Entry;
  ignore?: IgnoreShift;
}

export type HazardKind = 'same-size-and-mtime' | 'directory-mode' | 'xattrs-only';

export interface Hazard {
  kind: HazardKind;
  path: string;
  message: string;
  /** Lines of the steps that take the path. */
  lines: number[];
}

export interface VerdictReport {
  builder: string;
  /** The Dockerfile judged (key in the after context), or null when there is none (the whole context as `COPY . /`). */
  dockerfile: string | null;
  steps: StepVerdict[];
  ignored: IgnoredChange[];
  hazards: Hazard[];
  /** Number of paths that differ in any way. */
  changedPaths: number;
  warnings: string[];
}

export interface JudgeOptions {
  /** Dockerfile key (in the contexts' `dockerfiles`); default: the after context's chosen one. */
  dockerfile?: string;
  buildArgs?: Record<string, string>;
}

/** Keywords whose steps change the filesystem (and so chain under the `filesystem` rule). */
const FILESYSTEM_STEPS = new Set(['COPY', 'ADD', 'RUN', 'WORKDIR']);
/** Metadata that reaches a RUN step's key (its environment, user, working directory and shell). */
const RUN_ENVIRONMENT = new Set(['ENV', 'ARG', 'WORKDIR', 'USER', 'SHELL']);

const WHOLE_CONTEXT = 'FROM scratch\nCOPY . /\n';

type Role = 'root' | 'source' | 'below' | 'file';

/** What a builder makes of one kind of change at a path, given its role under a COPY source. */
export function effectOf(kind: ChangeKind, entry: Entry | undefined, role: Role, a: AttributeEffects, before?: Entry): Effect {
  switch (kind) {
    case 'added':
    case 'removed':
      return a.presence;
    case 'type':
    case 'device':
      return a.type;
    case 'content':
      return a.content;
    case 'target':
      return a.symlinkTarget;
    case 'owner':
      return a.owner;
    case 'mtime':
      return a.mtime;
    case 'xattrs':
      return a.xattrs;
    case 'mode':
      if (entry?.type !== 'dir') {
        // Some builders do not hash some bits: a change of those bits alone does not count.
        if (before && entry && ((before.mode ^ entry.mode) & ~a.ignoredFileModeBits) === 0) return 'ignored';
        return a.fileMode;
      }
      return role === 'root' ? a.rootMode : role === 'source' ? a.sourceDirMode : a.subdirMode;
  }
}

function ruleRef(m: ReturnType<IgnoreMatcher['match']>): { excluded: boolean; rule: RuleRef | null } {
  return { excluded: m.excluded, rule: m.rule ? { file: m.rule.file, line: m.rule.line, pattern: m.rule.text } : null };
}

function matcherFor(info: IgnoreFileInfo | null, profile: BuilderProfile): IgnoreMatcher | null {
  return info ? createIgnoreMatcher(parseIgnoreFile(info.text, info.file, profile.matcher), profile.matcher) : null;
}

function stageLabel(model: DockerfileModel, index: number): string {
  return model.stages[index]?.name ?? String(index);
}

/** Judge every step of the Dockerfile for the change from `before` to `after`. */
export function judge(before: Context, after: Context, profile: BuilderProfile, options: JudgeOptions = {}): VerdictReport {
  const warnings: string[] = [];
  const key = options.dockerfile ?? after.dockerfile ?? null;
  const afterText = key !== null ? after.dockerfiles[key] : undefined;
  const beforeKey = key !== null && before.dockerfiles[key] !== undefined ? key : (before.dockerfile ?? null);
  const beforeText = beforeKey !== null ? before.dockerfiles[beforeKey] : undefined;
  const parseOpts = options.buildArgs ? { buildArgs: options.buildArgs } : {};
  const whole = afterText === undefined;
  const afterModel = parseDockerfile(afterText ?? WHOLE_CONTEXT, key ?? '(no Dockerfile)', parseOpts);
  let beforeModel: DockerfileModel | undefined;
  if (whole) beforeModel = afterModel;
  else if (beforeText !== undefined) {
    try {
      beforeModel = parseDockerfile(beforeText, beforeKey!, parseOpts);
    } catch (e) {
      warnings.push(`the earlier Dockerfile ${beforeKey} cannot be read (${(e as Error).message}): every step counts as changed`);
    }
  } else if (key !== null) {
    warnings.push(`the earlier context has no Dockerfile ${key}: every step counts as changed`);
  }

  const changes = diffContexts(before, after);
  const a = profile.attributes;

  // Ignore-rule shifts explain paths that appeared or disappeared.
  const ignoreChanged = (before.ignore?.text ?? null) !== (after.ignore?.text ?? null);
  const bm = ignoreChanged ? matcherFor(before.ignore, profile) : null;
  const am = ignoreChanged ? matcherFor(after.ignore, profile) : null;
  const shiftOf = (c: PathChange): IgnoreShift | undefined => {
    if (!ignoreChanged || (c.kinds[0] !== 'added' && c.kinds[0] !== 'removed')) return undefined;
    const b = bm ? ruleRef(bm.match(c.path)) : { excluded: false, rule: null };
    const f = am ? ruleRef(am.match(c.path)) : { excluded: false, rule: null };
    return b.excluded !== f.excluded ? { before: b, after: f } : undefined;
  };

  // Coverage: which context COPY/ADD steps take each changed path, and which kinds bust them.
  const copies = afterModel.instructions.filter(isCopy).filter((i) => i.from === undefined);
  const stepChanges = new Map<CopyInstruction, StepChange[]>(copies.map((c) => [c, []]));
  const ignored: IgnoredChange[] = [];
  const hazards: Hazard[] = [];
  for (const c of changes) {
    const entry = c.after ?? c.before;
    let covered = false;
    let busts = false;
    const hazardLines: number[] = [];
    let dirModeIgnored = false;
    for (const ins of copies) {
      let role: Role | null = null;
      for (const src of ins.sources) {
        const cov = sourceCovers(src, c.path, ins.exclude);
        if (!cov) continue;
        const r: Role = c.path === '.' ? 'root' : cov === 'below' ? 'below' : entry?.type === 'dir' ? 'source' : 'file';
        // The strongest role wins when several sources take the path ('below' counts the most attributes).
        if (role === null || r === 'below') role = r;
      }
      if (role === null) continue;
      covered = true;
      const bust = c.kinds.filter((k) => effectOf(k, entry, role!, a, c.before) === 'busts');
      if (bust.length > 0) {
        busts = true;
        const sc: StepChange = { path: c.path, kinds: bust, ignoredKinds: c.kinds.filter((k) => !bust.includes(k)) };
        if (c.before) sc.before = c.before;
        if (c.after) sc.after = c.after;
        const shift = shiftOf(c);
        if (shift) sc.ignore = shift;
        stepChanges.get(ins)!.push(sc);
      }
      hazardLines.push(ins.line);
      if (entry?.type === 'dir' && c.kinds.includes('mode') && effectOf('mode', entry, role, a) === 'ignored') dirModeIgnored = true;
    }
    if (!busts) {
      const ic: IgnoredChange = { path: c.path, kinds: c.kinds, reason: covered ? 'attributes' : 'outside' };
      if (c.before) ic.before = c.before;
      if (c.after) ic.after = c.after;
      const shift = shiftOf(c);
      if (shift) ic.ignore = shift;
      ignored.push(ic);
    }
    if (profile.transferHazards && covered) {
      const b = c.before;
      const f = c.after;
      if (b && f && c.kinds.includes('content') && !b.changedWhileRead && !f.changedWhileRead && b.size === f.size && b.mtimeSec === f.mtimeSec && b.mtimeNsec === f.mtimeNsec) {
        hazards.push({
          kind: 'same-size-and-mtime',
          path: c.path,
          message: 'content changed but size and mtime did not: a builder that holds the previous context re-uses the old content (stale cache hit)',
          lines: hazardLines,
        });
      }
      if (c.kinds.length === 1 && c.kinds[0] === 'xattrs') {
        hazards.push({
          kind: 'xattrs-only',
          path: c.path,
          message: 'only extended attributes changed: a builder that holds the previous context does not re-send the file, so the change is not seen',
          lines: hazardLines,
        });
      }
      if (dirModeIgnored) {
        hazards.push({
          kind: 'directory-mode',
          path: c.path,
          message: `directory mode ${fmtMode(b)} → ${fmtMode(f)} is not seen while the builder holds the previous context, but counts once its context cache is pruned (moby/buildkit#7176)`,
          lines: hazardLines,
        });
      }
    }
  }

  // A change the client makes itself: the classic builder's .dockerignore rewrite for an outside Dockerfile.
  const ignoreEntry = after.entries.find((e) => e.path === '.dockerignore');
  if (profile.rewritesIgnoreForOutsideDockerfile && key !== null && key.startsWith('/') && ignoreEntry) {
    for (const ins of copies) {
      if (!ins.sources.some((src) => sourceCovers(src, '.dockerignore', ins.exclude))) continue;
      stepChanges.get(ins)!.push({
        path: '.dockerignore',
        kinds: ['content'],
        ignoredKinds: [],
        after: ignoreEntry,
        note: 'the docker CLI appends the name of its temporary copy of a Dockerfile outside the context to the .dockerignore it sends: new content on every build',
      });
    }
  }

  const steps = chainVerdicts(afterModel, beforeModel, profile, stepChanges, whole);
  if (whole) for (const s of steps) (s.line = 0), (s.endLine = 0), (s.text = 'COPY . / (no Dockerfile: the whole context)');
  return { builder: profile.id, dockerfile: whole ? null : key, steps, ignored, hazards, changedPaths: changes.length, warnings };
}

function fmtMode(e: Entry | undefined): string {
  return e ? e.mode.toString(8).padStart(4, '0') : '?';
}

/**
 * Apply the chain rule stage by stage. Steps are compared position by position with the earlier Dockerfile
 * (a builder's cache is a chain: once a step differs, every later step has a new parent).
 */
function chainVerdicts(
  model: DockerfileModel,
  prev: DockerfileModel | undefined,
  profile: BuilderProfile,
  stepChanges: Map<CopyInstruction, StepChange[]>,
  whole: boolean,
): StepVerdict[] {
  const filesystemOnly = profile.chain === 'filesystem';
  const counts = (i: Instruction) => !filesystemOnly || FILESYSTEM_STEPS.has(i.keyword);
  const stageRebuilt: boolean[] = [];
  /**
   * Where a stage's files may differ (not only its layer chain): the destinations of its steps whose output
   * changed. Builders hash the files a `COPY --from` takes, so a stage rebuilt only because of a metadata step
   * (classic: a LABEL), or whose changed files lie elsewhere, gives the same bytes.
   */
  const stageWrites: string[][] = [];
  const stageUnknown: boolean[] = [];
  const out: StepVerdict[] = [];

  model.stages.forEach((stage, s) => {
    const before = prev?.stages[s];
    /** The key the builder caches an instruction under. */
    const effKey = (st: typeof stage, i: Instruction): string => {
      if (!filesystemOnly || i.keyword !== 'RUN') return i.key;
      // Under the filesystem rule, metadata is not a step, but a RUN's environment is part of its key.
      const env: string[] = [];
      for (const k of st.instructions) {
        if (k === i) break;
        if (RUN_ENVIRONMENT.has(k.keyword)) env.push(k.key);
      }
      return `${i.key}\n${env.join('\n')}`;
    };
    const listOf = (st: typeof stage) => st.instructions.filter(counts);
    const cur = listOf(stage);
    const old = before ? listOf(before) : [];
    const fromChanged = !before || before.from.key !== stage.from.key;
    const baseRebuilt = stage.baseStage !== undefined && stageRebuilt[stage.baseStage] === true;
    let chain: { line: number; unknown: boolean } | null =
      fromChanged || baseRebuilt ? { line: stage.line, unknown: false } : null;
    if (!chain && stage.baseStage !== undefined && stageUnknown[stage.baseStage]) chain = { line: stage.line, unknown: true };
    let rebuiltAny = chain !== null && !chain.unknown;
    const writes: string[] = fromChanged ? ['/'] : stage.baseStage !== undefined ? [...(stageWrites[stage.baseStage] ?? [])] : [];
    let workdir = '/';
    let unknownAny = chain?.unknown ?? false;

    cur.forEach((ins, j) => {
      workdir = workdirBefore(stage.instructions, ins);
      const o = old[j];
      const keyChanged = !o || effKey(stage, ins) !== effKey(before!, o);
      const changes = isCopy(ins) ? (stepChanges.get(ins) ?? []) : [];
      let verdict: Verdict = 'cached';
      let cause: Cause = 'none';
      let causeLine: number | undefined;
      let note: string | undefined;
      const copy = isCopy(ins) ? ins : undefined;
      const fromStage = copy?.fromStage;
      if (keyChanged && !whole) {
        verdict = 'rebuilt';
        cause = 'instruction';
        note = o ? `was: ${o.original.trim()}` : 'new step';
      } else if (changes.length > 0) {
        // A file that changed while it was read has no known content: its content change alone is unknown.
        const unsure = (c: StepChange) => c.kinds.every((k) => k === 'content') && (c.before?.changedWhileRead || c.after?.changedWhileRead);
        cause = 'sources';
        if (changes.every(unsure)) {
          verdict = 'unknown';
          note = `${changes.map((c) => c.path).join(', ')} changed while read: content unknown`;
        } else {
          verdict = 'rebuilt';
        }
      } else if (fromStage !== undefined && copy!.sources.some((src) => overlapsAny(absolute('/', literalPrefix(src.path)), stageWrites[fromStage] ?? []))) {
        verdict = 'rebuilt';
        cause = 'stage';
        causeLine = model.stages[fromStage]!.line;
        note = 'the builder hashes the copied files: if they come out byte-identical, the step stays cached';
      } else if (chain && !chain.unknown && !(copy?.link && profile.linkedCopiesIndependent)) {
        verdict = 'rebuilt';
        cause = 'previous-step';
        causeLine = chain.line;
      } else if (copy?.sources.some((src) => src.kind === 'remote')) {
        verdict = 'unknown';
        cause = 'remote';
        note = 'remote source: not judged';
      } else if (copy?.sources.some((src) => src.kind === 'context' && (src.unresolved?.length ?? 0) > 0)) {
        verdict = 'unknown';
        cause = 'unresolved';
        note = `source path depends on ${copy.sources.flatMap((src) => src.unresolved ?? []).join(', ')}, whose value is unknown`;
      } else if ((fromStage !== undefined && stageUnknown[fromStage]) || chain?.unknown) {
        verdict = 'unknown';
        cause = 'previous-step';
        causeLine = chain?.line ?? model.stages[fromStage!]!.line;
        note = 'follows a step that could not be judged';
      }
      if (verdict === 'rebuilt') {
        rebuiltAny = true;
        if (ins.keyword === 'RUN') writes.push('/');
        else if (copy && (cause === 'sources' || cause === 'stage' || cause === 'instruction')) writes.push(absolute(workdir, copy.dest));
        else if (ins.keyword === 'WORKDIR' && cause === 'instruction') writes.push(absolute(workdir, ins.args[0] ?? '/'));
        chain = { line: ins.line, unknown: false };
      } else if (verdict === 'unknown') {
        unknownAny = true;
        if (!chain) chain = { line: ins.line, unknown: true };
      }
      out.push({
        stage: stageLabel(model, s),
        stageIndex: s,
        base: stage.base,
        line: ins.line,
        endLine: ins.endLine,
        instruction: ins.keyword,
        text: ins.original.trim(),
        verdict,
        cause,
        ...(causeLine !== undefined ? { causeLine } : {}),
        ...(note !== undefined ? { note } : {}),
        changes,
      });
    });
    stageRebuilt[s] = rebuiltAny;
    stageWrites[s] = writes;
    stageUnknown[s] = unknownAny && !rebuiltAny;
  });
  return out;
}

/** The working directory in force at an instruction (WORKDIR steps before it in its stage; "/" if unknown). */
function workdirBefore(list: Instruction[], at: Instruction): string {
  let wd = '/';
  for (const i of list) {
    if (i === at) break;
    if (i.keyword === 'WORKDIR' && i.args[0] !== undefined) wd = i.unresolved.length ? '/' : absolute(wd, i.args[0]);
  }
  return wd;
}

/** Resolve a path against a directory, cleaned, absolute ("/" for the root). */
function absolute(dir: string, p: string): string {
  const parts: string[] = [];
  for (const seg of (p.startsWith('/') ? p : `${dir}/${p}`).split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  return '/' + parts.join('/');
}

/** Whether a path and any of the written prefixes overlap (one contains the other). */
function overlapsAny(p: string, writes: string[]): boolean {
  const within = (a: string, b: string) => b === '/' || a === b || a.startsWith(b + '/');
  return writes.some((w) => within(p, w) || within(w, p));
}

/** The part of a path before its first wildcard segment ("app/*.js" → "app"). */
function literalPrefix(p: string): string {
  const segs = p.split('/');
  const i = segs.findIndex((seg) => /[*?[]/.test(seg));
  return i < 0 ? p : segs.slice(0, i).join('/');
}
