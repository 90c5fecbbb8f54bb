/**
 * Rewrites a snapshot file's metadata header and version (as another ctxdiff, an older one or one on another
 * machine would have written it), keeping the columns and recomputing every checksum as the format specifies
 * (README "Snapshot format"): independent of src/snapshot/format.ts's writer.
 */
import zlib from 'node:zlib';

/** Builds a frame around arbitrary sections, following the documented layout (independently of the writer). */
export function frame(unpacked: Buffer, raw: Buffer = Buffer.alloc(0), version = 1): Buffer {
  const packed = zlib.deflateRawSync(unpacked);
  const h = Buffer.alloc(52);
  Buffer.from('\x89CTXSNAP', 'latin1').copy(h, 0);
  h.writeUInt32LE(version, 8);
  h.writeUInt32LE(1, 12);
  h.writeBigUInt64LE(BigInt(packed.length), 16);
  h.writeBigUInt64LE(BigInt(unpacked.length), 24);
  h.writeBigUInt64LE(BigInt(raw.length), 32);
  h.writeUInt32LE(zlib.crc32(unpacked), 40);
  h.writeUInt32LE(zlib.crc32(Buffer.concat([packed, raw])), 44);
  h.writeUInt32LE(zlib.crc32(h.subarray(0, 48)), 48);
  return Buffer.concat([h, packed, raw]);
}

/** Splits a snapshot into its documented parts. */
export function unframe(buf: Buffer): { unpacked: Buffer; raw: Buffer; header: Record<string, unknown> } {
  const packedLength = Number(buf.readBigUInt64LE(16));
  const unpacked = zlib.inflateRawSync(buf.subarray(52, 52 + packedLength));
  const raw = buf.subarray(52 + packedLength);
  const jsonLength = unpacked.readUInt32LE(0);
  return { unpacked, raw, header: JSON.parse(unpacked.toString('utf8', 4, 4 + jsonLength)) };
}

/** `buf` with its metadata header edited (`edit`), its version set and its hashes edited (`editRaw`). */
export function rewriteSnapshot(
  buf: Buffer,
  edit: (header: Record<string, unknown>) => void,
  version = buf.readUInt32LE(8),
  editRaw: (raw: Buffer) => void = () => {},
): Buffer {
  const { unpacked, raw: stored, header } = unframe(buf);
  const raw = Buffer.from(stored);
  editRaw(raw);
  const jsonLength = unpacked.readUInt32LE(0);
  edit(header);
  const json = Buffer.from(JSON.stringify(header));
  const lead = Buffer.alloc(4);
  lead.writeUInt32LE(json.length);
  return frame(Buffer.concat([lead, json, unpacked.subarray(4 + jsonLength)]), raw, version);
}
/** The same snapshot as format version 1 wrote it: no stat-cache columns (they must be empty) nor `stat`. */
export function asVersion1(buf: Buffer): Buffer {
  return rewriteSnapshot(
    buf,
    (h) => {
      const columns = h.columns as Record<string, number>;
      for (const c of ['ctimeSec', 'ctimeNsec', 'ino', 'dev']) {
        if (columns[c] !== 0) throw new Error(`asVersion1: column ${c} is not empty`);
        delete columns[c];
      }
      delete h.stat;
    },
    1,
  );
}
