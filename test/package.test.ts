/**
 * The package as a user gets it: `npm pack` (of the dist/ that `npm test` built; --ignore-scripts so the
 * pack does not rebuild dist/ under the other test files), installed into an empty project, then the bin,
 * `import` and `require` run from there. attw and publint check the same tarball. Also: `npm ci` in a
 * fresh copy of the repository builds dist/ (the README's Development commands need it).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

function sh(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', npm_config_fund: 'false', npm_config_audit: 'false', ...env }, maxBuffer: 64 << 20 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Whether this checkout has the native helpers built (always under CI on Linux: the native tests say so). */
const NATIVE_BUILT = fs.existsSync(path.join(ROOT, 'dist/native/fsnative.node'));

let tmp: string;
let tarball: string;
let files: string[];
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ctxdiff-pkg-'));
  const r = sh(NPM, ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], ROOT);
  expect(r.code, r.stderr).toBe(0);
  const info = JSON.parse(r.stdout)[0];
  tarball = path.join(tmp, info.filename);
  files = info.files.map((f: { path: string }) => f.path).sort();
}, 120_000);
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('the packed package', () => {
  it('holds only what a user runs: dist (no maps), bin, schemas, README, LICENSE, package.json', () => {
    expect(files).toContain('LICENSE');
    expect(files).toContain('README.md');
    expect(files).toContain('bin/ctxdiff.js');
    expect(files).toContain('dist/cli/main.js');
    expect(files).toContain('dist/index.cjs');
    expect(files).toContain('dist/index.d.cts');
    expect(files.filter((f) => f.startsWith('schemas/')).length).toBeGreaterThan(0);
    if (NATIVE_BUILT) expect(files).toContain('dist/native/fsnative.node');
    const stray = files.filter((f) => !/^(dist\/|bin\/|schemas\/|LICENSE$|README\.md$|package\.json$)/.test(f) || f.endsWith('.map') || f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.endsWith('.d.cts'));
    expect(stray).toEqual([]);
    expect(fs.readFileSync(path.join(ROOT, 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
    expect(pkg.license).toBe('MIT');
    for (const k of ['repository', 'homepage', 'bugs', 'keywords']) expect(pkg[k], k).toBeTruthy();
  });

  it('has no install-time script (npm would warn a user installing it)', () => {
    for (const s of ['preinstall', 'install', 'postinstall', 'prepare']) expect(pkg.scripts[s], s).toBeUndefined();
    expect(pkg.scripts.prepack).toMatch(/build/);
  });

  it('installs into an empty project without warnings about scripts, and runs from there', () => {
    const proj = path.join(tmp, 'proj');
    fs.mkdirSync(proj);
    fs.writeFileSync(path.join(proj, 'package.json'), JSON.stringify({ name: 'proj', version: '1.0.0', private: true }));
    const inst = sh(NPM, ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], proj);
    expect(inst.code, inst.stderr).toBe(0);
    expect(inst.stderr).not.toMatch(/install-scripts|install scripts/i);
    const bin = path.join(proj, 'node_modules/.bin/ctxdiff');
    const v = sh(bin, ['--version'], proj);
    expect(v).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
    const diff = sh(bin, ['diff', path.join(ROOT, 'fixtures/example/ci-run-41'), path.join(ROOT, 'fixtures/example/ci-run-42'), '--json'], proj);
    expect(diff.code, diff.stderr).toBe(0);
    expect(JSON.parse(diff.stdout).summary.rebuilt).toBeGreaterThan(0);
    // The library, both ways (require(esm) needs Node >= 20.19 / 22.12).
    const esm = sh(process.execPath, ['--input-type=module', '-e', "const m = await import('ctxdiff'); console.log(typeof m.judge, typeof m.getProfile('buildkit'))"], proj);
    expect(esm).toMatchObject({ code: 0, stdout: 'function object\n' });
    const cjs = sh(process.execPath, ['-e', "const m = require('ctxdiff'); console.log(typeof m.judge, m.getProfile('classic').id)"], proj);
    expect(cjs).toMatchObject({ code: 0, stdout: 'function classic\n' });
    const schema = sh(process.execPath, ['-e', "console.log(require.resolve('ctxdiff/schemas/diff.schema.json').length > 0)"], proj);
    expect(schema).toMatchObject({ code: 0, stdout: 'true\n' });
    // The native helpers ship built (npm pack runs build:native first) and load where they were built.
    if (NATIVE_BUILT) {
      const native = sh(process.execPath, ['--input-type=module', '-e', "const m = await import('ctxdiff'); console.log(m.nativeSupport())"], proj);
      expect(native).toMatchObject({ code: 0, stdout: 'null\n' });
    }
  }, 180_000);

  it('passes attw (default profile) and publint', async () => {
    const attw = sh(process.execPath, [path.join(ROOT, 'node_modules/@arethetypeswrong/cli/dist/index.js'), tarball, '--format', 'ascii'], ROOT);
    expect(attw.code, attw.stdout + attw.stderr).toBe(0);
    const { publint } = await import('publint');
    const buf = fs.readFileSync(tarball);
    const { messages } = await publint({ pack: { tarball: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer }, strict: true });
    expect(messages).toEqual([]);
  }, 120_000);
});

describe('a fresh clone', () => {
  it('builds dist/ during `npm ci` (the Development commands run the bin right after it)', () => {
    const clone = path.join(tmp, 'clone');
    const r = sh('git', ['clone', '--quiet', '--no-hardlinks', ROOT, clone], tmp);
    expect(r.code, r.stderr).toBe(0);
    // The working tree's package files (they may hold uncommitted changes while developing).
    for (const f of ['package.json', 'package-lock.json', 'tsconfig.json']) fs.copyFileSync(path.join(ROOT, f), path.join(clone, f));
    fs.rmSync(path.join(clone, 'src'), { recursive: true, force: true });
    fs.cpSync(path.join(ROOT, 'src'), path.join(clone, 'src'), { recursive: true });
    const ci = sh(NPM, ['ci', '--prefer-offline', '--no-audit', '--no-fund'], clone);
    expect(ci.code, ci.stderr).toBe(0);
    expect(fs.existsSync(path.join(clone, 'dist/cli/main.js'))).toBe(true);
    const run = sh(process.execPath, [path.join(clone, 'bin/ctxdiff.js'), '--version'], clone);
    expect(run).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
  }, 300_000);
});
