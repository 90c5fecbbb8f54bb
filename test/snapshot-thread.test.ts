/**
 * Decoding a snapshot on a reader thread (DecodeOptions.thread, as `diff SNAPSHOT SNAPSHOT` does for one side):
 * the same entries, context and metadata as decoding it here, and the same one-line error for one that does
 * not decode. Needs the build (the reader thread runs dist/), as every test of the threads does.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSnapshotColumns, writeSnapshot } from '../src/snapshot/format.js';
import { comparePaths, type Context, type Entry } from '../src/core/types.js';
import { snapshotDirectory } from '../src/snapshot/writer.js';
import { entriesOf, type EntryColumns } from '../src/context/entry-columns.js';
import { spareReaderThreads, startReaderThreads, stopReaderThreads } from '../src/context/threads.js';
import { rewriteSnapshot } from './support/snapshot-bytes.js';

const BIN = path.resolve(import.meta.dirname, '../bin/ctxdiff.js');
let tmp: string;
let snap: string;

/** Every column of a table, row by row in canonical order (what a consumer can read of it). */
function rows(cols: EntryColumns) {
  const stat = (row: number) => (cols.dev ? [cols.ctimeSec![row], cols.ctimeNsec![row], cols.ino![row], cols.dev[row]] : []);
  return [...cols.order].map((row) => [cols.pathBytes?.bytes.subarray(cols.pathBytes.starts[row], cols.pathBytes.starts[row]! + cols.pathBytes.lengths[row]!).toString('hex'), ...stat(row)]);
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ctxdiff-thread-'));
  const ctx = path.join(tmp, 'ctx');
  for (let i = 0; i < 300; i++) {
    fs.mkdirSync(path.join(ctx, `d${i % 7}`), { recursive: true });
    fs.writeFileSync(path.join(ctx, `d${i % 7}`, `f${i}`), `file ${i}\n`);
  }
  fs.symlinkSync('d0/f0', path.join(ctx, 'link'));
  fs.writeFileSync(path.join(ctx, 'é.txt'), 'not ascii');
  fs.writeFileSync(Buffer.concat([Buffer.from(`${ctx}/`), Buffer.from([0x62, 0xff, 0x2e, 0x74])]), 'not utf-8');
  fs.writeFileSync(path.join(ctx, 'tagged'), 't');
  const { setAttributeSync } = createRequire(import.meta.url)('@napi-rs/xattr') as typeof import('@napi-rs/xattr');
  setAttributeSync(path.join(ctx, 'tagged'), 'user.origin', 'ci');
  snap = path.join(tmp, 'snap.ctxsnap');
  await snapshotDirectory(ctx, snap);
}, 30_000);

afterAll(async () => {
  await stopReaderThreads();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('decoding a snapshot on a reader thread', () => {
  it('gives what decoding it here gives', async () => {
    const here = await (await openSnapshotColumns(snap)).decode();
    const there = await (await openSnapshotColumns(snap)).decode({ thread: true, minEntries: 0 });
    expect(here.entries.length).toBeGreaterThan(300);
    expect(entriesOf(there.entries)).toEqual(entriesOf(here.entries));
    expect(rows(there.entries)).toEqual(rows(here.entries));
    expect(there.entries.asciiPaths === undefined).toBe(here.entries.asciiPaths === undefined);
    expect(there.entries.stat).toEqual(here.entries.stat);
    expect(there.context).toEqual(here.context);
    expect(there.meta).toEqual(here.meta);
    expect(Buffer.isBuffer(there.entries.hashBytes)).toBe(true);
    expect(entriesOf(there.entries).find((e) => e.path === 'tagged')!.xattrs).toEqual({ 'user.origin': Buffer.from('ci').toString('base64') });
  });

  it('decodes here below minEntries, and the thread it used ends', async () => {
    startReaderThreads(1);
    expect(spareReaderThreads()).toBe(1);
    await (await openSnapshotColumns(snap)).decode({ thread: true });
    expect(spareReaderThreads()).toBe(1); // 300 entries: not worth a thread
    await (await openSnapshotColumns(snap)).decode({ thread: true, minEntries: 0 });
    expect(spareReaderThreads()).toBe(0);
  });

  it('a snapshot that does not decode: the error decoding it here gives', async () => {
    const bad = path.join(tmp, 'bad.ctxsnap');
    fs.writeFileSync(bad, rewriteSnapshot(fs.readFileSync(snap), (h) => (h.hashes = (h.hashes as number) - 1)));
    const here = await (await openSnapshotColumns(bad)).decode().catch((e: Error) => e);
    const there = await (await openSnapshotColumns(bad)).decode({ thread: true, minEntries: 0 }).catch((e: Error) => e);
    expect(here).toBeInstanceOf(Error);
    expect(there).toEqual(here);
    expect((there as Error).constructor).toBe((here as Error).constructor);
    expect((there as Error).message).toMatch(/bad\.ctxsnap: corrupt snapshot/);
  });

  it('diff SNAPSHOT SNAPSHOT of large snapshots (one decoded on the thread) finds the one changed file', async () => {
    // 60,000 entries: above DecodeOptions.minEntries, written through the library (no files to make).
    const entries: Entry[] = [];
    for (let i = 0; i < 60_000; i++) {
      const hash = i.toString(16).padStart(16, '0');
      entries.push({ path: `d${String(i % 100).padStart(2, '0')}/f${i}`, type: 'file', mode: 0o644, uid: 0, gid: 0, size: 1, mtimeSec: 1, mtimeNsec: 0, hash });
    }
    entries.sort((a, b) => comparePaths(a.path, b.path));
    const dirs: Entry[] = [...new Set(entries.map((e) => e.path.split('/')[0]!))].map((d) => ({ path: d, type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0, mtimeSec: 1, mtimeNsec: 0 }));
    const all = [...dirs, ...entries].sort((a, b) => comparePaths(a.path, b.path));
    const ctx = (list: Entry[]): Context => ({ name: 'big', builder: 'buildkit', ignore: null, dockerfiles: {}, entries: list });
    const before = path.join(tmp, 'big-before.ctxsnap');
    const after = path.join(tmp, 'big-after.ctxsnap');
    await writeSnapshot(before, ctx(all));
    await writeSnapshot(after, ctx(all.map((e) => (e.path === 'd07/f12307' ? { ...e, hash: 'ffffffffffffffff' } : e))));
    const r = spawnSync(process.execPath, [BIN, 'diff', before, after, '--json'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout) as { summary: { changedPaths: number }; steps: { changes: { path: string; kinds: string[] }[] }[] };
    expect(report.summary.changedPaths).toBe(1);
  });
});
