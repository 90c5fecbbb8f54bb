/**
 * The stat cache (src/context/stat-cache.ts): a walk with an earlier snapshot of the same context re-uses the
 * recorded hash of a file whose device, inode, size, mtime and ctime are the recorded ones, and reads every
 * other file. To see which it did, the snapshot's recorded hashes are replaced by a hash no file has
 * (test/support/snapshot-bytes.ts): a re-used hash is that one, a file read has its true hash.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeSnapshotColumns, writeSnapshot } from '../src/snapshot/format.js';
import { snapshotDirectory } from '../src/snapshot/writer.js';
import { walkContext, walkContextColumns } from '../src/context/walk.js';
import { entriesOf, type EntryColumns } from '../src/context/entry-columns.js';
import { cacheUnusable, machineId, RACY_WINDOW_NS } from '../src/context/stat-cache.js';
import { rewriteSnapshot } from './support/snapshot-bytes.js';

const BIN = path.resolve(import.meta.dirname, '../bin/ctxdiff.js');
const FAKE = 'feedfacefeedface';
/** Files in the context: enough for the reader threads to take part. */
const FILES = 600;

let tmp: string;
let ctx: string;
let tampered: string;

/** Sleeps until every file written before now is older than a walk starting then by more than the racy window. */
const outOfRacyWindow = () => new Promise((r) => setTimeout(r, Number(RACY_WINDOW_NS / 1_000_000n) + 300));

/** `snap` with every recorded hash replaced by FAKE (and, optionally, its header edited). */
function withFakeHashes(snap: string, out: string, edit: (h: Record<string, unknown>) => void = () => {}): string {
  const buf = fs.readFileSync(snap);
  fs.writeFileSync(out, rewriteSnapshot(buf, edit, undefined, (raw) => {
    for (let at = 0; at < raw.length; at += 8) Buffer.from(FAKE, 'hex').copy(raw, at);
  }));
  return out;
}

function cacheOf(file: string): EntryColumns {
  return decodeSnapshotColumns(fs.readFileSync(file), file).entries;
}

async function hashesWith(cache: EntryColumns, threads?: number, dir = ctx): Promise<{ hashes: Map<string, string>; reused: number }> {
  const { entries, reused } = await walkContextColumns(dir, { cache, ...(threads !== undefined ? { threads } : {}) });
  return { hashes: new Map(entriesOf(entries).filter((e) => e.hash).map((e) => [e.path, e.hash!])), reused };
}

function cli(...args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ctxdiff-statcache-'));
  ctx = path.join(tmp, 'ctx');
  for (let i = 0; i < FILES; i++) {
    const dir = path.join(ctx, `d${i % 6}`);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `f${i}.txt`), `content ${i}\n`);
  }
  fs.writeFileSync(path.join(ctx, 'same.txt'), 'AAAA');
  // A time a double in milliseconds cannot hold to the nanosecond (see F_MS_TIMES).
  fs.writeFileSync(path.join(ctx, 'ns.txt'), 'ns');
  expect(spawnSync('touch', ['-m', '-d', '@1600000000.123456789', path.join(ctx, 'ns.txt')]).status).toBe(0);
  await outOfRacyWindow();
  const snap = path.join(tmp, 'snap.ctxsnap');
  await snapshotDirectory(ctx, snap);
  tampered = withFakeHashes(snap, path.join(tmp, 'tampered.ctxsnap'));
}, 30_000);

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('stat cache', () => {
  it('re-uses the recorded hash of every unchanged file, on this thread and on reader threads', async () => {
    for (const threads of [0, 3]) {
      const { hashes, reused } = await hashesWith(cacheOf(tampered), threads);
      expect(reused).toBe(FILES + 2);
      expect(new Set(hashes.values())).toEqual(new Set([FAKE]));
    }
  });

  it('a re-used file has the attributes a walk without the cache records, times and identity to the nanosecond', async () => {
    const fields = (cols: EntryColumns) => {
      // Files: a snapshot records the identity of the files only.
      const out = new Map<string, number[]>();
      for (const row of cols.order) {
        if (cols.type[row] !== 0) continue;
        out.set(cols.path(row), [cols.size[row]!, cols.mtimeSec[row]!, cols.mtimeNsec[row]!, cols.ctimeSec![row]!, cols.ctimeNsec![row]!, cols.ino![row]!, cols.dev![row]!]);
      }
      return out;
    };
    const cold = await snapshotDirectory(ctx, path.join(tmp, 'cold.ctxsnap'));
    expect(cold.entries).toBeGreaterThan(FILES);
    const without = fields(cacheOf(path.join(tmp, 'cold.ctxsnap')));
    expect(without.get('ns.txt')!.slice(1, 3)).toEqual([1600000000, 123456789]);
    for (const threads of [0, 3]) {
      const { entries, reused } = await walkContextColumns(ctx, { cache: cacheOf(path.join(tmp, 'snap.ctxsnap')), threads });
      expect(reused).toBe(FILES + 2);
      expect(fields(entries)).toEqual(without);
    }
  });

  it('a walk that reads extended attributes takes a re-used file\'s from the cache; a cache without them lends no hash', async () => {
    const { setAttributeSync } = createRequire(import.meta.url)('@napi-rs/xattr') as typeof import('@napi-rs/xattr');
    const dir = path.join(tmp, 'xattrs');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'tagged'), 'a');
    fs.writeFileSync(path.join(dir, 'plain'), 'b');
    setAttributeSync(path.join(dir, 'tagged'), 'user.origin', 'ci');
    await outOfRacyWindow();
    const withX = path.join(tmp, 'xattrs.ctxsnap');
    const withoutX = path.join(tmp, 'no-xattrs.ctxsnap');
    await snapshotDirectory(dir, withX);
    await snapshotDirectory(dir, withoutX, { xattrs: false });
    const attrs = (cols: EntryColumns) => entriesOf(cols).map((e) => [e.path, e.xattrs ?? null]);
    const cold = await walkContextColumns(dir, { xattrs: true });
    expect(attrs(cold.entries)).toEqual([['plain', null], ['tagged', { 'user.origin': Buffer.from('ci').toString('base64') }]]);
    for (const threads of [0, 3]) {
      const fromX = await walkContextColumns(dir, { xattrs: true, cache: cacheOf(withX), threads });
      expect([fromX.reused, attrs(fromX.entries)]).toEqual([2, attrs(cold.entries)]);
      // Recorded without them: each file is read, attributes and all.
      const fromPlain = await walkContextColumns(dir, { xattrs: true, cache: cacheOf(withoutX), threads });
      expect([fromPlain.reused, attrs(fromPlain.entries)]).toEqual([0, attrs(cold.entries)]);
    }
    // An attribute set since: ctime moved, so the file is read and its attributes with it.
    setAttributeSync(path.join(dir, 'plain'), 'user.k', 'v');
    const after = await walkContextColumns(dir, { xattrs: true, cache: cacheOf(withX) });
    expect(after.reused).toBe(1);
    expect(entriesOf(after.entries).find((e) => e.path === 'plain')!.xattrs).toEqual({ 'user.k': Buffer.from('v').toString('base64') });
  });

  it('reads a file rewritten with the same size and mtime: ctime moved (the BuildKit transfer hazard)', async () => {
    const file = path.join(ctx, 'same.txt');
    const before = fs.statSync(file, { bigint: true });
    fs.writeFileSync(file, 'BBBB');
    // The mtime set back to the nanosecond (a Date would lose them): touch -d @SECONDS.NANOSECONDS.
    const ns = before.mtimeNs;
    const stamp = `@${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, '0')}`;
    expect(spawnSync('touch', ['-m', '-d', stamp, file]).status).toBe(0);
    const after = fs.statSync(file, { bigint: true });
    expect([after.size, after.mtimeNs, after.ino]).toEqual([before.size, before.mtimeNs, before.ino]);
    expect(after.ctimeNs).not.toBe(before.ctimeNs);

    const { hashes, reused } = await hashesWith(cacheOf(tampered));
    expect(reused).toBe(FILES + 1);
    expect(hashes.get('same.txt')).not.toBe(FAKE);
    const fresh = (await walkContext(ctx)).entries.find((e) => e.path === 'same.txt')!;
    expect(hashes.get('same.txt')).toBe(fresh.hash);

    // The diff against the snapshot says content changed (with the true snapshot, not the tampered one).
    const r = cli('diff', path.join(tmp, 'snap.ctxsnap'), ctx, '--json');
    const report = JSON.parse(r.stdout) as { steps: { changes: { path: string; kinds: string[] }[] }[] };
    expect(report.steps[0]!.changes).toEqual([expect.objectContaining({ path: 'same.txt', kinds: ['content'] })]);
    fs.writeFileSync(file, 'AAAA'); // back, for the other tests (ctime moves again: it is read from now on)
  });

  it('reads racy files: mtime or ctime not older than the walk that recorded them, less the window', async () => {
    const racyDir = path.join(tmp, 'racy');
    fs.mkdirSync(racyDir);
    fs.writeFileSync(path.join(racyDir, 'new.txt'), 'new');
    fs.utimesSync(path.join(racyDir, 'new.txt'), new Date('2020-01-01'), new Date('2020-01-01')); // old mtime, ctime now
    const snap = path.join(tmp, 'racy.ctxsnap');
    await snapshotDirectory(racyDir, snap);
    const fake = withFakeHashes(snap, path.join(tmp, 'racy-fake.ctxsnap'));
    const { entries, reused } = await walkContextColumns(racyDir, { cache: cacheOf(fake) });
    expect(reused).toBe(0);
    expect(entriesOf(entries)[0]!.hash).not.toBe(FAKE);
    // Once the window has passed, a snapshot taken then lends its hash.
    await outOfRacyWindow();
    await snapshotDirectory(racyDir, snap);
    const later = withFakeHashes(snap, path.join(tmp, 'racy-fake.ctxsnap'));
    expect((await walkContextColumns(racyDir, { cache: cacheOf(later) })).reused).toBe(1);
  }, 10_000);

  it('never re-uses hashes from a snapshot taken on another machine', async () => {
    const other = withFakeHashes(path.join(tmp, 'snap.ctxsnap'), path.join(tmp, 'other.ctxsnap'), (h) => {
      (h.stat as { machine: string }).machine = 'a-ci-runner';
    });
    const cache = cacheOf(other);
    expect(cacheUnusable(cache)).toMatch(/another machine/);
    const { hashes, reused } = await hashesWith(cache);
    expect(reused).toBe(0);
    expect([...hashes.values()]).not.toContain(FAKE);
    expect(cacheUnusable(cacheOf(tampered))).toBeNull();
    expect(cacheOf(tampered).stat!.machine).toBe(machineId());
  });

  it('never re-uses hashes from a snapshot that records no file identities', async () => {
    const file = path.join(tmp, 'objects.ctxsnap');
    await writeSnapshot(file, await walkContext(ctx));
    expect(cacheUnusable(cacheOf(file))).toMatch(/no file identities/);
    expect((await hashesWith(cacheOf(file))).reused).toBe(0);
  });

  it('files added and removed among the recorded ones: every file left re-uses its hash, every new one is read', async () => {
    // Its own context: the pass looks for a file's entry at the next recorded one first, then by path.
    const own = path.join(tmp, 'moved');
    const names: string[] = [];
    for (let i = 0; i < 300; i++) names.push(`d${i % 3}/f${String(i).padStart(3, '0')}.txt`);
    for (const n of names) {
      fs.mkdirSync(path.join(own, path.dirname(n)), { recursive: true });
      fs.writeFileSync(path.join(own, n), `${n}\n`);
    }
    await outOfRacyWindow();
    const snap = path.join(tmp, 'moved.ctxsnap');
    await snapshotDirectory(own, snap);
    const cache = withFakeHashes(snap, path.join(tmp, 'moved-fake.ctxsnap'));
    const removed = names.filter((_, i) => i % 7 === 3);
    for (const n of removed) fs.rmSync(path.join(own, n));
    // New files between recorded ones, a new directory between recorded ones, and one before them all.
    const added = ['d1/f100a.txt', 'd1/f101.txt.new', 'd0x/g.txt', 'd0x/h.txt', '0.txt', 'd2/zzz.txt'];
    for (const n of added) {
      fs.mkdirSync(path.join(own, path.dirname(n)), { recursive: true });
      fs.writeFileSync(path.join(own, n), `new ${n}\n`);
    }
    for (const threads of [0, 3]) {
      const { hashes, reused } = await hashesWith(cacheOf(cache), threads, own);
      expect(reused).toBe(names.length - removed.length);
      for (const n of names) expect(hashes.get(n)).toBe(removed.includes(n) ? undefined : FAKE);
      for (const n of added) expect([n, hashes.get(n)]).not.toEqual([n, FAKE]);
      expect(hashes.size).toBe(names.length - removed.length + added.length);
    }
  });

  it('a file replaced by another of the same size and times (another inode) is read', async () => {
    const file = path.join(ctx, 'd0', 'f0.txt');
    const st = fs.statSync(file);
    const copy = path.join(tmp, 'f0.copy');
    fs.writeFileSync(copy, 'CONTENT 0\n');
    fs.renameSync(copy, file);
    fs.utimesSync(file, st.atime, st.mtime);
    const { hashes } = await hashesWith(cacheOf(tampered));
    expect(hashes.get('d0/f0.txt')).not.toBe(FAKE);
  });

  it('diff SNAPSHOT DIR uses it; --no-cache reads every file', () => {
    // The tampered snapshot's hashes are re-used: no content change is seen for the unchanged files.
    const cached = JSON.parse(cli('diff', tampered, ctx, '--json').stdout) as { summary: { changedPaths: number } };
    const all = JSON.parse(cli('diff', tampered, ctx, '--json', '--no-cache').stdout) as typeof cached;
    expect(all.summary.changedPaths).toBeGreaterThanOrEqual(FILES + 1);
    expect(cached.summary.changedPaths).toBeLessThan(5);
    // Either side: the snapshot lends its hashes to the directory whichever comes first.
    const reversed = JSON.parse(cli('diff', ctx, tampered, '--json').stdout) as typeof cached;
    expect(reversed.summary.changedPaths).toBe(cached.summary.changedPaths);
  });

  it('a pending cache (a snapshot still being decoded) serves the walk once its entries come', async () => {
    for (const threads of [0, 3]) {
      let settle!: (e: EntryColumns) => void;
      const cache = cacheOf(tampered);
      const entries = new Promise<EntryColumns>((resolve) => (settle = resolve));
      const walk = walkContextColumns(ctx, { cache: { stat: cache.stat, entries }, threads });
      // The walk reads every directory before it needs the entries.
      setTimeout(() => settle(cache), 200);
      const { entries: walked, reused } = await walk;
      // What the same cache given whole lends (the files earlier tests rewrote are read either way).
      const whole = await hashesWith(cacheOf(tampered), threads);
      expect(reused).toBe(whole.reused);
      expect(reused).toBeGreaterThan(FILES - 5);
      expect(new Map(entriesOf(walked).filter((e) => e.hash).map((e) => [e.path, e.hash!]))).toEqual(whole.hashes);
    }
    // Entries that turn out to record no file identities lend nothing: every file is read.
    const objects = path.join(tmp, 'pending-objects.ctxsnap');
    await writeSnapshot(objects, await walkContext(ctx));
    const stat = cacheOf(tampered).stat;
    const r = await walkContextColumns(ctx, { cache: { stat, entries: Promise.resolve(cacheOf(objects)) } });
    expect(r.reused).toBe(0);
    expect(entriesOf(r.entries).filter((e) => e.hash === FAKE)).toEqual([]);
    // Entries that cannot be decoded fail the walk with that error.
    const failing = Promise.reject(new Error('corrupt snapshot (test)'));
    failing.catch(() => {});
    await expect(walkContextColumns(ctx, { cache: { stat, entries: failing } })).rejects.toThrow('corrupt snapshot (test)');
  });

  it('diff SNAPSHOT DIR with a snapshot whose header is sound and whose entries are not: one line, exit 2', () => {
    // One hash fewer declared than the raw section holds: the frame and the header pass, the decoding fails.
    const bad = path.join(tmp, 'bad-body.ctxsnap');
    fs.writeFileSync(bad, rewriteSnapshot(fs.readFileSync(tampered), (h) => (h.hashes = (h.hashes as number) - 1)));
    for (const args of [[bad, ctx], [ctx, bad]]) {
      const r = cli('diff', ...args);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^ctxdiff: .*bad-body\.ctxsnap: corrupt snapshot/)]);
    }
    const out = path.join(tmp, 'never.ctxsnap');
    const r = cli('snapshot', ctx, '-o', out, '--since', bad);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/corrupt snapshot/)]);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('snapshot --since PREV re-uses PREV\'s hashes; with --no-cache it reads every file', () => {
    const out = path.join(tmp, 'since.ctxsnap');
    expect(cli('snapshot', ctx, '-o', out, '--since', tampered).status).toBe(0);
    const reused = entriesOf(cacheOf(out)).filter((e) => e.hash === FAKE).length;
    expect(reused).toBeGreaterThan(FILES - 5);
    expect(cli('snapshot', ctx, '-o', out, '--since', tampered, '--no-cache').status).toBe(0);
    expect(entriesOf(cacheOf(out)).filter((e) => e.hash === FAKE).length).toBe(0);
  });
});
