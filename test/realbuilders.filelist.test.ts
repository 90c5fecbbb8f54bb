/**
 * What ctxdiff walks is what the builder receives: for contexts with tricky .dockerignore files, build
 * `FROM scratch` + `COPY . /ctx` with each real builder, export the result, and compare every path, type
 * and mode with `walkContext` under the builder's profile. Directories get a distinctive mode (0711) so a
 * directory the builder sends (real mode) is told apart from one it only creates when unpacking (0755).
 * Every builder of both generations; cases run concurrently (the harness serializes those sharing a builder).
 */
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { walkContext } from '../src/context/walk.js';
import { ALL_REAL_BUILDERS, profileOf, realBuilders, receivedFiles, REAL_BUILDER_TEST_TIMEOUT_MS } from './support/realbuilders.js';

const { available, reason } = await realBuilders();
const skipLine = `real-builder file-list tests skipped: ${reason ?? 'no builder'}`;
if (available.length === 0) console.warn(skipLine);

/** name → [.dockerignore text, files (each with its own path as content)] */
const CASES: Record<string, [string, string[]]> = {
  'no-fast-paths': ['**.md\na+b\ndocs/**\n', ['README.md', 'docs/a.md', 'sub/x/y.md', 'a+b', 'aab', 'docs2/z']],
  'reinclude-under-wildcard': ['foo*\n!foo/bar2\n', ['foo/bar2', 'foo/bar3', 'foo2', 'bar', 'foo/sub/x']],
  'ancestor-depth': ['**/foo\n!foo/keep\n', ['foo/keep', 'foo/other', 'foo/sub/deep', 'a/foo/x', 'b/c']],
  'wildcard-exception': ['dir\n!dir/*.txt\n', ['dir/a.txt', 'dir/b.md', 'dir/sub/c.txt', 'other']],
  'deep-exception': ['a\n!**/keep\n', ['a/b/keep', 'a/c', 'a/b/d', 'x/keep']],
  'exclude-again': ['x\n!x/y\nx\n', ['x/y', 'x/z']],
  'reader': ['\ufeff#bom comment\r\n  #x\r\n!/foo\r\n/bar/\r\nq/../b\r\nc \r\n# comment\n\n\t\n', ['#x', 'foo', 'bar/1', 'b', 'c', 'q/1', 'd']],
  'negated-class': ['x[^a]y\nm?n\n', ['x/y', 'xzy', 'm/n', 'mqn']],
  'everything-but': ['**\n!keep/**\n!*.txt\n', ['keep/a', 'keep/sub/b', 'x.txt', 'd/y.txt', 'z']],
  'dir-slash-exception': ['docs/\n!docs/README.md\n', ['docs/README.md', 'docs/x', 'docsx']],
  'suffix-dir': ['**/node_modules\n', ['node_modules/a', 'x/node_modules/b', 'x/y/node_modules/c/d', 'node_modulesx']],
  'trailing-star-exception': ['a\n!a/b/*\n', ['a/b/c', 'a/b/d/e', 'a/x']],
  'escapes': ['a\\*b\n\\[x]\n', ['a*b', 'ab', '[x]', 'x']],
};

async function writeCase(dir: string, ignore: string, files: string[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, '.dockerignore'), ignore);
  const dirs = new Set<string>();
  for (const f of files) {
    const parts = f.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
    await mkdir(path.dirname(path.join(dir, f)), { recursive: true });
    await writeFile(path.join(dir, f), f);
  }
  for (const d of dirs) await chmod(path.join(dir, d), 0o711);
}

const builders = ALL_REAL_BUILDERS.filter((b) => available.includes(b));
const cases = Object.entries(CASES).flatMap(([name, c]) => builders.map((b) => [name, b, c] as const));

describe.skipIf(available.length === 0)(available.length === 0 ? skipLine : 'file lists match real builders', { concurrent: true }, () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'ctxdiff-filelist-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it.each(cases)('%s on %s', { timeout: REAL_BUILDER_TEST_TIMEOUT_MS }, async (name, builder, [ignore, files]) => {
    const dir = path.join(root, `${name}-${builder}`);
    await writeCase(dir, ignore, files);
    const real = await receivedFiles(builder, dir);
    const ours = await walkContext(dir, { profile: profileOf(builder) });
    const fmt = (p: string, type: string, mode: number) => `${p} ${type} ${mode.toString(8)}`;
    expect(ours.entries.map((e) => fmt(e.path, e.type === 'file' || e.type === 'dir' || e.type === 'symlink' ? e.type : 'other', e.mode)))
      .toEqual(real.map((r) => fmt(r.path, r.type, r.mode)));
  });
});
