/** `ctxdiff explain`: a real build's log held against the prediction, per step, with the causes outside the context. */
import fs from 'node:fs';
import path from 'node:path';
import { readRegularFile } from '../../core/regular-file.js';
import { addCommon, emit, isDirectory, load, Option, warn, type Command, type CommonOptions } from '../common.js';
import { IoError, UsageError } from '../../core/errors.js';
import { getProfile } from '../../builders/profiles.js';
import { LOG_FORMATS, type LogFormat, type ParsedLog } from '../../buildlog/parse.js';
import type { LoadedContext } from '../../sources/index.js';

interface ExplainOptions {
  since?: string;
  context: string;
  exitCode?: boolean;
  buildArg?: string[];
  sinceBuildArg?: string[];
  logFormat?: LogFormat;
}

/** A log larger than this is refused: real build logs are far smaller, and it is read whole. */
const MAX_LOG_BYTES = 256 * 1024 * 1024;

/** The builder profile each log format implies when `--builder` is not given. */
const PROFILE_OF_FORMAT: Record<LogFormat, string> = {
  'buildkit-plain': 'buildkit',
  'buildkit-rawjson': 'buildkit',
  classic: 'classic',
  buildah: 'buildah',
};

export function registerExplain(program: Command): void {
  const cmd = addCommon(
    program
      .command('explain')
      .description("a real build's log held against the prediction: per step what the builder did, what ctxdiff predicts, and why they differ")
      .argument('<logs...>', 'the build log (- = stdin); with two, the earlier build first, then the one to explain')
      .option('--since <before>', "the earlier build's context: snapshot, directory or tar archive (the prediction compares it with --context)")
      .option('--context <after>', "the explained build's context: directory, snapshot or tar archive", '.')
      .option('--exit-code', 'exit 1 when the build and the prediction disagree')
      .option('--build-arg <name=value...>', "build-arg values of the explained build (default: those its snapshot recorded)")
      .option('--since-build-arg <name=value...>', 'build-arg values of the earlier build (default: those its snapshot recorded)'),
  );
  cmd.addOption(new Option('--log-format <format>', 'the log format (default: recognised from the log)').choices(LOG_FORMATS));
  cmd.action(async (logs: string[], o: CommonOptions & ExplainOptions) => {
    if (logs.length > 2) throw new UsageError('explain takes one build log, or two (the earlier build first)');
    if (logs.filter((l) => l === '-').length > 1) throw new UsageError('only one log can be read from stdin');
    const { parseBuildLog } = await import('../../buildlog/parse.js');
    const parsed = logs.map((spec) => {
      const log = parseBuildLog(readLog(spec), o.logFormat);
      if (!log) throw new UsageError(`${spec}: not a build log ctxdiff can read (BuildKit --progress=plain or rawjson, classic builder, Buildah)`);
      return log;
    });
    const buildLog = parsed[parsed.length - 1]!;
    const earlierLog: ParsedLog | undefined = parsed.length === 2 ? parsed[0] : undefined;
    const profile = cmd.getOptionValueSource('builder') === 'cli' ? getProfile(o.builder) : getProfile(PROFILE_OF_FORMAT[buildLog.format]);
    const warnings: string[] = [];

    let before: LoadedContext | undefined;
    let after: LoadedContext | undefined;
    if (o.since !== undefined) {
      if (o.since === '-' && o.context === '-') throw new UsageError('only one side can be read from stdin');
      before = await load(o.since, o, profile);
      after = await load(o.context, o, profile);
    } else if (!isDirectory(o.context)) {
      after = await load(o.context, o, profile);
    }
    const afterArgs = parseBuildArgs(o.buildArg, '--build-arg') ?? recordedArgs(after);
    const beforeArgs = parseBuildArgs(o.sinceBuildArg, '--since-build-arg') ?? recordedArgs(before);
    if (before && afterArgs && !beforeArgs) warnings.push('the earlier build\'s build args are not known (--since-build-arg, or a snapshot that records them): a changed build arg cannot be told apart');

    const { dockerfile, text, beforeText } = dockerfileOf(o, before, after);
    let prediction;
    if (before && after) {
      const { judge } = await import('../../analysis/verdicts.js');
      prediction = judge(before.context, after.context, profile, {
        ...(dockerfile !== null ? { dockerfile } : {}),
        ...(afterArgs ? { buildArgs: afterArgs } : {}),
        ignoredEntries: false, // no report shows them
      });
    }
    const { explainBuild } = await import('../../analysis/explain.js');
    const result = explainBuild({
      dockerfileText: text,
      dockerfile,
      log: buildLog,
      ...(earlierLog ? { earlier: { log: earlierLog, ...(beforeText !== undefined ? { dockerfileText: beforeText } : {}) } } : {}),
      ...(prediction ? { prediction } : {}),
      buildArgs: { ...(beforeArgs ? { before: beforeArgs } : {}), ...(afterArgs ? { after: afterArgs } : {}) },
      builder: profile.id,
      warnings,
    });
    for (const u of result.unplaced) warn(`${u.log === 'earlier' ? 'earlier log' : 'log'} line ${u.line}: step "${u.text}" matches no line of the Dockerfile`);
    await emit(o, 'explain', {
      log: logs[logs.length - 1]!,
      ...(logs.length === 2 ? { earlierLog: logs[0]! } : {}),
      ...(before && after ? { since: { name: before.context.name, kind: before.kind }, context: { name: after.context.name, kind: after.kind } } : {}),
      result,
    });
    if (o.exitCode && result.disagreements > 0) process.exitCode = 1;
  });
}

function readLog(spec: string): string {
  try {
    const fd = spec === '-' ? 0 : fs.openSync(spec, 'r');
    try {
      const st = fs.fstatSync(fd);
      if (st.isDirectory()) throw new UsageError(`${spec}: is a directory, not a build log`);
      if (st.isFile() && st.size > MAX_LOG_BYTES) throw new UsageError(`${spec}: larger than ${MAX_LOG_BYTES / 1024 / 1024} MiB: not a build log`);
      const chunks: Buffer[] = [];
      let total = 0;
      const buf = Buffer.alloc(1 << 20);
      for (;;) {
        let n: number;
        try {
          n = fs.readSync(fd, buf, 0, buf.length, null);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'EAGAIN') continue;
          if ((e as NodeJS.ErrnoException).code === 'EOF') break;
          throw e;
        }
        if (n === 0) break;
        total += n;
        if (total > MAX_LOG_BYTES) throw new UsageError(`${spec}: larger than ${MAX_LOG_BYTES / 1024 / 1024} MiB: not a build log`);
        chunks.push(Buffer.from(buf.subarray(0, n)));
      }
      return Buffer.concat(chunks).toString('utf8');
    } finally {
      if (fd !== 0) fs.closeSync(fd);
    }
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw IoError.from(spec, e);
  }
}

function parseBuildArgs(list: string[] | undefined, flag: string): Record<string, string> | undefined {
  if (!list) return undefined;
  const out: Record<string, string> = {};
  for (const a of list) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new UsageError(`${flag} takes name=value, not "${a}"`);
    out[a.slice(0, eq)] = a.slice(eq + 1);
  }
  return out;
}

/** Build args a snapshot recorded in its metadata, if it did. */
function recordedArgs(loaded: LoadedContext | undefined): Record<string, string> | undefined {
  const args = (loaded?.meta as { buildArgs?: unknown } | undefined)?.buildArgs;
  if (!args || typeof args !== 'object') return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(args)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** The explained build's Dockerfile (key and text), and the earlier one's text when the earlier context has it. */
function dockerfileOf(
  o: CommonOptions & ExplainOptions,
  before: LoadedContext | undefined,
  after: LoadedContext | undefined,
): { dockerfile: string | null; text: string; beforeText?: string } {
  if (after) {
    const ctx = after.context;
    const key = o.file !== undefined && ctx.dockerfiles[o.file] !== undefined ? o.file : (ctx.dockerfile ?? null);
    const text = key !== null ? ctx.dockerfiles[key] : undefined;
    if (key === null || text === undefined) throw new UsageError(`${ctx.name}: no Dockerfile${o.file ? ` ${o.file}` : ''} to place the log's steps on (use -f)`);
    const b = before?.context;
    const beforeText = b ? (b.dockerfiles[key] ?? (b.dockerfile ? b.dockerfiles[b.dockerfile] : undefined)) : undefined;
    return { dockerfile: key, text, ...(beforeText !== undefined ? { beforeText } : {}) };
  }
  const file = o.file !== undefined ? (path.isAbsolute(o.file) || !fs.existsSync(path.join(o.context, o.file)) ? o.file : path.join(o.context, o.file)) : path.join(o.context, 'Dockerfile');
  // Only a regular file, of a bounded size (core/regular-file.ts), as for every other Dockerfile.
  return { dockerfile: o.file ?? 'Dockerfile', text: readRegularFile(file, file).toString('utf8') };
}
