/**
 * JSON reporter: the machine contract. Every document has `schemaVersion` (bumped only on incompatible
 * changes; fields may be added within a version). Documented in README.md, "JSON output".
 */
import { octalMode } from './format.js';
import { doc } from './json-doc.js';
import type { Entry } from '../core/types.js';
import { ignoredGroups } from './diff-groups.js';
import type { DiffReport, RenderMeta, Reporter } from './types.js';

export { JSON_SCHEMA_VERSION } from './json-doc.js';

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
  if (e.xattrs !== undefined) o.xattrs = e.xattrs;
  if (e.devMajor !== undefined) o.device = { major: e.devMajor, minor: e.devMinor ?? 0 };
  if (e.changedWhileRead) o.changedWhileRead = true;
  return o;
}

export const jsonReporter: Reporter = {
  snapshot: (r, _s, meta) =>
    doc({
      file: r.file,
      context: r.context.name,
      builder: r.context.builder,
      ignoreFile: r.context.ignore?.file ?? null,
      entries: r.entries,
      files: r.files,
      bytes: r.bytes,
    }, meta.warnings),
  tree: (r, _s, meta) =>
    doc({
      builder: r.tree.builder,
      context: r.context.name,
      ...(r.depth !== undefined ? { depth: r.depth } : {}),
      entries: r.nodes.map((n) => ({
        path: n.path,
        type: n.type,
        checksum: n.checksum,
        count: n.count,
        size: n.size,
        ...(r.digests ? { digest: r.digests[n.path] } : {}),
      })),
    }, meta.warnings),
  ls: (r, _s, meta) =>
    doc({
      builder: r.context.builder,
      context: r.context.name,
      ignoreFile: r.context.ignore?.file ?? null,
      entries: r.context.entries.map(entryJson),
    }, meta.warnings),
  diff: diffJson,
};

function changeJson(c: { path: string; kinds: string[]; before?: Entry; after?: Entry; ignore?: unknown }, extra: Record<string, unknown> = {}) {
  return {
    path: c.path,
    kinds: c.kinds,
    ...extra,
    before: c.before ? entryJson(c.before) : null,
    after: c.after ? entryJson(c.after) : null,
    ...(c.ignore ? { ignore: c.ignore } : {}),
  };
}

function diffJson(r: DiffReport, _s: unknown, meta: RenderMeta): string {
  const res = r.result;
  const count = (v: string) => res.steps.filter((s) => s.verdict === v).length;
  return doc({
    builder: res.builder,
    before: { source: r.before.name, kind: r.before.kind },
    after: { source: r.after.name, kind: r.after.kind },
    dockerfile: res.dockerfile,
    summary: {
      steps: res.steps.length,
      rebuilt: count('rebuilt'),
      cached: count('cached'),
      unknown: count('unknown'),
      changedPaths: res.changedPaths,
      ignoredPaths: res.ignored.length,
    },
    steps: res.steps.map((s) => ({
      stage: s.stage,
      line: s.line,
      instruction: s.instruction,
      text: s.text,
      verdict: s.verdict,
      cause: s.cause,
      ...(s.causeLine !== undefined ? { causeLine: s.causeLine } : {}),
      ...(s.note !== undefined ? { note: s.note } : {}),
      changes: s.changes.map((c) =>
        changeJson(c, {
          ignoredKinds: c.ignoredKinds,
          ...(c.note ? { note: c.note } : {}),
          ...(c.input !== undefined ? { input: c.input } : {}),
          ...(c.context !== undefined ? { context: c.context } : {}),
        }),
      ),
      inputs: s.inputs,
    })),
    ...(res.target !== undefined ? { target: res.target } : {}),
    notBuilt: res.notBuilt,
    ignoredChanges: ignoredGroups(r).map((g) => ({
      reason: g.reason,
      explanation: g.explanation,
      kinds: g.kinds,
      count: g.count,
      directories: g.directories.map((d) => ({ directory: d.directory, count: d.count, ...(r.all ? { paths: d.paths } : {}) })),
    })),
    hazards: res.hazards,
    warnings: res.warnings,
  }, meta.warnings);
}
