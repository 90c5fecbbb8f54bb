/**
 * Path-level diff of two contexts: which paths were added or removed, and which raw attributes changed.
 * Builder-independent: the verdict engine (verdicts.ts) decides what each change means to a builder.
 * Both entry lists are in canonical order, so this is one linear merge, fit for millions of entries.
 */
import type { Context, Entry } from '../core/types.js';
import { comparePaths } from '../core/types.js';
import { xattrsKey } from '../context/xattrs.js';
import { columnsOf, compareRows, entryOf, sameRows, type EntryColumns } from '../context/entry-columns.js';

/**
 * A context whose entries are objects or columns (EntryColumns: what a snapshot or a walk of a large context
 * gives without an object per entry). The diff of two contexts makes objects only for the entries that
 * changed.
 */
export type AnyContext = Omit<Context, 'entries'> & { entries: Entry[] | EntryColumns };

/** The entry at `path` (binary search in canonical order for columns), or undefined. */
export function entryAt(ctx: AnyContext, path: string): Entry | undefined {
  const entries = ctx.entries;
  if (Array.isArray(entries)) return entries.find((e) => e.path === path);
  let lo = 0;
  let hi = entries.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const row = entries.order[mid]!;
    const c = comparePaths(entries.path(row), path);
    if (c === 0) return entryOf(entries, row);
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

export type ChangeKind = 'added' | 'removed' | 'type' | 'content' | 'mode' | 'owner' | 'mtime' | 'target' | 'device' | 'xattrs';

export interface PathChange {
  /** "." for the context root itself. */
  path: string;
  kinds: ChangeKind[];
  before?: Entry;
  after?: Entry;
}

/**
 * The attributes that differ between two entries at the same path. Extended attributes are compared only
 * when both sides read them (`xattrs`).
 */
export function changedKinds(a: Entry, b: Entry, xattrs = true): ChangeKind[] {
  const kinds: ChangeKind[] = [];
  if (a.type !== b.type) return ['type'];
  // A file that changed while it was read: its content is not known, so never "unchanged" (the verdict
  // engine judges such a change unknown, see Entry.changedWhileRead).
  if (a.type === 'file' && (a.size !== b.size || a.hash !== b.hash || a.changedWhileRead || b.changedWhileRead)) kinds.push('content');
  if (a.mode !== b.mode) kinds.push('mode');
  if (a.uid !== b.uid || a.gid !== b.gid) kinds.push('owner');
  if (a.mtimeSec !== b.mtimeSec || a.mtimeNsec !== b.mtimeNsec) kinds.push('mtime');
  if (a.target !== b.target) kinds.push('target');
  if (a.devMajor !== b.devMajor || a.devMinor !== b.devMinor) kinds.push('device');
  if (xattrs && (a.xattrs || b.xattrs) && xattrsKey(a.xattrs) !== xattrsKey(b.xattrs)) kinds.push('xattrs');
  return kinds;
}

function rootEntry(ctx: Pick<Context, 'root'>): Entry | undefined {
  if (!ctx.root) return undefined;
  return { path: '.', type: 'dir', size: 0, ...ctx.root };
}

/** Every path whose presence or attributes differ, in canonical order (the root first, as "."). */
export function diffContexts(before: AnyContext, after: AnyContext): PathChange[] {
  const out: PathChange[] = [];
  const xattrs = before.xattrs === true && after.xattrs === true;
  const ra = rootEntry(before);
  const rb = rootEntry(after);
  if (ra && rb) {
    const kinds = changedKinds(ra, rb, xattrs);
    if (kinds.length > 0) out.push({ path: '.', kinds, before: ra, after: rb });
  }
  if (!Array.isArray(before.entries) || !Array.isArray(after.entries)) {
    const A = Array.isArray(before.entries) ? columnsOf(before.entries) : before.entries;
    const B = Array.isArray(after.entries) ? columnsOf(after.entries) : after.entries;
    diffColumns(A, B, xattrs, out);
    return out;
  }
  const A = before.entries;
  const B = after.entries;
  let i = 0;
  let j = 0;
  while (i < A.length || j < B.length) {
    const a = A[i];
    const b = B[j];
    const c = a === undefined ? 1 : b === undefined ? -1 : comparePaths(a.path, b.path);
    if (c < 0) {
      out.push({ path: a!.path, kinds: ['removed'], before: a });
      i++;
    } else if (c > 0) {
      out.push({ path: b!.path, kinds: ['added'], after: b });
      j++;
    } else {
      const kinds = changedKinds(a!, b!, xattrs);
      if (kinds.length > 0) out.push({ path: a!.path, kinds, before: a, after: b });
      i++;
      j++;
    }
  }
  return out;
}

/** The column form of the merge in diffContexts: objects only for the entries that changed. */
function diffColumns(A: EntryColumns, B: EntryColumns, xattrs: boolean, out: PathChange[]): void {
  // After entries i-1 and j-1 matched, the leading bytes both share with them are the same (see sharedPrefix).
  const sa = A.sharedPrefix;
  const sb = B.sharedPrefix;
  const skips = sa !== undefined && sb !== undefined;
  let matched = false;
  let i = 0;
  let j = 0;
  while (i < A.length || j < B.length) {
    const ra = i < A.length ? A.order[i]! : -1;
    const rb = j < B.length ? B.order[j]! : -1;
    const c: number = ra < 0 ? 1 : rb < 0 ? -1 : compareRows(A, ra, B, rb, matched && skips ? Math.min(sa![i]!, sb![j]!) : 0);
    matched = c === 0;
    if (c < 0) {
      const a = entryOf(A, ra);
      out.push({ path: a.path, kinds: ['removed'], before: a });
      i++;
    } else if (c > 0) {
      const b = entryOf(B, rb);
      out.push({ path: b.path, kinds: ['added'], after: b });
      j++;
    } else {
      if (!sameRows(A, ra, B, rb)) {
        const a = entryOf(A, ra);
        const b = entryOf(B, rb, a.path);
        const kinds = changedKinds(a, b, xattrs);
        if (kinds.length > 0) out.push({ path: a.path, kinds, before: a, after: b });
      }
      i++;
      j++;
    }
  }
}
