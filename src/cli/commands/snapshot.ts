/** `ctxdiff snapshot`: walk a context and save what the builder would receive. */
import path from 'node:path';
import { addCommon, emit, load, loadReporters, profileOf, warn, type Command, type CommonOptions } from '../common.js';
import { pendingTotal, progressReporter } from '../progress.js';
import type { BuilderProfile } from '../../builders/profiles.js';
import { RAW_CONTEXT, type Context, type IgnoreFileInfo } from '../../core/types.js';
import { applyBuildDefinition, INVOCATION_OPTIONS, invocationOf, loadNamedContexts, rawContextFor, type InvocationOptions } from '../invocation.js';
import type { SnapshotStatCache } from '../../snapshot/format.js';

export function registerSnapshot(program: Command): void {
  const cmd = addCommon(
    program
      .command('snapshot')
      .description('walk a build context and save a snapshot of everything the builder would receive')
      .argument('[context]', 'context directory or tar archive (- = stdin); default: . or the --bake/--compose context')
      .requiredOption('-o, --output <file>', 'snapshot file to write (atomically)')
      .option('--since <snapshot>', 're-use the hashes of files this earlier snapshot of the context shows unchanged')
      .option('--no-cache', 'read every file (with --since: re-use no hash)'),
  );
  for (const [flags, description] of INVOCATION_OPTIONS) cmd.option(flags, description);
  cmd.action(async (specArg: string | undefined, o: CommonOptions & InvocationOptions & { output: string; since?: string }) => {
    const spec = specArg ?? (await applyBuildDefinition(o)) ?? '.';
    if (specArg !== undefined) await applyBuildDefinition(o);
    const profile = profileOf(o);
    // Refuse a non-file output before the walk, not after it (it is checked again when written).
    const { checkOutputTarget } = await import('../../core/safe-output.js');
    checkOutputTarget(o.output);
    // How the build is invoked, recorded with the snapshot: `diff` judges each snapshot side with its own.
    const invocation = invocationOf(o);
    const namedContexts = await loadNamedContexts(invocation.contexts, o, profile);
    // A builder that bind-mounts the context as it is on disk: record that too, for the mounts.
    const raw = await rawContextFor(spec, o, profile, true);
    const named = { ...(namedContexts ?? {}), ...(raw ? { [RAW_CONTEXT]: raw } : {}) };
    const record: Pick<Context, 'invocation' | 'namedContexts'> = {
      ...(Object.keys(invocation).length > 0 ? { invocation } : {}),
      ...(Object.keys(named).length > 0 ? { namedContexts: named } : {}),
    };
    const { dockerfileFor, resolveSource } = await import('../../sources/index.js');
    if (resolveSource(spec).kind === 'directory') {
      void loadReporters();
      const { snapshotDirectory } = await import('../../snapshot/writer.js');
      // The earlier snapshot's entries are decoded while the walk starts (they are needed once it is done).
      let since: SnapshotStatCache | undefined;
      if (o.since !== undefined) {
        const { openSnapshotColumns, statCacheOf } = await import('../../snapshot/format.js');
        since = statCacheOf(await openSnapshotColumns(o.since));
        // Not used (--no-cache): still checked whole, before anything is written.
        if (o.cache === false) {
          since.begin?.();
          await since.entries;
        }
      }
      const total = since ? pendingTotal(since) : undefined;
      // Straight from the walk to the file, with no object per entry (the same bytes as below).
      const progress = progressReporter(o, total);
      let s;
      try {
        s = await snapshotDirectory(spec, o.output, {
          profile,
          dockerfile: dockerfileFor(spec, o.file),
          onProgress: progress.onProgress,
          onWarning: warn,
          ...(o.xattrs !== undefined ? { xattrs: o.xattrs } : {}),
          ...(since && o.cache !== false ? { cache: since, cacheSkipped: (why: string) => o.debug && warn(`stat cache not used: ${why}`) } : {}),
          ...(since ? { expectedEntries: since.declared, expectedPathBytes: since.pathBytes } : {}),
        }, undefined, record);
      } finally {
        progress.done();
      }
      await warnIfInside(spec, o.output, s.context.ignore ?? null, profile);
      await emit(o, 'snapshot', { file: o.output, context: s.context, entries: s.entries, files: s.files, bytes: s.bytes });
      return;
    }
    const context = { ...(await load(spec, o, profile)).context, ...record };
    const { writeSnapshot } = await import('../../snapshot/format.js');
    await writeSnapshot(o.output, context);
    let files = 0;
    let bytes = 0;
    for (const e of context.entries) if (e.type === 'file') (files++, (bytes += e.size));
    await emit(o, 'snapshot', { file: o.output, context, entries: context.entries.length, files, bytes });
  });
}

/**
 * A snapshot written inside the context it describes, and not excluded by the ignore file, is part of the
 * next run's context: every later diff would report the steps that copy it rebuilt because of the snapshot
 * itself. Said with the one-line fix.
 */
async function warnIfInside(dir: string, output: string, ignore: IgnoreFileInfo | null, profile: BuilderProfile): Promise<void> {
  const rel = path.relative(path.resolve(dir), path.resolve(output));
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return;
  const p = rel.split(path.sep).join('/');
  const { matcherFor } = await import('../../analysis/why.js');
  if (matcherFor(ignore, profile)?.match(p).excluded) return;
  const file = ignore?.file ?? '.dockerignore';
  warn(`${output} is inside the context and not excluded by ${file}: the next diff would count it as a change (and rebuild the COPY that takes it); add the line ${p} to ${file}, or write the snapshot outside the context`);
}
