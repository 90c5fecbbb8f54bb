/** `du`: totals as the builder receives them, largest paths, extensions, and what the ignore file saves. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { computeDu, extensionOf, walkAll } from '../src/analysis/du.js';
import { builderIds, getProfile } from '../src/builders/profiles.js';
import { walkContext } from '../src/context/walk.js';
import { matcherFor } from '../src/analysis/why.js';
import type { FixtureSpec } from './support/fixture.js';
import { projectCopies } from './support/projects.js';

const project = projectCopies('ctxdiff-du-');

/** Every regular file below dir with its size, found independently of the code under test. */
function diskFiles(dir: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const rel of fs.readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    const st = fs.lstatSync(path.join(dir, rel));
    if (st.isFile()) out.set(rel.split(path.sep).join('/'), st.size);
  }
  return out;
}

async function du(dir: string, builder = 'buildkit', top?: number) {
  const ctx = await walkContext(dir, { profile: getProfile(builder), hash: false });
  const disk = walkAll(dir, matcherFor(ctx.ignore, getProfile(builder)));
  return { ctx, disk, report: computeDu({ context: dir, builder, ignoreFile: ctx.ignore?.file ?? null, entries: ctx.entries, disk }, { top }) };
}

describe('du on a Node app', () => {
  const extra: FixtureSpec = {
    'node_modules/express/index.js': { content: 'x'.repeat(3000) },
    'node_modules/express/package.json': { content: '{}' },
    'npm-debug.log': { content: 'e'.repeat(500) },
    'build/out/main.js': { content: 'b'.repeat(700) },
    'assets/logo.PNG': { content: 'p'.repeat(5000) },
  };

  it('totals what the builder receives and what the ignore file saves, per rule', async () => {
    const dir = await project('node-app', extra);
    const { ctx, report } = await du(dir);
    const sentFiles = ctx.entries.filter((e) => e.type === 'file');
    expect(report.total).toEqual({ files: sentFiles.length, bytes: sentFiles.reduce((n, e) => n + e.size, 0), entries: ctx.entries.length });
    const all = diskFiles(dir);
    const allBytes = [...all.values()].reduce((a, b) => a + b, 0);
    expect(report.withoutIgnore).toMatchObject({ files: all.size, bytes: allBytes });
    expect(report.saved).toEqual({ files: 4, bytes: 3000 + 2 + 500 + 700 });
    expect(report.savedByRule!.map((r) => [r.line, r.pattern, r.files, r.bytes])).toEqual([
      [2, 'node_modules', 2, 3002],
      [4, 'build', 1, 700],
      [3, 'npm-debug.log', 1, 500],
    ]);
  });

  it('lists the largest directories and files and a breakdown by extension', async () => {
    const dir = await project('node-app', extra);
    const { report } = await du(dir, 'buildkit', 3);
    expect(report.largestFiles[0]).toEqual({ path: 'assets/logo.PNG', bytes: 5000 });
    expect(report.largestFiles).toHaveLength(3);
    for (let i = 1; i < report.largestFiles.length; i++) expect(report.largestFiles[i - 1]!.bytes).toBeGreaterThanOrEqual(report.largestFiles[i]!.bytes);
    expect(report.largestDirectories[0]).toEqual({ path: 'assets', files: 1, bytes: 5000 });
    const src = (await du(dir)).report.largestDirectories.find((d) => d.path === 'src')!;
    const srcFiles = [...diskFiles(dir)].filter(([p]) => p.startsWith('src/'));
    expect(src).toEqual({ path: 'src', files: srcFiles.length, bytes: srcFiles.reduce((n, [, s]) => n + s, 0) });
    expect(report.byExtension[0]).toEqual({ extension: '.png', files: 1, bytes: 5000 });
    const js = (await du(dir)).report.byExtension.find((e) => e.extension === '.js')!;
    expect(js.files).toBe(3); // src/server.js, src/routes/users.js, test/server.test.js
  });
});

describe('walkAll judges every path as the walker does', () => {
  const spec: FixtureSpec = {
    '.dockerignore': { content: 'build\n!**/*.keep\nlogs/*.log\n!logs/important.log\n**/tmp\n' },
    'build/a.js': { content: 'a' },
    'build/x.keep': { content: 'k' },
    'logs/a.log': { content: 'l' },
    'logs/important.log': { content: 'i' },
    'src/tmp/x': { content: 'x' },
    'src/main.c': { content: 'c' },
  };
  for (const builder of builderIds()) {
    it(builder, async () => {
      const dir = await project(null, spec);
      const { ctx, disk } = await du(dir, builder);
      const sent = new Set(ctx.entries.filter((e) => e.type === 'file').map((e) => e.path));
      const files = disk.filter((e) => e.type === 'file');
      expect(files.map((e) => e.path).sort()).toEqual([...diskFiles(dir).keys()].sort());
      for (const f of files) expect({ path: f.path, excluded: f.excluded }).toEqual({ path: f.path, excluded: !sent.has(f.path) });
    });
  }

  it('works with no ignore file (nothing saved)', async () => {
    const dir = await project(null, { 'a.txt': { content: 'hello' }, 'd/b.txt': { content: 'hi' } });
    const { report } = await du(dir);
    expect(report.ignoreFile).toBeNull();
    expect(report.total).toEqual({ files: 2, bytes: 7, entries: 3 });
    expect(report.saved).toEqual({ files: 0, bytes: 0 });
    expect(report.savedByRule).toEqual([]);
  });
});

describe('extensionOf', () => {
  it.each([
    ['src/a.Test.TS', '.ts'],
    ['.env', '(none)'],
    ['Makefile', '(none)'],
    ['x/archive.tar.gz', '.gz'],
    ['dir.d/file', '(none)'],
  ])('%s → %s', (p, ext) => expect(extensionOf(p)).toBe(ext));
});
