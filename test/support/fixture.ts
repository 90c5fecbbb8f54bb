/**
 * Small file trees described as data, written to real directories for tests.
 */
import { chmod, link, lutimes, mkdir, symlink, writeFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';

/** One path of a fixture. Parent directories are created as needed (mode 0755 unless listed). */
export type FixtureNode =
  | { content: string; mode?: number }
  | { dir: true; mode?: number }
  | { symlink: string }
  /** A hard link to another path of the fixture (listed or created before it). */
  | { hardlink: string }
  | { fifo: true };

/** Relative POSIX path → node. */
export type FixtureSpec = Record<string, FixtureNode>;

const execFileAsync = promisify(execFile);

/** A fixed, old mtime so that any later write visibly changes it. */
const FIXED_TIME = new Date('2020-01-02T03:04:05Z');

/**
 * Write `spec` below `dir` (which must exist). Directory modes are applied last, deepest first, so a
 * read-only directory does not prevent writing into it; every path gets the same fixed mtime.
 */
export async function materialize(spec: FixtureSpec, dir: string): Promise<void> {
  const entries = Object.entries(spec).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const dirModes = new Map<string, number>();
  const ensureParent = async (rel: string) => mkdir(path.dirname(path.join(dir, rel)), { recursive: true, mode: 0o755 });
  const later: [string, FixtureNode][] = [];
  for (const [rel, node] of entries) {
    const abs = path.join(dir, rel);
    await ensureParent(rel);
    if ('content' in node) {
      await writeFile(abs, node.content);
      await chmod(abs, node.mode ?? 0o644);
    } else if ('dir' in node) {
      await mkdir(abs, { recursive: true });
      dirModes.set(abs, node.mode ?? 0o755);
    } else {
      later.push([rel, node]);
    }
  }
  for (const [rel, node] of later) {
    const abs = path.join(dir, rel);
    if ('symlink' in node) await symlink(node.symlink, abs);
    else if ('hardlink' in node) await link(path.join(dir, node.hardlink), abs);
    else if ('fifo' in node) await mkfifo(abs);
  }
  await setTimes(dir, Object.keys(spec));
  const byDepth = [...dirModes].sort(([a], [b]) => b.split('/').length - a.split('/').length);
  for (const [abs, mode] of byDepth) await chmod(abs, mode);
}

/** Create a named pipe (Node has no mkfifo). */
export async function mkfifo(abs: string): Promise<void> {
  await execFileAsync('mkfifo', [abs]);
}

/** Set the fixed mtime on the given paths and every directory above them, symlinks not followed. */
async function setTimes(dir: string, rels: string[]): Promise<void> {
  const all = new Set<string>();
  for (const rel of rels) {
    const parts = rel.split('/');
    for (let i = 1; i <= parts.length; i++) all.add(parts.slice(0, i).join('/'));
  }
  const deepestFirst = [...all].sort((a, b) => b.split('/').length - a.split('/').length);
  for (const rel of deepestFirst) await lutimes(path.join(dir, rel), FIXED_TIME, FIXED_TIME);
}
