import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { asVersion1, frame, rewriteSnapshot, unframe } from './support/snapshot-bytes.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IoError, SnapshotFormatError } from '../src/core/errors.js';
import {
  decodeSnapshot,
  decodeSnapshotColumns,
  encodeSnapshot,
  isSnapshotFile,
  readSnapshot,
  SNAPSHOT_SCHEMA_VERSION,
  writeSnapshot,
} from '../src/snapshot/format.js';
import { comparePaths, type Context, type Entry } from '../src/core/types.js';

const repoRoot = path.resolve(import.meta.dirname, '..');
const packageVersion = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).version as string;

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ctxdiff-snapshot-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function entry(p: string, attrs: Partial<Entry> = {}): Entry {
  return { path: p, type: 'file', mode: 0o644, uid: 1000, gid: 1000, size: 0, mtimeSec: 1700000000, mtimeNsec: 0, ...attrs };
}

function sorted(entries: Entry[]): Entry[] {
  return [...entries].sort((a, b) => comparePaths(a.path, b.path));
}

/** A context exercising every attribute and the edges of each encoding. */
function richContext(): Context {
  const GiB = 1024 ** 3;
  return {
    name: '/work/app',
    builder: 'buildah',
    ignore: { file: '.dockerignore', text: '# comment\nnode_modules\n!node_modules/keep\n' },
    dockerfiles: { Dockerfile: 'FROM scratch\nCOPY . /\n', 'docker/Dockerfile.dev': 'FROM scratch\n' },
    dockerfile: 'docker/Dockerfile.dev',
    root: { mode: 0o1777, uid: 0, gid: 0, mtimeSec: -1, mtimeNsec: 999_999_999 },
    entries: sorted([
      entry('.dockerignore', { size: 44, hash: '0000000000000000' }),
      entry('a', { type: 'dir', mode: 0o2755, mtimeSec: 0, mtimeNsec: 0 }),
      entry('a/big.iso', { size: 5 * GiB + 1, hash: 'ffffffffffffffff', mtimeNsec: 1 }),
      entry('a/huge', { size: Number.MAX_SAFE_INTEGER, hash: '0123456789abcdef' }),
      entry('a/setuid', { mode: 0o4755, size: 1, hash: 'fedcba9876543210', mtimeSec: -86400 * 365 * 70, mtimeNsec: 5 }),
      entry('a/sticky', { type: 'dir', mode: 0o1777, uid: 0xffffffff, gid: 0xfffffffe }),
      entry('a/x-link', { type: 'symlink', mode: 0o777, target: '../café/日本語 file' }),
      entry('a/empty-link-target', { type: 'symlink', mode: 0o777, target: '' }),
      entry('a-b', { mtimeSec: 2 ** 40, mtimeNsec: 123_456_789, hash: '00000000000000aa' }),
      entry('café', { type: 'dir', mode: 0o700 }),
      entry('café/crème brûlée.txt', { size: 3, hash: '1111111111111111' }),
      entry('café/crèpe.txt', { size: 3, hash: '2222222222222222' }),
      entry('dev', { type: 'dir', mode: 0o755 }),
      entry('dev/fifo', { type: 'fifo', mode: 0o600 }),
      entry('dev/null', { type: 'char', mode: 0o666, devMajor: 1, devMinor: 3 }),
      entry('dev/sda', { type: 'block', mode: 0o660, devMajor: 0xffffffff, devMinor: 0 }),
      entry('dev/sock', { type: 'socket', mode: 0o755 }),
      entry('emoji', { type: 'dir', mode: 0o755 }),
      // Same high surrogate, different low surrogate: the front coding must not split the pair.
      entry('emoji/😀', { size: 1, hash: '3333333333333333' }),
      entry('emoji/😁', { size: 1, hash: '4444444444444444' }),
      entry('emoji/😁/x', { type: 'fifo', mode: 0 }),
      entry('日本語', { type: 'dir', mode: 0o755, mtimeSec: Number.MIN_SAFE_INTEGER }),
      entry('日本語/ファイル', { size: 7, hash: 'abcdefabcdefabcd', mtimeSec: Number.MAX_SAFE_INTEGER }),
      entry('日本語/ファイル名', { size: 8, hash: 'abcdefabcdef0000', mode: 0o7777 }),
      // A file without a hash (e.g. unreadable) stays without one.
      entry('z-unhashed', { size: 10 }),
    ]),
  };
}

function expectFormatError(fn: () => unknown, file: string, pattern?: RegExp): SnapshotFormatError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(SnapshotFormatError);
  const err = caught as SnapshotFormatError;
  expect(err.message.startsWith(`${file}: `)).toBe(true);
  expect(err.message).not.toContain('\n');
  if (pattern) expect(err.message).toMatch(pattern);
  return err;
}

describe('format version 1', () => {
  it('still loads, with every attribute, and lends no hash to the stat cache', () => {
    const ctx = richContext();
    const v1 = asVersion1(encodeSnapshot(ctx));
    expect(v1.readUInt32LE(8)).toBe(1);
    expect(decodeSnapshot(v1, 'old.ctxsnap').context).toStrictEqual(ctx);
    expect(decodeSnapshot(v1, 'old.ctxsnap').meta.schemaVersion).toBe(1);
    const { entries } = decodeSnapshotColumns(v1, 'old.ctxsnap');
    expect(entries.stat).toBeUndefined();
    expect(entries.dev).toBeUndefined();
  });

  it('refuses the stat-cache flag and header, which only version 2 has', () => {
    const v1 = asVersion1(encodeSnapshot(richContext()));
    const withStat = rewriteSnapshot(v1, (h) => (h.stat = { machine: 'm', startedAtNs: '1' }));
    expectFormatError(() => decodeSnapshot(withStat, 's.ctxsnap'), 's.ctxsnap', /metadata header is malformed/);
  });
});

describe('encode/decode round trip', () => {
  it('keeps every attribute exactly', () => {
    const ctx = richContext();
    const { context, meta } = decodeSnapshot(encodeSnapshot(ctx), 'rich.ctxsnap');
    expect(context).toStrictEqual(ctx);
    expect(Object.is(context.entries.find((e) => e.path === 'a')!.mtimeSec, 0)).toBe(true);
    expect(meta.schemaVersion).toBe(SNAPSHOT_SCHEMA_VERSION);
  });

  it('keeps paths that take several parts of the paths column (over 4 MiB), ASCII or not, on this thread or the pool', async () => {
    for (const late of ['', 'é']) {
      const n = 70_000;
      const entries: Entry[] = [];
      for (let i = 0; i < n; i++) {
        // Long shared prefixes across the parts' seams, and a name that is not ASCII last of all.
        const name = `dir-${String(Math.floor(i / 7)).padStart(6, '0')}/${'x'.repeat(60 + (i % 13))}${i}${i === n - 1 ? late : ''}`;
        entries.push({ path: name, type: 'file', mode: 0o644, uid: 0, gid: 0, size: i, mtimeSec: i, mtimeNsec: 0, hash: (BigInt(i) * 2654435761n).toString(16).padStart(16, '0').slice(-16) });
      }
      entries.sort((a, b) => comparePaths(a.path, b.path));
      const ctx: Context = { name: 'long', builder: 'buildkit', ignore: null, dockerfiles: {}, entries };
      expect(entries.reduce((s, e) => s + e.path.length, 0)).toBeGreaterThan(5 << 20);
      const bytes = encodeSnapshot(ctx, { createdAt: '2026-01-01T00:00:00.000Z' });
      expect(decodeSnapshot(bytes, 'long.ctxsnap').context).toStrictEqual(ctx);
      const file = path.join(dir, `long${late ? '-utf8' : ''}.ctxsnap`);
      await writeSnapshot(file, ctx, { createdAt: '2026-01-01T00:00:00.000Z' });
      expect(fs.readFileSync(file).equals(bytes), late || 'ascii').toBe(true);
    }
  });

  it('keeps extended attributes, binary values included', () => {
    const ctx: Context = {
      name: 'x', builder: 'buildah', ignore: null, dockerfiles: {},
      entries: [
        { path: 'a', type: 'file', mode: 0o644, uid: 0, gid: 0, size: 1, mtimeSec: 1, mtimeNsec: 2, hash: '0123456789abcdef',
          xattrs: { 'user.empty': '', 'user.note': Buffer.from('héllo').toString('base64') } },
        { path: 'b', type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0, mtimeSec: 1, mtimeNsec: 0,
          xattrs: { 'security.capability': Buffer.from([0, 1, 255, 0x80]).toString('base64') } },
        { path: 'c', type: 'symlink', mode: 0o777, uid: 0, gid: 0, size: 0, mtimeSec: 1, mtimeNsec: 0, target: 'a' },
      ],
    };
    expect(decodeSnapshot(encodeSnapshot(ctx), 'x.ctxsnap').context).toStrictEqual(ctx);
  });

  it('keeps an empty context and absent optional fields absent', () => {
    const ctx: Context = { name: 'empty', builder: 'buildkit', ignore: null, dockerfiles: {}, entries: [] };
    const { context } = decodeSnapshot(encodeSnapshot(ctx), 'empty.ctxsnap');
    expect(context).toStrictEqual(ctx);
    expect('root' in context).toBe(false);
    expect('dockerfile' in context).toBe(false);
  });

  it('keeps entries in the order given, even when not canonical', () => {
    const entries = [entry('b/x'), entry('a'), entry('b'), entry('b/x')];
    const ctx: Context = { name: 'n', builder: 'classic', ignore: null, dockerfiles: {}, entries };
    expect(decodeSnapshot(encodeSnapshot(ctx), 'f').context.entries).toStrictEqual(entries);
  });

  it('round-trips a large generated context', () => {
    const entries: Entry[] = [];
    for (let i = 0; i < 50_000; i++) {
      const p = `pkg${i % 97}/sub-${i % 13}/ファイル-${i}${i % 5 === 0 ? 'é' : ''}.js`;
      entries.push(
        entry(p, {
          size: i * 7919,
          mtimeSec: 1_600_000_000 + (i % 1000) - 500,
          mtimeNsec: (i * 104_729) % 1_000_000_000,
          hash: (BigInt(i) * 0x9e3779b97f4a7c15n & 0xffffffffffffffffn).toString(16).padStart(16, '0'),
          uid: i % 3,
        }),
      );
    }
    const ctx: Context = { name: 'gen', builder: 'buildkit', ignore: null, dockerfiles: {}, entries: sorted(entries) };
    const bytes = encodeSnapshot(ctx);
    expect(decodeSnapshot(bytes, 'gen.ctxsnap').context).toStrictEqual(ctx);
    // A megabyte of columns or more is compressed in pieces at once; joined, they are one DEFLATE stream that any
    // inflater reads whole, with no byte left over.
    const { unpacked } = unframe(bytes);
    expect(unpacked.length).toBeGreaterThan(1 << 20); // two pieces at least
    const packed = bytes.subarray(52, 52 + Number(bytes.readBigUInt64LE(16)));
    const inflater = zlib.inflateRawSync(packed, { info: true }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
    expect(inflater.buffer.equals(unpacked)).toBe(true);
    expect(inflater.engine.bytesWritten).toBe(packed.length);
  });

  it('records the package version and the creation time by default, or the given ones', () => {
    const before = Date.now();
    const { meta } = decodeSnapshot(encodeSnapshot(richContext()), 'f');
    expect(meta.toolVersion).toBe(packageVersion);
    expect(meta.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Date.parse(meta.createdAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(meta.createdAt)).toBeLessThanOrEqual(Date.now());

    const given = { toolVersion: '9.9.9', createdAt: '2020-02-02T02:02:02.000Z' };
    expect(decodeSnapshot(encodeSnapshot(richContext(), given), 'f').meta).toStrictEqual({
      schemaVersion: SNAPSHOT_SCHEMA_VERSION,
      ...given,
    });
  });

  it('follows the documented layout', () => {
    const ctx = richContext();
    const buf = encodeSnapshot(ctx, { toolVersion: '1.2.3', createdAt: '2021-01-01T00:00:00.000Z' });
    expect(buf.subarray(0, 8)).toStrictEqual(Buffer.from([0x89, 0x43, 0x54, 0x58, 0x53, 0x4e, 0x41, 0x50]));
    expect(buf.readUInt32LE(8)).toBe(2);
    const { unpacked, raw, header } = unframe(buf);
    const hashed = ctx.entries.filter((e) => e.hash !== undefined);
    expect(header.entries).toBe(ctx.entries.length);
    expect(header.hashes).toBe(hashed.length);
    expect(header.toolVersion).toBe('1.2.3');
    expect(raw.toString('hex')).toBe(hashed.map((e) => e.hash).join(''));
    const columns = header.columns as Record<string, number>;
    const jsonLength = unpacked.readUInt32LE(0);
    expect(4 + jsonLength + Object.values(columns).reduce((a, b) => a + b, 0)).toBe(unpacked.length);
    // The first column holds the type codes.
    const types = [...unpacked.subarray(4 + jsonLength, 4 + jsonLength + ctx.entries.length)];
    const codes = ['file', 'dir', 'symlink', 'fifo', 'socket', 'char', 'block'];
    expect(types.map((t) => codes[t])).toStrictEqual(ctx.entries.map((e) => e.type));
  });

  it('compresses: a repetitive context is much smaller than its entry count times 16 bytes', () => {
    const entries = Array.from({ length: 20_000 }, (_, i) => entry(`dir/file-${String(i).padStart(6, '0')}`));
    const buf = encodeSnapshot({ name: 'n', builder: 'buildkit', ignore: null, dockerfiles: {}, entries });
    expect(buf.length).toBeLessThan(entries.length * 4);
  });
});

describe('encoding refuses what it cannot store exactly', () => {
  const base = (e: Entry): Context => ({ name: 'n', builder: 'buildkit', ignore: null, dockerfiles: {}, entries: [e] });
  it.each<[string, Partial<Entry>]>([
    ['uppercase hash', { hash: '0123456789ABCDEF' }],
    ['short hash', { hash: '0123' }],
    ['negative uid', { uid: -1 }],
    ['uid beyond 32 bits', { uid: 2 ** 32 }],
    ['fractional size', { size: 1.5 }],
    ['negative size', { size: -1 }],
    ['fractional mtime', { mtimeSec: 1.5 }],
    ['mode beyond 16 bits', { mode: 0x10000 }],
    ['nanoseconds beyond 32 bits', { mtimeNsec: 2 ** 32 }],
    ['lone surrogate in a path', { path: 'a\ud800b' }],
    ['lone surrogate in a target', { type: 'symlink', target: '\udc00' }],
  ])('%s', (_name, attrs) => {
    expect(() => encodeSnapshot(base(entry('p', attrs)))).toThrow(RangeError);
  });
});

describe('decoding rejects damaged files with a one-line SnapshotFormatError', () => {
  const good = encodeSnapshot(richContext());

  it('an empty file', () => {
    expectFormatError(() => decodeSnapshot(Buffer.alloc(0), 'e.ctxsnap'), 'e.ctxsnap', /empty/);
  });

  it('a file that is not a snapshot', () => {
    expectFormatError(() => decodeSnapshot(Buffer.from('{"entries":[]}'), 'x.json'), 'x.json', /not a ctxdiff snapshot/);
    expectFormatError(() => decodeSnapshot(zlib.gzipSync(good), 'x.gz'), 'x.gz', /not a ctxdiff snapshot/);
  });

  it('a newer format version', () => {
    const future = Buffer.from(good);
    future.writeUInt32LE(SNAPSHOT_SCHEMA_VERSION + 1, 8);
    expectFormatError(() => decodeSnapshot(future, 'f.ctxsnap'), 'f.ctxsnap', /version 3 is newer.*upgrade/);
    // Even when everything after the version is different (the layout may change with the version).
    const other = Buffer.concat([good.subarray(0, 8), Buffer.from([3, 0, 0, 0]), Buffer.from('whatever')]);
    expectFormatError(() => decodeSnapshot(other, 'f.ctxsnap'), 'f.ctxsnap', /newer/);
  });

  it('a truncated file, cut at any offset', () => {
    for (let n = 1; n < good.length; n++) {
      expectFormatError(() => decodeSnapshot(good.subarray(0, n), 't.ctxsnap'), 't.ctxsnap', /truncated/);
    }
  });

  it('bytes appended after the end', () => {
    expectFormatError(() => decodeSnapshot(Buffer.concat([good, Buffer.from([0])]), 'a'), 'a', /unexpected bytes/);
  });

  it('any single flipped byte', () => {
    for (let i = 0; i < good.length; i++) {
      const bad = Buffer.from(good);
      bad[i] ^= 0x5a;
      expectFormatError(() => decodeSnapshot(bad, 'c.ctxsnap'), 'c.ctxsnap');
    }
  });

  it('well-checksummed but inconsistent contents', () => {
    const { unpacked, raw, header } = unframe(good);
    const jsonLength = unpacked.readUInt32LE(0);
    const columns = unpacked.subarray(4 + jsonLength);
    const withHeader = (h: unknown, cols: Buffer = columns, r: Buffer = raw): Buffer => {
      const json = Buffer.from(JSON.stringify(h));
      const lead = Buffer.alloc(4);
      lead.writeUInt32LE(json.length);
      return frame(Buffer.concat([lead, json, cols]), r);
    };
    const cases: [string, Buffer][] = [
      ['garbage section', frame(Buffer.from('garbage that is not a snapshot'))],
      ['empty section', frame(Buffer.alloc(0))],
      ['not JSON', frame(Buffer.concat([Buffer.from([3, 0, 0, 0]), Buffer.from('{{{')]))],
      ['header overrun', frame(Buffer.from([0xff, 0xff, 0, 0, 0x7b]))],
      ['missing context', withHeader({ ...header, context: undefined })],
      ['entry count off by one', withHeader({ ...header, entries: (header.entries as number) + 1 })],
      ['hash count off by one', withHeader({ ...header, hashes: (header.hashes as number) - 1 })],
      ['hash bytes missing', withHeader(header, columns, raw.subarray(8))],
      ['column lengths swapped', withHeader({ ...header, columns: { ...(header.columns as object), uid: 0, gid: 2 * (header.columns as { gid: number }).gid } })],
      ['unknown type code', withHeader(header, Buffer.concat([Buffer.from([99]), columns.subarray(1)]))],
      ['truncated columns', withHeader(header, columns.subarray(0, columns.length - 1))],
      ['bad dockerfiles', withHeader({ ...header, context: { ...(header.context as object), dockerfiles: { a: 1 } } })],
    ];
    for (const [name, buf] of cases) {
      const err = expectFormatError(() => decodeSnapshot(buf, name), name, /corrupt/);
      expect(err.cause === undefined || !(err.cause instanceof SnapshotFormatError)).toBe(true);
    }
    // Columns changed within their bounds, each section still adding up (the header lists them in order).
    const lengths = header.columns as Record<string, number>;
    const span = (name: string): [number, number] => {
      let off = 0;
      for (const [c, len] of Object.entries(lengths)) {
        if (c === name) return [off, off + len];
        off += len;
      }
      throw new Error(`no column ${name}`);
    };
    const withColumn = (name: string, bytes: Buffer): Buffer => {
      const [s, e] = span(name);
      return withHeader({ ...header, columns: { ...lengths, [name]: bytes.length } }, Buffer.concat([columns.subarray(0, s), bytes, columns.subarray(e)]));
    };
    const [uidStart, uidEnd] = span('uid');
    const firstUid = columns.subarray(uidStart, uidEnd).findIndex((byte) => byte < 0x80) + 1;
    const [sizeStart, sizeEnd] = span('size');
    const sizes = Buffer.from(columns.subarray(sizeStart, sizeEnd));
    sizes[sizes.length - 1]! |= 0x80;
    const precise: [string, Buffer, RegExp][] = [
      // 2^32 as the first entry's uid (five bytes of LEB128).
      ['owner beyond 32 bits', withColumn('uid', Buffer.concat([Buffer.from([0x80, 0x80, 0x80, 0x80, 0x10]), columns.subarray(uidStart + firstUid, uidEnd)])), /owner beyond 32 bits/],
      // The last size goes on past its column, into the next one.
      ['size past its column', withColumn('size', sizes), /malformed number/],
      // The same bytes, the paths column's last one counted in the next column.
      ['path past its column', withHeader({ ...header, columns: { ...lengths, paths: lengths.paths! - 1, targets: lengths.targets! + 1 } }), /path out of bounds/],
    ];
    for (const [name, buf, reason] of precise) expectFormatError(() => decodeSnapshot(buf, name), name, reason);
    // The hand-made frame itself is accepted when its contents are intact.
    expect(decodeSnapshot(withHeader(header), 'ok').context).toStrictEqual(richContext());
  });
});

describe('files', () => {
  it('writes, sniffs and reads back a snapshot', async () => {
    const file = path.join(dir, 'build.ctxsnap');
    const meta = await writeSnapshot(file, richContext());
    expect(meta.toolVersion).toBe(packageVersion);
    expect(isSnapshotFile(file)).toBe(true);
    const back = await readSnapshot(file);
    expect(back.context).toStrictEqual(richContext());
    expect(back.meta).toStrictEqual(meta);
    expect(fs.readdirSync(dir)).toStrictEqual(['build.ctxsnap']);
    // The bytes are the documented format: the synchronous decoder reads them too.
    expect(decodeSnapshot(fs.readFileSync(file), file).context).toStrictEqual(richContext());
  });

  it('writes the bytes encodeSnapshot makes, for a context large enough to be compressed in pieces', async () => {
    const entries: Entry[] = [];
    for (let i = 0; i < 60_000; i++) entries.push(entry(`dir-${i % 211}/file-${i}.txt`, { size: i, mtimeNsec: (i * 7_654_321) % 1e9 }));
    const ctx: Context = { name: 'big', builder: 'buildkit', ignore: null, dockerfiles: {}, entries: sorted(entries) };
    const file = path.join(dir, 'big.ctxsnap');
    const meta = await writeSnapshot(file, ctx, { createdAt: '2026-01-02T03:04:05.000Z' });
    expect(fs.readFileSync(file).equals(encodeSnapshot(ctx, meta))).toBe(true);
    expect((await readSnapshot(file)).context).toStrictEqual(ctx);
  });

  it('replaces an existing snapshot', async () => {
    const file = path.join(dir, 's.ctxsnap');
    await writeSnapshot(file, { name: 'old', builder: 'buildkit', ignore: null, dockerfiles: {}, entries: [] });
    await writeSnapshot(file, richContext());
    expect((await readSnapshot(file)).context.name).toBe('/work/app');
    expect(fs.readdirSync(dir)).toStrictEqual(['s.ctxsnap']);
  });

  it('does not touch an existing snapshot when encoding fails', async () => {
    const file = path.join(dir, 's.ctxsnap');
    await writeSnapshot(file, richContext());
    const before = fs.readFileSync(file);
    const bad = richContext();
    bad.entries.push(entry('zz', { uid: -5 }));
    await expect(writeSnapshot(file, bad)).rejects.toThrow(RangeError);
    expect(fs.readFileSync(file)).toStrictEqual(before);
    expect(fs.readdirSync(dir)).toStrictEqual(['s.ctxsnap']);
  });

  it('removes its temporary file when the final rename fails', async () => {
    const target = path.join(dir, 'occupied');
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, 'keep'), 'x');
    await expect(writeSnapshot(target, richContext())).rejects.toThrow(IoError);
    expect(fs.readdirSync(dir)).toStrictEqual(['occupied']);
    expect(fs.readdirSync(target)).toStrictEqual(['keep']);
  });

  it('reports an unwritable location as IoError', async () => {
    const file = path.join(dir, 'missing-dir', 's.ctxsnap');
    const err = await writeSnapshot(file, richContext()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IoError);
    expect((err as IoError).message).toBe(`${file}: no such file or directory`);
  });

  it('reports unreadable and invalid files', async () => {
    const missing = path.join(dir, 'nope.ctxsnap');
    await expect(readSnapshot(missing)).rejects.toThrow(IoError);
    await expect(readSnapshot(dir)).rejects.toThrow(IoError);

    const empty = path.join(dir, 'empty.ctxsnap');
    fs.writeFileSync(empty, '');
    await expect(readSnapshot(empty)).rejects.toThrow(new SnapshotFormatError(empty, 'empty file, not a ctxdiff snapshot'));

    const truncated = path.join(dir, 'truncated.ctxsnap');
    const good = encodeSnapshot(richContext());
    fs.writeFileSync(truncated, good.subarray(0, good.length - 10));
    await expect(readSnapshot(truncated)).rejects.toThrow(SnapshotFormatError);

    const flipped = Buffer.from(good);
    flipped[good.length - 1] ^= 1;
    fs.writeFileSync(truncated, flipped);
    await expect(readSnapshot(truncated)).rejects.toThrow(/checksum/);
  });

  it('sniffs only real snapshots', () => {
    const text = path.join(dir, 'Dockerfile');
    fs.writeFileSync(text, 'FROM scratch\n');
    const empty = path.join(dir, 'empty');
    fs.writeFileSync(empty, '');
    const prefix = path.join(dir, 'prefix');
    fs.writeFileSync(prefix, encodeSnapshot(richContext()).subarray(0, 5));
    expect(isSnapshotFile(text)).toBe(false);
    expect(isSnapshotFile(empty)).toBe(false);
    expect(isSnapshotFile(prefix)).toBe(false);
    expect(isSnapshotFile(dir)).toBe(false);
    expect(isSnapshotFile(path.join(dir, 'missing'))).toBe(false);
  });
});
