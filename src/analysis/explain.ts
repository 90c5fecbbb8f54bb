/**
 * Explaining a real build: what the builder did per step (from its log), held against what ctxdiff predicts
 * from the context change (verdicts.ts), and, where they disagree, the cause the evidence shows:
 * - rebuilt but predicted cached: the cause is outside the context. The FROM image differs between the two
 *   logs (base image changed); a build arg differs (recorded on both sides, or seen in the RUN text BuildKit
 *   prints with its args substituted); nothing at all was cached (the builder had no cache: fresh runner,
 *   pruned cache, another builder instance, cache import that did not apply); else the builder no longer had
 *   the step's cache, and the report says so.
 * - cached but predicted rebuilt: a `COPY --from` whose files came out byte-identical, BuildKit's stale
 *   context transfer (a hazard of verdicts.ts), a step after one that stayed cached, or else ctxdiff's error.
 * Returns data only; reporters render it.
 */
import type { DockerfileModel, Instruction } from '../dockerfile/model.js';
import { parseDockerfile } from '../dockerfile/parser.js';
import { normalizeInstruction, placeSteps, type PlacedStep } from '../buildlog/match.js';
import type { LogFormat, LogLine, LoggedStep, ParsedLog, StepOutcome } from '../buildlog/parse.js';
import type { Cause as PredictionCause, StepChange, StepVerdict, VerdictReport } from './verdicts.js';

/** What the builder did; `not-in-log` when the log does not show the step. */
export type Actual = StepOutcome | 'not-in-log';
/** What ctxdiff predicts; `none` when no earlier context was given. */
export type Predicted = 'cached' | 'rebuilt' | 'unknown' | 'none';
/**
 * `agree`; `unexpected-rebuild`: rebuilt, predicted cached; `unexpected-hit`: cached, predicted rebuilt;
 * `unpredicted`: no prediction to hold it against; `unknown`: the log or the prediction cannot say;
 * `failed`: the step failed; `not-in-log`: the log does not show the step.
 */
export type ExplainVerdict = 'agree' | 'unexpected-rebuild' | 'unexpected-hit' | 'unpredicted' | 'unknown' | 'failed' | 'not-in-log';
/** Causes outside the context, of a rebuild ctxdiff did not predict. */
export type OutsideCause = 'no-cache' | 'base-image' | 'build-arg' | 'cache-lost';
/** Causes of a cache hit where ctxdiff predicted a rebuild. */
export type HitCause = 'identical-output' | 'stale-transfer' | 'follows-cached' | 'ctxdiff-error';
export type ExplainCause = PredictionCause | OutsideCause | HitCause;

export interface ExplainedStep {
  stage: string;
  stageIndex: number;
  line: number;
  instruction: string;
  /** The instruction as written (continuations joined). */
  text: string;
  actual: Actual;
  /** The step as the builder printed it, and where. */
  logged?: LogLine;
  predicted: Predicted;
  /** The prediction's own cause (verdicts.ts), when there is a prediction. */
  predictedCause?: PredictionCause;
  verdict: ExplainVerdict;
  cause: ExplainCause;
  /** The earlier step (or the stage's FROM) the cause comes from. */
  causeLine?: number;
  /** One sentence: why. */
  message: string;
  /** Log lines that show it. */
  evidence: Evidence[];
  /** For a rebuild the context explains: the changes that bust the step (as `diff` gives them). */
  changes: StepChange[];
}

/** A line of the explained build's log, or of the earlier build's (`log: 'earlier'`). */
export type Evidence = LogLine & { log?: 'earlier' };

const earlier = (l: LogLine): Evidence => ({ ...l, log: 'earlier' });

export type FindingKind = 'no-cache' | 'cache-import' | 'base-image' | 'build-arg' | 'printed-text';

/** A fact about the whole build, with the log lines that show it. */
export interface Finding {
  kind: FindingKind;
  message: string;
  stage?: string;
  /** For base-image: the images; for build-arg and printed-text: the values / texts. */
  before?: string;
  after?: string;
  /** For build-arg: the arg's name; for printed-text: the Dockerfile line. */
  name?: string;
  line?: number;
  evidence: Evidence[];
}

export interface UnplacedStep {
  /** Which log: `build` (the explained one) or `earlier`. */
  log: 'build' | 'earlier';
  line: number;
  text: string;
  stage?: string;
}

export interface ExplainReport {
  format: LogFormat;
  earlierFormat?: LogFormat;
  builder: string;
  dockerfile: string | null;
  /** Whether a prediction (an earlier context) was given. */
  predicted: boolean;
  steps: ExplainedStep[];
  findings: Finding[];
  unplaced: UnplacedStep[];
  warnings: string[];
  /** Steps where the build and the prediction disagree (unexpected rebuilds and hits). */
  disagreements: number;
}

export interface ExplainInput {
  /** The Dockerfile of the explained build, and its name. */
  dockerfileText: string;
  dockerfile: string | null;
  log: ParsedLog;
  /** The build before it: its log, and its Dockerfile when it differs. */
  earlier?: { log: ParsedLog; dockerfileText?: string };
  /** `judge(before, after)`: the prediction from the context change. */
  prediction?: VerdictReport;
  /** Build args of each build, where known. */
  buildArgs?: { before?: Record<string, string>; after?: Record<string, string> };
  builder: string;
  /** Warnings from the caller (e.g. build args not recorded). */
  warnings?: string[];
}

/** Instructions BuildKit prints as steps (the others are metadata, not vertices). */
const BUILDKIT_STEPS = new Set(['COPY', 'ADD', 'RUN', 'WORKDIR']);

const NO_CACHE =
  'the builder had no cache for this build (fresh runner, pruned cache, another builder instance, or cache import did not apply)';

function stageLabel(model: DockerfileModel, index: number): string {
  return model.stages[index]?.name ?? String(index);
}

/** The value each declared ARG takes in a build with `args` (explicit value, else the ARG's default). */
function argValues(model: DockerfileModel, args: Record<string, string>): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  for (const ins of model.instructions) {
    if (ins.keyword !== 'ARG') continue;
    for (const p of ins.pairs ?? []) {
      const v = Object.prototype.hasOwnProperty.call(args, p.key) ? args[p.key] : p.value;
      if (!out.has(p.key) || out.get(p.key) === undefined) out.set(p.key, v);
    }
  }
  return out;
}

/** Per stage, the line from which a changed build arg rebuilds the steps (the first RUN after its ARG). */
function argAffected(model: DockerfileModel, changed: Set<string>): Map<number, { from: number; name: string }> {
  const out = new Map<number, { from: number; name: string }>();
  for (const stage of model.stages) {
    let pending: string | undefined;
    for (const ins of stage.instructions) {
      if (ins.keyword === 'ARG') {
        const hit = (ins.pairs ?? []).find((p) => changed.has(p.key));
        if (hit && pending === undefined) pending = hit.key;
      } else if (ins.keyword === 'RUN' && pending !== undefined) {
        out.set(stage.index, { from: ins.line, name: pending });
        break;
      }
    }
  }
  return out;
}

interface Origin {
  cause: ExplainCause;
  line: number;
  message: string;
  evidence: Evidence[];
}

/** Hold a build's log against the prediction and name the causes. */
export function explainBuild(input: ExplainInput): ExplainReport {
  const warnings = [...(input.warnings ?? [])];
  const file = input.dockerfile ?? 'Dockerfile';
  const afterArgs = input.buildArgs?.after;
  const model = parseDockerfile(input.dockerfileText, file, afterArgs ? { buildArgs: afterArgs } : {});
  const now = placeSteps(model, input.log);
  const unplaced: UnplacedStep[] = now.unplaced.map((s) => unplacedOf('build', s));

  let before: { model: DockerfileModel; placed: PlacedStep[] } | undefined;
  if (input.earlier) {
    const text = input.earlier.dockerfileText ?? input.dockerfileText;
    const beforeArgs = input.buildArgs?.before;
    const m = parseDockerfile(text, file, beforeArgs ? { buildArgs: beforeArgs } : {});
    const p = placeSteps(m, input.earlier.log);
    unplaced.push(...p.unplaced.map((s) => unplacedOf('earlier', s)));
    before = { model: m, placed: p.placed };
  }

  const findings: Finding[] = [];
  const byLine = new Map<number, PlacedStep>();
  for (const p of now.placed) if (!byLine.has(p.instruction.line)) byLine.set(p.instruction.line, p);

  // Base images per stage, as each log shows them.
  const imageOf = (placed: PlacedStep[]) => {
    const m = new Map<number, { image?: string; at: LogLine; text: string }>();
    for (const p of placed) if (p.instruction.keyword === 'FROM') m.set(p.stageIndex, { image: p.logged.image, at: p.logged.imageAt ?? p.logged.at, text: p.logged.text });
    return m;
  };
  const imagesNow = imageOf(now.placed);
  const imagesBefore = before ? imageOf(before.placed) : new Map<number, { image?: string; at: LogLine; text: string }>();
  const baseChanged = new Map<number, Finding>();
  for (const [s, cur] of imagesNow) {
    const old = imagesBefore.get(s);
    if (!old?.image || !cur.image || old.image === cur.image) continue;
    const f: Finding = {
      kind: 'base-image',
      stage: stageLabel(model, s),
      message: `base image changed: ${old.image} → ${cur.image}`,
      before: old.image,
      after: cur.image,
      evidence: [earlier(old.at), cur.at],
    };
    baseChanged.set(s, f);
    findings.push(f);
  }

  // Build args: recorded on both sides, or seen in the printed RUN text of the two logs.
  const changedArgs = new Set<string>();
  if (input.buildArgs?.before && afterArgs) {
    const b = argValues(model, input.buildArgs.before);
    const a = argValues(model, afterArgs);
    for (const [name, value] of a) {
      if (b.get(name) === value) continue;
      changedArgs.add(name);
      findings.push({
        kind: 'build-arg',
        name,
        message: `build arg ${name} changed: ${b.get(name) ?? '(unset)'} → ${value ?? '(unset)'}`,
        before: b.get(name) ?? '',
        after: value ?? '',
        evidence: [],
      });
    }
  }
  const affected = argAffected(model, changedArgs);
  const printedDiff = new Map<number, Finding>();
  if (before) {
    const old = new Map<number, PlacedStep>();
    for (const p of before.placed) if (!old.has(p.instruction.line)) old.set(p.instruction.line, p);
    for (const p of now.placed) {
      const o = old.get(p.instruction.line);
      if (!o || p.instruction.keyword === 'FROM' || normalizeInstruction(o.logged.text) === normalizeInstruction(p.logged.text)) continue;
      if (normalizeInstruction(o.instruction.original) !== normalizeInstruction(p.instruction.original)) continue;
      const f: Finding = {
        kind: 'printed-text',
        line: p.instruction.line,
        message: `line ${p.instruction.line} ran with different values (a build arg or variable changed): ${o.logged.text} → ${p.logged.text}`,
        before: o.logged.text,
        after: p.logged.text,
        evidence: [earlier(o.logged.at), p.logged.at],
      };
      printedDiff.set(p.instruction.line, f);
      findings.push(f);
    }
  }

  // Nothing cached at all: the builder had no cache.
  const ran = now.placed.filter((p) => p.instruction.keyword !== 'FROM');
  const noCache = ran.length > 0 && !ran.some((p) => p.logged.outcome === 'cached') && ran.some((p) => p.logged.outcome === 'rebuilt');
  if (noCache) {
    const first = ran.find((p) => p.logged.outcome === 'rebuilt')!;
    findings.push({
      kind: 'no-cache',
      message: `${NO_CACHE}: no step is CACHED in the log, the first step after FROM (line ${first.instruction.line}) already ran`,
      evidence: [first.logged.at, ...input.log.cacheImport],
    });
  }
  if (input.log.cacheImport.length > 0) {
    findings.push({
      kind: 'cache-import',
      message: `the log reports a cache import (--cache-from)${input.log.cacheImport.some((l) => /error|fail|denied|refused|not found/i.test(l.text)) ? ' that failed' : ''}`,
      evidence: input.log.cacheImport,
    });
  }

  // The steps to explain: the prediction's, else those the log format shows; plus any the log shows.
  const predictedSteps = new Map<number, StepVerdict>((input.prediction?.steps ?? []).map((s) => [s.line, s]));
  const buildkit = input.log.format.startsWith('buildkit');
  const listed: Instruction[] = [];
  for (const stage of model.stages) {
    for (const ins of stage.instructions) {
      if (predictedSteps.has(ins.line) || byLine.has(ins.line) || (!input.prediction && (!buildkit || BUILDKIT_STEPS.has(ins.keyword)))) listed.push(ins);
    }
  }

  const origins = new Map<number, Origin>();
  const steps: ExplainedStep[] = [];
  const explainedByLine = new Map<number, ExplainedStep>();
  for (const ins of listed) {
    const s = ins.stage;
    const stage = model.stages[s]!;
    const placed = byLine.get(ins.line);
    const pv = predictedSteps.get(ins.line);
    const actual: Actual = placed ? placed.logged.outcome : 'not-in-log';
    const predicted: Predicted = pv ? pv.verdict : 'none';
    const step: ExplainedStep = {
      stage: stageLabel(model, s),
      stageIndex: s,
      line: ins.line,
      instruction: ins.keyword,
      text: ins.original.trim(),
      actual,
      ...(placed ? { logged: placed.logged.at } : {}),
      predicted,
      ...(pv ? { predictedCause: pv.cause } : {}),
      verdict: 'agree',
      cause: 'none',
      message: '',
      evidence: placed ? [placed.logged.at] : [],
      changes: pv?.changes ?? [],
    };
    const predictionSays = () => (pv ? `${pv.cause === 'none' ? '' : `${pv.cause}${pv.causeLine !== undefined ? ` (line ${pv.causeLine})` : ''}`}` : '');
    if (actual === 'not-in-log') {
      step.verdict = 'not-in-log';
      step.message = buildkit
        ? 'not in the log: the target does not need this stage, or the builder does not print this instruction'
        : 'not in the log: the target does not need this stage, or the build stopped before it';
    } else if (actual === 'failed') {
      step.verdict = 'failed';
      step.message = 'the step failed';
      step.evidence.push(...input.log.errors);
    } else if (actual === 'unknown') {
      step.verdict = 'unknown';
      step.message = 'the log does not say whether the builder ran it or took it from its cache';
    } else if (predicted === 'unknown') {
      step.verdict = 'unknown';
      step.cause = pv!.cause;
      step.message = `${actual}; ctxdiff cannot predict it: ${pv!.note ?? pv!.cause}`;
    } else if (actual === predicted) {
      step.verdict = 'agree';
      step.cause = pv!.cause;
      if (pv!.causeLine !== undefined) step.causeLine = pv!.causeLine;
      step.message = actual === 'cached' ? 'cached, as predicted' : `rebuilt, as predicted: ${predictionSays()}`;
      if (actual === 'rebuilt' && noCache) step.message += `; also, ${NO_CACHE}`;
    } else if (actual === 'rebuilt') {
      step.verdict = predicted === 'cached' ? 'unexpected-rebuild' : 'unpredicted';
      const origin = inheritedOrigin(stage, ins, origins) ?? freshOrigin();
      if (origin) {
        step.cause = origin.cause;
        if (origin.line !== ins.line) step.causeLine = origin.line;
        step.message = origin.line === ins.line ? origin.message : `follows line ${origin.line}: ${origin.message}`;
        step.evidence.push(...origin.evidence.filter((e) => !step.evidence.includes(e)));
        if (!origins.has(s)) origins.set(s, origin);
      } else {
        step.message = 'rebuilt; no prediction to hold it against (give --since with the earlier build\'s context)';
      }
    } else {
      // cached
      if (predicted === 'none') {
        step.verdict = 'unpredicted';
        step.message = 'cached';
      } else {
        step.verdict = 'unexpected-hit';
        const hazard = input.prediction?.hazards.find((h) => h.lines.includes(ins.line));
        const prev = pv!.causeLine !== undefined ? explainedByLine.get(pv!.causeLine) : undefined;
        // The stage copied from, as this build ran it: a `COPY --from` whose stage the builder kept cached
        // follows that, it is not a case of identical output.
        const fromStage = (ins as { fromStage?: number }).fromStage;
        const stageSteps = fromStage === undefined ? [] : steps.filter((x) => x.stageIndex === fromStage && x.actual !== 'not-in-log');
        const stageKept = stageSteps.length > 0 && stageSteps.every((x) => x.actual === 'cached');
        if (pv!.cause === 'stage' && stageKept) {
          const last = [...stageSteps].reverse().find((x) => x.predicted === 'rebuilt') ?? stageSteps[stageSteps.length - 1]!;
          step.cause = 'follows-cached';
          step.causeLine = last.line;
          step.message = `predicted to follow stage ${last.stage}, whose steps the builder kept cached (up to line ${last.line}${rootOf(last)})`;
        } else if (pv!.cause === 'stage') {
          step.cause = 'identical-output';
          step.causeLine = pv!.causeLine!;
          step.message = 'cached although its stage was rebuilt: the files it copies came out byte-identical (the builder hashes them)';
        } else if (hazard) {
          step.cause = 'stale-transfer';
          step.message = `cached although ${hazard.path} changed: ${hazard.message}; the image may hold the OLD content`;
        } else if (pv!.cause === 'previous-step' && prev && prev.actual !== 'rebuilt') {
          step.cause = 'follows-cached';
          step.causeLine = prev.line;
          step.message = `predicted to follow line ${prev.line}, which the builder kept cached${rootOf(prev)}`;
        } else {
          step.cause = 'ctxdiff-error';
          step.message = `ctxdiff predicted a rebuild (${predictionSays()}) that the builder did not do: either the builder still held this step from an older build with the same inputs (a change made and undone), or ctxdiff is wrong here: please report it`;
        }
      }
    }
    steps.push(step);
    explainedByLine.set(ins.line, step);

    /** When a run of kept-cached steps starts with a stale context transfer, a clause that says where. */
    function rootOf(from: ExplainedStep): string {
      let at: ExplainedStep | undefined = from;
      const seen = new Set<number>();
      while (at && at.cause === 'follows-cached' && at.causeLine !== undefined && !seen.has(at.line)) {
        seen.add(at.line);
        at = explainedByLine.get(at.causeLine);
      }
      if (at?.cause !== 'stale-transfer') return '';
      return at === from ? ': a stale context transfer' : `, after the stale context transfer at line ${at.line}`;
    }

    function freshOrigin(): Origin | undefined {
      const base = baseChanged.get(s);
      if (base) return { cause: 'base-image', line: ins.line, message: base.message, evidence: base.evidence };
      const printed = printedDiff.get(ins.line);
      const arg = affected.get(s);
      if (arg && ins.line >= arg.from) {
        const f = findings.find((x) => x.kind === 'build-arg' && x.name === arg.name)!;
        return { cause: 'build-arg', line: arg.from, message: f.message, evidence: printedDiff.get(arg.from)?.evidence ?? [] };
      }
      if (printed) return { cause: 'build-arg', line: ins.line, message: printed.message, evidence: printed.evidence };
      if (noCache) {
        const f = findings.find((x) => x.kind === 'no-cache')!;
        return { cause: 'no-cache', line: ins.line, message: NO_CACHE, evidence: f.evidence };
      }
      if (predicted === 'none') return undefined;
      const firstOfStage = ran.find((p) => p.stageIndex === s);
      const from = imagesNow.get(s);
      if (firstOfStage?.instruction === ins && stage.baseStage === undefined && !/^scratch$/i.test(stage.base)) {
        return {
          cause: 'cache-lost',
          line: ins.line,
          message: `the stage was rebuilt from its first step on: the base image behind ${stage.base} may have changed (the log shows no digest for it${from?.image ? ` other than ${from.image}` : ''}), or the builder lost this stage's cache`,
          evidence: from ? [from.at] : [],
        };
      }
      return {
        cause: 'cache-lost',
        line: ins.line,
        message: 'the builder no longer had this step in its cache (pruned or evicted), or an input ctxdiff cannot see changed',
        evidence: [],
      };
    }
  }

  if (input.prediction) warnings.push(...input.prediction.warnings);
  const disagreements = steps.filter((s) => s.verdict === 'unexpected-rebuild' || s.verdict === 'unexpected-hit').length;
  return {
    format: input.log.format,
    ...(input.earlier ? { earlierFormat: input.earlier.log.format } : {}),
    builder: input.builder,
    dockerfile: input.dockerfile,
    predicted: input.prediction !== undefined,
    steps,
    findings,
    unplaced,
    warnings,
    disagreements,
  };
}

/** The origin of an unexpected rebuild earlier in the stage, or in a stage this step builds on or copies from. */
function inheritedOrigin(stage: DockerfileModel['stages'][number], ins: Instruction, origins: Map<number, Origin>): Origin | undefined {
  const own = origins.get(stage.index);
  if (own) return own;
  if (stage.baseStage !== undefined && origins.has(stage.baseStage)) return origins.get(stage.baseStage);
  const from = (ins as { fromStage?: number }).fromStage;
  if (from !== undefined && origins.has(from)) return origins.get(from);
  return undefined;
}

function unplacedOf(log: 'build' | 'earlier', s: LoggedStep): UnplacedStep {
  return { log, line: s.at.line, text: s.text, ...(s.stage !== undefined ? { stage: String(s.stage) } : {}) };
}
