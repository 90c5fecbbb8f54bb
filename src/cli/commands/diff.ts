/** `ctxdiff diff`: what changed between two contexts, and which steps that rebuilds. */
import {
  addCommon, emit, isDirectory, loadColumns, parseDepth, pathFromCwd, profileOf, sourceOf, type Command, type CommonOptions,
} from '../common.js';
import { pendingTotal, type ProgressTotal } from '../progress.js';
import type { ContextSource } from '../../sources/index.js';
import type { PendingStatCache } from '../../context/entry-columns.js';
import type { LoadedColumns } from '../../sources/index.js';
import type { NamedContextPair } from '../../analysis/verdicts.js';
import { UsageError } from '../../core/errors.js';
import { parseBuildArgs } from '../../core/build-args.js';
import { applyBuildDefinition, INVOCATION_OPTIONS, loadNamedContexts, parseBuildContexts, rawContextFor, type InvocationOptions } from '../invocation.js';
import { RAW_CONTEXT, type BuildInvocation, type Context } from '../../core/types.js';

/** The named contexts a snapshot records (not its raw context). */
const recordedNames = (ctx: Omit<Context, 'entries'>) => Object.keys(ctx.namedContexts ?? {}).filter((n) => n !== RAW_CONTEXT);

interface DiffOptions extends InvocationOptions {
  exitCode?: boolean;
  depth: number;
  all?: boolean;
}

const SIDES_HELP = `
--bake TARGET / --compose SERVICE read the context, Dockerfile, build args, target and named contexts from
docker-bake.json (the JSON form: docker buildx bake --print TARGET) or compose.yaml.

How each side was built: a snapshot side uses the build args, --target and named contexts it was taken with
(ctxdiff snapshot --build-arg …); a directory or tar side, or a snapshot that records none, uses the
--build-arg, --target and --build-context given here.`;

export function registerDiff(program: Command): void {
  const cmd = addCommon(
    program
      .command('diff')
      .description('which paths changed between two contexts, and which steps that rebuilds, per builder')
      .argument('<before>', 'directory, snapshot file, or tar archive (- = stdin)')
      .argument('[after]', 'directory, snapshot file, or tar archive (- = stdin); default with --bake/--compose: its context')
      .option('--exit-code', 'exit 1 when a step would be rebuilt')
      .option('-d, --depth <n>', 'directory depth at which long path lists are grouped', parseDepth, 1)
      .option('--all', 'list every changed path instead of grouping by directory')
      .option('--no-cache', 'read every file of a directory, even those a snapshot on the other side shows unchanged'),
  );
  for (const [flags, description] of INVOCATION_OPTIONS) cmd.option(flags, description);
  cmd.addHelpText('after', SIDES_HELP);
  cmd.action(async (beforeSpec: string, afterArg: string | undefined, o: CommonOptions & DiffOptions) => {
    const defined = await applyBuildDefinition(o);
    const afterSpec = afterArg ?? defined;
    if (afterSpec === undefined) throw new UsageError('diff needs two contexts (or --bake/--compose for the second)');
    if (beforeSpec === '-' && afterSpec === '-') throw new UsageError('only one side can be read from stdin');
    const profile = profileOf(o);
    // Entries as columns (no object per entry), and a snapshot side first: a directory on the other side
    // re-uses its hashes for files whose identity and times are unchanged (the stat cache).
    const afterFirst = isDirectory(beforeSpec) && !isDirectory(afterSpec);
    const firstSource = await sourceOf(afterFirst ? afterSpec : beforeSpec);
    const otherSpec = afterFirst ? beforeSpec : afterSpec;
    // The directory's walk starts as soon as the snapshot's header is read; the walk lets the snapshot be
    // decoded once its reader threads have work (PendingStatCache.begin), and re-uses its hashes.
    const lent = firstSource.statCache && isDirectory(otherSpec) ? await cacheFrom(firstSource, o.cache !== false) : undefined;
    // Two snapshots: one is decoded on the reader thread (idle, as no directory is walked) while this thread
    // decodes the other.
    const otherSource = await sourceOf(otherSpec);
    const bothSnapshots = firstSource.kind === 'snapshot' && otherSource.kind === 'snapshot';
    const second = loadColumns(otherSource, o, profile, lent ?? (bothSnapshots ? { decodeOnThread: true } : {}));
    const ready = lent?.cache ? Promise.race([lent.cache.entries, second]).then(() => {}, () => {}) : Promise.resolve();
    const [first, other] = await Promise.all([ready.then(() => loadColumns(firstSource, o, profile)), second]);
    const [before, after] = afterFirst ? [other, first] : [first, other];
    const buildArgs = parseBuildArgs(o.buildArg, process.env);
    const given: BuildInvocation = {
      ...(buildArgs ? { buildArgs } : {}),
      ...(o.target !== undefined ? { target: o.target } : {}),
    };
    const contextSpecs = parseBuildContexts(o.buildContext);
    const givenNamed = await loadNamedContexts(contextSpecs, o, profile);
    const sideOf = (side: LoadedColumns): { invocation: BuildInvocation; named: Record<string, Context> } => {
      const recorded = side.kind === 'snapshot' ? side.context.invocation : undefined;
      return {
        invocation: { ...given, ...(recorded ?? {}) },
        named: side.kind === 'snapshot' && recordedNames(side.context).length > 0
          ? Object.fromEntries(recordedNames(side.context).map((n) => [n, side.context.namedContexts![n]!]))
          : (givenNamed ?? {}),
      };
    };
    const b = sideOf(before);
    const a = sideOf(after);
    const namedContexts: Record<string, NamedContextPair> = {};
    const empty = (name: string): Context => ({ name, builder: profile.id, ignore: null, dockerfiles: {}, entries: [] });
    for (const name of new Set([...Object.keys(b.named), ...Object.keys(a.named)])) {
      namedContexts[name] = { before: b.named[name] ?? empty(name), after: a.named[name] ?? empty(name) };
    }
    // A builder that bind-mounts the context as it is on disk (ignore file not applied): a directory walked so,
    // or what a snapshot recorded.
    const rawOf = async (side: LoadedColumns, spec: string) =>
      side.kind === 'snapshot' ? side.context.namedContexts?.[RAW_CONTEXT] : await rawContextFor(spec, o, profile);
    const rawBefore = await rawOf(before, beforeSpec);
    const rawAfter = rawBefore ? await rawOf(after, afterSpec) : undefined;
    const rawContexts = rawBefore && rawAfter ? { before: rawBefore, after: rawAfter } : undefined;
    const { judge } = await import('../../analysis/verdicts.js');
    const target = o.target ?? a.invocation.target;
    const result = judge(before.context, after.context, profile, {
      ...(o.file !== undefined ? { dockerfile: dockerfileKey(o.file, after.context) } : {}),
      beforeInvocation: b.invocation,
      afterInvocation: a.invocation,
      ...(target !== undefined ? { target } : {}),
      namedContexts,
      ...(rawContexts ? { rawContexts } : {}),
      ignoredEntries: false, // the reporters show their paths and kinds only
    });
    await emit(o, 'diff', {
      before: { name: before.context.name, kind: before.kind },
      after: { name: after.context.name, kind: after.kind },
      profile,
      result,
      depth: o.depth,
      all: o.all === true,
      ...(after.kind === 'directory' && result.dockerfile ? { dockerfilePath: pathFromCwd(afterSpec, result.dockerfile) } : {}),
    });
    if (o.exitCode && result.steps.some((st) => st.verdict === 'rebuilt')) process.exitCode = 1;
  });
}

/**
 * What a snapshot lends the walk of a directory: its recorded entries (unless --no-cache), its totals for
 * the progress line (the entries it declares at once, their bytes when decoded), and the bytes of its paths
 * (for the walk to make room for its own at once).
 */
async function cacheFrom(
  snapshot: ContextSource,
  useCache: boolean,
): Promise<{ cache?: PendingStatCache; total: ProgressTotal; pathBytes: Promise<number> }> {
  const pending = await snapshot.statCache!();
  const total = pendingTotal(pending);
  if (!useCache) pending.begin?.();
  return { ...(useCache ? { cache: pending } : {}), total, pathBytes: pending.pathBytes };
}

/** The key a -f Dockerfile has in a loaded context (as the walk stored it, or as stored in a snapshot/tar). */
function dockerfileKey(file: string, ctx: { dockerfile?: string; dockerfiles: Record<string, string> }): string {
  if (ctx.dockerfiles[file] !== undefined) return file;
  return ctx.dockerfile ?? file;
}
