/** `ctxdiff tree`: checksums of the context and its directories, down to a depth. */
import path from 'node:path';
import { addCommon, emit, load, Option, parseDepth, profileOf, warn, type Command, type CommonOptions } from '../common.js';
import { UsageError } from '../../core/errors.js';

export function registerTree(program: Command): void {
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
    const profile = profileOf(o);
    if (o.digest && !profile.contentDigest) {
      throw new UsageError(`--digest buildkit needs a BuildKit profile (--builder buildkit or buildkit-0.8), not ${profile.id}`);
    }
    const loaded = await load(spec, o, profile);
    const { context } = loaded;
    const { computeTree, nodesToDepth } = await import('../../analysis/tree.js');
    const tree = await computeTree(context, profile);
    const nodes = nodesToDepth(tree, o.depth);
    let digests: Record<string, string> | undefined;
    if (o.digest && profile.contentDigest) {
      if (loaded.kind !== 'directory') throw new UsageError('--digest needs a directory context: snapshots and tars keep no file contents');
      const { directoryDigests } = await import('../../analysis/contenthash.js');
      digests = await directoryDigests(context, path.resolve(spec), nodes.map((n) => n.path), profile.contentDigest, warn);
    }
    await emit(o, 'tree', { context, tree, nodes, depth: o.depth, ...(digests ? { digests } : {}) });
  });
}
