/**
 * JSON reporter: the machine contract. Every document has `schemaVersion` (bumped only on incompatible
 * changes; fields may be added within a version). Documented in README.md, "JSON output".
 */
import { octalMode } from '../format.js';
import type { Entry } from '../types.js';
import type { Reporter } from './index.js';

export const JSON_SCHEMA_VERSION = 1;

/** "2026-11-21T08:40:25.123456789Z": full nanosecond precision. */
export function isoNs(sec: number, nsec: number): string {
  const base = new Date(sec * 1000).toISOString().slice(0, 19);
  return `${base}.${String(nsec).padStart(9, '0')}Z`;
}

export function entryJson(e: Entry): Record<string, unknown> {
  const o: Record<string, unknown> = {
    path: e.path,
    type: e.type,
    mode: octalMode(e.mode),
    size: e.size,
    uid: e.uid,
    gid: e.gid,
    mtime: isoNs(e.mtimeSec, e.mtimeNsec),
  };
  if (e.target !== undefined) o.target = e.target;
  if (e.hash !== undefined) o.hash = e.hash;
  if (e.devMajor !== undefined) o.device = { major: e.devMajor, minor: e.devMinor ?? 0 };
  return o;
}

const doc = (o: Record<string, unknown>) => JSON.stringify({ schemaVersion: JSON_SCHEMA_VERSION, ...o }, null, 2) + '\n';

export const jsonReporter: Reporter = {
  snapshot: (r) =>
    doc({
      file: r.file,
      context: r.context.name,
      builder: r.context.builder,
      ignoreFile: r.context.ignore?.file ?? null,
      entries: r.context.entries.length,
      files: r.files,
      bytes: r.bytes,
    }),
  tree: (r) =>
    doc({
      builder: r.tree.builder,
      context: r.context.name,
      ...(r.depth !== undefined ? { depth: r.depth } : {}),
      entries: r.nodes.map((n) => ({ path: n.path, type: n.type, checksum: n.checksum, count: n.count, size: n.size })),
    }),
  ls: (r) =>
    doc({
      builder: r.context.builder,
      context: r.context.name,
      ignoreFile: r.context.ignore?.file ?? null,
      entries: r.context.entries.map(entryJson),
    }),
};
