/**
 * The BuildKit digest mode against real BuildKits: Docker 20.10's (BuildKit 0.8, variant v0.8) and Docker 28's
 * (the v0.25 line through buildx, variant current). After a build, BuildKit keeps the content digests of the
 * transferred local context in its metadata database (bbolt, key "buildkit.contenthash.v0", a protobuf list of
 * {path key, record {digest, type, linkname}}). Every file, symlink and directory digest stored there must equal
 * ours for the same context (root header as for a transferred context). Docker exposes these digests nowhere
 * else (not in build output, `docker system df -v` nor the API), so the test reads the database file; a
 * BuildKit whose database is not readable is skipped with a line saying so (never under CI=true).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ContentHasher } from '../src/analysis/contenthash.js';
import { walkContext } from '../src/context/walk.js';
import { materialize } from './support/fixture.js';
import { build, exclusive, profileOf, realBuilders, type RealBuilderId, REAL_BUILDER_TEST_TIMEOUT_MS } from './support/realbuilders.js';

const { available, reason } = await realBuilders();

/** Each BuildKit, its daemon (docker binary and socket) and the digest variant it uses. */
const BUILDKITS: { builder: RealBuilderId; docker: string; host: string; variant: 'v0.8' | 'current' }[] = [
  {
    builder: 'buildkit-0.8',
    docker: process.env.CTXDIFF_DOCKER ?? '/usr/bin/docker',
    host: `unix://${process.env.CTXDIFF_DOCKER_SOCK ?? '/tmp/ctxdiff-dockerd.sock'}`,
    variant: 'v0.8',
  },
  {
    builder: 'buildkit-28',
    docker: process.env.CTXDIFF_NEXT_DOCKER ?? '/opt/ctxdiff-next/bin/docker',
    host: process.env.CTXDIFF_NEXT_DOCKER_HOST ?? 'unix:///tmp/ctxdiff-dockerd-next.sock',
    variant: 'current',
  },
];

/** A daemon's BuildKit metadata database, when this process may read it. */
function locateMetadataDb(docker: string, host: string): { file?: string; problem?: string } {
  try {
    const rootDir = execFileSync(docker, ['info', '--format', '{{.DockerRootDir}}'], {
      env: { ...process.env, DOCKER_HOST: host, CTXDIFF_NEXT_DOCKER_HOST: host },
      encoding: 'utf8',
    }).trim();
    const file = path.join(rootDir, 'buildkit', 'metadata_v2.db');
    fs.accessSync(file, fs.constants.R_OK);
    return { file };
  } catch (error) {
    return { problem: `BuildKit metadata database not readable (${(error as Error).message.split('\n')[0]})` };
  }
}

const checks = BUILDKITS.map((k) => {
  const db = available.includes(k.builder) ? locateMetadataDb(k.docker, k.host) : { problem: reason ?? `${k.builder} unavailable` };
  const skip = db.problem ? `BuildKit digest check on ${k.builder} skipped: ${db.problem}` : null;
  if (skip) {
    if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(skip);
    console.warn(skip);
  }
  return { ...k, file: db.file, skip };
});

interface StoredRecord {
  /** Context-relative path ('' = root); directory headers end with '/' (the root's is '/'). */
  path: string;
  digest: string;
  /** BuildKit's CacheRecordType: 0 file, 1 directory (recursive), 2 directory header, 3 symlink. */
  type: number;
}

/**
 * Every "buildkit.contenthash.v0" value in a bbolt file, parsed. bbolt keeps a value's bytes contiguous (large
 * values in consecutive overflow pages), so scanning for the key finds each stored value, stale ones included.
 */
function storedRecordLists(db: Buffer): StoredRecord[][] {
  const key = Buffer.from('buildkit.contenthash.v0');
  const lists: StoredRecord[][] = [];
  for (let at = db.indexOf(key); at >= 0; at = db.indexOf(key, at + 1)) {
    const records: StoredRecord[] = [];
    let i = at + key.length;
    try {
      while (i < db.length && db[i] === 0x0a) {
        const [len, start] = varint(db, i + 1);
        const fields = protoFields(db.subarray(start, start + len));
        i = start + len;
        const rec = protoFields(fields.get(2) as Buffer ?? Buffer.alloc(0));
        const keyPath = ((fields.get(1) as Buffer | undefined) ?? Buffer.alloc(0)).toString('utf8').replaceAll('\0', '/');
        records.push({
          path: keyPath === '/' ? '/' : keyPath.replace(/^\//, ''),
          digest: ((rec.get(1) as Buffer | undefined) ?? Buffer.alloc(0)).toString('utf8'),
          type: (rec.get(2) as number | undefined) ?? 0,
        });
      }
    } catch {
      // The end of this value: whatever follows is not part of the list.
    }
    lists.push(records);
  }
  return lists;
}

function varint(b: Buffer, at: number): [number, number] {
  let value = 0;
  let shift = 0;
  for (let i = at; i < b.length; i++) {
    value += (b[i]! & 0x7f) * 2 ** shift;
    shift += 7;
    if (b[i]! < 0x80) return [value, i + 1];
  }
  throw new Error('truncated varint');
}

/** A protobuf message's fields: varints as numbers, length-delimited ones as bytes. */
function protoFields(b: Buffer): Map<number, number | Buffer> {
  const out = new Map<number, number | Buffer>();
  let i = 0;
  while (i < b.length) {
    const [tag, next] = varint(b, i);
    i = next;
    const wire = tag & 7;
    if (wire === 0) {
      const [v, n] = varint(b, i);
      out.set(tag >> 3, v);
      i = n;
    } else if (wire === 2) {
      const [len, n] = varint(b, i);
      if (n + len > b.length) throw new Error('truncated field');
      out.set(tag >> 3, b.subarray(n, n + len));
      i = n + len;
    } else {
      throw new Error(`wire type ${wire}`);
    }
  }
  return out;
}

describe.each(checks)('$builder', ({ builder, file, skip, variant }) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ctxdiff-contenthash-real-'));
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it.skipIf(skip !== null)(skip ?? `stores the digests buildkitDigest computes (variant ${variant})`, { timeout: REAL_BUILDER_TEST_TIMEOUT_MS }, async () => {
    const marker = `marker-${process.pid}-${Date.now().toString(36)}.txt`;
    await materialize(
      {
        Dockerfile: { content: 'FROM scratch\nCOPY . /ctx\n' },
        [marker]: { content: `unique ${marker}\n` },
        'private.txt': { content: 'secret', mode: 0o600 },
        'tool': { content: '#!/bin/sh\n', mode: 0o4755 },
        'src/app/main.ts': { content: 'main' },
        'src/app/util.ts': { content: 'util' },
        'src/locked': { dir: true, mode: 0o700 },
        'src/locked/x': { content: 'x' },
        'sticky': { dir: true, mode: 0o1777 },
        'empty': { dir: true },
        'link': { symlink: 'src/app' },
        'dangling': { symlink: 'nowhere' },
      },
      root,
    );
    // The client resets owners to 0:0: a chown must not show in the stored digests.
    if (process.getuid?.() === 0) fs.chownSync(path.join(root, 'src/app/util.ts'), 1234, 5678);

    const stored = await exclusive(builder, async () => {
      await build(builder, root);
      // BuildKit saves the records asynchronously after the build: wait for the list with the root digest.
      for (let attempt = 0; attempt < 50; attempt++) {
        const lists = storedRecordLists(fs.readFileSync(file!))
          .filter((l) => l.some((r) => r.path === marker) && l.some((r) => r.path === '' && r.digest !== ''));
        if (lists.length > 0) return lists;
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error(`no content digests stored for the context with ${marker}`);
    });

    const ctx = await walkContext(root, { profile: profileOf(builder), hash: false, threads: 0 });
    const hasher = new ContentHasher(ctx, (p) => fs.promises.readFile(path.join(root, p)), { variant, rootHeader: 'transfer' });
    for (const records of stored) {
      const compared = records.filter((r) => r.digest !== '' && r.type !== 2);
      // Every entry of the context, and the root, has its digest stored.
      expect(new Set(compared.map((r) => r.path))).toEqual(new Set(['', ...ctx.entries.map((e) => e.path)]));
      for (const r of compared) expect([r.path, await hasher.digest(r.path)]).toEqual([r.path, r.digest]);
      // The root's header is sha256("") for a transferred context.
      expect(records.find((r) => r.path === '/')?.digest).toBe('sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    }
  });
});
