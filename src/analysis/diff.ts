/**
 * Path-level diff of two contexts: which paths were added or removed, and which raw attributes changed.
 * Builder-independent: the verdict engine (verdicts.ts) decides what each change means to a builder.
 * Both entry lists are in canonical order, so this is one linear merge, fit for millions of entries.
 */
import type { Context, Entry } from '../core/types.js';
import { comparePaths } from '../core/types.js';
import { xattrsKey } from '../context/xattrs.js';
import { columnsOf, compareRows, entryOf, plainRows, sameHashes, sameRows, type EntryColumns } from '../context/entry-columns.js';
import { TYPE_CODES } from '../context/scan-result.js';

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
  const out = changesBetween(before, after);
  for (let k = 0; k < out.length; k++) {
    const c = out[k]!;
    if (c instanceof RowChange) out[k] = c.plain();
  }
  return out;
}

/**
 * diffContexts, but a change between two rows of column tables makes its entries only when they are first
 * read (a RowChange, whose entries are getters): what the verdict engine needs, which reads the entries of
 * only the changes that bust a step or whose kinds need them. Not for what leaves this module's callers (a
 * spread or a structured clone of a RowChange has no entries): there, diffContexts.
 */
export function changesBetween(before: AnyContext, after: AnyContext): PathChange[] {
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

/** Type code of regular files in a table's `type` column. */
const FILE_CODE = TYPE_CODES.indexOf('file');

/**
 * A change between a row of one table and a row of the other (-1: no row on that side), made by diffColumns:
 * its path and kinds at once, an entry made from its row when first read. A diff of two large contexts so
 * makes entries only for the changes something looks at. `plain()` is the change as diffContexts gives it.
 */
class RowChange implements PathChange {
  private madeBefore: Entry | undefined;
  private madeAfter: Entry | undefined;

  constructor(
    readonly path: string,
    readonly kinds: ChangeKind[],
    private readonly a: EntryColumns,
    private readonly ra: number,
    private readonly b: EntryColumns,
    private readonly rb: number,
  ) {}

  get before(): Entry | undefined {
    return this.ra < 0 ? undefined : (this.madeBefore ??= entryOf(this.a, this.ra, this.path));
  }

  get after(): Entry | undefined {
    return this.rb < 0 ? undefined : (this.madeAfter ??= entryOf(this.b, this.rb, this.path));
  }

  plain(): PathChange {
    const { path, kinds } = this;
    if (this.ra < 0) return { path, kinds, after: this.after! };
    if (this.rb < 0) return { path, kinds, before: this.before! };
    return { path, kinds, before: this.before!, after: this.after! };
  }
}

/**
 * The attributes that differ between row `ra` of `A` and row `rb` of `B` (at the same path), as changedKinds
 * finds them in their entries; null when either row has extras or changed while it was read (the entries
 * decide then).
 */
function rowKinds(A: EntryColumns, ra: number, B: EntryColumns, rb: number): ChangeKind[] | null {
  if (!plainRows(A, ra, B, rb)) return null;
  const type = A.type[ra]!;
  if (type !== B.type[rb]) return ['type'];
  const kinds: ChangeKind[] = [];
  if (type === FILE_CODE && (A.size[ra] !== B.size[rb] || !sameHashes(A, ra, B, rb))) kinds.push('content');
  if (A.mode[ra] !== B.mode[rb]) kinds.push('mode');
  if (A.uid[ra] !== B.uid[rb] || A.gid[ra] !== B.gid[rb]) kinds.push('owner');
  if (A.mtimeSec[ra] !== B.mtimeSec[rb] || A.mtimeNsec[ra] !== B.mtimeNsec[rb]) kinds.push('mtime');
  return kinds;
}

/** The column form of the merge in diffContexts: an object only for each entry that changed (a RowChange). */
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
      out.push(new RowChange(A.path(ra), ['removed'], A, ra, B, -1));
      i++;
    } else if (c > 0) {
      out.push(new RowChange(B.path(rb), ['added'], A, -1, B, rb));
      j++;
    } else {
      if (!sameRows(A, ra, B, rb)) {
        const path = A.path(ra);
        const kinds = rowKinds(A, ra, B, rb) ?? changedKinds(entryOf(A, ra, path), entryOf(B, rb, path), xattrs);
        if (kinds.length > 0) out.push(new RowChange(path, kinds, A, ra, B, rb));
      }
      i++;
      j++;
    }
  }
}
