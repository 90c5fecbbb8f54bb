/** The insight commands: why, du, doctor. */
import fs from 'node:fs';
import { Option, type Command } from 'commander';
import { addCommon, emit, load, type CommonOptions } from './cli-common.js';
import { atLeast, diagnose, diagnoseDirectory, SEVERITIES, type Severity } from './doctor.js';
import { computeDu, walkAll } from './du.js';
import { UsageError } from './errors.js';
import { getProfile } from './profiles.js';
import { dockerfileFor } from './sources/index.js';
import { walkContext } from './walk.js';
import { explain, matcherFor, readModel, whyInputForContext, whyInputForDirectory } from './why.js';

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
    if (isDirectory(o.context)) {
      const input = whyInputForDirectory(o.context, profile.id, dockerfileFor(o.context, o.file));
      emit(o, 'why', explain(input, paths, o.context));
      return;
    }
    const { context } = await load(o.context, o);
    emit(o, 'why', explain(whyInputForContext(context, profile.id), paths, o.context));
  });

  addCommon(
    program
      .command('du')
      .description('what makes the context big: totals, largest directories and files, by extension, what the ignore file saves')
      .argument('[context]', 'context directory, snapshot file, or tar archive (- = stdin)', '.')
      .option('-n, --top <n>', 'how many directories, files and extensions to list', parseTop, 10),
  ).action(async (spec: string, o: CommonOptions & { top: number }) => {
    const profile = getProfile(o.builder);
    if (isDirectory(spec)) {
      const dockerfile = dockerfileFor(spec, o.file);
      const context = await walkContext(spec, { builder: profile.id, dockerfile, hash: false });
      const disk = walkAll(spec, matcherFor(context.ignore, profile.id));
      emit(o, 'du', computeDu({ context: spec, builder: profile.id, ignoreFile: context.ignore?.file ?? null, entries: context.entries, disk }, { top: o.top }));
      return;
    }
    const { context } = await load(spec, o);
    emit(o, 'du', computeDu({ context: spec, builder: profile.id, ignoreFile: context.ignore?.file ?? null, entries: context.entries }, { top: o.top }));
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
    let report;
    if (isDirectory(spec)) {
      report = await diagnoseDirectory(spec, { builder: profile.id, dockerfile: dockerfileFor(spec, o.file) });
    } else {
      const { context } = await load(spec, o);
      report = diagnose({
        context: spec,
        profile,
        entries: context.entries,
        ignore: context.ignore,
        matcher: matcherFor(context.ignore, profile.id),
        dockerfile: readModel(context.dockerfiles, context.dockerfile),
      });
    }
    emit(o, 'doctor', report);
    if (o.exitCode && report.findings.some((f) => atLeast(f.severity, o.failOn))) process.exitCode = 1;
  });
}
