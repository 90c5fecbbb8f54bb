/**
 * Writing an output file safely: the one way ctxdiff writes a file it was asked to write (`snapshot -o`, and
 * every future `--output`).
 *
 * - Only a regular file (or nothing) is ever replaced: a device node, FIFO, socket, directory or symlink at
 *   the path is refused, untouched ("not a regular file").
 * - The bytes go to a temporary file in the same directory (`.NAME.<pid>-<random>.tmp`, created exclusively,
 *   never following a symlink), which is fsynced and renamed over the path: the path holds either the old
 *   file or the complete new one, whatever happens and however many writers race.
 * - The temporary file is removed on every error path, and on SIGINT, SIGTERM and SIGHUP while it exists
 *   (a registry of live temporary files; the signal is re-raised once they are gone, so the exit status
 *   still says which signal ended the run).
 * - Failures are one-line IoErrors naming the output path (`no space left on device`, `read-only file
 *   system`, `permission denied`, …).
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { IoError } from './errors.js';
import { fileKind } from './regular-file.js';

/** Temporary files being written right now (absolute paths). */
const live = new Set<string>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let installed = false;

function onSignal(signal: NodeJS.Signals): void {
  removeLiveTempFiles();
  uninstall();
  // Die of the same signal, as without the handler (unless someone else handles it too).
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function install(): void {
  if (installed) return;
  installed = true;
  for (const s of SIGNALS) process.on(s, onSignal);
  process.on('exit', removeLiveTempFiles);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  for (const s of SIGNALS) process.off(s, onSignal);
  process.off('exit', removeLiveTempFiles);
}

/** Removes every temporary file still being written (synchronously: it runs in signal and exit handlers). */
export function removeLiveTempFiles(): void {
  for (const tmp of live) {
    try {
      fs.unlinkSync(tmp);
    } catch {
      // already gone
    }
  }
  live.clear();
}

/**
 * Throws IoError unless `file` is absent or a regular file (lstat: a symlink is refused, not followed).
 * Exported for callers that must check before they start long work (fail fast, before a walk).
 */
export function checkOutputTarget(file: string): void {
  let st: fs.Stats | undefined;
  try {
    st = fs.lstatSync(file, { throwIfNoEntry: false });
  } catch (e) {
    throw IoError.from(file, e);
  }
  if (st !== undefined && !st.isFile()) {
    throw new IoError(file, `not a regular file (${fileKind(st)}); refusing to replace it`);
  }
}

/** A temporary file name next to `file`. */
function tempNameFor(file: string): string {
  const rand = Math.random().toString(36).slice(2, 10).padEnd(8, '0');
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}-${rand}.tmp`);
}

const CREATE_FLAGS = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;

/**
 * Writes `parts` (in order) to `file` safely, as the module describes. The parts are all in memory: encode
 * first, then write, so that a failure to encode leaves `file` untouched.
 */
export async function writeOutputFile(file: string, parts: readonly Uint8Array[]): Promise<void> {
  checkOutputTarget(file);
  const tmp = path.resolve(tempNameFor(file));
  let handle: fsp.FileHandle | undefined;
  install();
  try {
    // Registered before it exists: a signal that arrives between the file's creation and the end of the
    // open (its callback can come after the signal's) still removes it.
    live.add(tmp);
    handle = await fsp.open(tmp, CREATE_FLAGS, 0o666);
    // writev may write less than asked (a large total): write until every byte is out.
    let rest = parts.filter((p) => p.length > 0);
    while (rest.length > 0) {
      const { bytesWritten } = await handle.writev(rest);
      let n = bytesWritten;
      if (n === 0) throw Object.assign(new Error('short write'), { code: 'EIO' });
      while (n > 0 && rest.length > 0) {
        const head = rest[0]!;
        if (n >= head.length) {
          n -= head.length;
          rest = rest.slice(1);
        } else {
          rest = [head.subarray(n), ...rest.slice(1)];
          n = 0;
        }
      }
    }
    await handle.sync();
    await handle.close();
    handle = undefined;
    // Checked again right before the rename: what appeared at the path while we wrote is not replaced either.
    checkOutputTarget(file);
    await fsp.rename(tmp, file);
    live.delete(tmp);
  } catch (err) {
    await handle?.close().catch(() => {});
    // Ours to remove unless the open itself found the name taken (O_EXCL): then it is another writer's.
    const ours = (err as NodeJS.ErrnoException)?.code !== 'EEXIST';
    if (ours && (live.has(tmp) || handle !== undefined)) await fsp.rm(tmp, { force: true }).catch(() => {});
    live.delete(tmp);
    throw err instanceof IoError ? err : IoError.from(file, err);
  } finally {
    if (live.size === 0) uninstall();
  }
  await syncDirectory(path.dirname(file));
}

/** Makes a rename durable. Best effort: not every platform and file system can fsync a directory. */
async function syncDirectory(dir: string): Promise<void> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(dir, 'r');
    await handle.sync();
  } catch {
    // The file itself is on disk; only the rename's durability is not guaranteed.
  } finally {
    await handle?.close().catch(() => {});
  }
}
