/**
 * Run a cache scenario against a real builder: write the context, prune the builder's cache, build twice
 * (the second build must be all cache hits), apply the change, build again, and report the steps.
 */
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { materialize } from './fixture.js';
import { baseImage, build, exclusive, pruneCache, type RealBuilderId, type StepCache } from './realbuilders.js';
import type { Effect, Scenario } from './scenarios.js';

export interface ScenarioRun {
  scenario: Scenario;
  builder: RealBuilderId;
  /** Steps of the first build after pruning (all should be misses). */
  first: StepCache[];
  /** Steps of the unchanged rebuild (all should be hits). */
  unchanged: StepCache[];
  /** Steps of the build after the change. */
  changed: StepCache[];
  /**
   * What happened to the scenario's step after the change; `missing` if the builder did not report it;
   * `rejected` if the builder refused the first build (then `rejection` says why, and no build has steps).
   */
  effect: Effect | 'missing' | 'rejected';
  /** The builder's error, first lines, when it refused the Dockerfile. */
  rejection?: string;
  /** Anything that makes the run doubtful: hits on the first build, misses on the unchanged rebuild. */
  anomalies: string[];
}

export interface ScenarioHooks {
  /** Called with the context directory after the unchanged rebuild, before the change. */
  beforeChange?: (contextDir: string) => void | Promise<void>;
  /** Called with the context directory after the change, before the last build. */
  afterChange?: (contextDir: string) => void | Promise<void>;
}

const BASE_TOKEN = '@BASE@';

/** Replace `@BASE@` in the Dockerfile by the builder's base image, if it occurs. */
async function resolveBase(dockerfile: string, builder: RealBuilderId): Promise<void> {
  const text = await readFile(dockerfile, 'utf8');
  if (text.includes(BASE_TOKEN)) await writeFile(dockerfile, text.replaceAll(BASE_TOKEN, await baseImage(builder)));
}

/** Write the scenario's context (files, Dockerfile, .dockerignore) into `contextDir` (created, mode 0755). */
export async function writeScenarioContext(scenario: Scenario, contextDir: string): Promise<string> {
  await mkdir(contextDir, { recursive: true });
  await chmod(contextDir, 0o755);
  const dockerfile = path.join(contextDir, scenario.dockerfilePath ?? 'Dockerfile');
  await mkdir(path.dirname(dockerfile), { recursive: true });
  await writeFile(dockerfile, scenario.dockerfile);
  if (scenario.ignore !== undefined) await writeFile(path.join(contextDir, '.dockerignore'), scenario.ignore);
  await materialize(scenario.files, contextDir);
  return dockerfile;
}

/**
 * Run `scenario` on `builder` in a fresh directory below `workRoot` (removed afterwards). Holds the builder's
 * lock for the whole run so no other build or prune on its state interleaves. A builder that refuses the
 * first build gives the effect `rejected`; a later build that fails is an error.
 */
export async function runScenario(
  scenario: Scenario,
  builder: RealBuilderId,
  workRoot: string,
  hooks: ScenarioHooks = {},
): Promise<ScenarioRun> {
  const dir = await mkdtemp(path.join(workRoot, `${scenario.name}-${builder}-`));
  const contextDir = path.join(dir, 'ctx');
  try {
    const dockerfile = await writeScenarioContext(scenario, contextDir);
    await resolveBase(dockerfile, builder);
    const opts = { dockerfile: scenario.dockerfilePath, noDashF: scenario.noDashF ?? false };
    return await exclusive(builder, async () => {
      await pruneCache(builder);
      let first: StepCache[];
      try {
        first = await build(builder, contextDir, opts);
      } catch (error) {
        const rejection = error instanceof Error ? error.message : String(error);
        return { scenario, builder, first: [], unchanged: [], changed: [], effect: 'rejected' as const, rejection, anomalies: [] };
      }
      const unchanged = await build(builder, contextDir, opts);
      await hooks.beforeChange?.(contextDir);
      await scenario.mutate(contextDir);
      await resolveBase(dockerfile, builder);
      await hooks.afterChange?.(contextDir);
      const changed = await build(builder, contextDir, opts);

      const anomalies: string[] = [];
      const hitsFirst = first.filter((s) => s.cached).map((s) => s.line);
      if (hitsFirst.length > 0) anomalies.push(`first build hit the cache at line(s) ${hitsFirst.join(', ')}`);
      const missesUnchanged = unchanged.filter((s) => !s.cached).map((s) => s.line);
      if (missesUnchanged.length > 0) anomalies.push(`unchanged rebuild missed at line(s) ${missesUnchanged.join(', ')}`);
      const step = changed.find((s) => s.line === scenario.step);
      const effect: ScenarioRun['effect'] = step === undefined ? 'missing' : step.cached ? 'ignored' : 'busts';
      return { scenario, builder, first, unchanged, changed, effect, anomalies };
    });
  } finally {
    await chmod(contextDir, 0o755).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}
