/**
 * One snapshot for every builder: beside the entries one profile's walk sends, record how every other
 * profile's walk of the same directory differs (other ignore files, matchers, walkers), so that a snapshot
 * read under any profile is exactly what a walk with that profile gives. Profiles whose ignore file and
 * matcher are the same walk alike and are walked once; without any ignore file, or with one of plain literal
 * exclusions (see walkKey), every walk sends the same and nothing more is read. Other walks only stat (no hashing, no xattrs): the few entries they send that the
 * recorded walk does not are hashed and read here.
 */
import fs from 'node:fs';
import path from 'node:path';
import { builderIds, getProfile, type BuilderProfile } from '../builders/profiles.js';
import type { ContextWalks, Entry, IgnoreFileInfo, WalkVariant } from '../core/types.js';
import { locateIgnoreFile, parseIgnoreFile } from '../ignore/ignore-file.js';
import { dockerfileKey } from '../dockerfile/locate.js';
import type { EntryColumns } from '../context/entry-columns.js';
import { FileHasher, hex64 } from '../context/hash.js';
import { readXattrs } from '../context/xattrs.js';
import { walkContext, type WalkOptions } from '../context/walk.js';
import { entryTypeCode } from './format.js';

/** A pattern every matcher reads as the same exact path: no wildcard, escape, regexp character or space. */
const LITERAL = /^[A-Za-z0-9._@-]+(?:\/[A-Za-z0-9._@-]+)*$/;

/**
 * What decides a walk: the ignore file in force (none: every walk sends everything) and the matcher. Rules
 * that are all plain exclusions of literal paths (`node_modules`, `.git`, `dist/cache`) exclude exactly those
 * paths and what is below them under every matcher and walker (differences need wildcards, exceptions or a
 * rule that takes the Dockerfile or the ignore file, which the classic builder's client puts back): such
 * ignore files key on their rules alone, so profiles that read the same rules walk alike and the walk is
 * not repeated.
 */
function walkKey(dir: string, dockerfile: string | undefined, profile: BuilderProfile): { key: string; ignore: IgnoreFileInfo | null } {
  const info = locateIgnoreFile(dir, dockerfile, profile);
  if (!info) return { key: 'none', ignore: null };
  let rules;
  try {
    rules = parseIgnoreFile(info.text, info.file, profile.matcher);
  } catch {
    return { key: JSON.stringify([info.file, info.text, profile.matcher]), ignore: info };
  }
  const buildFiles = ['.dockerignore', '.containerignore', info.file, ...(dockerfile ? [dockerfileKey(dir, dockerfile)] : []), ...profile.defaultDockerfiles];
  const plain = rules.every((r) => !r.exclusion && LITERAL.test(r.pattern) && !buildFiles.some((f) => f === r.pattern || f.startsWith(`${r.pattern}/`)));
  return { key: plain ? JSON.stringify(['literal', rules.map((r) => r.pattern)]) : JSON.stringify([info.file, info.text, profile.matcher]), ignore: info };
}

/**
 * The walks of every profile but `recorded` (whose walk gave `entries`) of `dir`, as differences from
 * `entries`. A profile whose walk fails (its reader rejects the ignore file) is left out: read under it,
 * the snapshot says it cannot tell.
 */
export async function otherWalks(
  dir: string,
  recorded: BuilderProfile,
  entries: EntryColumns,
  options: WalkOptions & { xattrs: boolean },
): Promise<ContextWalks> {
  const own = walkKey(dir, options.dockerfile, recorded);
  const same: string[] = [];
  const groups = new Map<string, BuilderProfile[]>();
  const variants: WalkVariant[] = [];
  for (const id of builderIds()) {
    if (id === recorded.id) continue;
    const profile = getProfile(id);
    const { key, ignore } = walkKey(dir, options.dockerfile, profile);
    if (key !== own.key) groups.set(key, [...(groups.get(key) ?? []), profile]);
    else if (sameIgnore(ignore, own.ignore)) same.push(id);
    else {
      // The same entries, under another ignore file with the same rules.
      const v = variants.find((w) => sameIgnore(w.ignore, ignore));
      if (v) v.builders.push(id);
      else variants.push({ builders: [id], ignore, removed: [], entries: [] });
    }
  }
  if (groups.size === 0) return { same, variants };

  const rows = new Map<string, number>();
  for (let i = 0; i < entries.length; i++) {
    const row = entries.order[i]!;
    rows.set(entries.path(row), row);
  }
  let hasher: FileHasher | undefined;
  for (const profiles of groups.values()) {
    let walked;
    try {
      walked = await walkContext(dir, {
        profile: profiles[0]!,
        ...(options.dockerfile !== undefined ? { dockerfile: options.dockerfile } : {}),
        ...(options.threads !== undefined ? { threads: options.threads } : {}),
        hash: false,
        xattrs: false,
      });
    } catch {
      continue;
    }
    const seen = new Set<string>();
    const extra: Entry[] = [];
    for (const e of walked.entries) {
      seen.add(e.path);
      const row = rows.get(e.path);
      if (row !== undefined && sameAttributes(entries, row, e)) continue;
      if (e.type === 'file') {
        const reuse = row !== undefined ? recordedHash(entries, row, e) : undefined;
        e.hash = reuse ?? hashFile(path.join(dir, e.path), e.size, (hasher ??= await FileHasher.create()));
      }
      const x = row !== undefined ? entries.extras.get(row)?.xattrs : options.xattrs ? readXattrs(path.join(dir, e.path)) : undefined;
      if (x) e.xattrs = x;
      extra.push(e);
    }
    const removed: string[] = [];
    for (const p of rows.keys()) if (!seen.has(p)) removed.push(p);
    variants.push({ builders: profiles.map((p) => p.id), ignore: walked.ignore, removed, entries: extra });
  }
  return { same, variants };
}

function sameIgnore(a: IgnoreFileInfo | null, b: IgnoreFileInfo | null): boolean {
  return a === b || (a !== null && b !== null && a.file === b.file && a.text === b.text);
}

function sameAttributes(c: EntryColumns, row: number, e: Entry): boolean {
  return c.type[row] === entryTypeCode(e.type) && c.mode[row] === e.mode && c.uid[row] === e.uid && c.gid[row] === e.gid &&
    c.size[row] === e.size && c.mtimeSec[row] === e.mtimeSec && c.mtimeNsec[row] === e.mtimeNsec && c.extras.get(row)?.target === e.target;
}

/** The recorded hash of a file at the same path, if it has the same size and mtime. */
function recordedHash(c: EntryColumns, row: number, e: Entry): string | undefined {
  const at = c.hashAt[row]!;
  const same = c.size[row] === e.size && c.mtimeSec[row] === e.mtimeSec && c.mtimeNsec[row] === e.mtimeNsec;
  if (at < 0 || !same) return undefined;
  return c.hashBytes.subarray(at, at + 8).toString('hex');
}

function hashFile(abs: string, size: number, hasher: FileHasher): string {
  const fd = fs.openSync(abs, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  try {
    return hex64(hasher.hashFd(fd, size));
  } finally {
    fs.closeSync(fd);
  }
}
