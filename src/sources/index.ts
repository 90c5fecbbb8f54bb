/**
 * Context sources: a build context can come from a directory (walked), a snapshot file, or a tar archive
 * (`docker build - < ctx.tar`; `-` = standard input). All three sit behind one small interface.
 */
import fs from 'node:fs';
import path from 'node:path';
import { IoError } from '../core/errors.js';
import { defaultProfile, getProfile, type BuilderProfile } from '../builders/profiles.js';
import { isSnapshotFile, openSnapshotColumns, readSnapshot, statCacheOf, type OpenedSnapshot, type SnapshotMeta, type SnapshotStatCache } from '../snapshot/format.js';
import type { Context } from '../core/types.js';
import { walkContext, walkContextColumns, type WalkProgress } from '../context/walk.js';
import { columnsOf, entriesOf, type EntryColumns, type PendingStatCache } from '../context/entry-columns.js';
import { contextFor } from './refilter.js';

export type SourceKind = 'directory' | 'snapshot' | 'tar';

export interface LoadOptions {
  /** Builder profile; default: a snapshot's own, else the default profile. */
  profile?: BuilderProfile;
  /** Dockerfile given with -f. */
  dockerfile?: string;
  /** Hash worker threads for directories. */
  threads?: number;
  onProgress?: (p: WalkProgress) => void;
  /** Read extended attributes (directories; default per profile). */
  xattrs?: boolean;
  /** A path of a directory context that cannot be read: an error (default) or a warning (WalkOptions.unreadable). */
  unreadable?: 'error' | 'warn';
  /** Called with each warning as it comes (they are also in LoadedContext.warnings). */
  onWarning?: (message: string) => void;
  /** loadColumns of a directory: an earlier walk's entries to re-use hashes from (WalkOptions.cache). */
  cache?: EntryColumns | PendingStatCache;
  /** Told why `cache` could not be used. */
  cacheSkipped?: (reason: string) => void;
  /** loadColumns of a directory: about how many entries it holds (WalkOptions.expectedEntries). */
  expectedEntries?: number;
  /** loadColumns of a directory: about how many bytes its paths take (WalkOptions.expectedPathBytes). */
  expectedPathBytes?: Promise<number>;
  /**
   * loadColumns of a large snapshot: decode it on a reader thread (DecodeOptions.thread), for a caller that
   * has other work for this one meanwhile (decoding the other side of a diff).
   */
  decodeOnThread?: boolean;
}

/** A context loaded with its entries as columns (see loadColumns). */
export interface LoadedColumns {
  kind: SourceKind;
  context: Omit<Context, 'entries'> & { entries: EntryColumns };
  meta?: SnapshotMeta;
  warnings: string[];
  /** A snapshot's entries as recorded (before any re-filtering), for a walk's stat cache. */
  recorded?: EntryColumns;
}

export interface LoadedContext {
  kind: SourceKind;
  context: Context;
  /** Present for snapshots. */
  meta?: SnapshotMeta;
  /** Things the user should know (printed on stderr by the CLI). */
  warnings: string[];
}

export interface ContextSource {
  readonly kind: SourceKind;
  readonly location: string;
  load(options?: LoadOptions): Promise<LoadedContext>;
  /** The same context with its entries as columns: no object per entry where the source allows. */
  loadColumns(options?: LoadOptions): Promise<LoadedColumns>;
  /**
   * A source that records an earlier walk (a snapshot): its entries as recorded, as a stat cache for the walk
   * of a directory, known to be usable or not before they are decoded (so that walk can start at once; they
   * are decoded when it calls `begin`), and how many entries it declares. The source decodes them once, for
   * this and for loadColumns.
   */
  statCache?(): Promise<SnapshotStatCache>;
}

class DirectorySource implements ContextSource {
  readonly kind = 'directory';
  constructor(readonly location: string) {}
  async load(o: LoadOptions = {}): Promise<LoadedContext> {
    const warnings: string[] = [];
    const context = await walkContext(this.location, {
      ...o,
      dockerfile: dockerfileFor(this.location, o.dockerfile),
      onWarning: (w) => {
        warnings.push(w);
        o.onWarning?.(w);
      },
    });
    return { kind: this.kind, context, warnings };
  }
  async loadColumns(o: LoadOptions = {}): Promise<LoadedColumns> {
    const warnings: string[] = [];
    const { context, entries } = await walkContextColumns(this.location, {
      ...o,
      dockerfile: dockerfileFor(this.location, o.dockerfile),
      onWarning: (w) => {
        warnings.push(w);
        o.onWarning?.(w);
      },
    });
    return { kind: this.kind, context: { ...context, entries }, warnings };
  }
}

class SnapshotSource implements ContextSource {
  readonly kind = 'snapshot';
  private opened: Promise<OpenedSnapshot> | undefined;
  constructor(readonly location: string) {}
  private open(): Promise<OpenedSnapshot> {
    return (this.opened ??= openSnapshotColumns(this.location));
  }
  async statCache(): Promise<SnapshotStatCache> {
    return statCacheOf(await this.open());
  }
  async load(o: LoadOptions = {}): Promise<LoadedContext> {
    const { context, meta } = await readSnapshot(this.location);
    const warnings: string[] = [];
    const wanted = o.profile ?? getProfile(context.builder);
    const ctx = contextFor(context, wanted, warnings, this.location);
    return { kind: this.kind, context: ctx, meta, warnings };
  }
  async loadColumns(o: LoadOptions = {}): Promise<LoadedColumns> {
    const { context, entries, meta } = await (await this.open()).decode({ thread: o.decodeOnThread === true });
    const wanted = o.profile ?? getProfile(context.builder);
    if (context.builder === wanted.id && !(wanted.attributes.xattrs === 'busts' && context.xattrs !== true)) {
      const { walks: _walks, ...recorded } = context;
      return { kind: this.kind, context: { ...recorded, entries }, meta, warnings: [], recorded: entries };
    }
    // Read under another profile (its recorded walk, or filtered again): through objects, as load() does.
    const warnings: string[] = [];
    const { entries: kept, ...rest } = contextFor({ ...context, entries: entriesOf(entries) }, wanted, warnings, this.location);
    return { kind: this.kind, context: { ...rest, entries: columnsOf(kept) }, meta, warnings, recorded: entries };
  }
}

class TarSource implements ContextSource {
  readonly kind = 'tar';
  constructor(readonly location: string) {}
  async load(o: LoadOptions = {}): Promise<LoadedContext> {
    // Loaded on demand: the tar reader (tar-stream) is the heaviest module to start.
    const { readTarContext } = await import('./tar.js');
    const context = await readTarContext(this.location, { profile: o.profile ?? defaultProfile(), dockerfile: o.dockerfile });
    return { kind: this.kind, context, warnings: [] };
  }
  async loadColumns(o: LoadOptions = {}): Promise<LoadedColumns> {
    const { context: { entries, ...rest }, warnings } = await this.load(o);
    return { kind: this.kind, context: { ...rest, entries: columnsOf(entries) }, warnings };
  }
}

/**
 * A relative -f path names the file inside the context when it exists there (so one -f serves both sides of
 * a diff of two workspaces); otherwise it is relative to the working directory, as with docker build.
 */
export function dockerfileFor(dir: string, file: string | undefined): string | undefined {
  if (file === undefined || path.isAbsolute(file)) return file;
  const inside = path.join(dir, file);
  return fs.existsSync(inside) ? inside : file;
}

/** Pick the source for a command-line argument: `-` (tar on stdin), a directory, a snapshot, or a tar file. */
export function resolveSource(spec: string): ContextSource {
  if (spec === '-') return new TarSource(spec);
  let st: fs.Stats;
  try {
    st = fs.statSync(spec);
  } catch (e) {
    throw IoError.from(spec, e);
  }
  if (st.isDirectory()) return new DirectorySource(spec);
  if (isSnapshotFile(spec)) return new SnapshotSource(spec);
  return new TarSource(spec);
}

/** Load a context from a command-line argument. */
export function loadContext(spec: string, options: LoadOptions = {}): Promise<LoadedContext> {
  return resolveSource(spec).load(options);
}
