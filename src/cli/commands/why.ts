/** The insight commands: why, du, doctor. */
import fs from 'node:fs';
import { addCommon, emit, load, Option, type Command, type CommonOptions } from './common.js';
import { UsageError } from '../core/errors.js';
import { getProfile } from '../builders/profiles.js';
import { atLeast, SEVERITIES, type Severity } from '../analysis/severity.js';

const isDirectory = (spec: string): boolean => spec !== '-' && fs.statSync(spec, { throwIfNoEntry: false })?.isDirectory() === true;

function parseTop(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) === 0) throw new UsageError(`--top takes a positive whole number, not "${v}"`);
  return Number(v);
}

export function registerInsightCommands(program: Command): void {
  addCommon(
    program
      .command('why')
      .description('for each path: is it sent to the builder, which ignore rule decides, which COPY/ADD steps take it')
      .argument('<paths...>', 'paths relative to the context root (need not exist)')
      .option('-C, --context <context>', 'context directory, snapshot file, or tar archive', '.'),
  ).action(async (paths: string[], o: CommonOptions & { context: string }) => {
    const profile = getProfile(o.builder);
    const { explain, whyInputForContext, whyInputForDirectory } = await import('../analysis/why.js');
    if (isDirectory(o.context)) {
      const { dockerfileFor } = await import('../sources/index.js');
      const input = whyInputForDirectory(o.context, profile.id, dockerfileFor(o.context, o.file));
      await emit(o, 'why', explain(input, paths, o.context));
      return;
    }
    const { context } = await load(o.context, o);
    await emit(o, 'why', explain(whyInputForContext(context, profile.id), paths, o.context));
  });

  addCommon(
    program
      .command('du')
      .description('what makes the context big: totals, largest directories and files, by extension, what the ignore file saves')
      .argument('[context]', 'context directory, snapshot file, or tar archive (- = stdin)', '.')
      .option('-n, --top <n>', 'how many directories, files and extensions to list', parseTop, 10),
  ).action(async (spec: string, o: CommonOptions & { top: number }) => {
    const profile = getProfile(o.builder);
    const { computeDu, walkAll } = await import('../analysis/du.js');
    if (isDirectory(spec)) {
      const [{ dockerfileFor }, { walkContext }, { matcherFor }] = await Promise.all([
        import('../sources/index.js'),
        import('../context/walk.js'),
        import('../analysis/why.js'),
      ]);
      const dockerfile = dockerfileFor(spec, o.file);
      const context = await walkContext(spec, { builder: profile.id, dockerfile, hash: false });
      const disk = walkAll(spec, matcherFor(context.ignore, profile.id));
      await emit(o, 'du', computeDu({ context: spec, builder: profile.id, ignoreFile: context.ignore?.file ?? null, entries: context.entries, disk }, { top: o.top }));
      return;
    }
    const { context } = await load(spec, o);
    await emit(o, 'du', computeDu({ context: spec, builder: profile.id, ignoreFile: context.ignore?.file ?? null, entries: context.entries }, { top: o.top }));
  });

  addCommon(
    program
      .command('doctor')
      .description('cache-busting risks in the context and Dockerfile, each with a concrete fix')
      .argument('[context]', 'context directory, snapshot file, or tar archive (- = stdin)', '.')
      .option('--exit-code', 'exit 1 when a finding at or above --fail-on exists')
      .addOption(new Option('--fail-on <severity>', 'least severity that fails with --exit-code').choices([...SEVERITIES]).default('warning')),
  ).action(async (spec: string, o: CommonOptions & { exitCode?: boolean; failOn: Severity }) => {
    const profile = getProfile(o.builder);
    const { diagnose, diagnoseDirectory } = await import('../analysis/doctor.js');
    let report;
    if (isDirectory(spec)) {
      const { dockerfileFor } = await import('../sources/index.js');
      report = await diagnoseDirectory(spec, { builder: profile.id, dockerfile: dockerfileFor(spec, o.file) });
    } else {
      const { context } = await load(spec, o);
      const { matcherFor, readModel } = await import('../analysis/why.js');
      report = diagnose({
        context: spec,
        profile,
        entries: context.entries,
        ignore: context.ignore,
        matcher: matcherFor(context.ignore, profile.id),
        dockerfile: readModel(context.dockerfiles, context.dockerfile),
      });
    }
    await emit(o, 'doctor', report);
    if (o.exitCode && report.findings.some((f) => atLeast(f.severity, o.failOn))) process.exitCode = 1;
  });
}
