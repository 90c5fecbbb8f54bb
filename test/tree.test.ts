import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getProfile } from '../src/builders/profiles.js';
import { computeTree, nodesToDepth, type Tree } from '../src/analysis/tree.js';
import { walkContext } from '../src/context/walk.js';
import { materialize } from './support/fixture.js';

let dir: string;
beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ctxdiff-tree-'));
  await materialize(
    {
      'Dockerfile': { content: 'FROM scratch\nCOPY . /\n' },
      'src/app/main.ts': { content: 'main' },
      'src/app/util.ts': { content: 'util' },
      'src/lib/x.ts': { content: 'x' },
      'docs/a.md': { content: 'a' },
      'empty': { dir: true },
      'link': { symlink: 'src' },
    },
    dir,
  );
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

async function treeOf(builder = 'buildkit'): Promise<Map<string, string>> {
  const t = await computeTree(await walkContext(dir, { profile: getProfile(builder) }), getProfile(builder));
  return new Map(t.nodes.map((n) => [n.path, n.checksum]));
}

function changedPaths(a: Map<string, string>, b: Map<string, string>): string[] {
  const keys = new Set([...a.keys(), ...b.keys()]);
  return [...keys].filter((k) => a.get(k) !== b.get(k)).sort();
}

describe('computeTree', () => {
  it('is deterministic', async () => {
    expect(await treeOf()).toEqual(await treeOf());
  });

  it('a content change changes the file and every ancestor, and nothing else', async () => {
    const before = await treeOf();
    fs.writeFileSync(path.join(dir, 'src/app/util.ts'), 'UTIL');
    expect(changedPaths(before, await treeOf())).toEqual(['.', 'src', 'src/app', 'src/app/util.ts']);
  });

  it('counts entries and sizes bottom-up', async () => {
    const t: Tree = await computeTree(await walkContext(dir), getProfile('buildkit'));
    const n = new Map(t.nodes.map((x) => [x.path, x]));
    expect(n.get('.')).toMatchObject({ count: 11, size: 'FROM scratch\nCOPY . /\n'.length + 4 + 4 + 1 + 1, depth: 0 });
    expect(n.get('src')).toMatchObject({ count: 5, size: 9, depth: 1 });
    expect(n.get('src/app')).toMatchObject({ count: 2, size: 8, depth: 2 });
    expect(n.get('empty')).toMatchObject({ count: 0, size: 0, type: 'dir' });
    expect(n.get('src/app/main.ts')).toMatchObject({ count: 1, size: 4, depth: 3 });
    expect(nodesToDepth(t, 1).map((x) => x.path)).toEqual(['.', 'Dockerfile', 'docs', 'empty', 'link', 'src']);
  });

  it('follows the profile: mtime counts only for strict', async () => {
    const bk = await treeOf('buildkit');
    const strict = await treeOf('strict');
    fs.utimesSync(path.join(dir, 'docs/a.md'), new Date(2001, 1, 1), new Date(2001, 1, 1));
    expect(changedPaths(bk, await treeOf('buildkit'))).toEqual([]);
    expect(changedPaths(strict, await treeOf('strict'))).toEqual(['.', 'docs', 'docs/a.md']);
  });

  it('follows the profile: file mode counts everywhere, subdirectory mode not for BuildKit', async () => {
    const before = { bk: await treeOf('buildkit'), classic: await treeOf('classic') };
    fs.chmodSync(path.join(dir, 'src/lib/x.ts'), 0o755);
    expect(changedPaths(before.bk, await treeOf('buildkit'))).toEqual(['.', 'src', 'src/lib', 'src/lib/x.ts']);
    const mid = { bk: await treeOf('buildkit'), classic: await treeOf('classic') };
    fs.chmodSync(path.join(dir, 'src/lib'), 0o700);
    expect(changedPaths(mid.bk, await treeOf('buildkit'))).toEqual([]);
    expect(changedPaths(mid.classic, await treeOf('classic'))).toEqual(['.', 'src', 'src/lib']);
    expect(before.classic.size).toBe(mid.classic.size);
  });

  it('follows the profile: symlink target always counts', async () => {
    const before = await treeOf();
    fs.unlinkSync(path.join(dir, 'link'));
    fs.symlinkSync('docs', path.join(dir, 'link'));
    expect(changedPaths(before, await treeOf())).toEqual(['.', 'link']);
  });

  it('an added empty directory changes the root only', async () => {
    const before = await treeOf();
    fs.mkdirSync(path.join(dir, 'more'));
    const after = await treeOf();
    expect(changedPaths(before, after)).toEqual(['.', 'more']);
    expect(before.has('more')).toBe(false);
  });
});
