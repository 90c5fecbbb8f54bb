/**
 * ctxdiff's verdicts for the inputs of a step's cache key (bind mounts, build args, COPY --from, --target)
 * against real builds, step by step, on every real builder the harness has: the snapshot is taken with the
 * first build's args and diffed with the second's. Skipped with one line when no builder can be started
 * (never under CI=true: realBuilders throws).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { profileOf, realBuilders } from './support/realbuilders.js';
import { inputScenarios, runInputScenario } from './support/scenarios-inputs.js';

const { available, reason } = await realBuilders();
const skipLine = `real-builder input tests skipped: ${reason ?? 'no builder'}`;
if (available.length === 0) console.warn(skipLine);

const cases = inputScenarios.flatMap((s) => available.map((b) => [s.name, b, s] as const));

describe.skipIf(available.length === 0)(available.length === 0 ? skipLine : 'cache-key inputs match real builds', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'ctxdiff-inputs-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it.each(cases)('%s on %s', { timeout: 600_000 }, async (_name, builder, scenario) => {
    const profile = profileOf(builder);
    const run = await runInputScenario(scenario, builder, profile.id, root);
    if (scenario.mounts && profile.bindMounts === 'rejected') {
      // The profile says the builder rejects RUN --mount: the build must fail.
      expect(run.rejected, 'the build should fail').toMatch(/mount/i);
      return;
    }
    if (scenario.contexts && profile.namedContexts === 'rejected') {
      // The profile says the builder takes no named build contexts: the build must fail.
      expect(run.rejected, 'the build should fail').toMatch(/build-context/i);
      return;
    }
    expect(run.rejected).toBeUndefined();
    expect(run.first.filter((s) => s.cached).map((s) => s.line), 'first build hits').toEqual([]);
    expect(run.unchanged.filter((s) => !s.cached).map((s) => s.line), 'unchanged rebuild misses').toEqual([]);
    const judged = new Map(run.diff.steps.map((s) => [s.line, s]));
    const unknown = new Set(scenario.unknown ?? []);
    const lines = run.changed.filter((s) => judged.has(s.line)).map((s) => s.line);
    const real = run.changed.filter((s) => judged.has(s.line)).map((s) => `${s.line}:${unknown.has(s.line) ? 'unknown' : s.cached ? 'cached' : 'rebuilt'}`);
    const predicted = lines.map((l) => `${l}:${judged.get(l)!.verdict}`);
    expect(predicted, `${scenario.name} (${scenario.facts}); real: ${run.changed.map((s) => `${s.line}:${s.cached ? 'cached' : 'rebuilt'}`).join(' ')}`).toEqual(real);
    // Every step the builder ran is judged (stages the target does not need are neither built nor judged).
    const notJudged = run.changed.filter((s) => !judged.has(s.line) && /^(COPY|ADD|RUN)\b/i.test(s.instruction)).map((s) => s.line);
    expect(notJudged, 'steps the builder ran that ctxdiff did not judge').toEqual([]);
  });
});
