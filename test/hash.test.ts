import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import xxhash from 'xxhash-wasm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CHUNK_SIZE, FileHasher, STAT_FIELDS } from '../src/hash.js';
import { HASH_BYTES, hexAt } from '../src/scan.js';

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
    // mode bits, uid, gid, size, mtime seconds and nanoseconds
    expect([...r.stats.subarray(0, STAT_FIELDS)]).toEqual([
      0o640,
      Number(st.uid),
      Number(st.gid),
      5,
      Number(st.mtimeNs / 1_000_000_000n),
      Number(st.mtimeNs % 1_000_000_000n),
    ]);
    expect(r.stats[2 * STAT_FIELDS + 3]).toBe(big.length);
  });
});
