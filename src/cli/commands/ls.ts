/** `ctxdiff ls`: every path the builder would receive. */
import { addCommon, emit, load, profileOf, type Command, type CommonOptions } from '../common.js';

export function registerLs(program: Command): void {
  addCommon(
    program
      .command('ls')
      .description('list every path the builder would receive, with type, mode and size')
      .argument('[context]', 'context directory, snapshot file, or tar archive (- = stdin)', '.'),
  ).action(async (spec: string, o: CommonOptions) => {
    // ls lists: a path that cannot be read is listed without a hash, with a warning.
    const { context } = await load(spec, o, profileOf(o), 'warn');
    await emit(o, 'ls', { context });
  });
}
