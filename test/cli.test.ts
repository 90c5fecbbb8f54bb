/** End-to-end: the built CLI (dist/, made by `npm test`'s build step) on real directories. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { materialize } from './support/fixture.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin/ctxdiff.js');
const EXAMPLE = path.join(ROOT, 'fixtures/example');

function run(args: string[], opts: { cwd?: string; input?: string | Buffer; env?: NodeJS.ProcessEnv } = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? ROOT,
    input: opts.input,
    env: { ...process.env, NO_COLOR: '1', ...opts.env },
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let tmp: string;
let ctx: string;
beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ctxdiff-cli-'));
  ctx = path.join(tmp, 'ctx');
  fs.mkdirSync(ctx);
  await materialize(
    {
      'Dockerfile': { content: 'FROM scratch\nCOPY src /src\n' },
      '.dockerignore': { content: '*.log\n' },
      'src/a.txt': { content: 'a' },
      'src/run.sh': { content: '#!/bin/sh\n', mode: 0o755 },
      'debug.log': { content: 'x' },
      'link': { symlink: 'src/a.txt' },
    },
    ctx,
  );
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('ctxdiff CLI', () => {
  it('prints its version and help', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    expect(run(['--version'])).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
    const help = run(['--help']);
    expect(help.code).toBe(0);
    for (const cmd of ['snapshot', 'tree', 'ls', 'diff']) expect(help.stdout).toContain(cmd);
  });

  it('builders lists every profile with the real builder versions that verified it', () => {
    const r = run(['builders', '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    const byId = Object.fromEntries(doc.builders.map((b: { id: string; verifiedBy: string[] }) => [b.id, b.verifiedBy]));
    expect(Object.keys(byId)).toEqual(['buildkit', 'buildkit-0.8', 'classic', 'classic-20.10', 'buildah', 'buildah-1.28', 'kaniko', 'strict']);
    expect(byId.buildkit.join(' ')).toMatch(/Docker 28\.5\.2.*buildx 0\.29\.1/);
    expect(byId.buildah.join(' ')).toContain('Buildah 1.43.2');
    expect(byId.kaniko).toEqual([]);
    expect(run(['builders']).stdout).toContain('buildkit (default)');
  });

  it('--store containerd makes a COPY --link independent of a rebuilt earlier step', () => {
    const dir = (n: string) => {
      const d = path.join(tmp, `link-${n}`);
      fs.mkdirSync(d);
      fs.writeFileSync(path.join(d, 'Dockerfile'), 'FROM scratch\nCOPY a /a\nCOPY --link b /b\n');
      fs.writeFileSync(path.join(d, 'a'), n);
      fs.writeFileSync(path.join(d, 'b'), 'b');
      return d;
    };
    const [a, b] = [dir('1'), dir('2')];
    const verdicts = (extra: string[]) =>
      JSON.parse(run(['diff', a, b, '--json', ...extra]).stdout).steps.map((s: { line: number; verdict: string }) => `${s.line}:${s.verdict}`);
    expect(verdicts([])).toEqual(['2:rebuilt', '3:rebuilt']);
    expect(verdicts(['--store', 'containerd'])).toEqual(['2:rebuilt', '3:cached']);
    expect(run(['diff', a, b, '--store', 'zfs']).code).toBe(2);
  });

  it('ls --json lists exactly what the builder receives (root and ignored files excluded)', () => {
    const r = run(['ls', ctx, '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.schemaVersion).toBe(1);
    expect(doc.entries.map((e: { path: string }) => e.path)).toEqual(['.dockerignore', 'Dockerfile', 'link', 'src', 'src/a.txt', 'src/run.sh']);
    expect(doc.entries.find((e: { path: string }) => e.path === 'src/run.sh')).toMatchObject({ type: 'file', mode: '0755', size: 10 });
    expect(doc.entries.find((e: { path: string }) => e.path === 'link')).toMatchObject({ type: 'symlink', target: 'src/a.txt' });
  });

  it('tree --json has the documented shape, root first', () => {
    const r = run(['tree', ctx, '--json', '--depth', '1']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ schemaVersion: 1, builder: 'buildkit', depth: 1 });
    expect(doc.entries[0]).toMatchObject({ path: '.', type: 'dir', count: 6 });
    expect(doc.entries[0].checksum).toMatch(/^[0-9a-f]{16}$/);
    expect(doc.entries.map((e: { path: string }) => e.path)).toEqual(['.', '.dockerignore', 'Dockerfile', 'link', 'src']);
  });

  it('tree text output is aligned columns with human sizes', () => {
    const r = run(['tree', ctx, '--depth', '0']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^CHECKSUM\s+ENTRIES\s+SIZE\s+PATH\n[0-9a-f]{16}\s+6\s+\d+ B\s+\.\n$/);
    expect(r.stdout).not.toContain('\x1b[');
  });

  it("tree --digest buildkit adds BuildKit's sha256 digests, for directory contexts and BuildKit profiles only", async () => {
    const { buildkitDigest } = await import('../src/analysis/contenthash.js');
    const { walkContext } = await import('../src/context/walk.js');
    const doc = JSON.parse(run(['tree', ctx, '--json', '--depth', '1', '--digest', 'buildkit']).stdout);
    const src = doc.entries.find((e: { path: string }) => e.path === 'src');
    const context = await walkContext(ctx);
    const read = (p: string) => fs.promises.readFile(path.join(ctx, p));
    expect(src.digest).toBe(await buildkitDigest(context, 'src', read, { followLinks: true, rootHeader: 'transfer' }));
    expect(doc.entries.every((e: { digest: string }) => /^sha256:[0-9a-f]{64}$/.test(e.digest))).toBe(true);
    expect(run(['tree', ctx, '--digest', 'buildkit', '--builder', 'buildah']).code).toBe(2);
    const snap = path.join(tmp, 'd.ctxsnap');
    run(['snapshot', ctx, '-o', snap]);
    const r = run(['tree', snap, '--digest', 'buildkit']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/needs a directory context/);
  });

  it('a snapshot gives the same tree as the directory it was taken from', () => {
    const snap = path.join(tmp, 'a.ctxsnap');
    const s = run(['snapshot', ctx, '-o', snap]);
    expect(s.code).toBe(0);
    expect(s.stdout).toContain('6 entries');
    const fromSnap = JSON.parse(run(['tree', snap, '--json']).stdout);
    const fromDir = JSON.parse(run(['tree', ctx, '--json']).stdout);
    expect(fromSnap.entries).toEqual(fromDir.entries);
    expect(fromSnap.entries.length).toBe(7);
  });

  it('diff: exit 0 by default, 1 with --exit-code when a step is rebuilt, and the JSON contract', () => {
    const a = path.join(EXAMPLE, 'ci-run-41');
    const b = path.join(EXAMPLE, 'ci-run-42');
    const text = run(['diff', a, b]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/COPY \. \.\s+REBUILT/);
    expect(run(['diff', a, b, '--exit-code']).code).toBe(1);
    expect(run(['diff', a, a, '--exit-code']).code).toBe(0);
    const doc = JSON.parse(run(['diff', a, b, '--json']).stdout);
    expect(doc).toMatchObject({ schemaVersion: 1, builder: 'buildkit', dockerfile: 'Dockerfile' });
    const copyAll = doc.steps.find((s: { text: string }) => s.text === 'COPY . .');
    expect(copyAll).toMatchObject({ stage: 'build', instruction: 'COPY', verdict: 'rebuilt', cause: 'sources' });
    const paths = copyAll.changes.map((c: { path: string }) => c.path);
    expect(paths).toEqual(expect.arrayContaining(['.env', 'README.md', 'scripts/deploy.sh', 'src/util.js']));
    expect(paths).not.toContain('npm-debug.log');
    const deploy = copyAll.changes.find((c: { path: string }) => c.path === 'scripts/deploy.sh');
    expect(deploy.kinds).toEqual(['mode']);
    expect([deploy.before.mode, deploy.after.mode]).toEqual(['0644', '0755']);
    expect(doc.steps.find((s: { text: string }) => s.text.startsWith('COPY package.json'))).toMatchObject({ verdict: 'cached' });
  });

  it('errors are one line on stderr with exit 2, stack traces only with --debug', () => {
    const missing = run(['tree', path.join(tmp, 'nope')]);
    expect(missing.code).toBe(2);
    expect(missing.stdout).toBe('');
    expect(missing.stderr.trim().split('\n')).toEqual([`ctxdiff: ${path.join(tmp, 'nope')}: no such file or directory`]);
    expect(run(['tree', path.join(tmp, 'nope'), '--debug']).stderr).toMatch(/\n\s+at /);
    expect(run(['tree', '--bogus']).code).toBe(2);
    expect(run(['tree', ctx, '--builder', 'nope']).code).toBe(2);
  });

  it('--debug says once, on stderr and in no report, when walks go without the native helpers', () => {
    const env = { CTXDIFF_NATIVE: '0' };
    const line = 'ctxdiff: debug: native file-system helpers not used: CTXDIFF_NATIVE=0 is set';
    const plain = run(['diff', ctx, ctx, '--json'], { env });
    expect(plain.code).toBe(0);
    expect(plain.stderr).not.toContain('native');
    // Two directories walked, one line; the JSON report's warnings do not hold it.
    const debug = run(['diff', ctx, ctx, '--json', '--debug'], { env });
    expect(debug.code, debug.stderr).toBe(0);
    expect(debug.stderr.split('\n').filter((l) => l.includes('native'))).toEqual([line]);
    expect(JSON.stringify(JSON.parse(debug.stdout))).not.toContain('native');
    expect(run(['tree', ctx, '--debug'], { env: { CTXDIFF_NATIVE: '1' } }).stderr).not.toContain(line);
  });

  it('a malformed .dockerignore is an error naming file, line and pattern', () => {
    const bad = path.join(tmp, 'bad');
    fs.mkdirSync(bad);
    fs.writeFileSync(path.join(bad, '.dockerignore'), 'ok\n[\n');
    const r = run(['ls', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^ctxdiff: \.dockerignore:2: .*"\["/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('snapshots an empty context and reads it back', () => {
    const empty = path.join(tmp, 'empty-ctx');
    fs.mkdirSync(empty);
    const snap = path.join(tmp, 'empty.ctxsnap');
    expect(run(['snapshot', empty, '-o', snap])).toMatchObject({ code: 0 });
    const r = run(['ls', snap, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).entries).toEqual([]);
  });

  it('a corrupt snapshot is a one-line error', () => {
    const snap = path.join(tmp, 'c.ctxsnap');
    expect(run(['snapshot', ctx, '-o', snap]).code).toBe(0);
    const buf = fs.readFileSync(snap);
    fs.writeFileSync(snap, buf.subarray(0, buf.length - 7));
    const r = run(['tree', snap]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(snap);
  });

  it('reads a tar context from stdin (BuildKit does not apply .dockerignore to a tar context)', () => {
    const tar = spawnSync('tar', ['-cf', '-', '-C', ctx, '.']).stdout;
    const fromTar = JSON.parse(run(['ls', '-', '--json'], { input: tar }).stdout);
    const fromDir = JSON.parse(run(['ls', ctx, '--json']).stdout);
    const strip = (d: { entries: { path: string; type: string; mode: string; size: number; hash?: string }[] }) =>
      d.entries.map((e) => [e.path, e.type, e.mode, e.size, e.hash]);
    expect(strip(fromTar).filter(([p]) => p !== 'debug.log')).toEqual(strip(fromDir));
    expect(fromTar.entries.map((e: { path: string }) => e.path)).toContain('debug.log');
    const buildah = JSON.parse(run(['ls', '-', '--json', '--builder', 'buildah'], { input: tar }).stdout);
    expect(strip(buildah)).toEqual(strip(fromDir));
  });
});
