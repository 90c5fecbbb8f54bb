/** `ctxdiff doctor`: cache-busting risks, each with a concrete fix; as a CI gate with --ignore, a config file and pragmas. */
import path from 'node:path';
import { addCommon, emit, isDirectory, load, Option, out, pathFromCwd, warn, type Command, type CommonOptions } from '../common.js';
import { readRegularFile } from '../../core/regular-file.js';
import { atLeast, SEVERITIES, type Severity } from '../../analysis/severity.js';
import { builderIds, getProfile } from '../../builders/profiles.js';

interface DoctorOptions {
  exitCode?: boolean;
  failOn: Severity;
  ignore: string[];
  config?: string;
  listRules?: boolean;
}

const collect = (v: string, prev: string[]) => [...prev, ...v.split(',').map((x) => x.trim()).filter(Boolean)];

export function registerDoctor(program: Command): void {
  const cmd = addCommon(
    program
      .command('doctor')
      .description('cache-busting risks in the context and Dockerfile, each with a concrete fix')
      .argument('[context]', 'context directory, snapshot file, or tar archive (- = stdin)', '.')
      .option('--exit-code', 'exit 1 when a finding at or above --fail-on exists')
      .addOption(new Option('--fail-on <severity>', 'least severity that fails with --exit-code').choices([...SEVERITIES]).default('warning'))
      .option('--ignore <rule>', 'suppress the findings of a rule (repeatable, or comma-separated)', collect, [] as string[])
      .option('--config <file>', 'config file (default: .ctxdiff.json at the context root)')
      .option('--list-rules', 'list every rule (id, severity, builders, what it finds) and exit'),
  );
  cmd.action(async (spec: string, o: CommonOptions & DoctorOptions) => {
    const { RULES, ruleBuilders, diagnose, diagnoseDirectory } = await import('../../analysis/doctor.js');
    if (o.listRules) {
      await listRules(o, RULES, ruleBuilders);
      return;
    }
    const gate = await import('../../analysis/doctor-gate.js');
    gate.checkRuleIds(o.ignore, '--ignore');
    const dir = isDirectory(spec);
    const { config, path: configPath } = gate.readConfig(o.config, dir ? spec : null, builderIds());
    const fromCli = (name: string) => cmd.getOptionValueSource(name) === 'cli';
    const profile = getProfile(!fromCli('builder') && config.builder ? config.builder : o.builder);
    const file = o.file ?? config.file;
    const failOn = !fromCli('failOn') && config.failOn ? config.failOn : o.failOn;
    let report;
    const texts: Record<string, string | undefined> = {};
    if (dir) {
      const { dockerfileFor } = await import('../../sources/index.js');
      report = await diagnoseDirectory(spec, { profile, dockerfile: dockerfileFor(spec, file), onWarning: warn });
      for (const f of [report.dockerfile, report.ignoreFile]) if (f !== null) texts[f] = readSmall(path.resolve(spec, f));
    } else {
      const { context } = await load(spec, { ...o, ...(file !== undefined ? { file } : {}) }, profile, 'warn');
      const { matcherFor, readModel } = await import('../../analysis/why.js');
      report = diagnose({
        context: spec,
        profile,
        entries: context.entries,
        ignore: context.ignore,
        matcher: matcherFor(context.ignore, profile),
        dockerfile: readModel(context.dockerfiles, context.dockerfile),
      });
      if (context.dockerfile !== undefined) texts[context.dockerfile] = context.dockerfiles[context.dockerfile];
      if (context.ignore) texts[context.ignore.file] = context.ignore.text;
    }
    // Finding paths from the current directory (the repository root in CI), so annotations land on the files.
    if (dir) for (const f of report.findings) f.location = pathFromCwd(spec, f.file);
    const gated = gate.applyGate(report, { ignore: o.ignore, configIgnore: config.ignore ?? [], configPath, texts });
    for (const w of gated.warnings) warn(w);
    await emit(o, 'doctor', { ...gated.report, suppressed: gated.suppressed });
    if (o.exitCode && gated.report.findings.some((f) => atLeast(f.severity, failOn))) process.exitCode = 1;
  });
}

/** A build file's text for the pragma scan (regular files only, as every build file is read), or undefined. */
function readSmall(p: string): string | undefined {
  try {
    return readRegularFile(p, p, { optional: true })?.toString('utf8');
  } catch {
    return undefined; // doctor already reported what it could not read
  }
}

async function listRules(
  o: CommonOptions,
  rules: readonly { id: string; severity: Severity; title: string; why: string; fix: string }[],
  buildersOf: (r: never) => string[],
): Promise<void> {
  const all = builderIds().length;
  const rows = rules.map((r) => {
    const b = buildersOf(r as never);
    return { id: r.id, severity: r.severity, builders: b.length === all ? 'all' : b.join(', '), title: r.title, why: r.why, fix: r.fix };
  });
  if (o.json || o.format === 'json') {
    out(JSON.stringify({ schemaVersion: 1, rules: rows.map((r) => ({ ...r, builders: buildersOf(rules.find((x) => x.id === r.id) as never) })), warnings: [] }, null, 2) + '\n');
    return;
  }
  const { columns } = await import('../../reporters/format.js');
  out(columns([['ID', 'SEVERITY', 'BUILDERS', 'WHAT'], ...rows.map((r) => [r.id, r.severity, r.builders, r.title])]));
}
