/**
 * Reading real builders' logs back to Dockerfile lines, for the harness: the product's log parsers
 * (src/buildlog/) and its Dockerfile parser, with the harness's strictness on top: a step that cannot be
 * placed throws, so a log format change cannot pass silently.
 */
import { parseDockerfile as parseModel } from '../../src/dockerfile/parser.js';
import type { DockerfileModel } from '../../src/dockerfile/model.js';
import { placeSteps } from '../../src/buildlog/match.js';
import { parseBuildah, parseBuildkitPlain, parseBuildkitRawjson, parseClassic, type ParsedLog } from '../../src/buildlog/parse.js';

export type { ParsedLog } from '../../src/buildlog/parse.js';

/** A Dockerfile step with its cache outcome. */
export interface StepCache {
  /** 1-based line of the instruction's first line in the Dockerfile. */
  line: number;
  /** The instruction as written (continuations joined, whitespace collapsed). */
  instruction: string;
  cached: boolean;
}

export const parseBuildkitLog = parseBuildkitPlain;
export const parseRawjsonLog = parseBuildkitRawjson;
export const parseClassicLog = parseClassic;
export const parseBuildahLog = parseBuildah;

/** The product's model of a Dockerfile. */
export function parseDockerfile(source: string, file = 'Dockerfile'): DockerfileModel {
  return parseModel(source, file);
}

/**
 * The cache outcome of every step the log reports, in Dockerfile order, `FROM` left out (not a cache
 * decision). Throws when a step cannot be placed.
 */
export function mapStepsToDockerfile(model: DockerfileModel, log: ParsedLog): StepCache[] {
  const { placed, unplaced } = placeSteps(model, log);
  if (unplaced.length > 0) {
    const s = unplaced[0]!;
    throw new Error(`cannot map builder step "${s.text}" (stage ${String(s.stage)}) to the Dockerfile`);
  }
  return placed
    .filter((p) => p.instruction.keyword !== 'FROM')
    .map((p) => ({ line: p.instruction.line, instruction: p.instruction.original.trim().replace(/\s+/g, ' '), cached: p.logged.outcome === 'cached' }));
}
