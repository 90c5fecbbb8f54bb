/**
 * ctxdiff's verdicts against real builds, step by step: for every scenario and real builder, build, change,
 * build again, and compare which steps the builder rebuilt with what ctxdiff says from the two contexts.
 * `buildkit` (current BuildKit) must agree with `buildkit-0.8` wherever builder-facts.md records no
 * difference. Skipped with one line when no builder can be started (never under CI=true: realBuilders throws).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getProfile } from '../src/builders/profiles.js';
import type { Context } from '../src/core/types.js';
import { judge, type VerdictReport } from '../src/analysis/verdicts.js';
import { walkContext } from '../src/context/walk.js';
import { realBuilders, type RealBuilderId } from './support/realbuilders.js';
import { runScenario } from './support/scenario-runner.js';
import { scenarios, type Scenario } from './support/scenarios.js';

const { available, reason } = await realBuilders();
const skipLine = `real-builder verdict tests skipped: ${reason ?? 'no builder'}`;
if (available.length === 0) console.warn(skipLine);

/** The ctxdiff profile that models each real builder. */
const PROFILE_OF: Record<RealBuilderId, string> = { 'buildkit-0.8': 'buildkit-0.8', classic: 'classic', buildah: 'buildah' };

/** Compare per Dockerfile line: "line:cached|rebuilt". */
function outcome(steps: { line: number; cached: boolean }[]): string[] {
  return steps.map((s) => `${s.line}:${s.cached ? 'cached' : 'rebuilt'}`);
}

/**
 * ctxdiff's verdicts for the lines the builder reported. A `rebuilt` verdict whose step carries a BuildKit
 * transfer hazard (a change the builder does not see while it holds the previous context) is what a fresh
 * builder would do; a builder that holds the previous context reports it cached, so it counts as cached here.
 */
function predicted(report: VerdictReport, lines: number[]): string[] {
  const hazardLines = new Set(report.hazards.filter((h) => h.kind === 'same-size-and-mtime').flatMap((h) => h.lines));
  return lines.map((line) => {
    const step = report.steps.find((s) => s.line === line);
    if (!step) return `${line}:not judged`;
    const onlyHazard = step.verdict === 'rebuilt' && step.cause === 'sources' && hazardLines.has(line) &&
      step.changes.every((c) => c.kinds.every((k) => k === 'content'));
    return `${line}:${step.verdict === 'rebuilt' && !onlyHazard ? 'rebuilt' : step.verdict === 'unknown' ? 'unknown' : 'cached'}`;
  });
}

const cases = scenarios.flatMap((s: Scenario) => (s.builders ?? available).filter((b) => available.includes(b)).map((b) => [s.name, b, s] as const));

describe.skipIf(available.length === 0)(available.length === 0 ? skipLine : 'verdicts match real builds', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'ctxdiff-verdicts-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it.each(cases)('%s on %s', { timeout: 600_000 }, async (_name, builder, scenario) => {
    const profile = PROFILE_OF[builder];
    const walk = (dir: string, builderId: string) =>
      walkContext(dir, { profile: getProfile(builderId), ...(scenario.dockerfilePath ? { dockerfile: path.join(dir, scenario.dockerfilePath) } : {}) });
    let before: Context | undefined;
    let after: Context | undefined;
    let beforeCurrent: Context | undefined;
    let afterCurrent: Context | undefined;
    const run = await runScenario(scenario, builder, root, {
      beforeChange: async (dir) => {
        before = await walk(dir, profile);
        if (builder === 'buildkit-0.8') beforeCurrent = await walk(dir, 'buildkit');
      },
      afterChange: async (dir) => {
        after = await walk(dir, profile);
        if (builder === 'buildkit-0.8') afterCurrent = await walk(dir, 'buildkit');
      },
    });
    expect(run.anomalies.filter((a) => a.startsWith('first build'))).toEqual([]);
    // The unchanged rebuild is a prediction too: nothing changed, so only builder quirks can rebuild.
    const unchanged = judge(before!, before!, getProfile(profile));
    expect(predicted(unchanged, run.unchanged.map((s) => s.line)), `${scenario.name}: unchanged rebuild`).toEqual(outcome(run.unchanged));
    const report = judge(before!, after!, getProfile(profile));
    const real = run.changed.filter((s) => report.steps.some((v) => v.line === s.line) || /^(COPY|ADD)\b/i.test(s.instruction));
    expect(predicted(report, real.map((s) => s.line)), `${scenario.name} (${scenario.facts})`).toEqual(outcome(real));
    if (builder === 'buildkit-0.8') {
      const current = judge(beforeCurrent!, afterCurrent!, getProfile('buildkit'));
      expect(current.steps.map((s) => `${s.line}:${s.verdict}`)).toEqual(report.steps.map((s) => `${s.line}:${s.verdict}`));
    }
  });
});
