/**
 * Records fixtures/buildlogs/: runs the real builds of explain-scenario.ts on every builder that can be used
 * here and saves the Dockerfile (one for all) and, per builder, each build's log as the builder printed it, the snapshot taken
 * at each build and the build args it was given. The unit tests of the log formats and of `explain` read
 * them (test/buildlog-fixtures.test.ts, test/explain.test.ts).
 *   npx tsx test/support/record-buildlogs.ts [builder…]      (after npm run build; builders must be running)
 */
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BUILD_NAMES, DOCKERFILE, explainBuilders, runExplainScenario, type ExplainBuilder } from './explain-scenario.js';
import { REPO_ROOT } from './realbuilders.js';

const OUT = path.join(REPO_ROOT, 'fixtures', 'buildlogs');

const { available, reason } = await explainBuilders();
const wanted = process.argv.slice(2) as ExplainBuilder[];
const builders = wanted.length ? wanted.filter((b) => available.includes(b)) : available;
if (reason) console.error(`record-buildlogs: ${reason}`);
await mkdir(OUT, { recursive: true });
await writeFile(path.join(OUT, 'Dockerfile'), DOCKERFILE);
for (const builder of builders) {
  const work = await mkdtemp(path.join(os.tmpdir(), 'ctxdiff-record-'));
  try {
    const run = await runExplainScenario(builder, work);
    const dir = path.join(OUT, builder);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const meta: Record<string, unknown> = { builder, profile: run.profile, builds: {} };
    for (const name of BUILD_NAMES) {
      const b = run.builds[name];
      await writeFile(path.join(dir, `${name}.log`), b.log);
      await copyFile(b.snapshot, path.join(dir, `${name}.ctxsnap`));
      (meta.builds as Record<string, unknown>)[name] = { buildArgs: b.buildArgs };
    }
    await writeFile(path.join(dir, 'builds.json'), JSON.stringify(meta, null, 2) + '\n');
    console.error(`record-buildlogs: ${builder}: ${BUILD_NAMES.length} builds saved to ${path.relative(REPO_ROOT, dir)}`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
