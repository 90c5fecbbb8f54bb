/**
 * Snapshots of context directories straight from the walk: the walk's results are collected as columns and
 * encoded as such, with no object per entry. The file is byte for byte the one `writeSnapshot` writes for
 * `walkContext` of the same directory (given the same creation time), in less time and memory. `record` adds
 * how the build is invoked and its named contexts to the snapshot.
 */
import { entryTypeCode, writeSnapshotColumns, type SnapshotMeta } from './format.js';
import type { Context } from '../core/types.js';
import { walkContextColumns, type WalkOptions } from '../context/walk.js';
import { defaultProfile } from '../builders/profiles.js';
import { otherWalks } from './walks.js';

const FILE_TYPE_CODE = entryTypeCode('file');

/** What a snapshot of a directory holds, in sum. */
export interface DirectorySnapshot {
  /** The context's metadata, as recorded. */
  context: Omit<Context, 'entries'>;
  meta: SnapshotMeta;
  /** Entries recorded, and how many of them are regular files, with their total size in bytes. */
  entries: number;
  files: number;
  bytes: number;
}

/**
 * Walks a context directory (as walkContext does, with the same options, but extended attributes read unless
 * `xattrs: false`) and writes its snapshot to `file` atomically (as writeSnapshot does), with the other
 * builder profiles' walks (see walks.ts), so that the snapshot serves every builder. `meta` fields default
 * as with writeSnapshot. Throws what those throw.
 */
export async function snapshotDirectory(
  dir: string,
  file: string,
  options: WalkOptions = {},
  meta?: Partial<SnapshotMeta>,
  record: Pick<Context, 'invocation' | 'namedContexts'> = {},
): Promise<DirectorySnapshot> {
  const withXattrs = { ...options, xattrs: options.xattrs ?? true };
  const walked = await walkContextColumns(dir, withXattrs);
  const { entries } = walked;
  const context = { ...walked.context, ...record };
  context.walks = await otherWalks(dir, options.profile ?? defaultProfile(), entries, withXattrs);
  const written = await writeSnapshotColumns(file, context, entries, meta);
  let files = 0;
  let bytes = 0;
  const { type, size } = entries;
  for (let i = 0; i < entries.length; i++) {
    const row = entries.order[i]!;
    if (type[row] === FILE_TYPE_CODE) {
      files++;
      bytes += size[row]!;
    }
  }
  return { context, meta: written, entries: entries.length, files, bytes };
}
