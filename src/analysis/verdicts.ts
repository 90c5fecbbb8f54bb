/**
 * Verdicts: which steps of a Dockerfile a change between two builds rebuilds, under a builder profile, and
 * why; which changes the builder ignores; and the hazards of BuildKit's incremental context transfer.
 *
 * A step's cache key is modelled as a list of inputs, each judged by one mechanism:
 * - `copy-source`: a COPY/ADD source in the build context, `named-context`: one in a named build context,
 *   `bind-mount`: the source of a `RUN --mount=type=bind` (context or named context): the changes under the
 *   paths it takes, each kind of change counted or not per the profile's attributes (and, for mounts, what
 *   the builder mounts: `profile.bindMounts`);
 * - `stage`: the paths a `COPY --from=stage` (or a mount `from=stage`) takes from a stage, against what that
 *   stage's steps wrote differently (a COPY writes exactly its sources' content; a rebuilt RUN could write
 *   anything: `unknown`);
 * - `build-arg`: the value of an ARG in scope of a RUN, in each build.
 * The step is rebuilt when its instruction changed, when an input changed, or through the chain rule (an
 * earlier step rebuilt, per `profile.chain`). Every builder difference comes from the profile's data.
 */
import { changesBetween, entryAt, type AnyContext, type ChangeKind, type PathChange } from './diff.js';
import { isCopy, type CopyInstruction, type CopySource, type DockerfileModel, type Instruction, type RunMount } from '../dockerfile/model.js';
import { parseDockerfile } from '../dockerfile/parser.js';
import { sourceCovers } from '../dockerfile/path-patterns.js';
import { createIgnoreMatcher, type IgnoreMatcher } from '../ignore/matcher.js';
import { parseIgnoreFile } from '../ignore/ignore-file.js';
import { clearValues, fingerprint, secretLooking } from '../core/build-args.js';
import type { AttributeEffects, BuilderProfile, Effect } from '../builders/profiles.js';
import { RAW_CONTEXT, type BuildArgValue, type BuildInvocation, type Entry, type IgnoreFileInfo } from '../core/types.js';

export type Verdict = 'cached' | 'rebuilt' | 'unknown';
/**
 * Why a step is rebuilt: its context sources changed (`sources`), a bind mount's source (`mount`), a source
 * in a named build context (`named-context`), a build arg's value (`build-arg`); the instruction itself
 * changed; an earlier step it depends on was rebuilt; the stage it copies from (`COPY --from`) wrote the
 * copied paths differently; or, for `unknown`: a remote source, or a source path with an unresolved
 * variable. `none` for a cached step.
 */
export type Cause =
  | 'sources' | 'mount' | 'named-context' | 'build-arg' | 'instruction' | 'previous-step' | 'stage' | 'remote' | 'unresolved' | 'unsupported-flag' | 'incomplete-snapshot' | 'none';

export type InputKind = 'copy-source' | 'bind-mount' | 'build-arg' | 'stage' | 'named-context';

/** One input of a step's cache key, and whether it changed between the two builds. */
export interface StepInput {
  kind: InputKind;
  /**
   * copy-source, named-context: the source as written; bind-mount: the `--mount` value as written;
   * build-arg: the ARG's name; stage: the stage's name (or index).
   */
  name: string;
  /**
   * The paths it takes: relative to its context root for copy-source, bind-mount and named-context; absolute
   * paths in the stage's filesystem for stage; empty for build-arg.
   */
  paths: string[];
  /** named-context, and a bind-mount `from=` a named context: the context's name. */
  context?: string;
  /** bind-mount: where it is mounted. */
  target?: string;
  /** stage: the stage's index. */
  stageIndex?: number;
  /** build-arg: the line of the ARG that declares it. */
  line?: number;
  /** build-arg: the values in the two builds (null = unset); left out for a secret-looking name. */
  before?: string | null;
  after?: string | null;
  /** build-arg: the name looks secret; values are compared by hash and never shown. */
  secret?: boolean;
  /** `unknown`: the input may have changed (a stage's RUN was rebuilt, a value is unknown). */
  changed: 'yes' | 'no' | 'unknown';
  note?: string;
}

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
  /** The input (its `name`) that takes the path: the source or mount as written. */
  input?: string;
  /** The named context the path is in (absent: the build context). */
  context?: string;
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
  /** For `previous-step`: the line of the earlier step that was rebuilt; for `stage`: the stage's FROM line; for `build-arg`: the ARG's line. */
  causeLine?: number;
  note?: string;
  /** The changed files that bust it (copy-source, bind-mount and named-context inputs). */
  changes: StepChange[];
  /** The inputs of its cache key besides the instruction itself. */
  inputs: StepInput[];
}

/** A change that affects no step under this builder. */
export interface IgnoredChange {
  path: string;
  kinds: ChangeKind[];
  /** `attributes`: the builder does not count these kinds of change; `outside`: no COPY/ADD or bind mount takes the path. */
  reason: 'attributes' | 'outside';
  before?: Entry;
  after?: Entry;
  ignore?: IgnoreShift;
}

export type HazardKind = 'same-size-and-mtime' | 'directory-mode' | 'xattrs-only' | 'bind-mount-not-seen';

export interface Hazard {
  kind: HazardKind;
  path: string;
  message: string;
  /** Lines of the steps that take the path. */
  lines: number[];
}

/** A stage the build does not run (`--target`). */
export interface StageNotBuilt {
  stage: string;
  stageIndex: number;
  line: number;
}

export interface VerdictReport {
  builder: string;
  /** The Dockerfile judged (key in the after context), or null when there is none (the whole context as `COPY . /`). */
  dockerfile: string | null;
  /** The `--target` stage, when one is given. */
  target?: string;
  steps: StepVerdict[];
  /** Stages the target does not need (only with a target). */
  notBuilt: StageNotBuilt[];
  ignored: IgnoredChange[];
  hazards: Hazard[];
  /** Number of paths that differ in any way. */
  changedPaths: number;
  warnings: string[];
}

/** A named build context in the two builds. */
export interface NamedContextPair {
  before: AnyContext;
  after: AnyContext;
}

export interface JudgeOptions {
  /** Dockerfile key (in the contexts' `dockerfiles`); default: the after context's chosen one. */
  dockerfile?: string;
  /** Build args of a side that records none (a directory, or a snapshot taken without them). */
  buildArgs?: Record<string, BuildArgValue>;
  /** How each build was invoked; default: what the context records, else `buildArgs`. */
  beforeInvocation?: BuildInvocation;
  afterInvocation?: BuildInvocation;
  /** `--target` stage (name or index); default: the after side's recorded one. Only the stages it needs are judged. */
  target?: string;
  /** Named build contexts; default: those the contexts record. */
  namedContexts?: Record<string, NamedContextPair>;
  /**
   * The two context directories as they are on disk, no ignore file applied: what a builder that mounts the
   * raw context (`profile.bindMounts` = `raw-context`) bind-mounts.
   */
  rawContexts?: NamedContextPair;
  /**
   * false: the ignored changes carry no entries (`before`, `after`), for a caller that shows only their paths
   * and kinds (the CLI's reporters): a diff of two large contexts then makes no object for the entries of the
   * changes no step counts (a diff of column tables makes an entry only when it is read). Default true.
   */
  ignoredEntries?: boolean;
}

/** The tree key of the raw context (not a valid named-context name: it has spaces). */
const RAW = RAW_CONTEXT;

/** The first flag of a COPY/ADD the builder rejects (its build fails there), as written: `--link`. */
export function rejectedFlag(ins: CopyInstruction, profile: BuilderProfile): string | undefined {
  const f = profile.copyFlags;
  if (ins.link && f.link === 'rejected') return '--link';
  if (ins.exclude.length > 0 && f.exclude === 'rejected') return '--exclude';
  if (ins.parents && f.parents === 'rejected') return '--parents';
  return undefined;
}

/**
 * The `--exclude` patterns as the builder applies them: none when it ignores the flag; matched against paths
 * relative to each source, or to the context root (Buildah 1.43).
 */
function excludesOf(ins: CopyInstruction, profile: BuilderProfile): { patterns: string[]; base: 'source' | 'context' } {
  const f = profile.copyFlags.exclude;
  return typeof f === 'object' ? { patterns: ins.exclude, base: f.supported } : { patterns: [], base: 'source' };
}

/** Keywords whose steps change the filesystem (and so chain under the `filesystem` rule). */
const FILESYSTEM_STEPS = new Set(['COPY', 'ADD', 'RUN', 'WORKDIR']);
/** Metadata that reaches a RUN step's key (its environment, user, working directory and shell). */
const RUN_ENVIRONMENT = new Set(['ENV', 'ARG', 'WORKDIR', 'USER', 'SHELL']);

const WHOLE_CONTEXT = 'FROM scratch\nCOPY . /\n';

/**
 * How a COPY source takes a path: the context root, the path the source names itself (a directory there is
 * the source directory), or a path below it.
 */
type Role = 'root' | 'self' | 'below';

/** What a builder makes of one kind of change at a path, given its role under a COPY source. */
export function effectOf(kind: ChangeKind, c: Pick<PathChange, 'before' | 'after'>, role: Role, a: AttributeEffects): Effect {
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
    case 'mode': {
      // Only a mode change reads the change's entries (a diff of column tables makes them when read).
      const entry = c.after ?? c.before;
      const before = c.before;
      if (entry?.type !== 'dir') {
        // Some builders do not hash some bits: a change of those bits alone does not count.
        if (before && entry && ((before.mode ^ entry.mode) & ~a.ignoredFileModeBits) === 0) return 'ignored';
        return a.fileMode;
      }
      return role === 'root' ? a.rootMode : role === 'self' ? a.sourceDirMode : a.subdirMode;
    }
  }
}

const NO_KINDS: readonly ChangeKind[] = Object.freeze([]);

/** The kinds of a change that bust a step taking its path in `role` (a shared empty list when none does). */
function bustingKinds(c: PathChange, role: Role, a: AttributeEffects): ChangeKind[] {
  let out: ChangeKind[] | undefined;
  for (const k of c.kinds) if (effectOf(k, c, role, a) === 'busts') (out ??= []).push(k);
  return out ?? (NO_KINDS as ChangeKind[]);
}

/** The ignored change of a change, with its entries unless `entries` is false (JudgeOptions.ignoredEntries). */
function ignoredChange(c: PathChange, reason: IgnoredChange['reason'], entries: boolean): IgnoredChange {
  if (!entries) return { path: c.path, kinds: c.kinds, reason };
  const { before, after } = c;
  // One shape for the common case (both sides), made at once.
  const ic: IgnoredChange = before && after ? { path: c.path, kinds: c.kinds, reason, before, after } : { path: c.path, kinds: c.kinds, reason };
  if (before && !after) ic.before = before;
  if (after && !before) ic.after = after;
  return ic;
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

/** Inputs of one step that take paths from one file tree (the build context or a named context). */
interface PathInputs {
  ins: Instruction;
  /** null: the build context; else the named context's name. */
  tree: string | null;
  /** The sources (COPY/ADD) or mount sources (RUN), with the input each belongs to. */
  sources: CopySource[];
  inputs: StepInput[];
  exclude: string[];
  /** What the `--exclude` patterns are matched against: each source (BuildKit) or the context root (Buildah 1.43). */
  excludeBase: 'source' | 'context';
  mounts: boolean;
  /** What the step's changed paths are (filled while judging). */
  changes: StepChange[];
  /** COPY/ADD: absolute destinations of the changed paths (what the stage then holds differently). */
  dests: string[];
}

/** A build's args as recorded or given; undefined when unknown. */
type Args = Record<string, BuildArgValue> | undefined;

function parseOptionsFor(args: Args): { buildArgs?: Record<string, string>; opaqueArgs?: string[] } {
  if (!args) return {};
  const { values, opaque } = clearValues(args);
  return { buildArgs: values, opaqueArgs: opaque };
}

/** Named contexts recorded with the two contexts (a name on one side only is empty on the other). */
function recordedNamedContexts(before: AnyContext, after: AnyContext): Record<string, NamedContextPair> {
  const out: Record<string, NamedContextPair> = {};
  const empty = (name: string, like: AnyContext): AnyContext => ({ ...like, name, ignore: null, dockerfiles: {}, entries: [], namedContexts: {} });
  for (const name of new Set([...Object.keys(before.namedContexts ?? {}), ...Object.keys(after.namedContexts ?? {})])) {
    if (name === RAW_CONTEXT) continue;
    const b = before.namedContexts?.[name];
    const a = after.namedContexts?.[name];
    out[name] = { before: b ?? empty(name, a!), after: a ?? empty(name, b!) };
  }
  return out;
}

/** The stages a build of `target` runs (all of them without a target). */
function stagesBuilt(model: DockerfileModel, target: string | undefined, profile: BuilderProfile, warnings: string[]): Set<number> {
  const all = new Set(model.stages.map((s) => s.index));
  if (target === undefined) return all;
  const t = /^\d+$/.test(target) ? Number(target) : model.stages.findIndex((s) => s.name === target.toLowerCase());
  if (t < 0 || t >= model.stages.length) {
    warnings.push(`target stage "${target}" not found in the Dockerfile: every stage is judged`);
    return all;
  }
  if (profile.stageSelection === 'up-to-target') return new Set(model.stages.filter((s) => s.index <= t).map((s) => s.index));
  const out = new Set<number>();
  const visit = (i: number) => {
    if (out.has(i)) return;
    out.add(i);
    for (const d of model.stages[i]!.dependsOn) visit(d);
  };
  visit(t);
  return out;
}

/** Collect every input of every step the build runs; the path inputs are judged against their trees next. */
function collectInputs(
  model: DockerfileModel,
  built: Set<number>,
  named: Record<string, NamedContextPair>,
  mountTree: string | null,
  profile: BuilderProfile,
): { pathInputs: PathInputs[]; inputsOf: Map<Instruction, StepInput[]> } {
  const pathInputs: PathInputs[] = [];
  const inputsOf = new Map<Instruction, StepInput[]>();
  const group = (ins: Instruction, tree: string | null, mounts: boolean, ex: { patterns: string[]; base: 'source' | 'context' }): PathInputs => {
    let g = pathInputs.find((p) => p.ins === ins && p.tree === tree && p.mounts === mounts);
    if (!g) pathInputs.push((g = { ins, tree, sources: [], inputs: [], exclude: ex.patterns, excludeBase: ex.base, mounts, changes: [], dests: [] }));
    return g;
  };
  const isNamed = (ref: string | undefined): ref is string => ref !== undefined && Object.prototype.hasOwnProperty.call(named, ref);
  for (const stage of model.stages) {
    if (!built.has(stage.index)) continue;
    for (const ins of stage.instructions) {
      const inputs: StepInput[] = [];
      inputsOf.set(ins, inputs);
      if (isCopy(ins)) {
        // A named context takes precedence over a stage or image of the same name (as with buildx --build-context).
        const ctxName = isNamed(ins.from) ? ins.from : undefined;
        if (ins.from === undefined || ctxName !== undefined) {
          for (const src of ins.sources) {
            if (src.kind === 'remote' || src.kind === 'heredoc') continue;
            const input: StepInput = ctxName
              ? { kind: 'named-context', name: src.raw, paths: [src.path], context: ctxName, changed: 'no' }
              : { kind: 'copy-source', name: src.raw, paths: [src.path], changed: 'no' };
            inputs.push(input);
            const g = group(ins, ctxName ?? null, false, excludesOf(ins, profile));
            g.sources.push(ctxName ? { ...src, kind: 'context' } : src);
            g.inputs.push(input);
          }
        } else if (ins.fromStage !== undefined) {
          const paths = ins.sources.filter((src) => src.kind === 'stage').map((src) => absolute('/', literalPrefix(src.path)));
          inputs.push({ kind: 'stage', name: stageLabel(model, ins.fromStage), stageIndex: ins.fromStage, paths, changed: 'no' });
        }
      }
      for (const m of ins.mounts ?? []) {
        if (m.type !== 'bind') continue;
        const ctxName = isNamed(m.from) ? m.from : undefined;
        if (m.from !== undefined && ctxName === undefined) {
          if (m.fromStage !== undefined) {
            inputs.push({
              kind: 'stage', name: stageLabel(model, m.fromStage), stageIndex: m.fromStage, paths: [absolute('/', m.source)],
              ...(m.target !== undefined ? { target: m.target } : {}), changed: 'no',
            });
          }
          continue; // an image: its reference is part of the instruction
        }
        const input: StepInput = {
          kind: 'bind-mount', name: m.spec, paths: [m.source],
          ...(ctxName ? { context: ctxName } : {}), ...(m.target !== undefined ? { target: m.target } : {}), changed: 'no',
        };
        inputs.push(input);
        const g = group(ins, ctxName ?? mountTree, true, { patterns: [], base: 'source' });
        g.sources.push(mountSource(m));
        g.inputs.push(input);
      }
    }
  }
  return { pathInputs, inputsOf };
}

function mountSource(m: RunMount): CopySource {
  return { raw: m.source, kind: 'context', path: m.source, wildcard: false, ...(m.unresolved ? { unresolved: m.unresolved } : {}) };
}

/**
 * Where a COPY/ADD puts a changed path of its source: a COPY writes at each destination exactly the content
 * of its source path. Wildcards and `--parents` give the whole destination (conservative).
 */
function destinationOf(ins: CopyInstruction, src: CopySource, p: string, coverage: 'self' | 'below', isDir: boolean, workdir: string): string {
  const dest = absolute(workdir, ins.dest);
  if (src.wildcard || ins.parents) return dest;
  if (coverage === 'below') return absolute(dest, src.path === '.' ? p : p.slice(src.path.length + 1));
  if (isDir) return dest;
  const intoDir = ins.dest.endsWith('/') || ins.sources.length > 1;
  return intoDir ? absolute(dest, p.slice(p.lastIndexOf('/') + 1)) : dest;
}

/** Judge every step of the Dockerfile for the change from `before` to `after`. */
export function judge(before: AnyContext, after: AnyContext, profile: BuilderProfile, options: JudgeOptions = {}): VerdictReport {
  const warnings: string[] = [];
  const key = options.dockerfile ?? after.dockerfile ?? null;
  const afterText = key !== null ? after.dockerfiles[key] : undefined;
  const beforeKey = key !== null && before.dockerfiles[key] !== undefined ? key : (before.dockerfile ?? null);
  const beforeText = beforeKey !== null ? before.dockerfiles[beforeKey] : undefined;
  const beforeArgs: Args = options.beforeInvocation?.buildArgs ?? before.invocation?.buildArgs ?? options.buildArgs;
  const afterArgs: Args = options.afterInvocation?.buildArgs ?? after.invocation?.buildArgs ?? options.buildArgs;
  const whole = afterText === undefined;
  const afterModel = parseDockerfile(afterText ?? WHOLE_CONTEXT, key ?? '(no Dockerfile)', parseOptionsFor(afterArgs));
  let beforeModel: DockerfileModel | undefined;
  if (whole) beforeModel = afterModel;
  else if (beforeText !== undefined) {
    try {
      beforeModel = parseDockerfile(beforeText, beforeKey!, parseOptionsFor(beforeArgs));
    } catch (e) {
      warnings.push(`the earlier Dockerfile ${beforeKey} cannot be read (${(e as Error).message}): every step counts as changed`);
    }
  } else if (key !== null) {
    warnings.push(`the earlier context has no Dockerfile ${key}: every step counts as changed`);
  }

  const target = options.target ?? options.afterInvocation?.target ?? after.invocation?.target;
  const built = whole ? new Set([0]) : stagesBuilt(afterModel, target, profile, warnings);
  const named = options.namedContexts ?? recordedNamedContexts(before, after);
  if (Object.keys(named).length > 0 && profile.namedContexts === 'rejected') {
    warnings.push(`${profile.id} takes no named build contexts (--build-context): the build uses images or stages of those names, or fails`);
  }
  if (profile.bindMounts === 'rejected' && afterModel.instructions.some((i) => i.mounts?.length)) {
    warnings.push(`${profile.id} rejects RUN --mount: the build fails`);
  }

  const rawMounts = profile.bindMounts === 'raw-context';
  const hasMounts = afterModel.instructions.some((i) => i.mounts?.some((m) => m.type === 'bind' && m.from === undefined));
  if (rawMounts && hasMounts && !options.rawContexts && after.ignore) {
    warnings.push(
      `${profile.id} bind-mounts the context as it is on disk: a change to a path ${after.ignore.file} excludes also rebuilds a RUN that mounts it (not seen here: compare two directories to see it)`,
    );
  }
  const mountTree = rawMounts && options.rawContexts ? RAW : null;
  const { pathInputs, inputsOf } = collectInputs(afterModel, built, named, mountTree, profile);
  const changes = changesBetween(before, after);
  const trees: { name: string | null; changes: PathChange[] }[] = [
    ...(mountTree ? [{ name: RAW, changes: changesBetween(options.rawContexts!.before, options.rawContexts!.after) }] : []),
    { name: null, changes },
    ...Object.entries(named).map(([name, pair]) => ({ name, changes: changesBetween(pair.before, pair.after) })),
  ];
  /** Paths of the build context that a mount of the raw context takes (so they are not "ignored"). */
  const takenRaw = new Set<string>();

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

  const ignored: IgnoredChange[] = [];
  const hazards: Hazard[] = [];
  const a = profile.attributes;
  for (const tree of trees) {
    const inputs = pathInputs.filter((p) => p.tree === tree.name);
    const main = tree.name === null;
    const ofContext = main || tree.name === RAW;
    for (const c of tree.changes) {
      // A change's entries are read only where they are needed (a diff of column tables makes them when read).
      const isDir = () => (c.after ?? c.before)?.type === 'dir';
      let covered = false;
      let busts = false;
      const hazardLines: number[] = [];
      const staleLines: number[] = [];
      let dirModeIgnored = false;
      for (const pi of inputs) {
        let role: Role | null = null;
        let first = -1;
        let firstCoverage: 'self' | 'below' = 'self';
        for (let k = 0; k < pi.sources.length; k++) {
          const cov = sourceCovers(pi.sources[k]!, c.path, pi.exclude, pi.excludeBase);
          if (!cov) continue;
          const r: Role = c.path === '.' ? 'root' : cov === 'below' ? 'below' : 'self';
          // The strongest role wins when several sources take the path ('below' counts the most attributes).
          if (role === null || r === 'below') role = r;
          if (first < 0) (first = k), (firstCoverage = cov);
        }
        if (role === null) continue;
        covered = true;
        const bust = bustingKinds(c, role, a);
        if (pi.mounts && profile.bindMounts !== 'context' && profile.bindMounts !== 'raw-context') {
          if (bust.length > 0 && profile.bindMounts === 'not-seen') staleLines.push(pi.ins.line);
          continue;
        }
        if (bust.length > 0) {
          busts = true;
          const sc: StepChange = { path: c.path, kinds: bust, ignoredKinds: bust.length === c.kinds.length ? [] : c.kinds.filter((k) => !bust.includes(k)) };
          if (c.before) sc.before = c.before;
          if (c.after) sc.after = c.after;
          const shift = ofContext ? shiftOf(c) : undefined;
          if (shift) sc.ignore = shift;
          const input = pi.inputs[first]!;
          sc.input = input.name;
          if (!ofContext) sc.context = tree.name!;
          if (tree.name === RAW) takenRaw.add(c.path);
          input.changed = 'yes';
          pi.changes.push(sc);
          if (isCopy(pi.ins)) {
            const wd = workdirBefore(afterModel.stages[pi.ins.stage]!.instructions, pi.ins);
            pi.dests.push(destinationOf(pi.ins, pi.sources[first]!, c.path, firstCoverage, isDir(), wd));
          }
        }
        hazardLines.push(pi.ins.line);
        if (c.kinds.includes('mode') && isDir() && effectOf('mode', c, role, a) === 'ignored') dirModeIgnored = true;
      }
      const where = ofContext ? c.path : `${tree.name}:${c.path}`;
      if (!busts && main && !takenRaw.has(c.path)) {
        const reason = covered ? 'attributes' : 'outside';
        const ic = ignoredChange(c, reason, options.ignoredEntries !== false);
        const shift = shiftOf(c);
        if (shift) ic.ignore = shift;
        ignored.push(ic);
      }
      if (staleLines.length > 0) {
        hazards.push({
          kind: 'bind-mount-not-seen',
          path: where,
          message: `stale: ${profile.id} does not see bind-mount changes: the RUN stays cached and runs with the old result`,
          lines: staleLines,
        });
      }
      if (profile.transferHazards && covered) hazards.push(...transferHazards(c, where, hazardLines, dirModeIgnored));
    }
  }

  // A change the client makes itself: the classic builder's .dockerignore rewrite for an outside Dockerfile.
  const ignoreEntry = entryAt(after, '.dockerignore');
  if (profile.rewritesIgnoreForOutsideDockerfile && key !== null && key.startsWith('/') && ignoreEntry) {
    for (const pi of pathInputs) {
      if (pi.tree !== null || pi.mounts) continue;
      const k = pi.sources.findIndex((src) => sourceCovers(src, '.dockerignore', pi.exclude, pi.excludeBase));
      if (k < 0) continue;
      pi.inputs[k]!.changed = 'yes';
      pi.changes.push({
        path: '.dockerignore',
        kinds: ['content'],
        ignoredKinds: [],
        after: ignoreEntry,
        input: pi.inputs[k]!.name,
        note: 'the docker CLI appends the name of its temporary copy of a Dockerfile outside the context to the .dockerignore it sends: new content on every build',
      });
    }
  }

  const gap = after.incomplete ?? before.incomplete;
  const steps = chainVerdicts(afterModel, beforeModel, profile, { pathInputs, inputsOf, built, beforeArgs, afterArgs }, whole, gap);
  if (whole) for (const s of steps) (s.line = 0), (s.endLine = 0), (s.text = 'COPY . / (no Dockerfile: the whole context)');
  const notBuilt = afterModel.stages
    .filter((s) => !built.has(s.index))
    .map((s) => ({ stage: stageLabel(afterModel, s.index), stageIndex: s.index, line: s.line }));
  return {
    builder: profile.id,
    dockerfile: whole ? null : key,
    ...(target !== undefined && !whole ? { target } : {}),
    steps,
    notBuilt,
    ignored,
    hazards,
    changedPaths: changes.length,
    warnings,
  };
}

/** BuildKit's incremental transfer: changes a builder that holds the previous context does not see. */
function transferHazards(c: PathChange, where: string, lines: number[], dirModeIgnored: boolean): Hazard[] {
  const out: Hazard[] = [];
  // The entries only of the changes that need them (a deferred change makes them when read).
  const entries = dirModeIgnored || c.kinds.includes('content');
  const b = entries ? c.before : undefined;
  const f = entries ? c.after : undefined;
  if (b && f && c.kinds.includes('content') && !b.changedWhileRead && !f.changedWhileRead && b.size === f.size && b.mtimeSec === f.mtimeSec && b.mtimeNsec === f.mtimeNsec) {
    out.push({
      kind: 'same-size-and-mtime',
      path: where,
      message: 'content changed but size and mtime did not: a builder that holds the previous context re-uses the old content (stale cache hit)',
      lines,
    });
  }
  if (c.kinds.length === 1 && c.kinds[0] === 'xattrs') {
    out.push({
      kind: 'xattrs-only',
      path: where,
      message: 'only extended attributes changed: a builder that holds the previous context does not re-send the file, so the change is not seen',
      lines,
    });
  }
  if (dirModeIgnored) {
    out.push({
      kind: 'directory-mode',
      path: where,
      message: `directory mode ${fmtMode(b)} → ${fmtMode(f)} is not seen while the builder holds the previous context, but counts once its context cache is pruned (moby/buildkit#7176)`,
      lines,
    });
  }
  return out;
}

function fmtMode(e: Entry | undefined): string {
  return e ? e.mode.toString(8).padStart(4, '0') : '?';
}

/** What a stage's steps wrote differently from the earlier build, in order: `certain` = different bytes there. */
interface Write {
  path: string;
  certain: boolean;
  line: number;
  /** What wrote it, for the note of a step that copies from there. */
  what: 'run' | 'copy' | 'base' | 'other';
}

/** Judge a `stage` input: the copied paths against what the stage wrote differently. */
function judgeStageInput(input: StepInput, writes: Write[]): void {
  const hits = writes.filter((w) => input.paths.some((p) => overlaps(p, w.path)));
  const certain = hits.find((w) => w.certain);
  if (certain) {
    input.changed = 'yes';
    input.note = `line ${certain.line} writes ${certain.path === '/' ? 'the copied paths' : certain.path} with new content`;
    return;
  }
  const maybe = hits[hits.length - 1];
  if (!maybe) return;
  input.changed = 'unknown';
  input.note =
    maybe.what === 'run'
      ? `depends on what RUN produces (line ${maybe.line}); cached if byte-identical`
      : maybe.what === 'base'
        ? `the stage's base changed (line ${maybe.line}): depends on what it holds; cached if byte-identical`
        : `depends on what line ${maybe.line} produces; cached if byte-identical`;
}

interface ChainInputs {
  pathInputs: PathInputs[];
  inputsOf: Map<Instruction, StepInput[]>;
  built: Set<number>;
  beforeArgs: Args;
  afterArgs: Args;
}

const PATH_CAUSE: Record<string, Cause> = { 'copy-source': 'sources', 'bind-mount': 'mount', 'named-context': 'named-context' };

/** A declared ARG's value in one build, as compared (hash for a secret-looking name) and as shown. */
function argValue(args: Args, key: string, declared: string | null | undefined): { cmp: string | null | undefined; shown: string | null | undefined } {
  if (args && Object.prototype.hasOwnProperty.call(args, key)) {
    const v = args[key]!;
    return { cmp: fingerprint(key, v), shown: typeof v === 'string' ? v : undefined };
  }
  return { cmp: fingerprint(key, declared), shown: declared };
}

/** The ARGs in force at an instruction of a stage: name → declaration (the last one before it). */
function argsInForce(list: Instruction[], at: Instruction | undefined): Map<string, { line: number; value: string | null | undefined }> {
  const out = new Map<string, { line: number; value: string | null | undefined }>();
  for (const i of list) {
    if (i === at) break;
    for (const d of i.argValues ?? []) out.set(d.key, { line: i.line, value: d.value });
  }
  return out;
}

/** The build-arg inputs of a RUN: every ARG in force, with its value in each build. */
function buildArgInputs(
  ins: Instruction,
  list: Instruction[],
  old: Instruction | undefined,
  oldList: Instruction[],
  args: { before: Args; after: Args },
): StepInput[] {
  const now = argsInForce(list, ins);
  const then = old ? argsInForce(oldList, old) : new Map<string, { line: number; value: string | null | undefined }>();
  const out: StepInput[] = [];
  for (const [name, decl] of now) {
    // An ARG the earlier file did not declare here takes, there, the value this declaration gives.
    const b = argValue(args.before, name, then.has(name) ? then.get(name)!.value : decl.value);
    const f = argValue(args.after, name, decl.value);
    const secret = secretLooking(name);
    const changed: StepInput['changed'] =
      b.cmp === f.cmp ? 'no' : b.cmp === undefined || f.cmp === undefined ? 'unknown' : 'yes';
    out.push({
      kind: 'build-arg', name, paths: [], line: decl.line,
      ...(secret ? { secret: true } : { before: b.shown ?? null, after: f.shown ?? null }),
      changed,
    });
  }
  return out;
}

function describeArg(i: StepInput): string {
  if (i.secret) return `build arg ${i.name} changed`;
  const v = (x: string | null | undefined) => (x === null || x === undefined ? '(unset)' : x);
  return `build arg ${i.name} changed: ${v(i.before)} → ${v(i.after)}`;
}

/**
 * Apply the chain rule stage by stage. Steps are compared position by position with the earlier Dockerfile
 * (a builder's cache is a chain: once a step differs, every later step has a new parent).
 */
function chainVerdicts(
  model: DockerfileModel,
  prev: DockerfileModel | undefined,
  profile: BuilderProfile,
  ci: ChainInputs,
  whole: boolean,
  gap: string | undefined,
): StepVerdict[] {
  const filesystemOnly = profile.chain === 'filesystem';
  const counts = (i: Instruction) => !filesystemOnly || FILESYSTEM_STEPS.has(i.keyword);
  const stageRebuilt: boolean[] = [];
  /**
   * What each stage's files hold differently (not only its layer chain). Builders hash the files a
   * `COPY --from` takes, so a stage rebuilt only because of a metadata step (classic: a LABEL), or whose
   * changed files lie elsewhere, gives the same bytes.
   */
  const stageWrites: Write[][] = [];
  const stageUnknown: boolean[] = [];
  const out: StepVerdict[] = [];
  const pathInputsOf = new Map<Instruction, PathInputs[]>();
  for (const pi of ci.pathInputs) pathInputsOf.set(pi.ins, [...(pathInputsOf.get(pi.ins) ?? []), pi]);

  model.stages.forEach((stage, s) => {
    if (!ci.built.has(s)) return;
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
    const writes: Write[] = fromChanged
      ? [{ path: '/', certain: false, line: stage.line, what: 'base' }]
      : stage.baseStage !== undefined ? [...(stageWrites[stage.baseStage] ?? [])] : [];
    let unknownAny = chain?.unknown ?? false;

    cur.forEach((ins, j) => {
      const workdir = workdirBefore(stage.instructions, ins);
      const o = old[j];
      const keyChanged = !o || effKey(stage, ins) !== effKey(before!, o);
      const pis = pathInputsOf.get(ins) ?? [];
      const changes = pis.flatMap((pi) => pi.changes);
      const inputs = [...(ci.inputsOf.get(ins) ?? [])];
      for (const input of inputs) if (input.kind === 'stage') judgeStageInput(input, stageWrites[input.stageIndex!] ?? []);
      if (ins.keyword === 'RUN') {
        inputs.push(...buildArgInputs(ins, stage.instructions, o, before?.instructions ?? [], { before: ci.beforeArgs, after: ci.afterArgs }));
      }
      const stageInput = inputs.find((i) => i.kind === 'stage' && i.changed === 'yes');
      const argInput = inputs.find((i) => i.kind === 'build-arg' && i.changed === 'yes');
      const maybeInput = inputs.find((i) => i.changed === 'unknown');
      let verdict: Verdict = 'cached';
      let cause: Cause = 'none';
      let causeLine: number | undefined;
      let note: string | undefined;
      const copy = isCopy(ins) ? ins : undefined;
      const rejected = copy ? rejectedFlag(copy, profile) : undefined;
      if (rejected) {
        verdict = 'unknown';
        cause = 'unsupported-flag';
        note = `builder ${profile.id} rejects ${rejected}: the build fails at this step`;
      } else if (ins.mounts?.length && profile.bindMounts === 'rejected') {
        verdict = 'unknown';
        cause = 'unsupported-flag';
        note = `builder ${profile.id} rejects RUN --mount: the build fails at this step`;
      } else if (keyChanged && !whole) {
        verdict = 'rebuilt';
        cause = 'instruction';
        note = o ? `was: ${o.original.trim()}` : 'new step';
      } else if (
        gap !== undefined &&
        ((copy && copy.sources.some((src) => src.kind === 'context') && copy.fromStage === undefined && copy.from === undefined) ||
          (ins.mounts ?? []).some((m) => m.type === 'bind' && m.from === undefined))
      ) {
        verdict = 'unknown';
        cause = 'incomplete-snapshot';
        note = gap;
      } else if (changes.length > 0) {
        const first = inputs.find((i) => PATH_CAUSE[i.kind] && i.changed === 'yes');
        cause = PATH_CAUSE[first?.kind ?? 'copy-source']!;
        // A file that changed while it was read has no known content: its content change alone is unknown.
        const unsure = (c: StepChange) => c.kinds.every((k) => k === 'content') && (c.before?.changedWhileRead || c.after?.changedWhileRead);
        if (changes.every(unsure)) {
          verdict = 'unknown';
          note = `${changes.map((c) => c.path).join(', ')} changed while read: content unknown`;
        } else {
          verdict = 'rebuilt';
        }
      } else if (stageInput) {
        verdict = 'rebuilt';
        cause = 'stage';
        causeLine = model.stages[stageInput.stageIndex!]!.line;
        note = stageInput.note;
      } else if (argInput) {
        verdict = 'rebuilt';
        cause = 'build-arg';
        causeLine = argInput.line;
        note = describeArg(argInput);
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
      } else if (maybeInput) {
        verdict = 'unknown';
        cause = maybeInput.kind === 'stage' ? 'stage' : maybeInput.kind === 'build-arg' ? 'build-arg' : 'unresolved';
        if (maybeInput.kind === 'stage') causeLine = model.stages[maybeInput.stageIndex!]!.line;
        else if (maybeInput.line !== undefined) causeLine = maybeInput.line;
        note = maybeInput.note ?? (maybeInput.kind === 'build-arg' ? `the value of build arg ${maybeInput.name} in one of the builds is unknown` : undefined);
      } else if (chain?.unknown) {
        verdict = 'unknown';
        cause = 'previous-step';
        causeLine = chain.line;
        note = 'follows a step that could not be judged';
      }
      if (verdict === 'rebuilt') {
        rebuiltAny = true;
        if (ins.keyword === 'RUN') writes.push({ path: '/', certain: false, line: ins.line, what: 'run' });
        else if (copy && (cause === 'sources' || cause === 'named-context')) {
          for (const d of pis.flatMap((pi) => pi.dests)) writes.push({ path: d, certain: true, line: ins.line, what: 'copy' });
        } else if (copy && (cause === 'stage' || cause === 'instruction')) {
          writes.push({ path: absolute(workdir, copy.dest), certain: true, line: ins.line, what: 'copy' });
        } else if (ins.keyword === 'WORKDIR' && cause === 'instruction') {
          writes.push({ path: absolute(workdir, ins.args[0] ?? '/'), certain: false, line: ins.line, what: 'other' });
        }
        chain = { line: ins.line, unknown: false };
      } else if (verdict === 'unknown') {
        unknownAny = true;
        if (ins.keyword === 'RUN') writes.push({ path: '/', certain: false, line: ins.line, what: 'run' });
        else if (copy) writes.push({ path: absolute(workdir, copy.dest), certain: false, line: ins.line, what: 'copy' });
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
        inputs,
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

/** Whether two absolute paths overlap (one contains the other). */
function overlaps(p: string, w: string): boolean {
  const within = (a: string, b: string) => b === '/' || a === b || a.startsWith(b + '/');
  return within(p, w) || within(w, p);
}

/** The part of a path before its first wildcard segment ("app/*.js" → "app"). */
function literalPrefix(p: string): string {
  const segs = p.split('/');
  const i = segs.findIndex((seg) => /[*?[]/.test(seg));
  return i < 0 ? p : segs.slice(0, i).join('/');
}
