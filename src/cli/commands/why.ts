/** `ctxdiff why`: for each path, is it sent, which rule decides, which steps take it. */
import { addCommon, emit, isDirectory, load, profileOf, warn, type Command, type CommonOptions } from '../common.js';

export function registerWhy(program: Command): void {
  addCommon(
    program
      .command('why')
      .description('for each path: is it sent to the builder, which ignore rule decides, which COPY/ADD steps and RUN bind mounts take it')
      .argument('<paths...>', 'paths relative to the context root (need not exist)')
      .option('-C, --context <context>', 'context directory, snapshot file, or tar archive', '.'),
  ).action(async (paths: string[], o: CommonOptions & { context: string }) => {
    const profile = profileOf(o);
    const { explain, unreadableAsked, whyInputForContext, whyInputForDirectory } = await import('../../analysis/why.js');
    if (isDirectory(o.context)) {
      const { dockerfileFor } = await import('../../sources/index.js');
      for (const w of unreadableAsked(o.context, paths)) warn(w);
      const input = whyInputForDirectory(o.context, profile, dockerfileFor(o.context, o.file));
      await emit(o, 'why', explain(input, paths, o.context));
      return;
    }
    const { context } = await load(o.context, o, profile, 'warn');
    await emit(o, 'why', explain(whyInputForContext(context, profile), paths, o.context));
  });
}
