/** `ctxdiff doctor`: cache-busting risks, each with a concrete fix. */
import { addCommon, emit, isDirectory, load, Option, pathFromCwd, profileOf, warn, type Command, type CommonOptions } from '../common.js';
import { atLeast, SEVERITIES, type Severity } from '../../analysis/severity.js';

export function registerDoctor(program: Command): void {
  addCommon(
    program
      .command('doctor')
      .description('cache-busting risks in the context and Dockerfile, each with a concrete fix')
      .argument('[context]', 'context directory, snapshot file, or tar archive (- = stdin)', '.')
      .option('--exit-code', 'exit 1 when a finding at or above --fail-on exists')
      .addOption(new Option('--fail-on <severity>', 'least severity that fails with --exit-code').choices([...SEVERITIES]).default('warning')),
  ).action(async (spec: string, o: CommonOptions & { exitCode?: boolean; failOn: Severity }) => {
    const profile = profileOf(o);
    const { diagnose, diagnoseDirectory } = await import('../../analysis/doctor.js');
    let report;
    if (isDirectory(spec)) {
      const { dockerfileFor } = await import('../../sources/index.js');
      report = await diagnoseDirectory(spec, { profile, dockerfile: dockerfileFor(spec, o.file), onWarning: warn });
    } else {
      const { context } = await load(spec, o, profile, 'warn');
      const { matcherFor, readModel } = await import('../../analysis/why.js');
      report = diagnose({
        context: spec,
        profile,
        entries: context.entries,
        ignore: context.ignore,
        matcher: matcherFor(context.ignore, profile),
        dockerfile: readModel(context.dockerfiles, context.dockerfile),
      });
    }
    // Finding paths from the current directory (the repository root in CI), so annotations land on the files.
    if (isDirectory(spec)) for (const f of report.findings) f.location = pathFromCwd(spec, f.file);
    await emit(o, 'doctor', report);
    if (o.exitCode && report.findings.some((f) => atLeast(f.severity, o.failOn))) process.exitCode = 1;
  });
}
