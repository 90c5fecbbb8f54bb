import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import xxhash from 'xxhash-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CtxdiffError, IoError, UsageError } from '../src/core/errors.js';
import { cleanTarPath, parsePaxTime, readTarContext } from '../src/sources/tar.js';
import { comparePaths, type Context, type Entry, type EntryType } from '../src/core/types.js';
import { getProfile } from '../src/builders/profiles.js';

let work: string;
let h64: (data: Uint8Array) => string;

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'ctxdiff-tar-'));
  const api = await xxhash();
  h64 = (data) => api.h64Raw(data).toString(16).padStart(16, '0');
});
afterAll(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

function run(cmd: string, args: string[], cwd = work): void {
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Sets a path's mtime to the nanosecond (touch -h does not follow symlinks). */
function touch(p: string, when: string): void {
  run('touch', ['-h', '-d', `@${when}`, p]);
}

let counter = 0;
function freshDir(): string {
  const d = path.join(work, `tree${++counter}`);
  fs.mkdirSync(d);
  return d;
}

/** A context tree with every entry type, unusual modes, unicode names and nanosecond mtimes. */
function makeTree(): string {
  const d = freshDir();
  fs.mkdirSync(path.join(d, 'src/nested'), { recursive: true });
  fs.mkdirSync(path.join(d, 'empty-dir'));
  fs.mkdirSync(path.join(d, 'café ünïcødé'));
  fs.writeFileSync(path.join(d, 'Dockerfile'), 'FROM scratch\nCOPY . /app\n');
  fs.writeFileSync(path.join(d, 'src/main.ts'), 'console.log("hi");\n');
  fs.writeFileSync(path.join(d, 'src/empty'), '');
  fs.writeFileSync(path.join(d, 'café ünïcødé/日本語.txt'), 'こんにちは\n');
  // Larger than any stream chunk, so hashing must be incremental.
  const big = Buffer.alloc(3 * 1024 * 1024 + 17);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31 + (i >> 11)) & 0xff;
  fs.writeFileSync(path.join(d, 'src/nested/big.bin'), big);
  fs.writeFileSync(path.join(d, 'src/setuid'), '#!/bin/sh\n');
  fs.chmodSync(path.join(d, 'src/setuid'), 0o4755);
  fs.chmodSync(path.join(d, 'empty-dir'), 0o1777);
  fs.chmodSync(path.join(d, 'src/nested'), 0o2750);
  fs.symlinkSync('../Dockerfile', path.join(d, 'src/link-to-dockerfile'));
  fs.symlinkSync('/nonexistent/target', path.join(d, 'dangling'));
  run('mkfifo', [path.join(d, 'src/fifo')]);
  run('mknod', [path.join(d, 'null-dev'), 'c', '1', '3']);
  fs.writeFileSync(path.join(d, 'src/original'), 'shared content\n');
  fs.linkSync(path.join(d, 'src/original'), path.join(d, 'src/z-hardlink'));
  let i = 0;
  for (const p of ['Dockerfile', 'src/main.ts', 'src/empty', 'src/nested/big.bin', 'src/setuid', 'src/link-to-dockerfile', 'dangling', 'src/fifo', 'null-dev', 'src/original', 'café ünïcødé/日本語.txt', 'src/nested', 'src', 'empty-dir', 'café ünïcødé', '.']) {
    touch(path.join(d, p), `${1_600_000_000 + i * 1000}.${String(123_456_789 + i * 7).padStart(9, '0')}`);
    i++;
  }
  return d;
}

const TYPE_OF = (st: fs.BigIntStats): EntryType =>
  st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : st.isFIFO() ? 'fifo'
  : st.isSocket() ? 'socket' : st.isCharacterDevice() ? 'char' : 'block';

/**
 * What the archive of `dir` must read back as, derived from the file system itself. `nanoseconds`: whether the
 * archive format keeps them (pax) or only whole seconds (gnu, ustar).
 */
function expectedEntries(dir: string, nanoseconds: boolean, owner?: { uid: number; gid: number }): Entry[] {
  const out: Entry[] = [];
  const visit = (rel: string): void => {
    for (const name of fs.readdirSync(path.join(dir, rel))) {
      const p = rel ? `${rel}/${name}` : name;
      const abs = path.join(dir, p);
      const st = fs.lstatSync(abs, { bigint: true });
      const type = TYPE_OF(st);
      const e: Entry = {
        path: p,
        type,
        mode: Number(st.mode & 0o7777n),
        uid: owner?.uid ?? Number(st.uid),
        gid: owner?.gid ?? Number(st.gid),
        size: type === 'file' ? Number(st.size) : 0,
        mtimeSec: Number(st.mtimeNs / 1_000_000_000n),
        mtimeNsec: nanoseconds ? Number(st.mtimeNs % 1_000_000_000n) : 0,
      };
      if (type === 'file') e.hash = h64(fs.readFileSync(abs));
      if (type === 'symlink') e.target = fs.readlinkSync(abs);
      if (type === 'char' || type === 'block') {
        e.devMajor = Number((st.rdev >> 8n) & 0xfffn);
        e.devMinor = Number((st.rdev & 0xffn) | ((st.rdev >> 12n) & 0xfff00n));
      }
      out.push(e);
      if (type === 'dir') visit(p);
    }
  };
  visit('');
  return out.sort((a, b) => comparePaths(a.path, b.path));
}

function tarOf(dir: string, file: string, args: string[] = []): string {
  const out = path.join(work, file);
  run('tar', [...args, '-C', dir, '-cf', out, '.']);
  return out;
}

async function expectError(p: Promise<unknown>, type: new (...a: never[]) => CtxdiffError, pattern: RegExp): Promise<void> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(type);
  expect((err as Error).message).toMatch(pattern);
  expect((err as Error).message).not.toContain('\n');
}

describe('readTarContext against GNU tar archives', () => {
  let tree: string;
  beforeAll(() => {
    tree = makeTree();
  });

  it('reads a pax archive exactly: types, modes, owners, sizes, hashes, targets, devices, nanosecond mtimes', async () => {
    const file = tarOf(tree, 'pax.tar', ['--format=pax']);
    const ctx = await readTarContext(file, { profile: getProfile('buildkit') });
    expect(ctx.entries).toStrictEqual(expectedEntries(tree, true));
    const rootStat = fs.lstatSync(tree, { bigint: true });
    expect(ctx.root).toStrictEqual({
      mode: Number(rootStat.mode & 0o7777n), uid: Number(rootStat.uid), gid: Number(rootStat.gid),
      mtimeSec: 1_600_015_000, mtimeNsec: 123_456_894,
    });
    expect(ctx.name).toBe(file);
    expect(ctx.builder).toBe('buildkit');
    expect(ctx.dockerfile).toBe('Dockerfile');
    expect(ctx.dockerfiles).toStrictEqual({ Dockerfile: 'FROM scratch\nCOPY . /app\n' });
    expect(ctx.ignore).toBeNull();
  });

  it('reads the gnu format (whole seconds) and numeric owners given to tar', async () => {
    const file = tarOf(tree, 'gnu.tar', ['--format=gnu', '--numeric-owner', '--owner=1234', '--group=5678']);
    const ctx = await readTarContext(file, { profile: getProfile('classic'), name: 'my-context' });
    expect(ctx.entries).toStrictEqual(expectedEntries(tree, false, { uid: 1234, gid: 5678 }));
    expect(ctx.name).toBe('my-context');
  });

  it('reads a gzip-compressed archive like the plain one', async () => {
    const plain = await readTarContext(tarOf(tree, 'plain.tar', ['--format=pax']), { profile: getProfile('buildkit') });
    const gz = path.join(work, 'ctx.tar.gz');
    run('tar', ['--format=pax', '-C', tree, '-czf', gz, '.']);
    const zipped = await readTarContext(gz, { profile: getProfile('buildkit') });
    expect(zipped.entries).toStrictEqual(plain.entries);
    expect(zipped.root).toStrictEqual(plain.root);
  });

  it('resolves a hard link to the content of its target', async () => {
    const ctx = await readTarContext(tarOf(tree, 'links.tar'), { profile: getProfile('buildkit') });
    const original = ctx.entries.find((e) => e.path === 'src/original')!;
    const link = ctx.entries.find((e) => e.path === 'src/z-hardlink')!;
    expect(link.type).toBe('file');
    expect(link.size).toBe(15);
    expect(link.hash).toBe(h64(Buffer.from('shared content\n')));
    expect(link.hash).toBe(original.hash);
    // tar really stored a hard link (not a second copy).
    expect(execFileSync('tar', ['-tvf', path.join(work, 'links.tar')], { encoding: 'utf8' })).toMatch(/z-hardlink link to/);
  });

  it('reads standard input for "-"', async () => {
    const file = tarOf(tree, 'stdin.tar', ['--format=pax']);
    const saved = Object.getOwnPropertyDescriptor(process, 'stdin')!;
    Object.defineProperty(process, 'stdin', { configurable: true, value: fs.createReadStream(file) });
    try {
      const ctx = await readTarContext('-', { profile: getProfile('buildkit') });
      expect(ctx.name).toBe('<stdin>');
      expect(ctx.entries).toStrictEqual(expectedEntries(tree, true));
    } finally {
      Object.defineProperty(process, 'stdin', saved);
    }
  });
});

describe('paths', () => {
  it('adds the parent directories the archive omits, with the documented attributes', async () => {
    const d = freshDir();
    fs.mkdirSync(path.join(d, 'a/b'), { recursive: true });
    fs.writeFileSync(path.join(d, 'a/b/c.txt'), 'c');
    const file = path.join(work, 'implied.tar');
    run('tar', ['-C', d, '-cf', file, 'a/b/c.txt']);
    const ctx = await readTarContext(file, { profile: getProfile('buildkit') });
    const implied = { type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0, mtimeSec: 0, mtimeNsec: 0 };
    expect(ctx.entries.map((e) => e.path)).toStrictEqual(['a', 'a/b', 'a/b/c.txt']);
    expect(ctx.entries[0]).toStrictEqual({ path: 'a', ...implied });
    expect(ctx.entries[1]).toStrictEqual({ path: 'a/b', ...implied });
    expect(ctx.root).toBeUndefined();
  });

  it('strips "./" and "/" prefixes and sorts canonically', async () => {
    const d = freshDir();
    for (const f of ['a-b', 'a/x', 'ab']) {
      fs.mkdirSync(path.dirname(path.join(d, f)), { recursive: true });
      fs.writeFileSync(path.join(d, f), f);
    }
    const dotted = path.join(work, 'dotted.tar');
    run('tar', ['-C', d, '-cf', dotted, './ab', './a-b', './a']);
    const absolute = path.join(work, 'absolute.tar');
    run('tar', ['-P', '-cf', absolute, path.join(d, 'ab')]);

    const ctx = await readTarContext(dotted, { profile: getProfile('buildkit') });
    expect(ctx.entries.map((e) => e.path)).toStrictEqual(['a', 'a/x', 'a-b', 'ab']);
    const abs = await readTarContext(absolute, { profile: getProfile('buildkit') });
    expect(abs.entries.at(-1)!.path).toBe(`${d.slice(1)}/ab`);
    expect(abs.entries.every((e) => !e.path.startsWith('/') && !e.path.endsWith('/'))).toBe(true);
  });

  it('lets a later entry replace an earlier one (tar --append)', async () => {
    const d = freshDir();
    fs.writeFileSync(path.join(d, 'f'), 'one');
    const file = path.join(work, 'appended.tar');
    run('tar', ['-C', d, '-cf', file, 'f']);
    fs.writeFileSync(path.join(d, 'f'), 'second version');
    run('tar', ['-C', d, '-rf', file, 'f']);
    const ctx = await readTarContext(file, { profile: getProfile('buildkit') });
    expect(ctx.entries).toHaveLength(1);
    expect(ctx.entries[0]!.size).toBe(14);
    expect(ctx.entries[0]!.hash).toBe(h64(Buffer.from('second version')));
  });

  it('refuses a path that escapes the context', async () => {
    const d = freshDir();
    fs.mkdirSync(path.join(d, 'in'));
    fs.writeFileSync(path.join(d, 'outside'), 'x');
    const file = path.join(work, 'escape.tar');
    run('tar', ['-P', '-C', path.join(d, 'in'), '-cf', file, '../outside']);
    await expectError(readTarContext(file, { profile: getProfile('buildkit') }), IoError, /points outside the context/);
  });

  it('cleans names like the daemon', () => {
    expect(cleanTarPath('./a/b/')).toBe('a/b');
    expect(cleanTarPath('/a//b/./c')).toBe('a/b/c');
    expect(cleanTarPath('a/../b')).toBe('b');
    expect(cleanTarPath('./')).toBe('');
    expect(cleanTarPath('../a')).toBeNull();
    expect(cleanTarPath('a/../../b')).toBeNull();
  });

  it('parses PAX times, negative ones included', () => {
    expect(parsePaxTime('1700000000.123456789')).toStrictEqual({ mtimeSec: 1700000000, mtimeNsec: 123456789 });
    expect(parsePaxTime('1700000000.5')).toStrictEqual({ mtimeSec: 1700000000, mtimeNsec: 500000000 });
    expect(parsePaxTime('1700000000.1234567891')).toStrictEqual({ mtimeSec: 1700000000, mtimeNsec: 123456789 });
    expect(parsePaxTime('42')).toStrictEqual({ mtimeSec: 42, mtimeNsec: 0 });
    expect(parsePaxTime('-1.25')).toStrictEqual({ mtimeSec: -2, mtimeNsec: 750000000 });
    expect(parsePaxTime('-3')).toStrictEqual({ mtimeSec: -3, mtimeNsec: 0 });
    expect(parsePaxTime('soon')).toBeNull();
  });

  it('reads a negative nanosecond mtime from a pax archive', async () => {
    const d = freshDir();
    fs.writeFileSync(path.join(d, 'old'), 'x');
    touch(path.join(d, 'old'), '-86400.25');
    const ctx = await readTarContext(tarOf(d, 'negative.tar', ['--format=pax']), { profile: getProfile('buildkit') });
    const e = ctx.entries.find((x) => x.path === 'old')!;
    expect(e.mtimeSec * 1e9 + e.mtimeNsec).toBe(-86400.25 * 1e9);
    expect(e).toMatchObject({ mtimeSec: -86401, mtimeNsec: 750_000_000 });
  });
});

describe('Dockerfile and ignore file', () => {
  /** A context whose .dockerignore excludes a secret, a directory (with an exception), itself and the Dockerfile. */
  function ignoreTree(ignoreText: string): string {
    const d = freshDir();
    fs.mkdirSync(path.join(d, 'sub'));
    fs.mkdirSync(path.join(d, 'docker'));
    fs.writeFileSync(path.join(d, 'Dockerfile'), 'FROM scratch\nCOPY . /out/\n');
    fs.writeFileSync(path.join(d, 'docker/app.Dockerfile'), 'FROM scratch\n');
    fs.writeFileSync(path.join(d, '.dockerignore'), ignoreText);
    fs.writeFileSync(path.join(d, 'secret.txt'), 's');
    fs.writeFileSync(path.join(d, 'a.txt'), 'a');
    fs.writeFileSync(path.join(d, 'sub/x'), 'x');
    fs.writeFileSync(path.join(d, 'sub/inc'), 'i');
    return d;
  }
  const IGNORE = 'secret*\nsub\n!sub/inc\nDockerfile\n.dockerignore\n';
  const paths = (c: Context): string[] => c.entries.map((e) => e.path);
  const ALL = ['.dockerignore', 'Dockerfile', 'a.txt', 'docker', 'docker/app.Dockerfile', 'secret.txt', 'sub', 'sub/inc', 'sub/x'];

  it('BuildKit applies no ignore rules to a tar context (observed with Docker 20.10)', async () => {
    const file = tarOf(ignoreTree(IGNORE), 'ignore-bk.tar');
    for (const builder of ['buildkit', 'buildkit-0.8']) {
      const ctx = await readTarContext(file, { profile: getProfile(builder) });
      expect(paths(ctx)).toStrictEqual(ALL);
      expect(ctx.ignore).toBeNull();
    }
  });

  it('the classic builder only removes .dockerignore and the Dockerfile when they are excluded', async () => {
    const file = tarOf(ignoreTree(IGNORE), 'ignore-classic.tar');
    const ctx = await readTarContext(file, { profile: getProfile('classic') });
    expect(paths(ctx)).toStrictEqual(ALL.filter((p) => p !== '.dockerignore' && p !== 'Dockerfile'));
    expect(ctx.ignore).toStrictEqual({ file: '.dockerignore', text: IGNORE });
    // The Dockerfile is still read (it is removed after being read).
    expect(ctx.dockerfiles).toStrictEqual({ Dockerfile: 'FROM scratch\nCOPY . /out/\n' });

    const kept = tarOf(ignoreTree('secret*\n'), 'ignore-classic-2.tar');
    expect(paths(await readTarContext(kept, { profile: getProfile('classic') }))).toStrictEqual(ALL);
  });

  it('a builder that unpacks and walks the archive applies the rules to every path', async () => {
    const file = tarOf(ignoreTree(IGNORE), 'ignore-buildah.tar');
    const ctx = await readTarContext(file, { profile: getProfile('buildah') });
    expect(paths(ctx)).toStrictEqual(['a.txt', 'docker', 'docker/app.Dockerfile', 'sub/inc']);
    expect(ctx.ignore?.file).toBe('.dockerignore');
  });

  it('reads the -f Dockerfile and its own ignore file', async () => {
    const d = ignoreTree(IGNORE);
    fs.writeFileSync(path.join(d, 'docker/app.Dockerfile.dockerignore'), 'a.txt\n');
    const ctx = await readTarContext(tarOf(d, 'dash-f.tar'), { profile: getProfile('strict'), dockerfile: './docker/app.Dockerfile' });
    expect(ctx.dockerfile).toBe('docker/app.Dockerfile');
    expect(ctx.dockerfiles).toStrictEqual({ 'docker/app.Dockerfile': 'FROM scratch\n' });
    expect(ctx.ignore).toStrictEqual({ file: 'docker/app.Dockerfile.dockerignore', text: 'a.txt\n' });
    expect(paths(ctx)).not.toContain('a.txt');
    expect(paths(ctx)).toContain('secret.txt');
  });

  it('reports a -f Dockerfile missing from the archive', async () => {
    const file = tarOf(ignoreTree(IGNORE), 'no-df.tar');
    await expectError(readTarContext(file, { profile: getProfile('buildkit'), dockerfile: 'nope/Dockerfile' }), UsageError, /Dockerfile not found/);
  });

  it('has no Dockerfile when the archive holds none', async () => {
    const d = freshDir();
    fs.writeFileSync(path.join(d, 'x'), 'x');
    const ctx = await readTarContext(tarOf(d, 'no-dockerfile.tar'), { profile: getProfile('buildkit') });
    expect(ctx.dockerfiles).toStrictEqual({});
    expect('dockerfile' in ctx).toBe(false);
  });
});

describe('errors', () => {
  it('not a tar archive', async () => {
    const file = path.join(work, 'text.txt');
    fs.writeFileSync(file, 'hello, this is not a tar archive at all\n'.repeat(40));
    await expectError(readTarContext(file, { profile: getProfile('buildkit') }), IoError, /not a tar archive/);
  });

  it('an empty input', async () => {
    const file = path.join(work, 'empty.tar');
    fs.writeFileSync(file, '');
    await expectError(readTarContext(file, { profile: getProfile('buildkit') }), IoError, /empty input/);
  });

  it('a tar archive cut inside a file', async () => {
    const d = freshDir();
    fs.writeFileSync(path.join(d, 'big'), Buffer.alloc(100_000, 7));
    const whole = fs.readFileSync(tarOf(d, 'whole.tar'));
    const cut = path.join(work, 'cut.tar');
    fs.writeFileSync(cut, whole.subarray(0, 50_000));
    await expectError(readTarContext(cut, { profile: getProfile('buildkit') }), IoError, /truncated tar archive/);
  });

  it('a gzip stream cut short, and a corrupt one', async () => {
    const d = freshDir();
    fs.writeFileSync(path.join(d, 'f'), Buffer.alloc(200_000, 3));
    const gz = path.join(work, 'whole.tgz');
    run('tar', ['-C', d, '-czf', gz, '.']);
    const bytes = fs.readFileSync(gz);
    const cut = path.join(work, 'cut.tgz');
    fs.writeFileSync(cut, bytes.subarray(0, bytes.length - 30));
    await expectError(readTarContext(cut, { profile: getProfile('buildkit') }), IoError, /truncated gzip stream/);
    const bad = Buffer.from(bytes);
    bad.fill(0xff, 20, 60);
    fs.writeFileSync(cut, bad);
    await expectError(readTarContext(cut, { profile: getProfile('buildkit') }), IoError, /gzip|tar/);
  });

  it('compressions that cannot be read are named', async () => {
    const file = path.join(work, 'fake.tar.xz');
    fs.writeFileSync(file, Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1, 2, 3]));
    await expectError(readTarContext(file, { profile: getProfile('buildkit') }), IoError, /xz-compressed archives are not supported/);
  });

  it('a missing file and a directory', async () => {
    const missing = path.join(work, 'missing.tar');
    await expectError(readTarContext(missing, { profile: getProfile('buildkit') }), IoError, /no such file or directory/);
    await expectError(readTarContext(work, { profile: getProfile('buildkit') }), IoError, /is a directory/);
  });

  it('an unknown builder (refused where the id is resolved, before any tar is read)', () => {
    expect(() => getProfile('nope')).toThrow(UsageError);
    expect(() => getProfile('nope')).toThrow(/unknown builder/);
  });
});
