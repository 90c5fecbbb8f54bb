#!/usr/bin/env node
/**
 * The GitHub Action's step (action.yml): diff the workspace against the baseline snapshot, write the
 * Markdown report to the job summary, print workflow annotations on the Dockerfile lines that rebuild, set
 * the step's outputs, and take the new snapshot for the next run — before failing the step, if it fails.
 *
 * Inputs come as INPUT_* environment variables (action.yml maps them); the runner's files as
 * GITHUB_STEP_SUMMARY, GITHUB_OUTPUT, RUNNER_TEMP. It runs the ctxdiff of this checkout (bin/ctxdiff.js).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../bin/ctxdiff.js', import.meta.url));
const env = process.env;
const input = (name, fallback = '') => (env[`INPUT_${name.toUpperCase().replace(/-/g, '_')}`] ?? '').trim() || fallback;
const flag = (name, fallback) => {
  const v = input(name, String(fallback)).toLowerCase();
  if (v !== 'true' && v !== 'false') fail(`input ${name} must be true or false, not "${v}"`);
  return v === 'true';
};

function fail(message) {
  process.stdout.write(`::error title=ctxdiff::${escapeData(message)}\n`);
  process.exit(1);
}

/** A workflow command's message: `%`, CR and LF escaped (as the runner expects). */
function escapeData(s) {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function setOutput(name, value) {
  if (!env.GITHUB_OUTPUT) return;
  const v = String(value);
  if (!/[\r\n]/.test(v)) fs.appendFileSync(env.GITHUB_OUTPUT, `${name}=${v}\n`);
  else {
    const delimiter = `ctxdiff_${Math.random().toString(36).slice(2)}`;
    fs.appendFileSync(env.GITHUB_OUTPUT, `${name}<<${delimiter}\n${v}\n${delimiter}\n`);
  }
}

function summary(markdown) {
  if (env.GITHUB_STEP_SUMMARY && wantSummary) fs.appendFileSync(env.GITHUB_STEP_SUMMARY, markdown.endsWith('\n') ? markdown : `${markdown}\n`);
}

/** Run ctxdiff; its stderr (warnings, errors) goes to the log as it is. */
function ctxdiff(args) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', maxBuffer: 1 << 30, env: { ...env, NO_COLOR: '1', FORCE_COLOR: '0' } });
  if (r.stderr) process.stderr.write(r.stderr);
  if (r.error) fail(`could not run ctxdiff: ${r.error.message}`);
  return { code: r.status ?? 2, stdout: r.stdout };
}

const context = input('context', '.');
const file = input('file');
const builder = input('builder', 'buildkit');
const buildArgs = input('build-args').split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
const failOnRebuild = flag('fail-on-rebuild', false);
const wantSummary = flag('summary', true);
const buildLog = input('build-log');
const temp = path.join(env.RUNNER_TEMP || fs.mkdtempSync(path.join(process.env.TMPDIR || '/tmp', 'ctxdiff-')), 'ctxdiff');
const kept = path.join(temp, 'baseline', 'context.ctxsnap');
const baseline = input('baseline', kept);
for (const a of buildArgs) if (!/^[^=\s]+=/.test(a)) fail(`build-args: "${a}" is not name=value`);

const common = ['--builder', builder, ...(file ? ['-f', file] : []), '--no-progress'];
const diffArgs = [...common, ...buildArgs.flatMap((a) => ['--build-arg', a])];
fs.mkdirSync(path.dirname(kept), { recursive: true });

// 1. The new snapshot first (to a file of its own: the baseline may be the same path), so that it is saved
//    whatever the diff finds.
const fresh = path.join(temp, 'new.ctxsnap');
const snap = ctxdiff(['snapshot', context, '-o', fresh, ...common]);
if (snap.code !== 0) fail(`ctxdiff snapshot ${context} failed (exit ${snap.code})`);

// 2. The diff against the baseline, when there is one.
let rebuilt = 0;
const haveBaseline = fs.existsSync(baseline);
setOutput('baseline-found', haveBaseline);
if (!haveBaseline) {
  summary(`### ctxdiff: no baseline yet\n\nNo snapshot of an earlier run was found${input('baseline') ? ` at \`${baseline}\`` : ' in the cache (this branch or the default branch)'}: this run saves one, and the next run is diffed against it.\n`);
  setOutput('rebuilt-steps', '');
  setOutput('first-rebuilt-line', '');
  setOutput('report', '');
} else {
  const report = path.join(temp, 'diff.json');
  const json = ctxdiff(['diff', baseline, context, ...diffArgs, '--json']);
  if (json.code !== 0) fail(`ctxdiff diff failed (exit ${json.code})`);
  fs.writeFileSync(report, json.stdout);
  const doc = JSON.parse(json.stdout);
  const rebuiltSteps = doc.steps.filter((s) => s.verdict === 'rebuilt');
  rebuilt = rebuiltSteps.length;
  setOutput('rebuilt-steps', rebuilt);
  setOutput('first-rebuilt-line', rebuiltSteps[0]?.line ?? '');
  setOutput('report', report);
  const md = ctxdiff(['diff', baseline, context, ...diffArgs, '--format', 'markdown']);
  if (md.code === 0) summary(md.stdout);
  // Annotations on the Dockerfile lines that rebuild (paths from the workspace, where the step runs).
  const annotations = ctxdiff(['diff', baseline, context, ...diffArgs, '--format', 'github']);
  if (annotations.code === 0) process.stdout.write(annotations.stdout);
}

// 3. The build log against the prediction (ctxdiff explain), when given.
if (buildLog) {
  const since = haveBaseline ? ['--since', baseline, '--context', context] : ['--context', context];
  const explainArgs = ['explain', buildLog, ...since, ...common, ...buildArgs.flatMap((a) => ['--build-arg', a])];
  const ex = ctxdiff([...explainArgs, '--json']);
  if (ex.code === 0) {
    const exReport = path.join(temp, 'explain.json');
    fs.writeFileSync(exReport, ex.stdout);
    setOutput('explain-report', exReport);
    const md = ctxdiff([...explainArgs, '--format', 'markdown']);
    if (md.code === 0) summary(md.stdout);
  } else process.stdout.write(`::warning title=ctxdiff::${escapeData(`ctxdiff explain ${buildLog} failed (exit ${ex.code})`)}\n`);
}

// 4. The new snapshot becomes the one the cache keeps for the next run.
fs.renameSync(fresh, kept);
setOutput('snapshot', kept);

if (failOnRebuild && rebuilt > 0) {
  process.stdout.write(`::error title=ctxdiff::${escapeData(`${rebuilt} step${rebuilt === 1 ? '' : 's'} would be rebuilt (fail-on-rebuild)`)}\n`);
  process.exit(1);
}
