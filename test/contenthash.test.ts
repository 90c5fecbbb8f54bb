import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ContentHasher, buildkitDigest, type BuildkitDigestOptions, type ContentReader } from '../src/analysis/contenthash.js';
import { IoError, UsageError } from '../src/core/errors.js';
import type { Context } from '../src/core/types.js';
import { walkContext } from '../src/context/walk.js';
import { materialize, type FixtureSpec } from './support/fixture.js';
import { getProfile } from '../src/builders/profiles.js';

interface TreeNode {
  path: string;
  type: 'file' | 'dir' | 'symlink';
  data?: string;
  target?: string;
  mode?: number;
}
interface Vector {
  name: string;
  tree: TreeNode[];
  checksum_call: {
    path: string;
    opts: { FollowLinks?: boolean; Wildcard?: boolean; IncludePatterns?: string[]; ExcludePatterns?: string[] };
    via?: string;
    api?: string;
  };
  expected: string;
  source: string;
  digest_method: string;
}

const repoRoot = path.resolve(import.meta.dirname, '..');
const vectorsFile = path.resolve(process.env.CTXDIFF_SHARED ?? path.resolve(repoRoot, '../shared'), 'conformance/contenthash-vectors.json');
const data: { count: number; vectors: Vector[] } | null = fs.existsSync(vectorsFile)
  ? JSON.parse(fs.readFileSync(vectorsFile, 'utf8'))
  : null;

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ctxdiff-contenthash-'));
  dirs.push(d);
  // The vectors' snapshot root is a 0755 directory (mkdtemp makes it 0700); its header enters root digests.
  fs.chmodSync(d, 0o755);
  return d;
}

/** Files 0644 with the given data, directories 0755 unless given, symlinks as given (vector conventions). */
function specOf(tree: TreeNode[]): FixtureSpec {
  const spec: FixtureSpec = {};
  for (const n of tree) {
    if (n.type === 'file') spec[n.path] = { content: n.data ?? '', mode: 0o644 };
    else if (n.type === 'dir') spec[n.path] = { dir: true, mode: n.mode ?? 0o755 };
    else spec[n.path] = { symlink: n.target! };
  }
  return spec;
}

const fileReader = (root: string): ContentReader => (p) => fs.promises.readFile(path.join(root, p));

async function walked(spec: FixtureSpec): Promise<{ root: string; ctx: Context }> {
  const root = tempDir();
  await materialize(spec, root);
  return { root, ctx: await walkContext(root, { profile: getProfile('buildkit'), hash: false, threads: 0 }) };
}

function optionsOf(v: Vector): BuildkitDigestOptions {
  const o = v.checksum_call.opts;
  return {
    followLinks: o.FollowLinks,
    wildcard: o.Wildcard,
    includePatterns: o.IncludePatterns,
    excludePatterns: o.ExcludePatterns,
    variant: v.checksum_call.api === 'ChecksumWildcard(v0.8)' ? 'v0.8' : 'current',
    // Records that reach BuildKit through HandleChange (a transferred local context) have the root header
    // fixed to sha256(""); scanned ones have the root directory's own header.
    rootHeader: v.checksum_call.via === 'HandleChange' ? 'transfer' : 'scan',
  };
}

describe('BuildKit contenthash conformance vectors', () => {
  if (!data) {
    it.skip(`skipped: conformance file not found at ${vectorsFile}`, () => {});
    return;
  }

  it('has every vector', () => {
    expect(data.vectors).toHaveLength(data.count);
    expect(data.count).toBe(25);
  });

  for (const v of data.vectors) {
    it(`${v.name} (${v.digest_method}; ${v.source})`, async () => {
      const { root, ctx } = await walked(specOf(v.tree));
      const digest = await buildkitDigest(ctx, v.checksum_call.path, fileReader(root), optionsOf(v));
      expect(digest).toBe(v.expected);
    });
  }

  it('HandleChange vectors do not depend on the root header convention (they digest a subdirectory)', async () => {
    // The HandleChange vectors hash d0 or d0/foo, which never include the root's header, so the vectors hold
    // under both conventions; only a digest of '/' tells them apart.
    for (const v of data.vectors.filter((x) => x.checksum_call.via === 'HandleChange')) {
      const { root, ctx } = await walked(specOf(v.tree));
      const o = optionsOf(v);
      expect(await buildkitDigest(ctx, v.checksum_call.path, fileReader(root), { ...o, rootHeader: 'scan' })).toBe(v.expected);
      const scan = await buildkitDigest(ctx, '/', fileReader(root), { ...o, rootHeader: 'scan' });
      const transfer = await buildkitDigest(ctx, '/', fileReader(root), { ...o, rootHeader: 'transfer' });
      expect(transfer).not.toBe(scan);
    }
  });

  it('a directory digest equals the root digest of a context holding the same entries (vectors 4 and 5)', async () => {
    const d0 = data.vectors.find((x) => x.name === 'dir d0')!;
    const rootOnly = data.vectors.find((x) => x.name === 'root equals d0')!;
    const a = await walked(specOf(d0.tree));
    const b = await walked(specOf(rootOnly.tree));
    expect(await buildkitDigest(a.ctx, 'd0', fileReader(a.root), { followLinks: true }))
      .toBe(await buildkitDigest(b.ctx, '/', fileReader(b.root), { followLinks: true }));
  });

  it('notes that hold in the vectors: exclude patterns that select nothing change nothing', async () => {
    const noop = data.vectors.find((x) => x.name === 'noop exclude')!;
    const { root, ctx } = await walked(specOf(noop.tree));
    expect(await buildkitDigest(ctx, 'test', fileReader(root), { excludePatterns: ['*.git'] })).toBe(noop.expected);
    const inc = data.vectors.find((x) => x.name === 'include patterns with **')!;
    const w = await walked(specOf(inc.tree));
    expect(await buildkitDigest(w.ctx, 'prefix/a', fileReader(w.root), { includePatterns: ['**/foo', '**/report'] })).toBe(inc.expected);
    expect(await buildkitDigest(w.ctx, 'prefix/a', fileReader(w.root), { includePatterns: ['**/foo/**', '**/report'], wildcard: true })).toBe(inc.expected);
    const sym = data.vectors.find((x) => x.name.startsWith('dir containing symlink'))!;
    const s = await walked(specOf(sym.tree));
    expect(await buildkitDigest(s.ctx, 'foo', fileReader(s.root), { followLinks: true, excludePatterns: ['*.git'] })).toBe(sym.expected);
  });
});

describe('BuildKit contenthash behaviour from its unit tests (relations, no digests)', () => {
  const empty = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

  it('symlinks: a wildcard source that is a broken symlink fails with followLinks; inner links are not followed', async () => {
    // moby/buildkit cache/contenthash/checksum_test.go TestSymlinksNoFollow
    const { root, ctx } = await walked({
      target: { content: 'data0' },
      sym: { symlink: 'target' },
      sym2: { symlink: 'target2' },
      'foo/ghi': { symlink: 'target' },
      y1: { symlink: 'foo/ghi' },
    });
    const d = (p: string, o: BuildkitDigestOptions) => buildkitDigest(ctx, p, fileReader(root), o);
    const sym = await d('sym', { wildcard: true });
    expect(await d('sym2', { wildcard: true })).not.toBe(sym);
    expect(await d('foo/ghi', { wildcard: true })).toBe(sym);
    expect(await d('sym', {})).toBe(sym);
    await expect(d('foo/ghi', { wildcard: true, followLinks: true })).rejects.toBeInstanceOf(IoError);
    await expect(d('y1', { wildcard: true, followLinks: true })).rejects.toBeInstanceOf(IoError);
    // Below a matched directory the broken link is hashed as a link, as in the directory's own digest.
    expect(await d('fo?', { wildcard: true, followLinks: true })).not.toBe(empty);
  });

  for (const wildcard of [false, true]) {
    it(`include/exclude patterns (wildcard ${wildcard})`, async () => {
      // moby/buildkit cache/contenthash/checksum_test.go testChecksumIncludeExclude
      const first = await walked({
        foo: { content: 'data0' },
        bar: { content: 'data1' },
        'd0/abc': { content: 'abc' },
        'd1/def': { content: 'def' },
      });
      const second = await walked({
        foo: { content: 'data0' },
        bar: { content: 'data1' },
        baz: { content: 'data2' },
        'd0/abc': { content: 'abc' },
        'd0/xyz': { content: 'xyz' },
        'd1/def': { content: 'def' },
        d2: { dir: true },
      });
      const d = (w: { root: string; ctx: Context }, include: string[], exclude?: string[], p = '') =>
        buildkitDigest(w.ctx, p, fileReader(w.root), { wildcard, includePatterns: include, excludePatterns: exclude });

      const foo = await d(first, ['foo']);
      const fooBar = await d(first, ['foo', 'bar']);
      expect(foo).not.toBe(empty);
      expect(fooBar).not.toBe(foo);
      const d0Star = await d(first, ['d0/*']);
      expect(await d(first, ['d0/a*'])).toBe(d0Star);
      expect(await d(first, ['d2/foo'])).toBe(empty);

      expect(await d(second, ['foo'])).toBe(foo);
      expect(await d(second, ['foo', 'bar'])).toBe(fooBar);
      expect(await d(second, ['d0'])).not.toBe(await d(first, ['d0']));
      expect(await d(second, ['d1'])).toBe(await d(first, ['d1']));
      expect(await d(second, ['d0/*'])).not.toBe(d0Star);
      expect(await d(second, ['d0/a*'])).toBe(d0Star);
      expect(await d(second, ['**/abc'])).toBe(d0Star);
      expect(await d(second, ['d1/*'])).toBe(await d(first, ['d1/*']));
      expect(await d(second, ['d0/*'], ['d0/xyz'])).toBe(d0Star);
      expect(await d(second, ['d2/foo'])).toBe(empty);
      expect(await d(second, ['foo'], undefined, 'd2')).toBe(empty);
    });
  }
});

describe('buildkitDigest', () => {
  let root: string;
  let ctx: Context;
  beforeEach(async () => {
    ({ root, ctx } = await walked({
      'a.txt': { content: 'alpha' },
      'big.bin': { content: 'x'.repeat(300_000) },
      'src/main.ts': { content: 'main' },
      'src/lib/util.ts': { content: 'util' },
      'link': { symlink: 'src' },
    }));
  });

  const digest = (p: string, o: BuildkitDigestOptions = {}, c = ctx) => buildkitDigest(c, p, fileReader(root), o);

  it('streams large files: chunks give the same digest as whole contents', async () => {
    const chunked: ContentReader = (p) => fs.createReadStream(path.join(root, p), { highWaterMark: 4096 });
    expect(await buildkitDigest(ctx, 'big.bin', chunked)).toBe(await digest('big.bin'));
    expect(await buildkitDigest(ctx, '/', chunked)).toBe(await digest('/'));
  });

  it('content, mode and setuid bits change the digest; mtime and owners do not', async () => {
    const before = await digest('/');
    const file = path.join(root, 'src/main.ts');
    fs.utimesSync(file, new Date('2001-01-01'), new Date('2001-01-01'));
    fs.chownSync(file, 1234, 5678);
    const touched = await walkContext(root, { hash: false, threads: 0 });
    expect(await digest('/', {}, touched)).toBe(before);
    // Owners count only where a client keeps them, and only in BuildKit versions that hash them.
    expect(await digest('/', { keepOwners: true }, touched)).not.toBe(before);
    expect(await digest('/', { keepOwners: true, variant: 'v0.8' }, touched)).toBe(await digest('/', { variant: 'v0.8' }, touched));
    fs.chmodSync(file, 0o4644);
    const setuid = await walkContext(root, { hash: false, threads: 0 });
    expect(await digest('/', {}, setuid)).not.toBe(before);
    fs.chmodSync(file, 0o644);
    fs.writeFileSync(file, 'MAIN');
    const edited = await walkContext(root, { hash: false, threads: 0 });
    expect(await digest('/', {}, edited)).not.toBe(before);
    expect(await digest('src/lib', {}, edited)).toBe(await digest('src/lib'));
  });

  it('follows a trailing symlink only with followLinks', async () => {
    expect(await digest('link', { followLinks: true })).toBe(await digest('src'));
    expect(await digest('link')).not.toBe(await digest('src'));
    // Symlinks inside the path are always resolved.
    expect(await digest('link/lib/util.ts')).toBe(await digest('src/lib/util.ts'));
  });

  it('xattrs: user.* and security.capability count, other security.* and system.* do not; 0.8 hashed names only', async () => {
    const withXattrs = (x: Record<string, string>): Context => ({
      ...ctx,
      entries: ctx.entries.map((e) => (e.path === 'a.txt' ? { ...e, xattrs: x } : e)),
    });
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const plain = await digest('a.txt');
    expect(await digest('a.txt', {}, withXattrs({ 'security.selinux': b64('ctx'), 'system.posix_acl_access': b64('a') }))).toBe(plain);
    const user1 = await digest('a.txt', {}, withXattrs({ 'user.k': b64('1') }));
    const user2 = await digest('a.txt', {}, withXattrs({ 'user.k': b64('2') }));
    expect(new Set([plain, user1, user2]).size).toBe(3);
    expect(await digest('a.txt', {}, withXattrs({ 'security.capability': b64('c') }))).not.toBe(plain);
    const old = (x: Record<string, string>) => digest('a.txt', { variant: 'v0.8' }, withXattrs(x));
    expect(await old({ 'user.k': b64('1') })).toBe(await old({ 'user.k': b64('2') }));
    expect(await old({ 'user.k': b64('1') })).not.toBe(await digest('a.txt', { variant: 'v0.8' }));
  });

  it('the transferred root header is sha256("") and differs from the scanned one', async () => {
    const scan = await digest('/');
    const transfer = await digest('/', { rootHeader: 'transfer' });
    expect(transfer).not.toBe(scan);
    // Below the root, nothing depends on it.
    expect(await digest('src', { rootHeader: 'transfer' })).toBe(await digest('src'));
  });

  it('ContentHasher reads every file once across many digests', async () => {
    const reads = new Map<string, number>();
    const counting: ContentReader = (p) => {
      reads.set(p, (reads.get(p) ?? 0) + 1);
      return fs.promises.readFile(path.join(root, p));
    };
    const hasher = new ContentHasher(ctx, counting);
    const all = [await hasher.digest('/'), await hasher.digest('src'), await hasher.digest('src/lib'), await hasher.digest('src/main.ts')];
    expect(all).toEqual([await digest('/'), await digest('src'), await digest('src/lib'), await digest('src/main.ts')]);
    expect([...reads.values()].every((n) => n === 1)).toBe(true);
    expect([...reads.keys()].sort()).toEqual(['a.txt', 'big.bin', 'src/lib/util.ts', 'src/main.ts']);
  });

  it('errors: a missing path, a file that changed size, a malformed wildcard, patterns under 0.8', async () => {
    await expect(digest('nope')).rejects.toBeInstanceOf(IoError);
    await expect(buildkitDigest(ctx, 'a.txt', async () => Buffer.from('changed!'))).rejects.toThrow(/changed while hashing/);
    await expect(digest('src/[', { wildcard: true })).rejects.toBeInstanceOf(UsageError);
    await expect(digest('src', { variant: 'v0.8', excludePatterns: ['x'] })).rejects.toBeInstanceOf(UsageError);
  });

  it('a wildcard that matches nothing digests to sha256 of nothing; one with the same basename is that entry', async () => {
    expect(await digest('*.none', { wildcard: true })).toBe(await digest('src/nothing-here/*', { wildcard: true }));
    expect(await digest('a.tx?', { wildcard: true })).not.toBe(await digest('a.txt'));
    expect(await digest('a.txt', { wildcard: true })).toBe(await digest('a.txt'));
    expect(await digest('src/*.ts', { wildcard: true, variant: 'v0.8' })).not.toBe(await digest('src/main.ts'));
  });
});
