/** `ctxdiff diff`: what changed between two contexts, and which steps that rebuilds. */
import { addCommon, emit, load, parseDepth, pathFromCwd, profileOf, type Command, type CommonOptions } from '../common.js';
import { UsageError } from '../../core/errors.js';

interface DiffOptions {
  exitCode?: boolean;
  depth: number;
  all?: boolean;
  buildArg?: string[];
}

export function registerDiff(program: Command): void {
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
    const profile = profileOf(o);
    const before = await load(beforeSpec, o, profile);
    const after = await load(afterSpec, o, profile);
    const buildArgs = parseBuildArgs(o.buildArg);
    const { judge } = await import('../../analysis/verdicts.js');
    const result = judge(before.context, after.context, profile, {
      ...(o.file !== undefined ? { dockerfile: dockerfileKey(o.file, after.context) } : {}),
      ...(buildArgs ? { buildArgs } : {}),
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
function dockerfileKey(file: string, ctx: { dockerfile?: string; dockerfiles: Record<string, string> }): string {
  if (ctx.dockerfiles[file] !== undefined) return file;
  return ctx.dockerfile ?? file;
}
