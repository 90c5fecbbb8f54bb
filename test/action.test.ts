/**
 * The GitHub Action (action.yml + action/run.mjs): its step run as a runner runs it — in a temporary
 * workspace, with INPUT_* variables and the GITHUB_STEP_SUMMARY / GITHUB_OUTPUT / RUNNER_TEMP files a runner
 * sets — over two runs of a workspace: the first saves a baseline, the second reports against it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { materialize } from './support/fixture.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const SCRIPT = path.join(ROOT, 'action/run.mjs');
const action = parse(fs.readFileSync(path.join(ROOT, 'action.yml'), 'utf8'));

let tmp: string;
let workspace: string;
let runnerTemp: string;
beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ctxdiff-action-'));
  workspace = path.join(tmp, 'workspace');
  runnerTemp = path.join(tmp, 'runner-temp');
  fs.mkdirSync(workspace);
  fs.mkdirSync(runnerTemp);
  await materialize(
    {
      'app/Dockerfile': { content: 'FROM scratch\nCOPY package.json /app/\nARG V\nCOPY src /app/src\n' },
      'app/.dockerignore': { content: '*.log\n' },
      'app/package.json': { content: '{}' },
      'app/src/index.js': { content: 'console.log(1)\n' },
    },
    workspace,
  );
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** One run of the step: fresh summary and output files, the inputs as action.yml maps them. */
function runStep(inputs: Record<string, string>) {
  const summary = path.join(tmp, `summary-${Math.random()}`);
  const output = path.join(tmp, `output-${Math.random()}`);
  fs.writeFileSync(summary, '');
  fs.writeFileSync(output, '');
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: workspace, RUNNER_TEMP: runnerTemp, GITHUB_STEP_SUMMARY: summary, GITHUB_OUTPUT: output };
  // As action.yml's `env:` passes them: every declared input, its default unless given.
  for (const [name, spec] of Object.entries(action.inputs as Record<string, { default?: string }>)) {
    env[`INPUT_${name.toUpperCase().replace(/-/g, '_')}`] = inputs[name] ?? spec.default ?? '';
  }
  const r = spawnSync(process.execPath, [SCRIPT], { cwd: workspace, env, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, summary: fs.readFileSync(summary, 'utf8'), outputs: parseOutputs(fs.readFileSync(output, 'utf8')) };
}

/** GITHUB_OUTPUT as the runner reads it: name=value lines and name<<DELIMITER blocks. */
function parseOutputs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(l);
    if (heredoc) {
      const end = lines.indexOf(heredoc[2]!, i + 1);
      out[heredoc[1]!] = lines.slice(i + 1, end).join('\n');
      i = end;
    } else if (l.includes('=')) out[l.slice(0, l.indexOf('='))] = l.slice(l.indexOf('=') + 1);
  }
  return out;
}

describe('the GitHub Action', () => {
  it('declares the inputs and outputs it documents, and maps every input to its step', () => {
    expect(Object.keys(action.inputs)).toEqual(expect.arrayContaining(['context', 'file', 'builder', 'build-args', 'fail-on-rebuild', 'baseline', 'summary', 'build-log']));
    expect(Object.keys(action.outputs)).toEqual(expect.arrayContaining(['rebuilt-steps', 'first-rebuilt-line', 'report', 'snapshot']));
    expect(action.runs.using).toBe('composite');
    const step = action.runs.steps.find((s: { id?: string }) => s.id === 'run');
    for (const name of Object.keys(action.inputs)) {
      if (name === 'cache-key') continue; // used by the cache steps
      expect(step.env[`INPUT_${name.toUpperCase().replace(/-/g, '_')}`], name).toBe(`\${{ inputs.${name} }}`);
    }
    // The snapshot is saved even when the step fails.
    const save = action.runs.steps.find((s: { uses?: string }) => s.uses?.startsWith('actions/cache/save'));
    expect(save.if).toMatch(/^always\(\)/);
    const restore = action.runs.steps.find((s: { uses?: string }) => s.uses?.startsWith('actions/cache/restore'));
    expect(restore.with['restore-keys']).toContain('github.event.repository.default_branch');
    expect(save.with.path).toBe(restore.with.path);
  });

  it('first run: no baseline yet, says so, saves a snapshot', () => {
    const r = runStep({ context: 'app' });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.summary).toContain('no baseline yet');
    expect(r.outputs['baseline-found']).toBe('false');
    expect(r.outputs.snapshot).toBe(path.join(runnerTemp, 'ctxdiff/baseline/context.ctxsnap'));
    expect(fs.existsSync(r.outputs.snapshot!)).toBe(true);
    expect(fs.existsSync(path.join(runnerTemp, 'ctxdiff/new.ctxsnap'))).toBe(false);
  });

  it('next run: the report in the summary, annotations on the lines, outputs; fails with fail-on-rebuild after saving', () => {
    fs.writeFileSync(path.join(workspace, 'app/src/index.js'), 'console.log(2)\n');
    const before = fs.readFileSync(path.join(runnerTemp, 'ctxdiff/baseline/context.ctxsnap'));
    const r = runStep({ context: 'app', 'fail-on-rebuild': 'true', 'build-args': 'V=1\n' });
    expect(r.code).toBe(1);
    expect(r.outputs['baseline-found']).toBe('true');
    expect(r.outputs['rebuilt-steps']).toBe('1');
    expect(r.outputs['first-rebuilt-line']).toBe('4');
    const report = JSON.parse(fs.readFileSync(r.outputs.report!, 'utf8'));
    expect(report.summary.rebuilt).toBe(1);
    expect(r.summary).toMatch(/^### ctxdiff: 1 of 2 steps rebuilt \(buildkit\)/);
    expect(r.summary).toContain('`src/index.js`');
    expect(r.stdout).toMatch(/^::warning file=app\/Dockerfile,line=4,title=ctxdiff%3A COPY src \/app\/src is rebuilt::/m);
    expect(r.stdout).toMatch(/^::error title=ctxdiff::1 step would be rebuilt \(fail-on-rebuild\)$/m);
    // The new snapshot replaced the old one although the step failed.
    expect(fs.readFileSync(r.outputs.snapshot!).equals(before)).toBe(false);
    const again = runStep({ context: 'app', 'fail-on-rebuild': 'true', 'build-args': 'V=1' });
    expect(again.code).toBe(0);
    expect(again.outputs['rebuilt-steps']).toBe('0');
    expect(again.outputs['first-rebuilt-line']).toBe('');
  });

  it('takes a baseline given as a file, writes no summary when asked not to, and refuses bad inputs', () => {
    const given = path.join(tmp, 'given.ctxsnap');
    fs.copyFileSync(path.join(runnerTemp, 'ctxdiff/baseline/context.ctxsnap'), given);
    fs.writeFileSync(path.join(workspace, 'app/package.json'), '{"x":1}');
    const r = runStep({ context: 'app', baseline: given, summary: 'false' });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.summary).toBe('');
    expect(r.outputs['first-rebuilt-line']).toBe('2');
    expect(runStep({ context: 'app', summary: 'maybe' }).stdout).toContain('::error title=ctxdiff::input summary must be true or false');
    expect(runStep({ context: 'app', 'build-args': 'novalue' }).code).toBe(1);
  });

  it('holds a build log against the prediction with ctxdiff explain (build-log)', () => {
    const logs = path.join(ROOT, 'fixtures/buildlogs/buildkit-0.8');
    const r = runStep({ context: path.relative(workspace, path.join(ROOT, 'fixtures/buildlogs')), file: path.join(ROOT, 'fixtures/buildlogs/Dockerfile'), baseline: path.join(logs, '01-fresh.ctxsnap'), 'build-log': path.join(logs, '02-changed.log'), builder: 'buildkit-0.8' });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const ex = JSON.parse(fs.readFileSync(r.outputs['explain-report']!, 'utf8'));
    expect(ex.steps.length).toBeGreaterThan(0);
    expect(r.summary).toMatch(/ctxdiff explain/);
  });
});
