import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import xxhash from 'xxhash-wasm';
import { CHUNK_SIZE, FilePool } from '../src/context/hash.js';
import { walkContext } from '../src/context/walk.js';
import { materialize } from './support/fixture.js';
import { getProfile } from '../src/builders/profiles.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ctxdiff-walk-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const byPath = (ctx: Awaited<ReturnType<typeof walkContext>>) => new Map(ctx.entries.map((e) => [e.path, e]));

describe('walkContext', () => {
  it('records every entry type with raw attributes, without following links or opening fifos', async () => {
    await materialize(
      {
        'a.txt': { content: 'hello', mode: 0o640 },
        'bin/run.sh': { content: '#!/bin/sh\n', mode: 0o4755 },
        'empty': { dir: true, mode: 0o1777 },
        'link': { symlink: 'a.txt' },
        'dangling': { symlink: 'nowhere/at/all' },
        'pipe': { fifo: true },
      },
      dir,
    );
    const ctx = await walkContext(dir);
    const e = byPath(ctx);
    expect([...e.keys()]).toEqual(['a.txt', 'bin', 'bin/run.sh', 'dangling', 'empty', 'link', 'pipe']);
    expect(e.get('a.txt')).toMatchObject({ type: 'file', mode: 0o640, size: 5 });
    expect(e.get('bin/run.sh')).toMatchObject({ type: 'file', mode: 0o4755 });
    expect(e.get('empty')).toMatchObject({ type: 'dir', mode: 0o1777, size: 0 });
    expect(e.get('link')).toMatchObject({ type: 'symlink', target: 'a.txt', size: 0 });
    expect(e.get('link')!.hash).toBeUndefined();
    expect(e.get('dangling')).toMatchObject({ type: 'symlink', target: 'nowhere/at/all' });
    expect(e.get('pipe')).toMatchObject({ type: 'fifo' });
    const st = fs.statSync(path.join(dir, 'a.txt'), { bigint: true });
    expect(BigInt(e.get('a.txt')!.mtimeSec) * 1_000_000_000n + BigInt(e.get('a.txt')!.mtimeNsec)).toBe(st.mtimeNs);
    expect(e.get('a.txt')!.uid).toBe(Number(st.uid));
  });

  it('records mtimes before 1970 exactly, as whole seconds and a non-negative nanosecond part', async () => {
    const n = FilePool.INLINE_FILES * 2; // enough for the worker threads too
    for (let i = 0; i < n; i++) {
      const f = path.join(dir, `f${i}`);
      fs.writeFileSync(f, `${i}`);
      // A Date: Node takes a negative number of seconds for now.
      fs.utimesSync(f, 0, new Date(i % 3 === 0 ? -1250 : i % 3 === 1 ? -86_400_000 : 1500));
    }
    for (const threads of [0, 2]) {
      const ctx = await walkContext(dir, { threads });
      expect(ctx.entries.length).toBe(n);
      for (const e of ctx.entries) {
        const ns = fs.statSync(path.join(dir, e.path), { bigint: true }).mtimeNs;
        const floorSec = ns >= 0n ? ns / 1_000_000_000n : -((-ns + 999_999_999n) / 1_000_000_000n);
        expect([e.mtimeSec, e.mtimeNsec], e.path).toEqual([Number(floorSec), Number(ns - floorSec * 1_000_000_000n)]);
      }
      const f0 = ctx.entries.find((e) => e.path === 'f0')!;
      expect([f0.mtimeSec, f0.mtimeNsec]).toEqual([-2, 750_000_000]);
    }
  });

  it('hashes contents with xxhash64, streaming large files', async () => {
    const api = await xxhash();
    const big = Buffer.alloc(CHUNK_SIZE * 3 + 12345);
    for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24;
    fs.writeFileSync(path.join(dir, 'big.bin'), big);
    fs.writeFileSync(path.join(dir, 'exact.bin'), big.subarray(0, CHUNK_SIZE));
    fs.writeFileSync(path.join(dir, 'empty.bin'), '');
    const e = byPath(await walkContext(dir));
    const expected = (b: Uint8Array) => api.h64Raw(b).toString(16).padStart(16, '0');
    expect(e.get('big.bin')!.hash).toBe(expected(big));
    expect(e.get('big.bin')!.size).toBe(big.length);
    expect(e.get('exact.bin')!.hash).toBe(expected(big.subarray(0, CHUNK_SIZE)));
    expect(e.get('empty.bin')!.hash).toBe(expected(new Uint8Array(0)));
  });

  it('gives the same result on the worker pool as on one thread', async () => {
    const n = FilePool.INLINE_FILES * 3;
    for (let i = 0; i < n; i++) {
      const sub = path.join(dir, `d${i % 7}`);
      fs.mkdirSync(sub, { recursive: true });
      fs.writeFileSync(path.join(sub, `f${i}`), `content ${i % 50}\n`.repeat(i % 50));
    }
    const pooled = await walkContext(dir, { threads: 2 });
    const inline = await walkContext(dir, { threads: 0 });
    expect(pooled.entries.length).toBe(n + 7);
    expect(pooled.entries).toEqual(inline.entries);
    expect(new Set(pooled.entries.filter((x) => x.type === 'file').map((x) => x.hash)).size).toBe(50);
  });

  it('gives the same result on the worker pool as on one thread when most files wait in the queue', async () => {
    // One directory of 20,000 files: a scan reads SCAN_BUDGET of them and queues the rest, which go out in
    // batches from the front of the queue, long enough that what was taken is let go while files remain.
    const n = 20_000;
    const big = path.join(dir, 'big');
    fs.mkdirSync(big);
    for (let i = 0; i < n; i++) fs.writeFileSync(path.join(big, `f${String(i).padStart(5, '0')}`), `content ${i % 97}\n`);
    const pooled = await walkContext(dir, { threads: 2 });
    const inline = await walkContext(dir, { threads: 0 });
    expect(pooled.entries.length).toBe(n + 1);
    expect(pooled.entries).toEqual(inline.entries);
    expect(new Set(pooled.entries.filter((x) => x.type === 'file').map((x) => x.hash)).size).toBe(97);
  });

  it('records extended attributes a builder can carry, without following symlinks', async () => {
    const { setAttributeSync } = createRequire(import.meta.url)('@napi-rs/xattr') as typeof import('@napi-rs/xattr');
    await materialize({ 'f': { content: 'x' }, 'd': { dir: true }, 'plain': { content: 'y' }, 'l': { symlink: 'f' } }, dir);
    try {
      setAttributeSync(path.join(dir, 'f'), 'user.origin', 'ci');
      setAttributeSync(path.join(dir, 'd'), 'user.k', Buffer.from([0, 255]));
    } catch (e) {
      // tmpfs without user xattrs: nothing to test here
      expect((e as Error).message).toMatch(/not supported|Operation not supported/i);
      return;
    }
    const e = byPath(await walkContext(dir, { xattrs: true }));
    expect(e.get('f')!.xattrs).toEqual({ 'user.origin': Buffer.from('ci').toString('base64') });
    expect(e.get('d')!.xattrs).toEqual({ 'user.k': Buffer.from([0, 255]).toString('base64') });
    expect(e.get('plain')!.xattrs).toBeUndefined();
    expect(e.get('l')!.xattrs).toBeUndefined();
    expect((await walkContext(dir, { xattrs: false })).entries.every((x) => x.xattrs === undefined)).toBe(true);
    // By default only profiles that count them read them.
    expect(byPath(await walkContext(dir, { profile: getProfile('buildah') })).get('f')!.xattrs).toBeDefined();
    const bk = await walkContext(dir, { profile: getProfile('buildkit') });
    expect(bk.xattrs).toBe(false);
    expect(bk.entries.every((x) => x.xattrs === undefined)).toBe(true);
    // A name that is not UTF-8 beside them: the others' attributes are still read.
    fs.writeFileSync(Buffer.concat([Buffer.from(`${dir}/`), Buffer.from([0x62, 0xff])]), 'z');
    for (const threads of [0, 3]) {
      const odd = byPath(await walkContext(dir, { xattrs: true, threads }));
      expect(odd.size).toBe(5);
      expect(odd.get('f')!.xattrs).toEqual({ 'user.origin': Buffer.from('ci').toString('base64') });
    }
  });

  it('lists entries in canonical order ("a/x" before "a-b")', async () => {
    await materialize({ 'a/x': { content: '' }, 'a-b': { content: '' }, 'a.c': { content: '' }, 'B': { content: '' } }, dir);
    const ctx = await walkContext(dir);
    expect(ctx.entries.map((x) => x.path)).toEqual(['B', 'a', 'a/x', 'a-b', 'a.c']);
  });

  it('applies .dockerignore while walking and never reads excluded directories', async () => {
    await materialize(
      {
        '.dockerignore': { content: 'node_modules\n*.log\n!keep.log\n' },
        'node_modules/x/index.js': { content: 'x' },
        'app.log': { content: 'log' },
        'keep.log': { content: 'keep' },
        'src/a.ts': { content: 'a' },
      },
      dir,
    );
    // An unreadable excluded directory proves it is never opened.
    fs.chmodSync(path.join(dir, 'node_modules'), 0o000);
    try {
      const ctx = await walkContext(dir);
      expect(ctx.entries.map((x) => x.path)).toEqual(['.dockerignore', 'keep.log', 'src', 'src/a.ts']);
      expect(ctx.ignore).toEqual({ file: '.dockerignore', text: 'node_modules\n*.log\n!keep.log\n' });
    } finally {
      fs.chmodSync(path.join(dir, 'node_modules'), 0o755);
    }
  });

  it('keeps the Dockerfile text, even when .dockerignore excludes the Dockerfile', async () => {
    await materialize({ 'Dockerfile': { content: 'FROM scratch\n' }, '.dockerignore': { content: 'Dockerfile\n' } }, dir);
    const ctx = await walkContext(dir);
    expect(ctx.dockerfile).toBe('Dockerfile');
    expect(ctx.dockerfiles).toEqual({ Dockerfile: 'FROM scratch\n' });
    expect(ctx.entries.map((x) => x.path)).toEqual(['.dockerignore']);
  });

  it('reports a missing or non-directory context as a one-line I/O error', async () => {
    await expect(walkContext(path.join(dir, 'nope'))).rejects.toThrow(/nope: no such file or directory/);
    fs.writeFileSync(path.join(dir, 'f'), '');
    await expect(walkContext(path.join(dir, 'f'))).rejects.toThrow(/f: not a directory/);
  });
});
