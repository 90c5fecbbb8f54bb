/**
 * Placing a log's steps on the lines of the Dockerfile (as the product's parser models it): by the text of
 * the instruction as the builder prints it, in order within the stage the log names. Builders print the
 * logical line (continuations joined, whitespace kept) with the keyword upper-cased; BuildKit substitutes
 * build args into a RUN and prints a FROM with the resolved image name. A step that cannot be placed is
 * returned as unplaced, never dropped.
 */
import type { DockerfileModel, Instruction, Stage } from '../dockerfile/model.js';
import type { LoggedStep, ParsedLog } from './parse.js';

export interface PlacedStep {
  /** The Dockerfile instruction (a stage's FROM included). */
  instruction: Instruction;
  stageIndex: number;
  logged: LoggedStep;
}

export interface PlacedLog {
  placed: PlacedStep[];
  /** Steps of the log that match no instruction of the Dockerfile. */
  unplaced: LoggedStep[];
}

/** Collapse whitespace runs and upper-case the keyword, so printed and written instructions compare equal. */
export function normalizeInstruction(text: string): string {
  const collapsed = text.trim().replace(/\s+/g, ' ');
  const space = collapsed.indexOf(' ');
  return space < 0 ? collapsed.toUpperCase() : collapsed.slice(0, space).toUpperCase() + collapsed.slice(space);
}

/** A pattern for the instruction with each variable reference (`$V`, `${V…}`) standing for any text. */
function substitutedPattern(text: string): RegExp | undefined {
  const parts = text.split(/\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*/);
  if (parts.length === 1) return undefined;
  return new RegExp(`^${parts.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*?')}$`, 's');
}

function resolveStage(model: DockerfileModel, ref: LoggedStep['stage']): Stage | undefined {
  if (typeof ref === 'number') return model.stages[ref];
  if (ref === undefined) return model.stages.length === 1 ? model.stages[0] : undefined;
  const byName = model.stages.find((s) => s.name === ref.toLowerCase());
  if (byName) return byName;
  const m = /^stage-(\d+)$/.exec(ref);
  return m ? model.stages[Number(m[1])] : undefined;
}

const keywordOf = (text: string) => text.split(' ', 1)[0]!;

/**
 * Place every step of the log: within its stage (or, when the log does not say and the file has several
 * stages, anywhere after the last placed step), the first instruction from the stage's cursor with the same
 * text; else with the same text once variables are substituted; else, for a FROM, the stage's FROM.
 */
export function placeSteps(model: DockerfileModel, log: ParsedLog): PlacedLog {
  const pools = new Map<Stage | undefined, { ins: Instruction; stageIndex: number }[]>();
  const poolOf = (stage: Stage | undefined) => {
    let pool = pools.get(stage);
    if (!pool) {
      const stages = stage ? [stage] : model.stages;
      pool = stages.flatMap((s) => [s.from, ...s.instructions].map((ins) => ({ ins, stageIndex: s.index })));
      pools.set(stage, pool);
    }
    return pool;
  };
  const cursors = new Map<Stage | undefined, number>();
  const withStage = log.steps.map((step, i) => ({ step, i, stage: resolveStage(model, step.stage) }));
  // Interleaved logs: stage by stage, in the order the steps are numbered.
  withStage.sort((a, b) => (a.stage?.index ?? -1) - (b.stage?.index ?? -1) || a.step.ordinal - b.step.ordinal || a.i - b.i);
  const placed: PlacedStep[] = [];
  const unplaced: LoggedStep[] = [];
  for (const { step, stage } of withStage) {
    if (stage === undefined && step.stage !== undefined) {
      unplaced.push(step);
      continue;
    }
    const pool = poolOf(stage);
    const from = cursors.get(stage) ?? 0;
    const text = normalizeInstruction(step.text);
    const keyword = keywordOf(text);
    const norm = (ins: Instruction) => normalizeInstruction(ins.original);
    let at = pool.findIndex((p, k) => k >= from && norm(p.ins) === text);
    if (at < 0) at = pool.findIndex((p, k) => k >= from && p.ins.keyword === keyword && (substitutedPattern(norm(p.ins))?.test(text) ?? false));
    if (at < 0 && keyword === 'FROM') at = pool.findIndex((p, k) => k >= from && p.ins.keyword === 'FROM');
    if (at < 0) {
      unplaced.push(step);
      continue;
    }
    cursors.set(stage, at + 1);
    placed.push({ instruction: pool[at]!.ins, stageIndex: pool[at]!.stageIndex, logged: step });
  }
  placed.sort((a, b) => a.instruction.line - b.instruction.line);
  unplaced.sort((a, b) => a.at.line - b.at.line);
  return { placed, unplaced };
}
