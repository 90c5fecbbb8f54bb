#!/usr/bin/env node
/**
 * ctxdiff benchmark: the only source of ctxdiff's performance claims.
 *
 * Usage:
 *   npm run bench [-- OPTIONS]          builds, then runs this script
 *   node test/bench/bench.mjs [OPTIONS]  runs against the current dist/
 *
 * Options:
 *   --runs N      timed runs of each command per case (default 5); medians are reported
 *   --only NAMES  run only these cases (comma-separated; the option may be repeated)
 *   --json        print one JSON document on stdout instead of the table
 *   --cli PATH    the ctxdiff entry point to measure (default bin/ctxdiff.js), e.g. another checkout
 *   --list        list the cases and exit
 * Progress goes to stderr. Exit status: 0 when no bar failed, 1 when a bar failed or a command
 * failed, 2 on a usage error.
 *
 * Method. Every figure is a ratio against a baseline measured in the same run on the same machine:
 * for each case the synthetic context is generated (or re-used, see generate.mjs, under `.bench/`),
 * the page cache is warmed once with `tar -cf - . | md5sum`, then the baseline (`bash -c 'tar -cf -
 * . | md5sum'` in the context dir) and ctxdiff (`node bin/ctxdiff.js snapshot CTX -o FILE`) are run
 * alternately N times each. Wall time is measured around each child; CPU time and peak RSS come from
 * `/usr/bin/time` when it is installed. ratio = median ctxdiff time / median baseline time.
 * Every context fits in RAM and is warmed right before its runs, so the runs read from the page cache:
 * the benchmark measures walking, hashing and writing, not the disk. tree100k and
 * tree100k-dockerignore are two separate copies of the same bytes (not hardlinks: a link count of 2
 * on every file would change what tar and ctxdiff do).
 *
 * Cases and their bars:
 *   tree100k               100,000 files / 320 MiB, node_modules and .git included   ratio <= 1.0
 *   tree100k-dockerignore  the same tree with a .dockerignore excluding both         informational
 *   big2g                  200 files / 2 GiB                                          ratio <= 0.2
 *   tree1m                 1,000,000 small files in 10,100 dirs (~3.9 GiB on disk)    ratio <= 0.9, RSS <= 300 MiB
 *   tree1m-diff            `diff SNAPSHOT DIR` of tree1m, nothing changed             ratio <= 0.35, RSS <= 400 MiB
 *   tree1m-diff-edited     the same after touching 1,000 files and editing 100        ratio <= 0.4, RSS <= 400 MiB
 *   tree1m-diff-no-cache   `diff SNAPSHOT DIR --no-cache`, nothing changed            RSS <= 400 MiB
 *   tree1m-stat-floor      the floor under tree1m-diff: Node's readdir + lstat only   informational
 *   diff1m                 `ctxdiff diff A B --json` of two 1,000,000-entry snapshots  <= 1.0 s, RSS <= 400 MiB
 * The tree1m cases need ~4 GiB of disk: when tree1m is not generated yet and the disk has less than 10 GB
 * free, they are marked SKIP with the reason (generate.mjs, minFreeBytes). The tree1m-diff cases take their
 * snapshot untimed first (after restoring the tree: editContext), and diff it against the directory.
 * diff1m has no baseline: its snapshots are written through the library (generate.mjs,
 * ensureSnapshotPair, needs dist/), 1% of the files changed and 10% touched, and the diff's output goes to
 * /dev/null. Its "files" column counts the entries of one snapshot.
 * When the ctxdiff CLI or the subcommand a case needs does not exist yet, the script says
 * "ctxdiff snapshot: not available", still measures the baselines, and marks those bars SKIP.
 *
 * Adding a case: append an object to CASES:
 *   { name, description,
 *     prepare(env) -> prepared   (may carry files, bytes, note, and anything the commands need),
 *     warm?(prepared, env) -> CommandSpec, baseline?(prepared, env) -> CommandSpec,
 *     command(prepared, env) -> CommandSpec,
 *     bar?: { text, check(result) -> boolean } }
 * where CommandSpec = { label, argv, cwd, requires?: 'ctxdiff subcommand', output?: 'file to check
 * and delete after each run' }. A case without a baseline reports time and peak RSS only, and its
 * bar may test those, e.g. { text: 'peak RSS <= 1 GiB', check: (r) => r.command.peakRssKiB <= 2 ** 20 }.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CONTEXTS, DEFAULT_BENCH_DIR, REPO_ROOT, SNAPSHOT_PAIRS, editContext, ensureContext, ensureSnapshotPair, formatBytes } from './generate.mjs';

const DEFAULT_CLI = path.join(REPO_ROOT, 'bin', 'ctxdiff.js');
/** Timed runs of each command per case (--runs); the README's table says the same. */
const DEFAULT_RUNS = 5;
const GNU_TIME = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

// ---------------------------------------------------------------------------------------------
// Cases

/** `tar -cf - . | md5sum` in `dir`: reads every byte and metadata of the tree, like a context upload. */
const tarBaseline = (dir) => ({
  label: 'tar -cf - . | md5sum',
  argv: ['bash', '-c', 'set -o pipefail; tar -cf - . | md5sum'],
  cwd: dir,
});

const ctxdiffSnapshot = (env, dir, output, { keep = false } = {}) => ({
  label: 'ctxdiff snapshot',
  argv: [process.execPath, env.cli, 'snapshot', dir, '-o', output],
  cwd: REPO_ROOT,
  requires: 'snapshot',
  output,
  keep,
});

const MiB = 2 ** 20;
const GiB = 2 ** 30;
const rssOf = (r) => (r.command?.peakRssKiB ?? 0) * 1024;
const fmtMiB = (bytes) => `${Math.round(bytes / MiB)} MiB`;

/** ratio <= max, and peak RSS <= maxRss bytes when given. */
const ratioBar = (max, maxRss) => ({
  text: `ratio <= ${max.toFixed(2).replace(/0$/, '')}${maxRss ? `, RSS <= ${fmtMiB(maxRss)}` : ''}`,
  check: (r) => r.ratio !== null && r.ratio <= max && (!maxRss || rssOf(r) <= maxRss),
});

/** Generates (or re-uses) a context; `skip` says why not when the disk is too full for it. */
function prepareContext(name, env) {
  const { dir, summary, seconds, skipped } = ensureContext(name, { benchDir: env.benchDir, log: env.log });
  const note =
    summary.includedFiles !== summary.files
      ? `${summary.includedFiles.toLocaleString('en-US')} files / ${formatBytes(summary.includedBytes)} after .dockerignore`
      : undefined;
  return { dir, files: summary.files, bytes: summary.bytes, summary, generatedSeconds: seconds, note, skip: skipped };
}

/** A case that snapshots one generated context and compares it with tar. */
function contextCase(name, bar) {
  return {
    name,
    description: CONTEXTS[name].description,
    prepare: (env) => prepareContext(name, env),
    warm: (p) => tarBaseline(p.dir),
    baseline: (p) => tarBaseline(p.dir),
    command: (p, env) => ctxdiffSnapshot(env, p.dir, path.join(env.tmpDir, `${name}.ctxsnap`)),
    bar,
  };
}

/**
 * A case that diffs a snapshot of a generated context against the directory itself (`ctxdiff diff SNAP
 * DIR`), compared with tar on the same directory. The snapshot is taken (untimed) in `prepare`, after the
 * tree is restored to its plan; with `edit`, the tree is then edited (editContext: 1,000 files touched, 100
 * rewritten) for the timed runs and restored afterwards. `args` are extra diff options (--no-cache).
 */
function dirDiffCase(name, context, { description, edit = false, args = [], bar }) {
  return {
    name,
    description,
    prepare(env) {
      const p = prepareContext(context, env);
      if (p.skip) return p;
      editContext(context, { benchDir: env.benchDir, restore: true });
      const snapshot = path.join(env.tmpDir, `${name}.ctxsnap`);
      runOnce(ctxdiffSnapshot(env, p.dir, snapshot, { keep: true }), env);
      if (edit) {
        const { touched, edited } = editContext(context, { benchDir: env.benchDir });
        p.note = `${touched.length.toLocaleString('en-US')} files touched and ${edited.length} edited after the snapshot`;
      }
      return { ...p, snapshot };
    },
    warm: (p) => tarBaseline(p.dir),
    baseline: (p) => tarBaseline(p.dir),
    command: (p, env) => ({
      label: `ctxdiff diff SNAP DIR${args.length ? ` ${args.join(' ')}` : ''} --json`,
      argv: [process.execPath, env.cli, 'diff', p.snapshot, p.dir, ...args, '--json'],
      cwd: REPO_ROOT,
      requires: 'diff',
    }),
    cleanup(p, env) {
      if (edit) editContext(context, { benchDir: env.benchDir, restore: true });
    },
    bar,
  };
}

/** A case that diffs two generated snapshots: time and peak RSS only (no baseline). */
function diffCase(name, bar) {
  return {
    name,
    description: SNAPSHOT_PAIRS[name].description,
    async prepare(env) {
      const { before, after, entries, seconds } = await ensureSnapshotPair(name, { benchDir: env.benchDir, log: env.log });
      const bytes = fs.statSync(before).size + fs.statSync(after).size;
      return { before, after, files: entries, bytes, generatedSeconds: seconds, note: "files = entries in each snapshot, bytes = both snapshot files" };
    },
    command: (p, env) => ({
      label: 'ctxdiff diff --json',
      argv: [process.execPath, env.cli, 'diff', p.before, p.after, '--json'],
      cwd: REPO_ROOT,
      requires: 'diff',
    }),
    bar,
  };
}

const CASES = [
  contextCase('tree100k', ratioBar(1.0)),
  contextCase('tree100k-dockerignore', null),
  contextCase('big2g', ratioBar(0.2)),
  contextCase('tree1m', ratioBar(0.9, 300 * MiB)),
  dirDiffCase('tree1m-diff', 'tree1m', {
    description: '`diff SNAPSHOT DIR` of tree1m, nothing changed (hashes re-used from the snapshot)',
    bar: ratioBar(0.35, 400 * MiB),
  }),
  dirDiffCase('tree1m-diff-edited', 'tree1m', {
    description: '`diff SNAPSHOT DIR` of tree1m after touching 1,000 files and editing 100',
    edit: true,
    bar: ratioBar(0.4, 400 * MiB),
  }),
  dirDiffCase('tree1m-diff-no-cache', 'tree1m', {
    description: '`diff SNAPSHOT DIR --no-cache` of tree1m, nothing changed (every file read)',
    args: ['--no-cache'],
    bar: { text: `RSS <= ${fmtMiB(400 * MiB)}`, check: (r) => r.command !== null && rssOf(r) <= 400 * MiB },
  }),
  {
    name: 'tree1m-stat-floor',
    description: "the floor under tree1m-diff: Node's readdir + lstat of every entry on as many threads, nothing else",
    prepare: (env) => prepareContext('tree1m', env),
    warm: (p) => tarBaseline(p.dir),
    baseline: (p) => tarBaseline(p.dir),
    command: (p) => ({
      label: 'node readdir + lstat (test/bench/stat-floor.mjs)',
      argv: [process.execPath, path.join(REPO_ROOT, 'test', 'bench', 'stat-floor.mjs'), p.dir],
      cwd: REPO_ROOT,
    }),
    bar: null,
  },
  diffCase('diff1m', {
    text: `<= 1.0 s, RSS <= ${fmtMiB(400 * MiB)}`,
    check: (r) => r.command !== null && r.command.medianSeconds <= 1.0 && rssOf(r) <= 400 * MiB,
  }),
];

// ---------------------------------------------------------------------------------------------
// Running commands

/**
 * Runs a CommandSpec once. Returns { seconds, userSeconds, sysSeconds, peakRssKiB, outputBytes }
 * or throws with the command's exit status and the tail of its stderr.
 */
function runOnce(spec, env) {
  const timeFile = path.join(env.tmpDir, 'time.out');
  const argv = GNU_TIME ? [GNU_TIME, '-f', '%U %S %M', '-o', timeFile, '--', ...spec.argv] : spec.argv;
  if (spec.output) fs.rmSync(spec.output, { force: true });
  const started = process.hrtime.bigint();
  const child = spawnSync(argv[0], argv.slice(1), {
    cwd: spec.cwd,
    stdio: ['ignore', 'ignore', 'pipe'],
    maxBuffer: 16 * 1024 * 1024,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (child.error) throw new Error(`${spec.label}: ${child.error.message}`);
  if (child.status !== 0) {
    const tail = child.stderr.toString().trim().split('\n').slice(-3).join(' | ');
    throw new Error(`${spec.label}: exit ${child.status ?? child.signal}${tail ? `: ${tail}` : ''}`);
  }
  const run = { seconds, userSeconds: null, sysSeconds: null, peakRssKiB: null, outputBytes: null };
  if (GNU_TIME) {
    const last = fs.readFileSync(timeFile, 'utf8').trim().split('\n').pop();
    const [user, sys, rss] = last.split(' ').map(Number);
    Object.assign(run, { userSeconds: user, sysSeconds: sys, peakRssKiB: rss });
  }
  if (spec.output) {
    const size = fs.statSync(spec.output, { throwIfNoEntry: false })?.size ?? 0;
    if (!spec.keep) fs.rmSync(spec.output, { force: true });
    if (size === 0) throw new Error(`${spec.label}: exit 0 but ${spec.output} is missing or empty`);
    run.outputBytes = size;
  }
  return run;
}

const availability = new Map();
/** Why `ctxdiff <sub>` cannot run (null when it can), probed once with `ctxdiff <sub> --help`. */
function unavailableReason(sub, cli, log) {
  if (!availability.has(sub)) {
    let reason = null;
    if (cli === DEFAULT_CLI && !fs.existsSync(path.join(REPO_ROOT, 'dist', 'cli', 'main.js'))) reason = 'dist/cli/main.js is not built';
    else if (!fs.existsSync(cli)) reason = `${cli} does not exist`;
    else {
      const probe = spawnSync(process.execPath, [cli, sub, '--help'], { cwd: REPO_ROOT, timeout: 60_000 });
      if (probe.status !== 0) {
        const lines = `${probe.stderr}`.trim().split('\n');
        const first = lines.find((l) => /^\w*Error\b|error:/i.test(l)) ?? lines[0];
        reason = `\`ctxdiff ${sub} --help\` exits ${probe.status ?? probe.signal}${first ? `: ${first}` : ''}`;
      }
    }
    availability.set(sub, reason);
    if (reason) log(`ctxdiff ${sub}: not available (${reason})`);
  }
  return availability.get(sub);
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Aggregates the runs of one command. */
function series(spec, runs) {
  const max = (key) => (runs.some((r) => r[key] !== null) ? Math.max(...runs.map((r) => r[key] ?? 0)) : null);
  return {
    label: spec.label,
    argv: spec.argv,
    medianSeconds: median(runs.map((r) => r.seconds)),
    medianCpuSeconds: runs.every((r) => r.userSeconds !== null) ? median(runs.map((r) => r.userSeconds + r.sysSeconds)) : null,
    peakRssKiB: max('peakRssKiB'),
    outputBytes: max('outputBytes'),
    runs,
  };
}

/** Prepares, warms and times one case; never throws (errors land in the result). */
async function runCase(benchCase, env) {
  const result = {
    name: benchCase.name,
    description: benchCase.description,
    files: null,
    bytes: null,
    note: null,
    generatedSeconds: null,
    warmSeconds: null,
    baseline: null,
    command: null,
    unavailable: null,
    skipped: null,
    error: null,
    ratio: null,
    bar: benchCase.bar?.text ?? null,
    status: null,
  };
  let baseline = null;
  let command = null;
  let prepared = null;
  const baselineRuns = [];
  const commandRuns = [];
  try {
    env.log(`${benchCase.name}: preparing`);
    prepared = await benchCase.prepare(env);
    Object.assign(result, {
      files: prepared.files ?? null,
      bytes: prepared.bytes ?? null,
      note: prepared.note ?? null,
      generatedSeconds: prepared.generatedSeconds ?? null,
    });
    if (prepared.skip) {
      result.skipped = prepared.skip;
      result.note = `skipped: ${prepared.skip}`;
      result.status = 'SKIP';
      return result;
    }
    baseline = benchCase.baseline?.(prepared, env) ?? null;
    command = benchCase.command(prepared, env);
    result.unavailable = command.requires ? unavailableReason(command.requires, env.cli, env.log) : null;

    if (benchCase.warm) {
      env.log(`${benchCase.name}: warming the page cache`);
      result.warmSeconds = runOnce(benchCase.warm(prepared, env), env).seconds;
    }
    for (let i = 1; i <= env.runs; i++) {
      if (baseline) {
        baselineRuns.push(runOnce(baseline, env));
        env.log(`${benchCase.name}: run ${i}/${env.runs} baseline ${baselineRuns.at(-1).seconds.toFixed(3)} s`);
      }
      if (!result.unavailable) {
        commandRuns.push(runOnce(command, env));
        env.log(`${benchCase.name}: run ${i}/${env.runs} ${command.label} ${commandRuns.at(-1).seconds.toFixed(3)} s`);
      }
    }
  } catch (err) {
    result.error = err instanceof Error ? err.message : String(err);
    env.log(`${benchCase.name}: ERROR ${result.error}`);
  } finally {
    if (prepared && !prepared.skip && benchCase.cleanup) {
      try {
        benchCase.cleanup(prepared, env);
      } catch (err) {
        result.error ??= `cleanup: ${err instanceof Error ? err.message : String(err)}`;
      }
    }
  }
  // Runs completed before an error are kept, but no ratio is drawn from an incomplete series.
  if (baselineRuns.length) result.baseline = series(baseline, baselineRuns);
  if (commandRuns.length) result.command = series(command, commandRuns);
  if (!result.error && result.baseline && result.command) {
    result.ratio = result.command.medianSeconds / result.baseline.medianSeconds;
  }
  result.status = result.error
    ? 'ERROR'
    : !benchCase.bar
      ? 'INFO'
      : result.unavailable
        ? 'SKIP'
        : benchCase.bar.check(result)
          ? 'PASS'
          : 'FAIL';
  return result;
}

// ---------------------------------------------------------------------------------------------
// Reporting

function machine(loadBefore) {
  const cpus = os.cpus();
  const tar = spawnSync('tar', ['--version']).stdout?.toString().split('\n')[0] ?? null;
  const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT }).stdout?.toString().trim() || null;
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? null,
    memoryBytes: os.totalmem(),
    platform: `${os.platform()} ${os.release()}`,
    node: process.version,
    tar,
    commit,
    /** 1-minute load average before and after the runs: above the CPU count, other work competed. */
    loadAverage: { before: loadBefore, after: os.loadavg()[0] },
  };
}

const fmtSeconds = (s) => (s === null || s === undefined ? '-' : s.toFixed(3));

function printTable(report) {
  const m = report.machine;
  console.log(
    `ctxdiff benchmark: ${m.cpus} x ${m.cpuModel}, ${formatBytes(m.memoryBytes)} RAM, Node ${m.node}, ${m.tar}, ` +
      `commit ${m.commit ?? '?'}; median of ${report.runs} run(s), page cache warm`,
  );
  const busiest = Math.max(m.loadAverage.before, m.loadAverage.after);
  if (busiest > m.cpus) {
    console.log(`warning: load average reached ${busiest.toFixed(1)} on ${m.cpus} CPUs: other work competed, figures are noisy`);
  }
  for (const sub of Object.keys(report.unavailable)) console.log(`ctxdiff ${sub}: not available (${report.unavailable[sub]})`);
  const header = ['case', 'files', 'bytes', 'baseline s', 'ctxdiff s', 'ratio', 'ctxdiff RSS', 'bar', 'result'];
  const rows = report.cases.map((r) => [
    r.name,
    r.files === null ? '-' : r.files.toLocaleString('en-US'),
    r.bytes === null ? '-' : formatBytes(r.bytes),
    fmtSeconds(r.baseline?.medianSeconds),
    r.unavailable ? 'n/a' : fmtSeconds(r.command?.medianSeconds),
    r.ratio === null ? '-' : r.ratio.toFixed(2),
    r.command?.peakRssKiB ? formatBytes(r.command.peakRssKiB * 1024) : '-',
    r.bar ?? 'informational',
    r.status,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const leftAligned = new Set([0, 7, 8]);
  const line = (cells) => cells.map((c, i) => (leftAligned.has(i) ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  console.log();
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of rows) console.log(line(row));
  console.log();
  for (const r of report.cases) {
    if (r.note) console.log(`${r.name}: ${r.note}`);
    if (r.error) console.log(`${r.name}: ERROR ${r.error}`);
  }
  console.log(`baseline: bash -c "tar -cf - . | md5sum" in the context dir; ctxdiff: node ${report.cli} snapshot CTX -o FILE`);
  console.log(`tree1m-diff*: node ${report.cli} diff SNAPSHOT DIR --json > /dev/null, the snapshot taken before the runs`);
  console.log("tree1m-stat-floor: node test/bench/stat-floor.mjs DIR (not ctxdiff: the floor under tree1m-diff, Node's readdir + lstat of every entry)");
  console.log(`diff1m: node ${report.cli} diff BEFORE AFTER --json > /dev/null (no baseline)`);
  console.log('ratio = ctxdiff median / baseline median (lower is faster); RSS = peak resident set of the ctxdiff process');
}

// ---------------------------------------------------------------------------------------------
// Main

function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      runs: { type: 'string', default: String(DEFAULT_RUNS) },
      cli: { type: 'string', default: DEFAULT_CLI },
      only: { type: 'string', multiple: true },
      json: { type: 'boolean', default: false },
      list: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, got ${values.runs}`);
  const only = (values.only ?? []).flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean);
  const known = CASES.map((c) => c.name);
  const unknown = only.filter((n) => !known.includes(n));
  if (unknown.length) throw new Error(`unknown case ${unknown.join(', ')} (known: ${known.join(', ')})`);
  return { runs, only, cli: path.resolve(values.cli), json: values.json, list: values.list, help: values.help };
}

async function main() {
  let options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (err) {
    console.error(`bench: ${err.message}`);
    return 2;
  }
  if (options.help) {
    console.log('usage: node test/bench/bench.mjs [--runs N] [--only NAME[,NAME]] [--json] [--cli PATH] [--list]   (see the header of this file)');
    return 0;
  }
  if (options.list) {
    for (const c of CASES) console.log(`${c.name.padEnd(24)} ${c.bar?.text ?? 'informational'}  ${c.description}`);
    return 0;
  }

  const loadBefore = os.loadavg()[0];
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ctxdiff-bench-'));
  const env = {
    benchDir: DEFAULT_BENCH_DIR,
    tmpDir,
    runs: options.runs,
    cli: options.cli,
    log: (message) => console.error(`[bench] ${message}`),
  };
  const selected = options.only.length ? CASES.filter((c) => options.only.includes(c.name)) : CASES;
  const results = [];
  try {
    for (const benchCase of selected) results.push(await runCase(benchCase, env));
  } finally {
    fs.rmSync(tmpDir, { recursive: true, force: true });
  }

  const report = {
    benchmark: 'ctxdiff',
    date: new Date().toISOString(),
    machine: machine(loadBefore),
    runs: options.runs,
    cli: options.cli.startsWith(`${REPO_ROOT}${path.sep}`) ? path.relative(REPO_ROOT, options.cli) : options.cli,
    unavailable: Object.fromEntries([...availability].filter(([, reason]) => reason !== null)),
    cases: results,
  };
  if (options.json) console.log(JSON.stringify(report, null, 2));
  else printTable(report);
  return results.some((r) => r.status === 'FAIL' || r.status === 'ERROR') ? 1 : 0;
}

process.exitCode = await main();
