import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import xxhash from 'xxhash-wasm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CHUNK_SIZE, FileHasher, STAT_FIELDS, STREAM_FROM } from '../src/context/hash.js';
import { HASH_BYTES, hexAt } from '../src/context/scan-result.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ctxdiff-hash-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('FileHasher.processBatch', () => {
  it('hashes and stats each file, and reports the ones it cannot read by their index', async () => {
    const api = await xxhash();
    const big = Buffer.alloc(CHUNK_SIZE + 777, 'ab');
    fs.writeFileSync(path.join(dir, 'a'), 'alpha');
    fs.writeFileSync(path.join(dir, 'big'), big);
    fs.writeFileSync(path.join(dir, 'z'), '');
    fs.chmodSync(path.join(dir, 'a'), 0o640);
    const hasher = await FileHasher.create();
    const r = hasher.processBatch(dir, ['a', 'missing', 'big', 'z'].join('\0'), false);

    expect(r.hashes.length).toBe(4 * HASH_BYTES);
    // The hashes' bytes read as the 16 hex digits of xxhash64, big-endian.
    expect(hexAt(r.hashes, 0)).toBe(api.h64ToString('alpha'));
    expect(hexAt(r.hashes, 2)).toBe(api.h64Raw(big).toString(16).padStart(16, '0'));
    expect(hexAt(r.hashes, 3)).toBe(api.h64Raw(new Uint8Array(0)).toString(16).padStart(16, '0'));
    expect(r.failures).toEqual([{ index: 1, path: path.join(dir, 'missing'), code: 'ENOENT', message: expect.stringContaining('ENOENT') }]);

    const st = fs.statSync(path.join(dir, 'a'), { bigint: true });
    // mode bits, uid, gid, size, mtime and ctime seconds and nanoseconds, inode and device (the stat cache's)
    expect([...r.stats.subarray(0, STAT_FIELDS)]).toEqual([
      0o640,
      Number(st.uid),
      Number(st.gid),
      5,
      Number(st.mtimeNs / 1_000_000_000n),
      Number(st.mtimeNs % 1_000_000_000n),
      Number(st.ctimeNs / 1_000_000_000n),
      Number(st.ctimeNs % 1_000_000_000n),
      Number(st.ino),
      Number(st.dev),
    ]);
    expect(r.stats[2 * STAT_FIELDS + 3]).toBe(big.length);
  });

  it('hashes files of every size around the streaming and chunk boundaries', async () => {
    const api = await xxhash();
    const sizes = [0, 1, STREAM_FROM - 1, STREAM_FROM, STREAM_FROM + 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 2 * CHUNK_SIZE];
    const names: string[] = [];
    const contents: Buffer[] = [];
    for (const size of sizes) {
      const b = Buffer.alloc(size);
      for (let i = 0; i < size; i++) b[i] = (i * 31 + size) & 0xff;
      names.push(`f${size}`);
      contents.push(b);
      fs.writeFileSync(path.join(dir, `f${size}`), b);
    }
    const r = (await FileHasher.create()).processBatch(dir, names.join('\0'), false);
    expect(r.failures).toEqual([]);
    contents.forEach((b, i) => {
      expect(hexAt(r.hashes, i), names[i]).toBe(api.h64Raw(b).toString(16).padStart(16, '0'));
      expect(r.stats[i * STAT_FIELDS + 3], names[i]).toBe(b.length);
    });
  });

  it('reads on when a file is larger than its stat said (it grew in between)', async () => {
    const api = await xxhash();
    const hasher = await FileHasher.create();
    for (const size of [1000, CHUNK_SIZE + 5]) {
      const b = Buffer.alloc(size, 'xyz');
      const f = path.join(dir, `grown${size}`);
      fs.writeFileSync(f, b);
      const fd = fs.openSync(f, 'r');
      try {
        expect(hasher.hashFd(fd, 10)).toBe(api.h64Raw(b));
        expect(hasher.bytesRead).toBe(size);
      } finally {
        fs.closeSync(fd);
      }
    }
  });
});
