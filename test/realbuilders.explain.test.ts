/**
 * `ctxdiff explain` on real builds: per builder, the sequence of explain-scenario.ts (prune, build, change,
 * build; prune between builds; another image re-tagged under the base image's name; a changed build arg; a
 * content change that keeps size and mtime; a rebuilt stage that writes the same bytes),
 * then the real logs fed to the CLI and each step's verdict, prediction and cause held to
 * explain-expectations.ts. Builders: BuildKit 0.8, classic and Buildah 1.28 (the harness), and the current
 * BuildKit through `docker buildx build --progress=rawjson` (Docker 28, containerd image store).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILD_NAMES, ctxdiff, explainBuilders, runExplainScenario, type ExplainBuilder, type ExplainRun } from './support/explain-scenario.js';
import { EXPLAIN_CASES, exitCodeOf, predictionOf, rowsOf } from './support/explain-expectations.js';

const { available, reason } = await explainBuilders();
if (reason) console.warn(`realbuilders.explain: ${reason}`);
const ALL: ExplainBuilder[] = ['buildkit-0.8', 'classic-20.10', 'buildah-1.28', 'buildkit-28-c8d'];

describe.each(ALL)('explain on real %s builds', (builder) => {
  const usable = available.includes(builder);
  let work: string;
  let run: ExplainRun;
  beforeAll(async () => {
    if (!usable) return;
    work = await mkdtemp(path.join(os.tmpdir(), 'ctxdiff-rb-explain-'));
    run = await runExplainScenario(builder, work);
    for (const b of Object.values(run.builds)) await writeFile(path.join(work, `${b.name}.log`), b.log);
  });
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it.skipIf(!usable).each(EXPLAIN_CASES.map((c) => [c.title, c] as const))('%s', (_title, c) => {
    const args = [
      'explain',
      ...c.logs.map((l) => path.join(work, `${l}.log`)),
      '--since',
      run.builds[c.since].snapshot,
      '--context',
      run.contextDir,
      '--builder',
      run.profile,
      ...c.extra,
      '--json',
      '--exit-code',
    ];
    // The last build's context is given as the directory itself (as it is left), the others as snapshots.
    if (c.context !== BUILD_NAMES[BUILD_NAMES.length - 1]) args.splice(args.indexOf('--context') + 1, 1, run.builds[c.context].snapshot);
    const r = ctxdiff(args);
    expect(r.stderr).toBe('');
    const doc = JSON.parse(r.stdout);
    const p = predictionOf(run.builds[c.since].snapshot, run.builds[c.context].snapshot, run.profile, c.extra);
    expect(rowsOf(doc)).toEqual(c.rows(builder, p));
    expect(doc.findings.map((f: { kind: string }) => f.kind)).toEqual(c.findings(builder));
    if (c.hazards) expect(p.hazards.map((h) => h.kind)).toEqual(c.hazards(builder));
    for (const [line, text] of c.messages?.(builder, p) ?? []) expect(doc.steps.find((s: { line: number }) => s.line === line).message).toContain(text);
    expect(doc.unplaced).toEqual([]);
    expect(r.code).toBe(exitCodeOf(c, builder, p));
  });
});
