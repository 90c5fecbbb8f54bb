/**
 * ctxdiff's verdicts against real builds, step by step: for every scenario and real builder (both
 * generations, and Docker 28 with the containerd image store where the scenario asks for it), build, change,
 * build again, and compare which steps the builder rebuilt with what ctxdiff says from the two contexts under
 * the profile that models that builder. A builder that refuses the Dockerfile (a flag it does not know) must
 * get `unknown` with "builder X rejects --flag". Every case is also judged from two snapshots taken with the
 * default profile and read under the builder's profile: one snapshot serves every builder, so the verdicts
 * must be the same as from the directories. Cases run concurrently: the harness serializes those that
 * share a builder's state and lets the others build at the same time.
 * Skipped with one line when no builder can be started (never under CI=true: realBuilders throws).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuilderProfile } from '../src/builders/profiles.js';
import type { Context } from '../src/core/types.js';
import { judge, type VerdictReport } from '../src/analysis/verdicts.js';
import { walkContext } from '../src/context/walk.js';
import { defaultProfile } from '../src/builders/profiles.js';
import { loadContext } from '../src/sources/index.js';
import { snapshotDirectory } from '../src/snapshot/writer.js';
import { ALL_REAL_BUILDERS, profileOf, realBuilders, REAL_BUILDER_TEST_TIMEOUT_MS } from './support/realbuilders.js';
import { runScenario, writeScenarioContext } from './support/scenario-runner.js';
import { expectedEffect, scenarios, type Scenario } from './support/scenarios.js';

const { available, reason } = await realBuilders();
const skipLine = `real-builder verdict tests skipped: ${reason ?? 'no builder'}`;
if (available.length === 0) console.warn(skipLine);

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

const dockerfileOf = (dir: string, scenario: Scenario) =>
  scenario.dockerfilePath ? { dockerfile: path.join(dir, scenario.dockerfilePath) } : {};

const walk = (dir: string, scenario: Scenario, profile: BuilderProfile) => walkContext(dir, { profile, ...dockerfileOf(dir, scenario) });

/** A snapshot of `dir` taken with the default profile, read back under `profile`. */
async function viaDefaultSnapshot(dir: string, scenario: Scenario, profile: BuilderProfile, file: string): Promise<Context> {
  await snapshotDirectory(dir, file, { profile: defaultProfile(), ...dockerfileOf(dir, scenario) });
  const { context, warnings } = await loadContext(file, { profile });
  expect(warnings).toEqual([]);
  return context;
}

const cases = scenarios.flatMap((s: Scenario) =>
  (s.builders ?? ALL_REAL_BUILDERS).filter((b) => available.includes(b)).map((b) => [s.name, b, s] as const),
);

describe.skipIf(available.length === 0)(available.length === 0 ? skipLine : 'verdicts match real builds', { concurrent: true }, () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'ctxdiff-verdicts-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it.each(cases)('%s on %s', { timeout: REAL_BUILDER_TEST_TIMEOUT_MS }, async (_name, builder, scenario) => {
    const profile = profileOf(builder);
    let before: Context | undefined;
    let after: Context | undefined;
    let snapBefore: Context | undefined;
    let snapAfter: Context | undefined;
    const snaps = await mkdtemp(path.join(root, 'snapshots-'));
    const run = await runScenario(scenario, builder, root, {
      beforeChange: async (dir) => {
        before = await walk(dir, scenario, profile);
        snapBefore = await viaDefaultSnapshot(dir, scenario, profile, path.join(snaps, 'before.ctxsnap'));
      },
      afterChange: async (dir) => {
        after = await walk(dir, scenario, profile);
        snapAfter = await viaDefaultSnapshot(dir, scenario, profile, path.join(snaps, 'after.ctxsnap'));
      },
    });
    const expected = expectedEffect(scenario, builder);
    if (run.effect === 'rejected') {
      // The builder refuses the Dockerfile: ctxdiff must not give a verdict for the step.
      expect(expected, `${scenario.name}: ${builder} refused the build: ${run.rejection}`).toBe('rejected');
      const dir = await mkdtemp(path.join(root, `${scenario.name}-${builder}-rejected-`));
      try {
        await writeScenarioContext(scenario, dir);
        const ctx = await walk(dir, scenario, profile);
        const step = judge(ctx, ctx, profile).steps.find((s) => s.line === scenario.step);
        expect([step?.verdict, step?.note]).toEqual(['unknown', expect.stringMatching(new RegExp(`^builder ${profile.id} rejects --`))]);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
      return;
    }
    expect(expected, `${scenario.name}: facts say ${builder} rejects it, but it built`).not.toBe('rejected');
    expect(run.anomalies.filter((a) => a.startsWith('first build'))).toEqual([]);
    // The unchanged rebuild is a prediction too: nothing changed, so only builder quirks can rebuild.
    const unchanged = judge(before!, before!, profile);
    expect(predicted(unchanged, run.unchanged.map((s) => s.line)), `${scenario.name}: unchanged rebuild`).toEqual(outcome(run.unchanged));
    const report = judge(before!, after!, profile);
    const real = run.changed.filter((s) => report.steps.some((v) => v.line === s.line) || /^(COPY|ADD)\b/i.test(s.instruction));
    expect(predicted(report, real.map((s) => s.line)), `${scenario.name} (${scenario.facts})`).toEqual(outcome(real));
    // One default snapshot serves every builder: the same verdicts from snapshots as from the directories.
    const fromSnapshots = judge(snapBefore!, snapAfter!, profile);
    const verdicts = (r: VerdictReport) => r.steps.map((s) => `${s.line}:${s.verdict}:${s.cause}`);
    expect(verdicts(fromSnapshots), `${scenario.name}: from default snapshots`).toEqual(verdicts(report));
  });
});
