/**
 * The commands of the command-line interface (cli.ts is its entry point). They only parse arguments, call the
 * core, pick a reporter and set the exit code.
 * Exit codes: 0 fine; 1 a change that busts a step (with --exit-code); 2 usage or I/O error.
 */
import fs from 'node:fs';
import path from 'node:path';
import { addCommon, Command, CommanderError, emit, load, loadReporters, Option, parseDepth, progressReporter, type CommonOptions } from './common.js';
import { registerInsightCommands } from './insights.js';
import { CtxdiffError, UsageError } from '../core/errors.js';
import { getProfile } from '../builders/profiles.js';
import { VERSION } from '../core/version.js';

export function buildProgram(): Command {
  const program = new Command('ctxdiff')
    .description('Tells you exactly why your Docker build cache was invalidated.')
    .version(VERSION, '-V, --version')
    .option('--debug', 'show stack traces for errors')
    .showHelpAfterError('(run ctxdiff --help for usage)')
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .exitOverride();

  addCommon(
    program
      .command('snapshot')
      .description('walk a build context and save a snapshot of everything the builder would receive')
      .argument('[context]', 'context directory or tar archive (- = stdin)', '.')
      .requiredOption('-o, --output <file>', 'snapshot file to write (atomically)'),
  ).action(async (spec: string, o: CommonOptions & { output: string }) => {
    getProfile(o.builder); // validate early
    const { dockerfileFor, resolveSource } = await import('../sources/index.js');
    if (resolveSource(spec).kind === 'directory') {
      void loadReporters();
      const { snapshotDirectory } = await import('../snapshot/writer.js');
      // Straight from the walk to the file, with no object per entry (the same bytes as below).
      const progress = progressReporter(o);
      let s;
      try {
        s = await snapshotDirectory(spec, o.output, {
          builder: o.builder,
          dockerfile: dockerfileFor(spec, o.file),
          onProgress: progress.onProgress,
          ...(o.xattrs !== undefined ? { xattrs: o.xattrs } : {}),
        });
      } finally {
        progress.done();
      }
      await emit(o, 'snapshot', { file: o.output, context: s.context, entries: s.entries, files: s.files, bytes: s.bytes });
      return;
    }
    const { context } = await load(spec, o);
    const { writeSnapshot } = await import('../snapshot/format.js');
    await writeSnapshot(o.output, context);
    let files = 0;
    let bytes = 0;
    for (const e of context.entries) if (e.type === 'file') (files++, (bytes += e.size));
    await emit(o, 'snapshot', { file: o.output, context, entries: context.entries.length, files, bytes });
  });

  addCommon(
    program
      .command('tree')
      .description('print checksums of the context and its directories, down to a depth')
      .argument('[context]', 'context directory, snapshot file, or tar archive (- = stdin)', '.')
      .option('-d, --depth <n>', 'deepest level to print (root = 0); files are shown down to it too', parseDepth)
      .addOption(
        new Option('--digest <kind>', "also print BuildKit's own sha256 content digest of each path (directory contexts)").choices(['buildkit']),
      ),
  ).action(async (spec: string, o: CommonOptions & { depth?: number; digest?: string }) => {
    const profile = getProfile(o.builder);
    if (o.digest && !profile.contentDigest) {
      throw new UsageError(`--digest buildkit needs a BuildKit profile (--builder buildkit or buildkit-0.8), not ${profile.id}`);
    }
    const loaded = await load(spec, o);
    const { context } = loaded;
    const { computeTree, nodesToDepth } = await import('../analysis/tree.js');
    const tree = await computeTree(context, profile);
    const nodes = nodesToDepth(tree, o.depth);
    let digests: Record<string, string> | undefined;
    if (o.digest && profile.contentDigest) {
      if (loaded.kind !== 'directory') throw new UsageError('--digest needs a directory context: snapshots and tars keep no file contents');
      const { ContentHasher } = await import('../analysis/contenthash.js');
      const root = path.resolve(spec);
      // A local context reaches BuildKit through its transfer protocol: the root header is that of a transfer.
      const hasher = new ContentHasher(context, (p) => fs.createReadStream(path.join(root, p)), {
        variant: profile.contentDigest,
        rootHeader: 'transfer',
      });
      digests = {};
      for (const n of nodes) digests[n.path] = await hasher.digest(n.path === '.' ? '/' : n.path, { followLinks: true });
    }
    await emit(o, 'tree', { context, tree, nodes, depth: o.depth, ...(digests ? { digests } : {}) });
  });

  addCommon(
    program
      .command('ls')
      .description('list every path the builder would receive, with type, mode and size')
      .argument('[context]', 'context directory, snapshot file, or tar archive (- = stdin)', '.'),
  ).action(async (spec: string, o: CommonOptions) => {
    const { context } = await load(spec, o);
    await emit(o, 'ls', { context });
  });

  addCommon(
    program
      .command('diff')
      .description('which paths changed between two contexts, and which COPY/ADD steps that rebuilds, per builder')
      .argument('<before>', 'directory, snapshot file, or tar archive (- = stdin)')
      .argument('<after>', 'directory, snapshot file, or tar archive (- = stdin)')
      .option('--exit-code', 'exit 1 when a step would be rebuilt')
      .option('-d, --depth <n>', 'directory depth at which long path lists are grouped', parseDepth, 1)
      .option('--all', 'list every changed path instead of grouping by directory')
      .option('--build-arg <name=value...>', 'build-arg values, as given to docker build'),
  ).action(async (beforeSpec: string, afterSpec: string, o: CommonOptions & DiffOptions) => {
    if (beforeSpec === '-' && afterSpec === '-') throw new UsageError('only one side can be read from stdin');
    const profile = getProfile(o.builder);
    const before = await load(beforeSpec, o);
    const after = await load(afterSpec, o);
    const buildArgs = parseBuildArgs(o.buildArg);
    const { judge } = await import('../analysis/verdicts.js');
    const result = judge(before.context, after.context, profile, {
      ...(o.file !== undefined ? { dockerfile: dockerfileKey(afterSpec, o.file, after.context) } : {}),
      ...(buildArgs ? { buildArgs } : {}),
    });
    await emit(o, 'diff', {
      before: { name: before.context.name, kind: before.kind },
      after: { name: after.context.name, kind: after.kind },
      profile,
      result,
      depth: o.depth,
      all: o.all === true,
    });
    if (o.exitCode && result.steps.some((st) => st.verdict === 'rebuilt')) process.exitCode = 1;
  });

  registerInsightCommands(program);
  return program;
}

interface DiffOptions {
  exitCode?: boolean;
  depth: number;
  all?: boolean;
  buildArg?: string[];
}

function parseBuildArgs(list: string[] | undefined): Record<string, string> | undefined {
  if (!list) return undefined;
  const out: Record<string, string> = {};
  for (const a of list) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new UsageError(`--build-arg takes name=value, not "${a}"`);
    out[a.slice(0, eq)] = a.slice(eq + 1);
  }
  return out;
}

/** The key a -f Dockerfile has in a loaded context (as the walk stored it, or as stored in a snapshot/tar). */
function dockerfileKey(spec: string, file: string, ctx: { dockerfile?: string; dockerfiles: Record<string, string> }): string {
  if (ctx.dockerfiles[file] !== undefined) return file;
  return ctx.dockerfile ?? file;
}

/** Run the commands on `argv` (as process.argv); sets process.exitCode. */
export async function run(argv: string[]): Promise<void> {
  const program = buildProgram();
  const debug = argv.includes('--debug');
  try {
    await program.parseAsync(argv);
  } catch (e) {
    process.exitCode = handleError(e, debug);
  }
}

function handleError(e: unknown, debug: boolean): number {
  if (e instanceof CommanderError) {
    // Help and version exit 0; commander has already printed its message.
    return e.exitCode === 0 ? 0 : 2;
  }
  if (e instanceof CtxdiffError) {
    process.stderr.write(`ctxdiff: ${e.message}\n`);
    if (debug && e.stack) process.stderr.write(`${e.stack}\n`);
    return e.exitCode;
  }
  const err = e as Error;
  process.stderr.write(`ctxdiff: internal error: ${err?.message ?? String(e)}${debug ? '' : ' (run with --debug for details)'}\n`);
  if (debug && err?.stack) process.stderr.write(`${err.stack}\n`);
  return 2;
}
