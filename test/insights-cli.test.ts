/** End-to-end: `why`, `du` and `doctor` through the built CLI (dist/, made by `npm test`'s build step). */
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { projectCopies } from './support/projects.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin/ctxdiff.js');

function run(args: string[], cwd = ROOT) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' }, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const copyOf = projectCopies('ctxdiff-insights-');
let node: string;
let python: string;
let go: string;
beforeAll(async () => {
  node = await copyOf('node-app', {
    '.git/HEAD': { content: 'ref: refs/heads/main\n' },
    'node_modules/express/index.js': { content: 'x'.repeat(2048) },
    'npm-debug.log': { content: 'npm ERR!\n' },
  });
  python = await copyOf('python-app');
  go = await copyOf('go-app');
});

describe('ctxdiff why', () => {
  it('--json has the documented shape', () => {
    const r = run(['why', '.git/index', 'node_modules/express/index.js', 'src/app.ts', '--json'], node);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.schemaVersion).toBe(1);
    expect(doc.results).toHaveLength(3);
    expect(doc.results[0]).toMatchObject({ path: '.git/index', included: true, rule: null, steps: [{ line: 5, instruction: 'COPY', source: '.' }] });
    expect(doc.results[1]).toMatchObject({
      path: 'node_modules/express/index.js',
      included: false,
      rule: { file: '.dockerignore', line: 2, pattern: 'node_modules' },
      notWalkedBelow: 'node_modules',
    });
    expect(doc.results[2]).toMatchObject({ path: 'src/app.ts', included: true, rule: null });
  });

  it('text names the rule and the steps; --context selects the context', () => {
    const r = run(['why', '--context', node, 'npm-debug.log', 'README.md']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('npm-debug.log: not sent — excluded by .dockerignore:3 `npm-debug.log`');
    expect(r.stdout).toContain('README.md: sent — no rule matches');
    expect(r.stdout).toContain('taken by line 5: COPY . .');
  });

  it('answers agree with ctxdiff ls --json for every file on disk', () => {
    const listed = new Set(JSON.parse(run(['ls', node, '--json']).stdout).entries.map((e: { path: string }) => e.path));
    const files = (fs.readdirSync(node, { recursive: true, encoding: 'utf8' }) as string[])
      .filter((p) => fs.lstatSync(path.join(node, p)).isFile())
      .map((p) => p.split(path.sep).join('/'));
    const doc = JSON.parse(run(['why', '-C', node, '--json', ...files]).stdout);
    for (const res of doc.results) expect({ path: res.path, sent: res.included }).toEqual({ path: res.path, sent: listed.has(res.path) });
  });

  it('a path outside the context is a usage error (exit 2, one line)', () => {
    const r = run(['why', '../x'], node);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('outside the build context');
  });
});

describe('ctxdiff du', () => {
  it('--json totals, savings and top lists', () => {
    const r = run(['du', node, '--json', '--top', '2']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.schemaVersion).toBe(1);
    expect(doc.saved).toEqual({ files: 2, bytes: 2048 + 9 });
    expect(doc.withoutIgnore.files - doc.total.files).toBe(2);
    expect(doc.largestFiles).toHaveLength(2);
    expect(doc.savedByRule[0]).toEqual({ file: '.dockerignore', line: 2, pattern: 'node_modules', files: 1, bytes: 2048 });
  });

  it('text and markdown', () => {
    const t = run(['du', node]);
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/the ignore file saves: +2 files, 2\.01 KiB/);
    expect(t.stdout).toContain('.dockerignore:2 node_modules');
    const m = run(['du', node, '--format', 'markdown']);
    expect(m.stdout).toContain('### Build context size (buildkit)');
    expect(m.stdout).toContain('| saved by `.dockerignore` | 2 |');
  });
});

describe('ctxdiff doctor', () => {
  it('--json findings, and --exit-code with --fail-on', () => {
    const r = run(['doctor', node, '--json', '--exit-code']);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc.schemaVersion).toBe(1);
    for (const f of doc.findings) expect(Object.keys(f).slice(0, 6)).toEqual(['id', 'severity', 'file', 'line', 'message', 'fix']);
    expect(doc.findings.map((f: { id: string }) => f.id)).toContain('copy-before-install');
    // The Python app has warnings but no error.
    expect(run(['doctor', python, '--exit-code', '--fail-on', 'error']).code).toBe(0);
    expect(run(['doctor', python, '--exit-code']).code).toBe(1);
    expect(run(['doctor', python]).code).toBe(0);
    expect(run(['doctor', go, '--exit-code', '--fail-on', 'info']).code).toBe(0);
  });

  it('text shows the fix lines; markdown is for CI summaries', () => {
    // Finding paths are from the current directory: the context's own Dockerfile from inside it, a path into it from its parent.
    const t = run(['doctor', '.'], python);
    expect(t.stdout).toContain('warning Dockerfile:3 [copy-before-install]');
    const up = run(['doctor', path.basename(python)], path.dirname(python));
    expect(up.stdout).toContain(`warning ${path.basename(python)}/Dockerfile:3 [copy-before-install]`);
    expect(t.stdout).toContain('  fix: COPY requirements.txt /srv/\n       RUN pip install --no-cache-dir -r requirements.txt\n       COPY . /srv\n');
    const m = run(['doctor', python, '--format', 'markdown']);
    expect(m.stdout).toMatch(/^### ctxdiff doctor: 5 findings \(buildkit\)/); // 3 + a moving base tag and pip without a cache mount
    expect(m.stdout).toContain('```dockerfile');
    expect(run(['doctor', go]).stdout).toContain('no findings');
  });

  it('rejects an unknown --fail-on', () => {
    expect(run(['doctor', go, '--fail-on', 'fatal']).code).toBe(2);
  });
});
