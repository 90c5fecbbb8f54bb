/**
 * Hostile inputs, part 3: what ctxdiff reads. FIFOs, devices and sockets where files are expected,
 * symlinks (loops, a symlinked root, links BuildKit cannot follow), exponential ignore patterns, malformed
 * and oversized .dockerignore / Dockerfile / snapshot / tar files, compression bombs. The built CLI in real
 * processes; each case asserts the exact answer or the one-line error, the exit code, a time bound, the peak
 * RSS and that nothing was left behind.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import zlib from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IS_ROOT, cleanup, expectBounded, expectOk, expectOneLineError, runCli, tempDir } from './support/hostile.js';

let tmp: string;
beforeAll(() => {
  tmp = tempDir('inputs');
});
afterAll(() => cleanup(tmp));

/** A fresh context directory with the given files (path → content). */
function context(name: string, files: Record<string, string> = { a: 'a\n' }): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir);
  for (const [p, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
    fs.writeFileSync(path.join(dir, p), content);
  }
  return dir;
}

const lsPaths = (stdout: string) => (JSON.parse(stdout) as { entries: { path: string }[] }).entries.map((e) => e.path);

describe('FIFOs and other non-files where a build file is expected', () => {
  const walking = [['ls'], ['tree'], ['du'], ['doctor'], ['snapshot', '-o', 'OUT']];

  it('a FIFO named Dockerfile: "Dockerfile: not a regular file (a FIFO)", exit 2, no hang, for every command', () => {
    const ctx = context('fifo-df');
    spawnSync('mkfifo', [path.join(ctx, 'Dockerfile')]);
    for (const cmd of walking) {
      const args = cmd.map((a) => (a === 'OUT' ? path.join(tmp, 'fifo-df.snap') : a));
      const r = runCli([args[0]!, ctx, ...args.slice(1)], { timeoutMs: 30_000 });
      expectOneLineError(r, /^ctxdiff: Dockerfile: not a regular file \(a FIFO\)\n$/, { ms: 20_000, clean: tmp });
    }
    expect(fs.existsSync(path.join(tmp, 'fifo-df.snap'))).toBe(false);
  });

  it('a FIFO named .dockerignore, and a FIFO given with -f, fail the same way', () => {
    const ctx = context('fifo-ign');
    spawnSync('mkfifo', [path.join(ctx, '.dockerignore')]);
    expectOneLineError(runCli(['ls', ctx], { timeoutMs: 30_000 }), /^ctxdiff: \.dockerignore: not a regular file \(a FIFO\)\n$/, { ms: 20_000 });
    const other = context('fifo-f');
    const fifo = path.join(tmp, 'Dockerfile.fifo');
    spawnSync('mkfifo', [fifo]);
    expectOneLineError(runCli(['why', 'a', '-C', other, '-f', fifo], { timeoutMs: 30_000 }), /Dockerfile\.fifo: not a regular file \(a FIFO\)\n$/, { ms: 20_000 });
  });

  it('a Dockerfile that is a directory is an error (docker build fails), not "no Dockerfile"', () => {
    const ctx = context('df-dir');
    fs.mkdirSync(path.join(ctx, 'Dockerfile'));
    expectOneLineError(runCli(['diff', ctx, ctx]), /^ctxdiff: Dockerfile: not a regular file \(a directory\)\n$/, { ms: 20_000 });
  });

  it('a Dockerfile over 16 MiB is the same one-line error for a directory and for a tar of it', () => {
    const ctx = context('df-big');
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), Buffer.alloc((16 << 20) + 1, '#'));
    expectOneLineError(runCli(['ls', ctx]), /^ctxdiff: Dockerfile: larger than 16 MiB, the most ctxdiff reads of a build file\n$/, { ms: 20_000 });
    const tarFile = path.join(tmp, 'df-big.tar');
    expect(spawnSync('tar', ['-cf', tarFile, '-C', ctx, '.']).status).toBe(0);
    expectOneLineError(runCli(['ls', tarFile]), /^ctxdiff: .*df-big\.tar: Dockerfile: larger than 16 MiB, the most ctxdiff reads of a build file\n$/, { ms: 20_000 });
  });
});

describe('devices, sockets, FIFOs and symlink loops inside the context are listed, never opened', () => {
  it('they are entries with their types; the walk never blocks or follows', async () => {
    const ctx = context('special', { Dockerfile: 'FROM scratch\nCOPY . /\n' });
    spawnSync('mkfifo', [path.join(ctx, 'fifo')]);
    fs.symlinkSync('loop-b', path.join(ctx, 'loop-a'));
    fs.symlinkSync('loop-a', path.join(ctx, 'loop-b'));
    fs.symlinkSync('.', path.join(ctx, 'self'));
    if (IS_ROOT) {
      spawnSync('mknod', [path.join(ctx, 'full'), 'c', '1', '7']);
      spawnSync('mknod', [path.join(ctx, 'blk'), 'b', '7', '200']);
    }
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(path.join(ctx, 'sock'), resolve));
    try {
      const r = runCli(['ls', ctx, '--json'], { timeoutMs: 30_000 });
      expectOk(r, { ms: 20_000 });
      const entries = JSON.parse(r.stdout).entries as { path: string; type: string; target?: string; device?: { major: number; minor: number } }[];
      const byPath = Object.fromEntries(entries.map((e) => [e.path, e]));
      expect(byPath.fifo!.type).toBe('fifo');
      expect(byPath.sock!.type).toBe('socket');
      expect(byPath['loop-a']).toMatchObject({ type: 'symlink', target: 'loop-b' });
      expect(byPath.self).toMatchObject({ type: 'symlink', target: '.' });
      if (IS_ROOT) {
        expect(byPath.full).toMatchObject({ type: 'char', device: { major: 1, minor: 7 } });
        expect(byPath.blk).toMatchObject({ type: 'block', device: { major: 7, minor: 200 } });
      }
      for (const cmd of [['tree'], ['du'], ['doctor'], ['snapshot', '-o', path.join(tmp, 'special.snap')]]) {
        expectOk(runCli([cmd[0]!, ctx, ...cmd.slice(1)], { timeoutMs: 30_000 }), { ms: 20_000, clean: tmp });
      }
    } finally {
      server.close();
    }
  });

  it('tree --digest buildkit: links that dangle, loop or point outside get their own digest and a warning; the tree stands', () => {
    const ctx = context('links');
    fs.symlinkSync('nowhere', path.join(ctx, 'dangling'));
    fs.symlinkSync('loop2', path.join(ctx, 'loop1'));
    fs.symlinkSync('loop1', path.join(ctx, 'loop2'));
    fs.symlinkSync('../../../etc/passwd', path.join(ctx, 'outside'));
    fs.symlinkSync('a', path.join(ctx, 'good'));
    const r = runCli(['tree', ctx, '--digest', 'buildkit', '--json']);
    const warn = (p: string, why: string) => new RegExp(`^ctxdiff: warning: ${p}: symlink to ".*" cannot be followed inside the context \\(${why}\\): its digest is the link's own; a COPY of it fails in BuildKit$`);
    expectOk(r, { ms: 20_000 }, [warn('dangling', 'not found in the context'), warn('loop1', 'too many levels of symbolic links'), warn('loop2', 'too many levels of symbolic links'), warn('outside', 'not found in the context')]);
    const doc = JSON.parse(r.stdout) as { entries: { path: string; digest: string }[]; warnings: string[] };
    const digests = Object.fromEntries(doc.entries.map((e) => [e.path, e.digest]));
    for (const p of ['.', 'a', 'dangling', 'good', 'loop1', 'loop2', 'outside']) expect(digests[p]).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(digests.good).toBe(digests.a); // followed inside the context, as BuildKit follows a COPY source
    expect(new Set([digests.dangling, digests.loop1, digests.loop2, digests.outside]).size).toBe(4);
    expect(doc.warnings).toHaveLength(4);
  });

  it('a symlinked context root is followed, as docker build follows it (every walking command)', () => {
    const real = context('real-root', { a: '1', 'sub/b': '2' });
    const link = path.join(tmp, 'root-link');
    fs.symlinkSync(real, link);
    const want = runCli(['ls', real, '--json']);
    const got = runCli(['ls', link, '--json']);
    expectOk(got, { ms: 20_000 });
    expect(lsPaths(got.stdout)).toEqual(['a', 'sub', 'sub/b']);
    expect(JSON.parse(got.stdout).entries).toEqual(JSON.parse(want.stdout).entries);
    for (const cmd of [['tree'], ['du'], ['doctor'], ['snapshot', '-o', path.join(tmp, 'root-link.snap')]]) {
      expectOk(runCli([cmd[0]!, link, ...cmd.slice(1)]), { ms: 20_000, clean: tmp });
    }
    expectOk(runCli(['diff', link, real]), { ms: 20_000 });
    // Only the root: a symlinked directory inside stays a link.
    fs.symlinkSync('sub', path.join(real, 'sublink'));
    const inner = runCli(['ls', link, '--json']);
    expect(JSON.parse(inner.stdout).entries.find((e: { path: string }) => e.path === 'sublink')).toMatchObject({ type: 'symlink', target: 'sub' });
  });
});

describe('.dockerignore', () => {
  /** A 40-deep tree with a file at the bottom. */
  function deepContext(name: string, ignore: string): { ctx: string; deep: string } {
    const rel = Array.from({ length: 40 }, () => 'd').join('/');
    const ctx = context(name, { [`${rel}/x`]: 'x', '.dockerignore': ignore });
    return { ctx, deep: `${rel}/x` };
  }

  it('**/**/**/…/c (20 **) on a 40-deep tree: linear time, as the builder (was > 60 s)', () => {
    const { ctx, deep } = deepContext('stars', `${'**/'.repeat(20)}c\n`);
    const ls = runCli(['ls', ctx, '--json']);
    expectOk(ls, { ms: 10_000 });
    expect(lsPaths(ls.stdout)).toContain(deep);
    const why = runCli(['why', deep, '-C', ctx]);
    expectOk(why, { ms: 10_000 });
    expect(why.stdout).toContain(`${deep}: sent — no rule matches`);
  });

  it('*a*a*a…b on a 250-character name, and (a+)+b where the variant leaves regexp operators live: linear time', () => {
    const name = 'a'.repeat(250);
    const ctx = context('backtrack', { [name]: 'x', '.dockerignore': `${'*a'.repeat(12)}b\n(a+)+b\n` });
    for (const builder of ['buildkit', 'buildkit-0.8', 'classic', 'buildah']) {
      const r = runCli(['ls', ctx, '--json', '--builder', builder]);
      expectOk(r, { ms: 10_000 });
      expect(lsPaths(r.stdout)).toContain(name);
    }
  });

  it('a line over 64 KiB is the builder\'s one-line error', () => {
    const ctx = context('longline', { '.dockerignore': `${'x'.repeat(70_000)}\n` });
    expectOneLineError(runCli(['ls', ctx]), /^ctxdiff: \.dockerignore:1: invalid pattern .*line longer than 64 KiB/, { ms: 20_000 });
  });

  it('binary garbage is read as the builder reads it (exit 0, patterns that match nothing)', () => {
    const garbage = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256).filter((b) => b !== 0x5b && b !== 0x5c));
    const ctx = context('garbage-ignore', { a: 'a' });
    fs.writeFileSync(path.join(ctx, '.dockerignore'), garbage);
    const r = runCli(['ls', ctx, '--json']);
    expectBounded(r, { ms: 20_000 });
    expect([0, 2]).toContain(r.code);
    if (r.code === 2) expect(r.stderr).toMatch(/^ctxdiff: [^\n]*\n$/);
  });
});

describe('malformed Dockerfiles', () => {
  it('binary garbage and unterminated constructs: an answer or a one-line error, exit 0 or 2, bounded', () => {
    const cases: Record<string, string | Buffer> = {
      garbage: Buffer.from(Array.from({ length: 65536 }, (_, i) => (i * 31337) % 256)),
      heredoc: 'FROM scratch\nCOPY <<EOF /x\nno end\n',
      continuation: 'FROM scratch\nCOPY a \\\n',
      json: 'FROM scratch\nCOPY ["a", \n',
      deep: 'FROM scratch\n' + 'RUN echo $' + '{'.repeat(10_000) + '\n',
      long: 'FROM scratch\nCOPY ' + 'a'.repeat(1 << 20) + ' /\n',
    };
    for (const [name, text] of Object.entries(cases)) {
      const ctx = context(`df-${name}`, { a: 'a' });
      fs.writeFileSync(path.join(ctx, 'Dockerfile'), text);
      for (const cmd of ['doctor', 'why']) {
        const r = runCli(cmd === 'why' ? ['why', 'a', '-C', ctx] : ['doctor', ctx]);
        expectBounded(r, { ms: 20_000 });
        expect([0, 2], `${name} ${cmd}: ${r.stderr}`).toContain(r.code);
        if (r.code === 2) expect(r.stderr, name).toMatch(/^ctxdiff: [^\n]*\n$/);
        expect(r.stderr, name).not.toMatch(/internal error|\n\s+at /);
      }
    }
  });
});

describe('malformed snapshots', () => {
  let good: Buffer;
  let goodFile: string;
  beforeAll(() => {
    const ctx = context('snap-src', { a: 'a', b: 'b', 'c/d': 'd' });
    goodFile = path.join(tmp, 'good.snap');
    expectOk(runCli(['snapshot', ctx, '-o', goodFile]), { ms: 20_000 });
    good = fs.readFileSync(goodFile);
  });

  /** Writes `bytes` as a snapshot file and returns ls's result. */
  const lsOf = (name: string, bytes: Buffer) => {
    const f = path.join(tmp, name);
    fs.writeFileSync(f, bytes);
    return runCli(['ls', f]);
  };

  it('truncated, trailing bytes, flipped bits: one-line "corrupt"/"truncated" errors', () => {
    expectOneLineError(lsOf('trunc.snap', good.subarray(0, 40)), /truncated snapshot \(40 bytes\)\n$/, { ms: 20_000 });
    expectOneLineError(lsOf('trunc2.snap', good.subarray(0, good.length - 3)), /truncated snapshot/, { ms: 20_000 });
    expectOneLineError(lsOf('trail.snap', Buffer.concat([good, Buffer.from('xx')])), /corrupt snapshot \(2 unexpected bytes at the end\)\n$/, { ms: 20_000 });
    const flipped = Buffer.from(good);
    flipped[60] = flipped[60]! ^ 0xff;
    expectOneLineError(lsOf('flip.snap', flipped), /corrupt snapshot \(checksum mismatch\)\n$/, { ms: 20_000 });
    const version = Buffer.from(good);
    version.writeUInt32LE(99, 8);
    expectOneLineError(lsOf('version.snap', version), /snapshot format version 99 is newer than this ctxdiff reads/, { ms: 20_000 });
  });

  /** A snapshot whose packed section inflates to `gib` GiB: the real section, then zeros. */
  function bomb(gib: number): Buffer {
    const P = Number(good.readBigUInt64LE(16));
    const R = Number(good.readBigUInt64LE(32));
    const unpacked = zlib.inflateRawSync(good.subarray(52, 52 + P));
    const raw = good.subarray(52 + P);
    const first = zlib.deflateRawSync(unpacked, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    const block = zlib.deflateRawSync(Buffer.alloc(1 << 20), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    const n = gib * 1024;
    const packed = Buffer.concat([first, ...Array<Buffer>(n).fill(block), Buffer.from([3, 0])]);
    let crc = zlib.crc32(unpacked);
    const zeros = Buffer.alloc(1 << 20);
    for (let i = 0; i < n; i++) crc = zlib.crc32(zeros, crc);
    const h = Buffer.alloc(52);
    good.copy(h, 0, 0, 16);
    h.writeBigUInt64LE(BigInt(packed.length), 16);
    h.writeBigUInt64LE(BigInt(unpacked.length + n * (1 << 20)), 24);
    h.writeBigUInt64LE(BigInt(R), 32);
    h.writeUInt32LE(crc, 40);
    h.writeUInt32LE(zlib.crc32(raw, zlib.crc32(packed)), 44);
    h.writeUInt32LE(zlib.crc32(h.subarray(0, 48)), 48);
    return Buffer.concat([h, packed, raw]);
  }

  it('a 3 MB snapshot whose section inflates to 3 GiB (every checksum right) is refused early: < 5 s, < 300 MB', () => {
    const bytes = bomb(3);
    expect(bytes.length).toBeLessThan(4 << 20);
    for (const cmd of ['ls', 'tree', 'du']) {
      const f = path.join(tmp, 'bomb.snap');
      fs.writeFileSync(f, bytes);
      expectOneLineError(runCli([cmd, f]), /bomb\.snap: corrupt snapshot \(column lengths do not add up to the declared section length\)\n$/, { ms: 5_000 });
    }
    expectOneLineError(runCli(['diff', goodFile, path.join(tmp, 'bomb.snap')]), /corrupt snapshot/, { ms: 5_000 });
  });
});

describe('malformed tars', () => {
  it('garbage, truncation, paths escaping the root, unsupported types: one-line errors', () => {
    const dir = context('tar-src', { a: 'a', b: 'bbbb' });
    const good = path.join(tmp, 'good.tar');
    spawnSync('tar', ['-cf', good, '-C', dir, '.']);
    const bytes = fs.readFileSync(good);
    const write = (name: string, b: Buffer) => {
      const f = path.join(tmp, name);
      fs.writeFileSync(f, b);
      return f;
    };
    expectOneLineError(runCli(['ls', write('trunc.tar', bytes.subarray(0, 700))]), /truncated tar archive\n$/, { ms: 20_000 });
    const bad = Buffer.from(bytes);
    bad.fill(0x41, 0, 512);
    expectOneLineError(runCli(['ls', write('badhdr.tar', bad)]), /invalid tar header\)\n$/, { ms: 20_000 });
    expectOneLineError(runCli(['ls', write('empty.tar', Buffer.alloc(0))]), /empty input, not a tar archive\n$/, { ms: 20_000 });
    const escape = spawnSync('tar', ['-cf', path.join(tmp, 'escape.tar'), '-P', '--transform', 's,^,../../,', '-C', dir, 'a']);
    expect(escape.status).toBe(0);
    expectOneLineError(runCli(['ls', path.join(tmp, 'escape.tar')]), /points outside the context\n$/, { ms: 20_000 });
    expectOneLineError(runCli(['ls', write('trunc.tar.gz', zlib.gzipSync(bytes).subarray(0, 40))]), /truncated gzip stream\n$/, { ms: 20_000 });
    expectOneLineError(runCli(['ls', write('x.tar.bz2', Buffer.from('BZh91AY&SY'))]), /bzip2-compressed archives are not supported/, { ms: 20_000 });
  });

  it('a gzip bomb (2 MB of gzip, 2 GiB of zeros): the end-of-archive marker ends the read, < 5 s, < 300 MB', () => {
    const block = zlib.deflateRawSync(Buffer.alloc(1 << 20), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    const n = 2048;
    let crc = 0;
    const zeros = Buffer.alloc(1 << 20);
    for (let i = 0; i < n; i++) crc = zlib.crc32(zeros, crc);
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(crc, 0);
    trailer.writeUInt32LE((n * (1 << 20)) >>> 0, 4);
    const f = path.join(tmp, 'bomb.tar.gz');
    fs.writeFileSync(f, Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]), ...Array<Buffer>(n).fill(block), Buffer.from([3, 0]), trailer]));
    const r = runCli(['ls', f, '--json']);
    expectOk(r, { ms: 5_000 });
    expect(lsPaths(r.stdout)).toEqual([]);
  });

  it('a tar whose real entries are followed by gigabytes of zeros reads the entries, fast', () => {
    const dir = context('tar-then-zeros', { a: 'a' });
    const tarBytes = spawnSync('tar', ['-cf', '-', '-C', dir, 'a']).stdout as Buffer;
    const gz = zlib.gzipSync(Buffer.concat([tarBytes, Buffer.alloc(256 << 20)]), { level: 1 });
    const f = path.join(tmp, 'then-zeros.tar.gz');
    fs.writeFileSync(f, gz);
    const r = runCli(['ls', f, '--json']);
    expectOk(r, { ms: 5_000 });
    expect(lsPaths(r.stdout)).toEqual(['a']);
  });
});
