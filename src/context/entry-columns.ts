/** The walk's output as columns: a context's entries without an object per entry (walk.ts makes it, the snapshot encodes it). */
import type { Entry } from '../core/types.js';

/**
 * A context's entries as a table of rows in any order, with the canonical order given apart: what
 * `writeSnapshotColumns` encodes, for walks that never make an object per entry. Entry i (in canonical
 * order) is row `order[i]`.
 */
export interface EntryColumns {
  length: number;
  order: Int32Array;
  /** Row r's path. */
  path(row: number): string;
  /**
   * Optional, when every path is ASCII: their bytes, row r's path being `bytes[starts[r] .. starts[r] +
   * lengths[r])`. Front coding compares bytes much faster than the characters of strings, and the walk then
   * never makes a string per path.
   */
  asciiPaths?: { bytes: Buffer; starts: Int32Array; lengths: Int32Array };
  /**
   * Per row, `stride` numbers: at the offsets in `fields`, the type code of the scan (scan-result.ts TYPE_CODES,
   * which the snapshot format's `type` column shares), mode, uid, gid, size, mtimeSec and mtimeNsec.
   */
  nums: Float64Array;
  stride: number;
  fields: { type: number; mode: number; uid: number; gid: number; size: number; mtimeSec: number; mtimeNsec: number };
  /** Per row: where its content hash (8 bytes, as in the raw section) starts in `hashBytes`; -1: none. */
  hashAt: Int32Array;
  hashBytes: Buffer;
  /** Rows of the files that changed while they were read (Entry.changedWhileRead), in canonical order. */
  changedWhileRead?: number[];
  /** The rarer attributes, by row. */
  extras: ReadonlyMap<number, Pick<Entry, 'target' | 'devMajor' | 'devMinor' | 'xattrs'>>;
}
