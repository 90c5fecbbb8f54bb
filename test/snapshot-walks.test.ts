/**
 * One snapshot serves every builder: a snapshot taken with the default profile, read under any profile,
 * equals a walk with that profile (entries with every attribute, hashes and xattrs, and the ignore file in
 * force), on trees where the profiles' ignore files, matchers and walkers disagree. A snapshot that lacks
 * what a profile needs (an older one without the other walks; one without xattrs for a builder that counts
 * them) makes the steps it feeds `unknown`, never a guessed verdict.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { judge } from '../src/analysis/verdicts.js';
import { builderIds, getProfile } from '../src/builders/profiles.js';
import { walkContext } from '../src/context/walk.js';
import { loadContext } from '../src/sources/index.js';
import { readSnapshot, writeSnapshot } from '../src/snapshot/format.js';
import { snapshotDirectory } from '../src/snapshot/writer.js';
import { materialize, type FixtureSpec } from './support/fixture.js';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ctxdiff-snapwalks-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Trees on which the profiles' walks differ. */
const TREES: Record<string, FixtureSpec> = {
  'matchers and walkers': {
    'Dockerfile': { content: 'FROM scratch\nCOPY . /app\n' },
    // fast paths (`**.md`), ancestor rules, parents of re-included files, exclude-again, `+` in a pattern
    '.dockerignore': { content: '**.md\nfoo*\n!foo/bar2\nx\n!x/y\nx\n**/deep\n!deep/keep\na+b\n' },
    'README.md': { content: 'r' },
    'docs/a.md': { content: 'a' },
    'foo/bar2': { content: 'kept' },
    'foo/bar3': { content: 'dropped' },
    'foo/sub/z': { content: 'z' },
    'x/y': { content: 'y' },
    'deep/keep': { content: 'k' },
    'deep/other': { content: 'o' },
    'a+b': { content: 'plus' },
    'aab': { content: 'aab' },
    'src/main.c': { content: 'int main;' },
  },
  'ignore files': {
    'Dockerfile': { content: 'FROM scratch\nCOPY . /app\n' },
    // BuildKit and Buildah read Dockerfile.dockerignore (default Dockerfile, no -f); classic .dockerignore;
    // Buildah prefers .containerignore only at the root
    'Dockerfile.dockerignore': { content: 'secret\n' },
    '.dockerignore': { content: 'logs\n' },
    '.containerignore': { content: 'cache\n' },
    'secret/key': { content: 's' },
    'logs/a.log': { content: 'l' },
    'cache/c': { content: 'c' },
    'app.js': { content: 'js' },
  },
};

function setXattr(file: string): boolean {
  try {
    const { setAttributeSync } = createRequire(import.meta.url)('@napi-rs/xattr') as typeof import('@napi-rs/xattr');
    setAttributeSync(file, 'user.ctxdiff', 'x');
    return true;
  } catch {
    return false;
  }
}

describe('a default snapshot read under every profile', () => {
  for (const [name, spec] of Object.entries(TREES)) {
    it(`equals the walk with that profile: ${name}`, async () => {
      const dir = path.join(tmp, name.replace(/\W+/g, '-'));
      await materialize(spec, dir);
      // An xattr on files some walks send and the default one does not.
      for (const f of ['foo/bar3', 'secret/key', 'logs/a.log']) if (fs.existsSync(path.join(dir, f))) setXattr(path.join(dir, f));
      const file = path.join(tmp, `${path.basename(dir)}.ctxsnap`);
      await snapshotDirectory(dir, file);
      const sets = new Set<string>();
      for (const id of builderIds()) {
        const profile = getProfile(id);
        const walked = await walkContext(dir, { profile, xattrs: true });
        const { context, warnings } = await loadContext(file, { profile });
        expect(warnings, id).toEqual([]);
        expect(context.incomplete, id).toBeUndefined();
        expect({ id, ignore: context.ignore, entries: context.entries }).toEqual({ id, ignore: walked.ignore, entries: walked.entries });
        sets.add(JSON.stringify(walked.entries.map((e) => e.path)));
      }
      // The tree does make the walks differ.
      expect(sets.size).toBeGreaterThan(1);
    });
  }

  it('with only literal exclusions (even in different ignore files), walks once', async () => {
    const dir = path.join(tmp, 'literal');
    await materialize(
      {
        'Dockerfile': { content: 'FROM scratch\nCOPY . /\n' },
        '.dockerignore': { content: 'node_modules\n.git\n' },
        '.containerignore': { content: '# same rules\nnode_modules\n.git/\n' },
        'node_modules/x/y.js': { content: 'y' },
        '.git/HEAD': { content: 'ref' },
        'src/a.js': { content: 'a' },
      },
      dir,
    );
    const file = path.join(tmp, 'literal.ctxsnap');
    await snapshotDirectory(dir, file);
    const { context } = await readSnapshot(file);
    expect(context.walks!.variants.map((v) => [v.builders, v.ignore?.file, v.removed, v.entries])).toEqual([[['buildah', 'buildah-1.28'], '.containerignore', [], []]]);
    for (const id of builderIds()) {
      const profile = getProfile(id);
      const loaded = (await loadContext(file, { profile })).context;
      const walked = await walkContext(dir, { profile, xattrs: true });
      expect({ id, ignore: loaded.ignore, entries: loaded.entries }).toEqual({ id, ignore: walked.ignore, entries: walked.entries });
    }
  });

  it('without any ignore file, records no other walk', async () => {
    const dir = path.join(tmp, 'plain');
    await materialize({ 'Dockerfile': { content: 'FROM scratch\nCOPY . /\n' }, 'a': { content: 'a' } }, dir);
    const file = path.join(tmp, 'plain.ctxsnap');
    await snapshotDirectory(dir, file);
    const { context } = await readSnapshot(file);
    expect(context.walks).toEqual({ same: builderIds().filter((id) => id !== 'buildkit'), variants: [] });
  });
});

describe('a snapshot that lacks what a builder needs', () => {
  const spec: FixtureSpec = {
    'Dockerfile': { content: 'FROM scratch\nCOPY src /src\nCOPY b /b\n' },
    '.dockerignore': { content: '**.md\n' },
    'src/a.txt': { content: 'a' },
    'src/notes.md': { content: 'n' },
    'b': { content: 'b' },
  };

  it('an older snapshot (no other walks) gives unknown under another profile, with the reason', async () => {
    const dir = path.join(tmp, 'old');
    await materialize(spec, dir);
    const walked = await walkContext(dir, { profile: getProfile('buildkit'), xattrs: true });
    const old = path.join(tmp, 'old.ctxsnap');
    await writeSnapshot(old, walked); // what an older ctxdiff wrote: no `walks`
    fs.writeFileSync(path.join(dir, 'src/notes.md'), 'changed');
    for (const id of ['buildkit-0.8', 'buildah', 'classic']) {
      const profile = getProfile(id);
      const before = (await loadContext(old, { profile })).context;
      const after = await walkContext(dir, { profile, xattrs: true });
      const report = judge(before, after, profile);
      expect(report.steps.map((s) => `${s.line}:${s.verdict}:${s.cause}`), id).toEqual(['2:unknown:incomplete-snapshot', '3:unknown:incomplete-snapshot']);
      expect(report.steps[0]!.note).toMatch(/records only what builder buildkit receives/);
    }
    // Under the profile it was taken with, it is complete.
    const own = (await loadContext(old, { profile: getProfile('buildkit') })).context;
    expect(own.incomplete).toBeUndefined();
  });

  it('a snapshot without extended attributes gives unknown under a builder that counts them', async () => {
    const dir = path.join(tmp, 'noxattrs');
    await materialize(spec, dir);
    const file = path.join(tmp, 'noxattrs.ctxsnap');
    await snapshotDirectory(dir, file, { xattrs: false });
    const buildah = getProfile('buildah');
    const ctx = (await loadContext(file, { profile: buildah })).context;
    expect(ctx.incomplete).toMatch(/without extended attributes, which builder buildah counts/);
    expect(judge(ctx, ctx, buildah).steps.every((s) => s.verdict === 'unknown')).toBe(true);
    expect((await loadContext(file, { profile: getProfile('buildkit') })).context.incomplete).toBeUndefined();
  });
});
