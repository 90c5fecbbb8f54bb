/**
 * The diff of two contexts as columns (what two decoded snapshots are) gives what the diff of the same
 * contexts as objects gives: the column merge compares paths from their bytes, skipping the bytes the
 * snapshots' front coding says an entry shares with the one before, and makes objects only for changes.
 */
import { describe, expect, it } from 'vitest';
import { diffContexts } from '../src/analysis/diff.js';
import { judge } from '../src/analysis/verdicts.js';
import { getProfile } from '../src/builders/profiles.js';
import { compareRows, type PathSource } from '../src/context/entry-columns.js';
import { comparePaths, type Context, type Entry } from '../src/core/types.js';
import { decodeSnapshotColumns, encodeSnapshot } from '../src/snapshot/format.js';

function entry(p: string, attrs: Partial<Entry> = {}): Entry {
  return { path: p, type: 'file', mode: 0o644, uid: 1000, gid: 1000, size: 1, mtimeSec: 1700000000, mtimeNsec: 0, hash: '0123456789abcdef', ...attrs };
}

function dir(p: string, attrs: Partial<Entry> = {}): Entry {
  return { path: p, type: 'dir', mode: 0o755, uid: 1000, gid: 1000, size: 0, mtimeSec: 1700000000, mtimeNsec: 0, ...attrs };
}

function link(p: string, target: string, attrs: Partial<Entry> = {}): Entry {
  return { path: p, type: 'symlink', mode: 0o777, uid: 1000, gid: 1000, size: 0, mtimeSec: 1700000000, mtimeNsec: 0, target, ...attrs };
}

function context(entries: Entry[]): Context {
  return { name: 'ctx', builder: 'buildkit', ignore: null, dockerfiles: {}, entries: [...entries].sort((a, b) => comparePaths(a.path, b.path)) };
}

/** A decoded snapshot of `ctx`: its entries as columns. */
function columns(ctx: Context) {
  const { context: meta, entries } = decodeSnapshotColumns(encodeSnapshot(ctx), 'x.ctxsnap');
  return { ...meta, entries };
}

/** Deterministic pseudo-random numbers in [0, 1). */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0;
    return s / 2 ** 32;
  };
}

describe('diff of decoded snapshots', () => {
  // Names that sort differently by bytes and by canonical order ('/' first), that share long prefixes (past
  // the 255 bytes a shared prefix is counted to), and that are not ASCII (a supplementary character against
  // U+E000-U+FFFF sorts differently in UTF-8 and UTF-16).
  const long = 'd'.repeat(200);
  const names = ['a', 'a-b', 'a.b', 'a/b', 'ab', `${long}/${long}`, `${long}/${long}x`, `${long}/${long}/f`, 'é', 'éa', '\u{1F600}', '\uE000', '\uFFFD'];

  it('matches the diff of the same contexts as objects, over many random pairs', () => {
    const next = random(7);
    const paths: string[] = [];
    for (const a of names) for (const b of names) paths.push(`${a}/${b}`, `${a}${b}`);
    let changes = 0;
    for (let round = 0; round < 40; round++) {
      const before: Entry[] = [];
      const after: Entry[] = [];
      for (const p of paths) {
        const r = next();
        if (r < 0.15) before.push(entry(p));
        else if (r < 0.3) after.push(entry(p));
        else if (r < 0.45) before.push(entry(p)), after.push(entry(p, { size: 2, hash: 'fedcba9876543210' }));
        else if (r < 0.5) before.push(entry(p)), after.push(entry(p, { mtimeNsec: 5 }));
        else if (r < 0.53) before.push(entry(p)), after.push(entry(p, { mode: 0o755, mtimeSec: 1700000001 }));
        else if (r < 0.56) before.push(entry(p)), after.push(entry(p, { uid: 0 }));
        else if (r < 0.58) before.push(entry(p)), after.push(dir(p));
        else if (r < 0.6) before.push(dir(p)), after.push(dir(p, { mode: 0o700 }));
        else if (r < 0.62) before.push(link(p, 'x')), after.push(link(p, 'y'));
        else if (r < 0.64) before.push(link(p, 'x')), after.push(link(p, 'x', { mtimeNsec: 7 }));
        else before.push(entry(p)), after.push(entry(p));
      }
      const b = context(before);
      const a = context(after);
      const expected = diffContexts(b, a);
      expect(diffContexts(columns(b), columns(a))).toStrictEqual(expected);
      // Columns on one side only (a walk's, say, against a snapshot's): no shared prefixes to skip with.
      expect(diffContexts(b, columns(a))).toStrictEqual(expected);
      changes += expected.length;
    }
    expect(changes).toBeGreaterThan(1000);
  });

  it('tells apart paths that differ only past a long shared prefix, right after a match', () => {
    const b = context([entry(`${long}/${long}/a`), entry(`${long}/${long}/b`), entry(`${long}/${long}/c`)]);
    const a = context([entry(`${long}/${long}/a`), entry(`${long}/${long}/bb`), entry(`${long}/${long}/c`, { size: 3 })]);
    expect(diffContexts(columns(b), columns(a)).map((c) => [c.path.slice(402), c.kinds])).toStrictEqual([
      ['b', ['removed']],
      ['bb', ['added']],
      ['c', ['content']],
    ]);
  });

  it('orders paths by their bytes as comparePaths orders the strings, wherever they first differ', () => {
    // Pairs that share 0 to 40 bytes and then differ in one byte, at every offset within (and across) the
    // four bytes compareRows compares at a time: by '/' (first in canonical order) against '-', '.', '0',
    // a letter, and a multi-byte character; and one a prefix of the other.
    const stems = ['', 'a', 'ab/', 'abc/d', 'abcdefg', 'a/b/c/d/e/', 'x'.repeat(40)];
    const tails = ['', '/', '-', '.', '0', 'a', 'b', '/a', '-a', 'é', '\u{1F600}', '\uE000', '/z/y/x/w', '.zzzzzzzzz'];
    const paths = [...new Set(stems.flatMap((s) => tails.flatMap((t) => [s + t, s + t + 'q', `${s}${t}/${s}`])))].filter((p) => p !== '');
    const bytes = paths.map((p) => Buffer.from(p, 'utf8'));
    const all = Buffer.concat(bytes);
    const starts = new Int32Array(paths.length);
    const lengths = new Int32Array(paths.length);
    for (let i = 0, at = 0; i < paths.length; at += bytes[i]!.length, i++) (starts[i] = at), (lengths[i] = bytes[i]!.length);
    // Two tables over the same paths, their bytes at different offsets (so that a row is read unaligned).
    const shifted = Buffer.concat([Buffer.from('123'), all]);
    const a: PathSource = { path: (r) => paths[r]!, pathBytes: { bytes: all, starts, lengths } };
    const b: PathSource = { path: (r) => paths[r]!, pathBytes: { bytes: shifted, starts: starts.map((s) => s + 3), lengths } };
    const wrong: string[] = [];
    let compared = 0;
    for (let i = 0; i < paths.length; i++) {
      for (let j = 0; j < paths.length; j++) {
        const expected = Math.sign(comparePaths(paths[i]!, paths[j]!));
        // Given the bytes both are known to share, the same answer.
        let same = 0;
        while (same < lengths[i]! && same < lengths[j]! && bytes[i]![same] === bytes[j]![same]) same++;
        for (const known of [0, same]) {
          const got = Math.sign(compareRows(a, i, b, j, known));
          if (got !== expected) wrong.push(`${JSON.stringify(paths[i])} vs ${JSON.stringify(paths[j])} (same ${known}): ${got}, not ${expected}`);
          compared++;
        }
      }
    }
    expect(wrong).toStrictEqual([]);
    expect(compared).toBeGreaterThan(80_000);
  });
});

describe('verdicts over decoded snapshots', () => {
  // A step that takes src/ (its files, and its subdirectories' modes under BuildKit's rules), one that takes
  // a single file, and paths no step takes.
  const dockerfile = 'FROM scratch\nCOPY src /app/src\nCOPY cfg/app.json /app/\n';
  const withDockerfile = (entries: Entry[]): Context => ({ ...context(entries), dockerfiles: { Dockerfile: dockerfile }, dockerfile: 'Dockerfile' });
  const before = withDockerfile([
    dir('src'), dir('src/sub'), entry('src/a.js'), entry('src/b.js'), entry('src/sub/c.js'), entry('src/sub/d.js'), entry('src/gone.js'),
    dir('cfg'), entry('cfg/app.json'), entry('cfg/other.json'), dir('docs'), entry('docs/readme.md'), link('docs/link', 'x'),
  ]);
  const after = withDockerfile([
    dir('src', { mode: 0o700 }), dir('src/sub', { mode: 0o700 }), entry('src/a.js', { mtimeNsec: 9 }), entry('src/b.js', { hash: 'fedcba9876543210' }),
    entry('src/sub/c.js', { mode: 0o755 }), entry('src/sub/d.js', { uid: 0 }), entry('src/new.js'),
    dir('cfg'), entry('cfg/app.json', { size: 5, hash: 'fedcba9876543210' }), entry('cfg/other.json', { mtimeSec: 1 }), dir('docs', { mode: 0o700 }),
    entry('docs/readme.md', { size: 9, hash: 'fedcba9876543210' }), link('docs/link', 'y'),
  ]);

  it('judges column contexts as it judges the same contexts as objects, for every builder', () => {
    for (const id of ['buildkit', 'classic', 'buildah']) {
      const profile = getProfile(id);
      const expected = judge(before, after, profile);
      expect(expected.steps.some((s) => s.changes.length > 0)).toBe(true);
      expect(expected.ignored.length).toBeGreaterThan(0);
      expect(judge(columns(before), columns(after), profile)).toStrictEqual(expected);
      expect(judge(before, columns(after), profile)).toStrictEqual(expected);
    }
  });

  it('leaves the entries out of the ignored changes with ignoredEntries: false, and nothing else', () => {
    for (const id of ['buildkit', 'buildah']) {
      const profile = getProfile(id);
      const full = judge(columns(before), columns(after), profile);
      const lean = judge(columns(before), columns(after), profile, { ignoredEntries: false });
      expect(full.ignored.every((c) => c.before !== undefined || c.after !== undefined)).toBe(true);
      expect(lean).toStrictEqual({ ...full, ignored: full.ignored.map(({ before: _b, after: _a, ...rest }) => rest) });
    }
  });
});
