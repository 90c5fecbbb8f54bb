/**
 * `ctxdiff why`: for any path (existing or not), would the builder send it, which ignore rule decides that,
 * and which COPY/ADD steps of the Dockerfile take it. Pure rule evaluation, like `git check-ignore -v`, but
 * following the builder's walker: a path below an excluded directory the walker never enters is not sent,
 * whatever its own rules say.
 */
import fs from 'node:fs';
import path from 'node:path';
import { IoError, UsageError } from '../core/errors.js';
import { fsPath } from '../core/names.js';
import { isCopy, type CopyInstruction, type DockerfileModel } from '../dockerfile/model.js';
import { parseDockerfile } from '../dockerfile/parser.js';
import { sourceCovers } from '../dockerfile/path-patterns.js';
import { readDockerfiles } from '../dockerfile/locate.js';
import { createIgnoreMatcher, type IgnoreMatcher, type IgnoreRule, type MatchResult } from '../ignore/matcher.js';
import { locateIgnoreFile, parseIgnoreFile } from '../ignore/ignore-file.js';
import { goClean } from '../ignore/go-strings.js';
import type { BuilderProfile } from '../builders/profiles.js';
import type { Context, IgnoreFileInfo } from '../core/types.js';

/** A COPY/ADD step whose context sources cover a path, or a RUN whose bind mount does. */
export interface CoveringStep {
  keyword: 'COPY' | 'ADD' | 'RUN';
  /** 1-based first line of the instruction in the Dockerfile. */
  line: number;
  /** Stage name, or its index when unnamed. */
  stage: string;
  stageIndex: number;
  /** The instruction as the builder reads it (continuations joined). */
  text: string;
  /** The source (as written) that covers the path; for a RUN, the mount's source. */
  source: string;
  /** RUN: the `--mount` value that mounts the path. */
  mount?: string;
  /** `self`: the path is the source (or matches its wildcard); `below`: it lies inside a source directory. */
  coverage: 'self' | 'below';
}

export interface WhyResult {
  /** The path as asked. */
  given: string;
  /** The path relative to the context root, cleaned (no leading "./", no trailing "/"). */
  path: string;
  /** Would the builder send this path? */
  included: boolean;
  /**
   * The rule that decides the answer: for a path below a directory the walker never enters, that directory's
   * rule; otherwise the last rule matching the path (or an ancestor). null when no rule matches.
   */
  rule: IgnoreRule | null;
  /** The excluded ancestor directory the walker does not enter, when there is one (the path is then never walked). */
  notWalkedBelow: string | null;
  /** When {@link notWalkedBelow} is set: the verdict of the path's own rules, had the walker got there. */
  own: { excluded: boolean; rule: IgnoreRule | null } | null;
  /**
   * For an excluded path that the walker still enters (a directory an exception may re-include something
   * below): true. Such a directory is sent only as the parent of what is re-included below it.
   */
  descended: boolean;
  /** COPY/ADD steps (from the build context) whose sources cover the path, in Dockerfile order. */
  steps: CoveringStep[];
}

export interface WhyReport {
  /** Builder profile id. */
  builder: string;
  /** The ignore file in force (relative to the context root), or null. */
  ignoreFile: string | null;
  /** The Dockerfile read (its key in the context), or null. */
  dockerfile: string | null;
  results: WhyResult[];
}

/** Everything `why` needs: the matcher in force (null = no ignore file) and the Dockerfile model. */
export interface WhyInput {
  builder: string;
  ignoreFile: string | null;
  matcher: IgnoreMatcher | null;
  dockerfile: DockerfileModel | null;
}

/**
 * Make a path asked about relative to the context root: absolute paths must lie inside `root`, relative
 * ones are taken relative to the root. Throws UsageError for the root itself or a path outside.
 */
export function contextRelative(given: string, root: string): string {
  let p = given.split(path.sep).join('/');
  if (path.isAbsolute(given)) {
    const rel = path.relative(path.resolve(root), given);
    if (rel.startsWith('..') || path.isAbsolute(rel)) throw new UsageError(`${given}: outside the build context ${root}`);
    p = rel.split(path.sep).join('/');
  }
  const clean = goClean(p);
  if (clean === '.' || clean === '') throw new UsageError(`${given}: the context root itself is always sent`);
  if (clean === '..' || clean.startsWith('../')) throw new UsageError(`${given}: outside the build context`);
  return clean;
}

/**
 * Every COPY/ADD step from the build context (not `--from`) whose sources cover `p`, and every RUN that
 * bind-mounts it from the context (`--mount=type=bind` without `from=`).
 */
export function stepsCovering(model: DockerfileModel | null, p: string): CoveringStep[] {
  if (!model) return [];
  const out: CoveringStep[] = [];
  for (const stage of model.stages) {
    for (const ins of stage.instructions) {
      for (const m of ins.mounts ?? []) {
        if (m.type !== 'bind' || m.from !== undefined) continue;
        const coverage = sourceCovers({ raw: m.source, kind: 'context', path: m.source, wildcard: false, ...(m.unresolved ? { unresolved: m.unresolved } : {}) }, p);
        if (!coverage) continue;
        out.push({
          keyword: 'RUN', line: ins.line, stage: stage.name ?? String(stage.index), stageIndex: stage.index,
          text: ins.original, source: m.source, mount: m.spec, coverage,
        });
        break;
      }
      if (!isCopy(ins) || ins.from !== undefined) continue;
      const hit = firstCovering(ins, p);
      if (!hit) continue;
      out.push({
        keyword: ins.keyword,
        line: ins.line,
        stage: stage.name ?? String(stage.index),
        stageIndex: stage.index,
        text: ins.original,
        source: hit.source,
        coverage: hit.coverage,
      });
    }
  }
  return out;
}

function firstCovering(ins: CopyInstruction, p: string): { source: string; coverage: 'self' | 'below' } | null {
  for (const s of ins.sources) {
    const c = sourceCovers(s, p, ins.exclude);
    if (c) return { source: s.raw, coverage: c };
  }
  return null;
}

const NOTHING: MatchResult = { excluded: false, rule: null };

/**
 * Follow the walker from the root down to `p`: returns where it stops (an excluded directory it does not
 * enter) or the verdict of `p` itself, computed as the walker computes it (matchInWalk with parent results).
 */
export function walkVerdict(
  matcher: IgnoreMatcher | null,
  p: string,
): { result: MatchResult; notWalkedBelow: string | null; blockedBy: MatchResult | null } {
  if (!matcher) return { result: NOTHING, notWalkedBelow: null, blockedBy: null };
  const parts = p.split('/');
  let parent: MatchResult | undefined;
  let blocked: { dir: string; result: MatchResult } | null = null;
  for (let i = 1; i < parts.length; i++) {
    const dir = parts.slice(0, i).join('/');
    const r = matcher.matchInWalk(dir, parent);
    if (r.excluded && !matcher.mustDescend(dir) && !blocked) blocked = { dir, result: r };
    parent = r;
  }
  const result = matcher.matchInWalk(p, parent);
  return blocked
    ? { result, notWalkedBelow: blocked.dir, blockedBy: blocked.result }
    : { result, notWalkedBelow: null, blockedBy: null };
}

/** Explain one path (already made context-relative with {@link contextRelative}). */
export function explainPath(input: WhyInput, given: string, p: string): WhyResult {
  const { result, notWalkedBelow, blockedBy } = walkVerdict(input.matcher, p);
  const steps = stepsCovering(input.dockerfile, p);
  if (notWalkedBelow !== null) {
    return {
      given,
      path: p,
      included: false,
      rule: blockedBy!.rule,
      notWalkedBelow,
      own: { excluded: result.excluded, rule: result.rule },
      descended: false,
      steps,
    };
  }
  const descended = result.excluded && input.matcher !== null && input.matcher.mustDescend(p);
  return { given, path: p, included: !result.excluded, rule: result.rule, notWalkedBelow: null, own: null, descended, steps };
}

/** Explain each path (given relative to the context root, or absolute inside `root`). */
export function explain(input: WhyInput, paths: readonly string[], root: string): WhyReport {
  if (paths.length === 0) throw new UsageError('why needs at least one path');
  return {
    builder: input.builder,
    ignoreFile: input.ignoreFile,
    dockerfile: input.dockerfile?.file ?? null,
    results: paths.map((given) => explainPath(input, given, contextRelative(given, root))),
  };
}

/** Parse a Dockerfile text into the model `why`, `du` and `doctor` read (null when there is none). */
export function readModel(dockerfiles: Record<string, string>, chosen: string | undefined): DockerfileModel | null {
  if (chosen === undefined) return null;
  const text = dockerfiles[chosen];
  return text === undefined ? null : parseDockerfile(text, chosen);
}

/** The matcher for an ignore file under a builder profile (its reader and matcher variant), or null. */
export function matcherFor(info: IgnoreFileInfo | null, profile: BuilderProfile): IgnoreMatcher | null {
  if (!info) return null;
  const variant = profile.matcher;
  return createIgnoreMatcher(parseIgnoreFile(info.text, info.file, variant), variant);
}

/**
 * Inputs for a context directory, without walking it: the ignore file the builder would use (next to the
 * `-f` Dockerfile, else at the root, per the profile) and the Dockerfile. `dockerfile` is as given with -f
 * (resolved like docker build: relative to the working directory).
 */
export function whyInputForDirectory(dir: string, profile: BuilderProfile, dockerfile: string | undefined): WhyInput {
  const root = path.resolve(dir);
  const info = locateIgnoreFile(root, dockerfile, profile);
  const dfs = readDockerfiles(root, dockerfile);
  return { builder: profile.id, ignoreFile: info?.file ?? null, matcher: matcherFor(info, profile), dockerfile: readModel(dfs.texts, dfs.chosen) };
}

/**
 * The asked paths of a context directory that exist but cannot be read (the builder could not send them):
 * one message each. `why` answers from the rules, so this is a warning, not an error.
 */
export function unreadableAsked(dir: string, paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    const abs = fsPath(path.join(path.resolve(dir), p));
    let st: fs.Stats | undefined;
    try {
      st = fs.lstatSync(abs, { throwIfNoEntry: false });
    } catch (e) {
      out.push(`${p}: ${IoError.from(p, e).message.slice(p.length + 2)} (could not be looked at)`);
      continue;
    }
    if (st === undefined || !(st.isFile() || st.isDirectory())) continue;
    try {
      fs.accessSync(abs, st.isDirectory() ? fs.constants.R_OK | fs.constants.X_OK : fs.constants.R_OK);
    } catch (e) {
      out.push(`${IoError.from(p, e).message} (the builder cannot read it either)`);
    }
  }
  return out;
}

/** Inputs for a loaded context (snapshot or tar): the ignore file and Dockerfile it carries. */
export function whyInputForContext(context: Context, profile: BuilderProfile): WhyInput {
  return {
    builder: profile.id,
    ignoreFile: context.ignore?.file ?? null,
    matcher: matcherFor(context.ignore, profile),
    dockerfile: readModel(context.dockerfiles, context.dockerfile),
  };
}
