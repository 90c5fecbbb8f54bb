import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { FINAL_BLOCK, crc32Combine, deflatePart, deflatePartSync } from '../src/snapshot/deflate.js';

/** Bytes that compress a little (a repeated random alphabet), so that DEFLATE has back references to make. */
function sample(length: number, seed: number): Buffer {
  const alphabet = crypto.createHash('sha256').update(String(seed)).digest();
  const b = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) b[i] = alphabet[(i * 7 + (i >> 5)) % 32]! ^ (i % 251 === 0 ? 0xff : 0);
  return b;
}

describe('crc32Combine', () => {
  it('is the CRC-32 of the two parts joined, from the CRC of each and the length of the second', () => {
    const lengths = [0, 1, 2, 3, 7, 8, 255, 256, 4096, 65_537, 3 << 20];
    for (const a of [0, 1, 13, 1000]) {
      for (const n of lengths) {
        const first = crypto.randomBytes(a);
        const second = crypto.randomBytes(n);
        const joined = zlib.crc32(Buffer.concat([first, second]));
        expect(crc32Combine(zlib.crc32(first), zlib.crc32(second), n)).toBe(joined);
      }
    }
  });
});

describe('packed section pieces', () => {
  it('joined and ended with the final block, are one DEFLATE stream of the parts joined, nothing left over', async () => {
    const parts = [sample(10, 1), Buffer.alloc(0), sample(300_000, 2), sample(9 << 20, 3), sample(1, 4)];
    const sync = parts.flatMap((p) => deflatePartSync(p));
    const pooled = (await Promise.all(parts.map((p) => deflatePart(p)))).flat();
    // The same bytes on this thread and on the thread pool.
    expect(Buffer.concat(pooled).equals(Buffer.concat(sync))).toBe(true);
    // A part over 4 MiB is cut into pieces compressed each on its own; an empty part makes none.
    expect(deflatePartSync(parts[3]!).length).toBe(3);
    expect(deflatePartSync(Buffer.alloc(0))).toStrictEqual([]);
    const packed = Buffer.concat([...sync, FINAL_BLOCK]);
    const out = zlib.inflateRawSync(packed, { info: true }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
    expect(out.buffer.equals(Buffer.concat(parts))).toBe(true);
    expect(out.engine.bytesWritten).toBe(packed.length);
    // Without the final block the stream is not ended: an inflater reports it cut short.
    expect(() => zlib.inflateRawSync(Buffer.concat(sync), { finishFlush: zlib.constants.Z_FINISH })).toThrow(/unexpected end/);
  });
});
