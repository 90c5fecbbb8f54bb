/**
 * snapshotDirectory (and `ctxdiff snapshot DIR`) writes, straight from the walk, the very bytes that
 * `encodeSnapshot(await walkContext(DIR))` gives: checked on a tree with every kind of entry, ignore-rule
 * exceptions under excluded directories, non-ASCII names, extended attributes and enough files for the
 * worker threads, under every builder profile.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FilePool } from '../src/context/hash.js';
import { builderIds, getProfile } from '../src/builders/profiles.js';
import { decodeSnapshot, decodeSnapshotColumns, encodeSnapshot } from '../src/snapshot/format.js';
import { snapshotDirectory } from '../src/snapshot/writer.js';
import type { Context } from '../src/core/types.js';
import { walkContext, type WalkOptions } from '../src/context/walk.js';
import { materialize } from './support/fixture.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin/ctxdiff.js');
const createdAt = '2026-03-04T05:06:07.089Z';

let tmp: string;
let tree: string;
/** A sub-directory of `tree` whose paths are all ASCII (paths are then front-coded from their bytes). */
let ascii: string;
let xattrsWritten = false;
let server: net.Server | undefined;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ctxdiff-snapwriter-'));
  tree = path.join(tmp, 'ctx');
  fs.mkdirSync(tree);
  await materialize(
    {
      'Dockerfile': { content: 'FROM scratch\nCOPY . /app\n' },
      '.dockerignore': {
        content: [
          'node_modules',
          '!node_modules/keep/**',
          'build/',
          '!build/out/kept.txt',
          'secret',
          '*.log',
          '!important.log',
          'deep/**/cache',
          '!deep/a/cache/yes.txt',
          '',
        ].join('\n'),
      },
      'node_modules/dropped/index.js': { content: 'x' },
      'node_modules/keep/index.js': { content: 'kept' },
      'node_modules/keep/lib/util.js': { content: 'util' },
      'build/out/kept.txt': { content: 'kept' },
      'build/out/other.txt': { content: 'other' },
      'build/tmp/x': { content: 'x' },
      'secret/key': { content: 'k', mode: 0o600 },
      'debug.log': { content: 'log' },
      'important.log': { content: 'important' },
      'deep/a/cache/yes.txt': { content: 'y' },
      'deep/a/cache/no.txt': { content: 'n' },
      'deep/b/cache/no.txt': { content: 'n' },
      'empty': { dir: true },
      'sticky': { dir: true, mode: 0o1777 },
      'bin/run.sh': { content: '#!/bin/sh\n', mode: 0o4755 },
      'link': { symlink: 'bin/run.sh' },
      'dangling': { symlink: 'nowhere/at/all' },
      'ünï/café.txt': { content: 'é' },
      'ünï/日本語/😁.txt': { content: 'emoji' },
      'ünï/ab': { content: 'ab' },
      'ünï/a-b': { content: 'a-b' },
      'pipe': { fifo: true },
      'many/x/pipe': { fifo: true },
      'many/x/link': { symlink: '../y' },
      'many/empty': { dir: true },
    },
    tree,
  );
  // Enough files that the workers take part, and directories large enough that files are deferred.
  for (let i = 0; i < FilePool.INLINE_FILES * 20; i++) {
    const sub = path.join(tree, 'many', i % 2 === 0 ? 'big' : `d${i % 11}/e${i % 5}`);
    fs.mkdirSync(sub, { recursive: true });
    fs.writeFileSync(path.join(sub, `f${i}.txt`), `content ${i}\n`.repeat(i % 40));
  }
  fs.writeFileSync(path.join(tree, 'many/large.bin'), Buffer.alloc(FilePool.INLINE_BYTES + 12345, 7));
  try {
    spawnSync('mknod', [path.join(tree, 'null-dev'), 'c', '1', '3']);
  } catch {
    // no mknod: the device column is covered by the snapshot format tests
  }
  server = await new Promise<net.Server | undefined>((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(undefined));
    s.listen(path.join(tree, 'many/sock'), () => resolve(s));
  });
  try {
    const { setAttributeSync } = createRequire(import.meta.url)('@napi-rs/xattr') as typeof import('@napi-rs/xattr');
    setAttributeSync(path.join(tree, 'bin/run.sh'), 'user.origin', 'ci');
    setAttributeSync(path.join(tree, 'many/d1/e1'), 'user.k', Buffer.from([0, 255]));
    setAttributeSync(path.join(tree, 'many/big/f4.txt'), 'user.b', 'deferred or not');
    xattrsWritten = true;
  } catch {
    // a file system without user xattrs: they are simply absent on both sides
  }
  ascii = path.join(tree, 'many');
});

afterAll(() => {
  server?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/**
 * Both ways of making a snapshot of `dir`: the bytes, and what snapshotDirectory reports. A snapshot reads
 * extended attributes unless told not to, and records the other profiles' walks (checked in snapshot-walks
 * tests): the walk here does the same, and takes the walks as recorded. The stat cache's file identities
 * (which Entry objects do not carry) are left out (`stat: false`); `withStat` checks that they are all that
 * differs when recorded.
 */
async function bothWays(dir: string, options: WalkOptions) {
  const file = path.join(tmp, 'out.ctxsnap');
  fs.rmSync(file, { force: true });
  const summary = await snapshotDirectory(dir, file, { ...options, stat: false }, { createdAt });
  const fast = fs.readFileSync(file);
  const walked = await walkContext(dir, { ...options, xattrs: options.xattrs ?? true });
  const context = { ...walked, walks: decodeSnapshot(fast, file).context.walks! };
  expect(context.walks).toBeDefined();
  return { fast, expected: encodeSnapshot(context, { createdAt }), summary, context };
}

/** With the stat cache's identities recorded: the same snapshot once they are dropped, and one per hashed file. */
async function withStat(dir: string, options: WalkOptions, expected: Buffer) {
  const file = path.join(tmp, 'stat.ctxsnap');
  await snapshotDirectory(dir, file, options, { createdAt });
  const bytes = fs.readFileSync(file);
  expect(encodeSnapshot(decodeSnapshot(bytes, file).context, { createdAt }).equals(expected)).toBe(true);
  const { entries } = decodeSnapshotColumns(bytes, file);
  expect(entries.stat).toBeDefined();
  for (let r = 0; r < entries.length; r++) expect(entries.dev![r]! >= 0).toBe(entries.hashAt[r]! >= 0);
}

function counts(ctx: Context) {
  const files = ctx.entries.filter((e) => e.type === 'file');
  return { entries: ctx.entries.length, files: files.length, bytes: files.reduce((n, e) => n + e.size, 0) };
}

describe('snapshotDirectory', () => {
  it('covers what it claims to: deferred files, exceptions, non-ASCII names, special files', async () => {
    const ctx = await walkContext(tree, { xattrs: true });
    const types = new Set(ctx.entries.map((e) => e.type));
    for (const t of ['file', 'dir', 'symlink', 'fifo'] as const) expect(types).toContain(t);
    if (server) expect(types).toContain('socket');
    const paths = ctx.entries.map((e) => e.path);
    expect(paths).toContain('node_modules/keep/lib/util.js');
    expect(paths).toContain('build/out/kept.txt');
    expect(paths).not.toContain('build/out/other.txt');
    expect(paths).toContain('ünï/日本語/😁.txt');
    expect(paths.filter((p) => p.startsWith('many/big/')).length).toBeGreaterThan(FilePool.SCAN_BUDGET.files);
    if (xattrsWritten) expect(ctx.entries.filter((e) => e.xattrs !== undefined).length).toBe(3);
  });

  for (const builder of builderIds()) {
    it(`writes the bytes encodeSnapshot(walkContext()) gives, under ${builder}`, async () => {
      for (const options of [{ profile: getProfile(builder) }, { profile: getProfile(builder), xattrs: true }, { profile: getProfile(builder), threads: 0 }] as WalkOptions[]) {
        for (const dir of [tree, ascii]) {
          const { fast, expected, summary, context } = await bothWays(dir, options);
          expect(fast.equals(expected), `${dir} ${JSON.stringify(options)}`).toBe(true);
          expect({ entries: summary.entries, files: summary.files, bytes: summary.bytes }).toEqual(counts(context));
          await withStat(dir, options, expected);
          const { entries: _, ...meta } = context;
          expect(summary.context).toEqual(meta);
          expect(summary.meta.createdAt).toBe(createdAt);
        }
      }
    });
  }

  it('writes the same bytes when the first path that is not ASCII comes late in the walk', async () => {
    // The root's own entries are ASCII; the one non-ASCII path is read long after the first results.
    const late = path.join(tmp, 'late');
    for (let i = 0; i < FilePool.INLINE_FILES * 3; i++) {
      fs.mkdirSync(path.join(late, `a${i % 4}`), { recursive: true });
      fs.writeFileSync(path.join(late, `a${i % 4}`, `f${i}`), `${i}`);
    }
    fs.mkdirSync(path.join(late, 'z/deep'), { recursive: true });
    fs.writeFileSync(path.join(late, 'z/deep/naïve.txt'), 'x');
    for (const threads of [0, 2]) {
      const { fast, expected, context } = await bothWays(late, { threads });
      expect(context.entries.at(-1)!.path).toBe('z/deep/naïve.txt');
      expect(fast.equals(expected), `threads ${threads}`).toBe(true);
    }
  });

  it('fails as walkContext does, and leaves no file', async () => {
    const bad = path.join(tmp, 'bad');
    await materialize({ '.dockerignore': { content: 'ok\n[\n' }, 'a': { content: 'a' } }, bad);
    const file = path.join(tmp, 'never.ctxsnap');
    const walked = await walkContext(bad).then(
      () => null,
      (e: Error) => e,
    );
    expect(walked).toBeInstanceOf(Error);
    await expect(snapshotDirectory(bad, file)).rejects.toThrow(walked!.message);
    await expect(snapshotDirectory(path.join(tmp, 'missing'), file)).rejects.toThrow(/missing/);
    expect(fs.existsSync(file)).toBe(false);
  });
});

describe('ctxdiff snapshot DIR', () => {
  it('writes the bytes of encodeSnapshot(walkContext()) and reports the same counts', () => {
    const file = path.join(tmp, 'cli.ctxsnap');
    const r = spawnSync(process.execPath, [BIN, 'snapshot', tree, '-o', file, '--json', '--xattrs'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const bytes = fs.readFileSync(file);
    const { meta } = decodeSnapshot(bytes, file);
    return walkContext(tree, { xattrs: true }).then((walked) => {
      const ctx = { ...walked, walks: decodeSnapshot(bytes, file).context.walks! };
      // Entry objects carry no file identities: the same bytes once the snapshot's are dropped.
      expect(encodeSnapshot(decodeSnapshot(bytes, file).context, { createdAt: meta.createdAt }).equals(encodeSnapshot(ctx, { createdAt: meta.createdAt }))).toBe(true);
      expect(decodeSnapshotColumns(bytes, file).entries.stat).toBeDefined();
      const report = JSON.parse(r.stdout) as Record<string, unknown>;
      expect(report).toMatchObject({ file, context: tree, builder: 'buildkit', ignoreFile: '.dockerignore', ...counts(ctx) });
    });
  });
});
