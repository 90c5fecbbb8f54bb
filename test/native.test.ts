/**
 * The native helpers (src/native/fsnative.c through src/context/native.ts) against Node's own fs and
 * @napi-rs/xattr on real files: every field of lstat and fstat, errors as Node throws them, extended
 * attributes by path and by descriptor (also past the first buffer's size), and a whole snapshot taken with
 * and without them. The suite also runs the walk's tests without them (vitest.config.ts, without-native).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADDON_URL, S_CNSEC, S_CSEC, S_DEV, S_FIELDS, S_GID, S_INO, S_MNSEC, S_MODE, S_MSEC, S_RMAJOR, S_RMINOR, S_SIZE, S_UID, fstatRaw, lstatRaw, nativeFs, nativeSupport, rawFromStats } from '../src/context/native.js';
import { readXattrs } from '../src/context/xattrs.js';

const xattr = createRequire(import.meta.url)('@napi-rs/xattr') as typeof import('@napi-rs/xattr');
const native = nativeFs();
const REPO = path.resolve(import.meta.dirname, '..');

describe('native helpers', () => {
  it('are built and used on Linux under CI (npm ci builds them), else say why not', () => {
    if (process.env.CI === 'true' && process.platform === 'linux') expect(nativeSupport()).toBeNull();
    if (!native) console.warn(`[native] ${nativeSupport()}: the native cases below are skipped`);
    expect(native === null).toBe(nativeSupport() !== null);
  });
});

describe.skipIf(native === null)('the built addon', () => {
  const objdump = spawnSync('objdump', ['--version']).status === 0;
  it.skipIf(!objdump)('asks the C library for nothing newer than Node 20 does (glibc 2.28: stat by statx system call)', () => {
    const symbols = execFileSync('objdump', ['-T', fileURLToPath(ADDON_URL)], { encoding: 'utf8' });
    const versions = [...symbols.matchAll(/GLIBC_(\d+)\.(\d+)/g)].map((m) => [Number(m[1]), Number(m[2])] as const);
    expect(versions.length).toBeGreaterThan(0);
    expect(versions.filter(([a, b]) => a > 2 || (a === 2 && b > 28))).toEqual([]);
  });
});

describe.skipIf(native === null)('native lstat, fstat and extended attributes', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ctxdiff-native-'));
    fs.writeFileSync(path.join(dir, 'file'), 'hello\n', { mode: 0o640 });
    fs.mkdirSync(path.join(dir, 'sub'), { mode: 0o711 });
    fs.symlinkSync('file', path.join(dir, 'link'));
    execFileSync('mkfifo', [path.join(dir, 'fifo')]);
    fs.writeFileSync(Buffer.from(`${dir}/n\xe9`, 'latin1'), 'latin-1 name');
    // Times with nanoseconds that milliseconds cannot hold.
    fs.utimesSync(path.join(dir, 'file'), 1_600_000_000.123456, 1_500_000_000.987654);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const fromNode = (st: fs.BigIntStats) => {
    const out = new Float64Array(S_FIELDS);
    rawFromStats(st, out);
    return Array.from(out);
  };

  it('lstat writes what Node’s lstat (bigint) gives, for every type, a non-UTF-8 name and a device', () => {
    const paths: (string | Buffer)[] = ['file', 'sub', 'link', 'fifo', '.'].map((n) => path.join(dir, n));
    paths.push(Buffer.from(`${dir}/n\xe9`, 'latin1'), '/dev/null');
    for (const p of paths) {
      const out = new Float64Array(S_FIELDS);
      expect(native!.lstat(p, out)).toBe(0);
      expect(Array.from(out), String(p)).toEqual(fromNode(fs.lstatSync(p, { bigint: true })));
    }
    const st = fs.lstatSync('/dev/null', { bigint: true });
    const out = new Float64Array(S_FIELDS);
    lstatRaw('/dev/null', out);
    expect([out[S_RMAJOR], out[S_RMINOR]]).toEqual([1, 3]); // /dev/null is 1:3 on Linux
    expect(BigInt(out[S_RMAJOR]! * 256 + out[S_RMINOR]!)).toBe(st.rdev);
    const file = new Float64Array(S_FIELDS);
    lstatRaw(path.join(dir, 'file'), file);
    const f = fs.lstatSync(path.join(dir, 'file'), { bigint: true });
    expect(BigInt(file[S_MSEC]!) * 1_000_000_000n + BigInt(file[S_MNSEC]!)).toBe(f.mtimeNs);
    expect(BigInt(file[S_CSEC]!) * 1_000_000_000n + BigInt(file[S_CNSEC]!)).toBe(f.ctimeNs);
    expect(file[S_MNSEC]! % 1_000_000).not.toBe(0);
    expect([file[S_MODE]! & 0o7777, file[S_UID], file[S_GID], file[S_SIZE], file[S_INO], file[S_DEV]]).toEqual([
      0o640 & ~process.umask(), Number(f.uid), Number(f.gid), 6, Number(f.ino), Number(f.dev),
    ]);
  });

  it('lstatat of a name in a directory’s descriptor equals lstat of its path; errors as lstat’s', () => {
    const dfd = native!.dirfd(dir);
    expect(dfd).toBeGreaterThanOrEqual(0);
    try {
      for (const name of ['file', 'sub', 'link', 'fifo']) {
        const a = new Float64Array(S_FIELDS);
        expect(native!.lstatat(dfd, name, a)).toBe(0);
        expect(Array.from(a), name).toEqual(fromNode(fs.lstatSync(path.join(dir, name), { bigint: true })));
      }
      expect(native!.lstatat(dfd, 'missing', new Float64Array(S_FIELDS))).toBe(-2); // ENOENT
    } finally {
      expect(native!.closefd(dfd)).toBe(0);
    }
    expect(native!.closefd(dfd)).toBe(-9); // EBADF: closed
    expect(native!.dirfd(path.join(dir, 'file'))).toBe(-20); // ENOTDIR
    expect(native!.dirfd(path.join(dir, 'missing'))).toBe(-2);
  });

  it('takes paths longer than its stack buffer (1 KiB), and says ENAMETOOLONG as Node does', () => {
    let deep = dir;
    for (let i = 0; i < 12; i++) deep = path.join(deep, `${'d'.repeat(120)}${i}`);
    fs.mkdirSync(deep, { recursive: true });
    const file = path.join(deep, 'f');
    fs.writeFileSync(file, 'deep');
    expect(file.length).toBeGreaterThan(1400);
    const out = new Float64Array(S_FIELDS);
    expect(native!.lstat(file, out)).toBe(0);
    expect(Array.from(out)).toEqual(fromNode(fs.lstatSync(file, { bigint: true })));
    expect(native!.lstat(Buffer.from(file), out)).toBe(0);
    expect(native!.llistxattr(file)).toEqual([]);
    const long = path.join(dir, 'n'.repeat(300));
    expect(native!.lstat(long, out)).toBe(-36); // ENAMETOOLONG
    expect(() => lstatRaw(long, out)).toThrow(expect.objectContaining({ code: 'ENAMETOOLONG' }));
    expect(() => fs.lstatSync(long)).toThrow(expect.objectContaining({ code: 'ENAMETOOLONG' }));
  });

  it('fstat of an open descriptor equals lstat of its path', () => {
    const p = path.join(dir, 'file');
    const fd = fs.openSync(p, 'r');
    try {
      const a = new Float64Array(S_FIELDS);
      const b = new Float64Array(S_FIELDS);
      fstatRaw(fd, a, p);
      lstatRaw(p, b);
      expect(Array.from(a)).toEqual(Array.from(b));
      expect(Array.from(a)).toEqual(fromNode(fs.fstatSync(fd, { bigint: true })));
    } finally {
      fs.closeSync(fd);
    }
  });

  it('throws the error Node throws, code, errno, syscall, path and message', () => {
    const missing = path.join(dir, 'missing');
    const ours = (() => {
      try {
        lstatRaw(missing, new Float64Array(S_FIELDS));
      } catch (e) {
        return e as NodeJS.ErrnoException;
      }
    })();
    const node = (() => {
      try {
        fs.lstatSync(missing);
      } catch (e) {
        return e as NodeJS.ErrnoException;
      }
    })();
    expect(ours && node).toBeTruthy();
    expect([ours!.message, ours!.code, ours!.errno, ours!.syscall, ours!.path]).toEqual([node!.message, node!.code, node!.errno, node!.syscall, node!.path]);
    expect(native!.lstat(path.join(dir, 'file', 'below'), new Float64Array(S_FIELDS))).toBe(-20); // ENOTDIR
    expect(() => native!.lstat('a\0b', new Float64Array(S_FIELDS))).toThrow(TypeError);
    expect(() => native!.lstat(path.join(dir, 'file'), new Float64Array(3))).toThrow(TypeError);
    expect(native!.fstat(-1, new Float64Array(S_FIELDS))).toBe(-9); // EBADF
  });

  const expectedOf = (p: string) => {
    const expected: Record<string, string> = {};
    for (const n of xattr.listAttributesSync(p).sort()) expected[n] = (xattr.getAttributeSync(p, n) ?? Buffer.alloc(0)).toString('base64');
    return expected;
  };
  const sameByPathAndFd = (p: string, expected: Record<string, string>) => {
    expect(readXattrs(p)).toEqual(expected);
    const fd = fs.openSync(p, 'r');
    try {
      expect(readXattrs(p, fd)).toEqual(expected);
    } finally {
      fs.closeSync(fd);
    }
  };

  it('lists and reads extended attributes as @napi-rs/xattr does, by path and by descriptor', () => {
    const p = path.join(dir, 'tagged');
    fs.writeFileSync(p, 'x');
    xattr.setAttributeSync(p, 'user.origin', 'ci');
    xattr.setAttributeSync(p, 'user.bytes', Buffer.from([0, 255, 10]));
    xattr.setAttributeSync(p, 'user.empty', '');
    const expected = expectedOf(p);
    expect(Object.keys(expected)).toEqual(['user.bytes', 'user.empty', 'user.origin']);
    sameByPathAndFd(p, expected);
    const fd = fs.openSync(p, 'r');
    try {
      expect(native!.fgetxattr(fd, 'user.bytes')).toEqual(Buffer.from([0, 255, 10]));
      expect(native!.fgetxattr(fd, 'user.none')).toBe(-61); // ENODATA
    } finally {
      fs.closeSync(fd);
    }
    expect(readXattrs(path.join(dir, 'file'))).toBeUndefined();
    expect(native!.llistxattr(path.join(dir, 'missing'))).toBe(-2); // ENOENT
    // A symlink's own attributes (none), not its target's.
    xattr.setAttributeSync(path.join(dir, 'file'), 'user.t', 'target');
    expect(readXattrs(path.join(dir, 'link'))).toBeUndefined();
    expect(readXattrs(path.join(dir, 'file'))).toEqual({ 'user.t': Buffer.from('target').toString('base64') });
  });

  // ext4 holds at most a block of attributes per file; tmpfs holds more.
  const shm = fs.existsSync('/dev/shm') ? fs.mkdtempSync('/dev/shm/ctxdiff-native-') : null;
  afterAll(() => shm && fs.rmSync(shm, { recursive: true, force: true }));
  it.skipIf(shm === null)('reads a list and a value longer than its first 4 KiB buffer (it asks for the size, reads again)', () => {
    const p = path.join(shm!, 'big');
    fs.writeFileSync(p, 'x');
    xattr.setAttributeSync(p, 'user.big', Buffer.alloc(6000, 7));
    for (let i = 0; i < 25; i++) xattr.setAttributeSync(p, `user.${'n'.repeat(200)}${i}`, 'v');
    const listed = native!.llistxattr(p) as string[];
    expect(listed.join('\0').length).toBeGreaterThan(4096);
    expect(native!.lgetxattr(p, 'user.big')).toEqual(Buffer.alloc(6000, 7));
    sameByPathAndFd(p, expectedOf(p));
  });
});

describe.skipIf(native === null)('a snapshot with and without the native helpers', () => {
  it('records the same entries, attributes and hashes', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ctxdiff-native-ctx-'));
    try {
      const ctx = path.join(dir, 'ctx');
      fs.mkdirSync(path.join(ctx, 'a/b'), { recursive: true });
      for (let i = 0; i < 300; i++) fs.writeFileSync(path.join(ctx, 'a', `f${i}`), `content ${i}\n`.repeat(i));
      fs.writeFileSync(path.join(ctx, 'a/b/big'), Buffer.alloc(3 << 20, 1));
      fs.symlinkSync('../f1', path.join(ctx, 'a/b/link'));
      fs.linkSync(path.join(ctx, 'a/f2'), path.join(ctx, 'a/hard'));
      fs.chmodSync(path.join(ctx, 'a/f3'), 0o755);
      fs.writeFileSync(Buffer.from(`${ctx}/caf\xe9`, 'latin1'), 'latin-1');
      xattr.setAttributeSync(path.join(ctx, 'a/f4'), 'user.origin', 'ci');
      xattr.setAttributeSync(path.join(ctx, 'a/b'), 'user.dir', 'yes');
      const cli = path.join(REPO, 'bin/ctxdiff.js');
      const json = (native: string) =>
        JSON.parse(execFileSync(process.execPath, [cli, 'tree', ctx, '--depth', '9', '--json'], { env: { ...process.env, CTXDIFF_NATIVE: native }, encoding: 'utf8' }));
      const withIt = json('1');
      expect(withIt.entries.length).toBe(307);
      expect(withIt).toEqual(json('0'));
      const snap = (native: string, name: string) =>
        execFileSync(process.execPath, [cli, 'snapshot', ctx, '-o', path.join(dir, name)], { env: { ...process.env, CTXDIFF_NATIVE: native } });
      snap('1', 's1.ctxsnap');
      snap('0', 's0.ctxsnap');
      xattr.setAttributeSync(path.join(ctx, 'a/f4'), 'user.origin', 'laptop');
      snap('1', 's2.ctxsnap');
      const changed = (a: string, b: string, builder: string) => {
        const args = [cli, 'diff', path.join(dir, a), path.join(dir, b), '--builder', builder, '--json'];
        return JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8' })).summary.changedPaths as number;
      };
      for (const builder of ['buildkit', 'buildah']) expect(changed('s1.ctxsnap', 's0.ctxsnap', builder), builder).toBe(0);
      // The attributes are in both and compared: one changed value is a change (Buildah counts them).
      expect(changed('s1.ctxsnap', 's2.ctxsnap', 'buildah')).toBe(1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
