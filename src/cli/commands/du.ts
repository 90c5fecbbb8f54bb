/** `ctxdiff du`: what makes the context big. */
import { addCommon, emit, isDirectory, load, profileOf, warn, type Command, type CommonOptions } from '../common.js';
import { UsageError } from '../../core/errors.js';

function parseTop(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) === 0) throw new UsageError(`--top takes a positive whole number, not "${v}"`);
  return Number(v);
}

export function registerDu(program: Command): void {
  addCommon(
    program
      .command('du')
      .description('what makes the context big: totals, largest directories and files, by extension, what the ignore file saves')
      .argument('[context]', 'context directory, snapshot file, or tar archive (- = stdin)', '.')
      .option('-n, --top <n>', 'how many directories, files and extensions to list', parseTop, 10),
  ).action(async (spec: string, o: CommonOptions & { top: number }) => {
    const profile = profileOf(o);
    const { computeDu, duDirectory } = await import('../../analysis/du.js');
    if (isDirectory(spec)) {
      const { dockerfileFor } = await import('../../sources/index.js');
      await emit(o, 'du', await duDirectory(spec, { profile, dockerfile: dockerfileFor(spec, o.file), top: o.top, onWarning: warn }));
      return;
    }
    const { context } = await load(spec, o, profile, 'warn');
    await emit(o, 'du', computeDu({ context: spec, builder: profile.id, ignoreFile: context.ignore?.file ?? null, entries: context.entries }, { top: o.top }));
  });
}
