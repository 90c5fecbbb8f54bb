/**
 * Per-directory checksums of a context, computed bottom-up: a directory's checksum covers its own counted
 * attributes and, for each child in canonical order, the child's name and checksum. A change anywhere thus
 * changes the entry, every ancestor and nothing else. Which attributes count is the builder profile's choice.
 */
import type { XXHashAPI } from 'xxhash-wasm';
import { hex64, xxhashApi } from '../context/hash.js';
import type { AttributeEffects, BuilderProfile } from '../builders/profiles.js';
import type { Context, Entry, EntryType } from '../core/types.js';
import { xattrsKey } from '../context/xattrs.js';

export interface TreeNode {
  /** "." for the context root. */
  path: string;
  type: EntryType;
  /** xxhash64 (16 hex digits) of the counted attributes, and for directories of everything below. */
  checksum: string;
  /** Entries below a directory (all depths, itself excluded); 1 for a non-directory. */
  count: number;
  /** Total bytes of regular files below a directory; the file's own size for a file. */
  size: number;
  /** 0 for the root, 1 for its children, … */
  depth: number;
}

export interface Tree {
  builder: string;
  /** Every node in canonical order, root first. */
  nodes: TreeNode[];
}

/** Which attributes of an entry are counted, as a string record (before hashing). */
export function entryRecord(e: Pick<Entry, 'type' | 'mode' | 'uid' | 'gid' | 'size' | 'mtimeSec' | 'mtimeNsec' | 'target' | 'hash' | 'devMajor' | 'devMinor' | 'xattrs'>, a: AttributeEffects, isRoot = false): string {
  const isDir = e.type === 'dir';
  const modeCounts = isRoot ? a.rootMode : isDir ? a.subdirMode : a.fileMode;
  let r = e.type;
  const mode = isDir ? e.mode : e.mode & ~a.ignoredFileModeBits;
  r += modeCounts === 'busts' ? `\0m${mode.toString(8)}` : '\0';
  r += a.owner === 'busts' ? `\0o${e.uid}:${e.gid}` : '\0';
  r += a.mtime === 'busts' ? `\0t${e.mtimeSec}.${e.mtimeNsec}` : '\0';
  r += a.xattrs === 'busts' && e.xattrs ? `\0x${xattrsKey(e.xattrs)}` : '\0';
  if (e.type === 'file') r += `\0c${e.hash ?? ''}:${e.size}`;
  else if (e.type === 'symlink') r += `\0l${e.target ?? ''}`;
  else if (e.type === 'char' || e.type === 'block') r += `\0d${e.devMajor ?? 0},${e.devMinor ?? 0}`;
  return r;
}

interface DirAcc {
  parts: string[];
  count: number;
  size: number;
}

function depthOf(p: string): number {
  if (p === '.') return 0;
  let d = 1;
  for (let i = 0; i < p.length; i++) if (p.charCodeAt(i) === 47) d++;
  return d;
}

/** Compute the checksum tree of a context under a builder profile. */
export async function computeTree(ctx: Context, profile: BuilderProfile): Promise<Tree> {
  return computeTreeWith(await xxhashApi(), ctx, profile);
}

export function computeTreeWith(api: XXHashAPI, ctx: Context, profile: BuilderProfile): Tree {
  const a = profile.attributes;
  const entries = ctx.entries;
  const accs = new Map<string, DirAcc>();
  const nodes: TreeNode[] = new Array(entries.length + 1);
  const accOf = (p: string): DirAcc => {
    let acc = accs.get(p);
    if (!acc) accs.set(p, (acc = { parts: [], count: 0, size: 0 }));
    return acc;
  };
  // Reverse canonical (pre-)order visits every child before its parent.
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i]!;
    let checksum: string;
    let count = 1;
    let size = e.type === 'file' ? e.size : 0;
    if (e.type === 'dir') {
      const acc = accs.get(e.path);
      accs.delete(e.path);
      const below = acc ? acc.parts.reverse().join('') : '';
      checksum = hex64(api.h64(entryRecord(e, a) + '\n' + below));
      count = acc?.count ?? 0;
      size = acc?.size ?? 0;
    } else {
      checksum = hex64(api.h64(entryRecord(e, a)));
    }
    nodes[i + 1] = { path: e.path, type: e.type, checksum, count, size, depth: depthOf(e.path) };
    const slash = e.path.lastIndexOf('/');
    const parent = accOf(slash < 0 ? '.' : e.path.slice(0, slash));
    parent.parts.push(`${e.path.slice(slash + 1)}\0${checksum}\n`);
    parent.count += e.type === 'dir' ? count + 1 : 1;
    parent.size += size;
  }
  const rootAcc = accs.get('.') ?? { parts: [], count: 0, size: 0 };
  const r = ctx.root ?? { mode: 0o755, uid: 0, gid: 0, mtimeSec: 0, mtimeNsec: 0 };
  const rootRecord = entryRecord({ type: 'dir', size: 0, ...r }, a, true);
  nodes[0] = {
    path: '.',
    type: 'dir',
    checksum: hex64(api.h64(rootRecord + '\n' + rootAcc.parts.reverse().join(''))),
    count: rootAcc.count,
    size: rootAcc.size,
    depth: 0,
  };
  return { builder: profile.id, nodes };
}

/**
 * The nodes to show for `tree --depth N`: directories at depth ≤ N and non-directories at depth ≤ N.
 * `depth` undefined = everything.
 */
export function nodesToDepth(tree: Tree, depth?: number): TreeNode[] {
  if (depth === undefined) return tree.nodes;
  return tree.nodes.filter((n) => n.depth <= depth);
}
