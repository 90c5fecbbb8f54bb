/**
 * Reading a file the user's tree names (a Dockerfile, an ignore file): only ever a regular file, and only up
 * to a size limit. The file is opened with O_NONBLOCK, so a FIFO, a terminal or a device at that path can
 * never block the run, then checked with fstat (what was opened is what is checked: no race with a rename);
 * anything but a regular file is a one-line IoError, as is a file over the limit. Symlinks are followed, as
 * the builders follow them for these files.
 */
import fs from 'node:fs';
import { IoError } from './errors.js';

/** The largest build file (Dockerfile, ignore file) read, for every source (directories, tars, snapshots). */
export const MAX_BUILD_FILE_BYTES = 16 << 20;

/** A size in words, for messages (`16 MiB`). */
export function sizeLimitText(bytes: number): string {
  return bytes % (1 << 20) === 0 ? `${bytes >> 20} MiB` : `${bytes} bytes`;
}

/** The error for a build file over the limit (the same words for every source). */
export function tooLargeError(shown: string, limit = MAX_BUILD_FILE_BYTES): IoError {
  return new IoError(shown, `larger than ${sizeLimitText(limit)}, the most ctxdiff reads of a build file`);
}

export interface ReadRegularFileOptions {
  /** Largest size read (default MAX_BUILD_FILE_BYTES). */
  maxBytes?: number;
  /** Return null when the path does not exist (ENOENT, ENOTDIR) instead of throwing. */
  optional?: boolean;
}

/**
 * The bytes of the regular file at `abs` (`shown` names it in errors). Throws IoError when it is not a regular
 * file ("not a regular file (a FIFO)"), is larger than the limit, or cannot be read.
 */
export function readRegularFile(abs: string | Buffer, shown: string, options: ReadRegularFileOptions & { optional: true }): Buffer | null;
export function readRegularFile(abs: string | Buffer, shown: string, options?: ReadRegularFileOptions): Buffer;
export function readRegularFile(abs: string | Buffer, shown: string, options: ReadRegularFileOptions = {}): Buffer | null {
  const limit = options.maxBytes ?? MAX_BUILD_FILE_BYTES;
  let fd: number;
  try {
    fd = fs.openSync(abs, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (options.optional && (code === 'ENOENT' || code === 'ENOTDIR')) return null;
    if (code === 'ENXIO' || code === 'EOPNOTSUPP') {
      // A socket (or a device without a driver) cannot be opened at all: say what it is.
      const st = fs.statSync(abs, { throwIfNoEntry: false });
      if (st !== undefined && !st.isFile()) throw new IoError(shown, `not a regular file (${fileKind(st)})`);
    }
    throw IoError.from(shown, e);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new IoError(shown, `not a regular file (${fileKind(st)})`);
    if (st.size > limit) throw tooLargeError(shown, limit);
    // Read to the end (the file may have grown since fstat), never past the limit.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(Math.min(Math.max(st.size - total, 0) + 1, limit + 1 - total, 1 << 20) || 1);
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      chunks.push(buf.subarray(0, n));
      total += n;
      if (total > limit) throw tooLargeError(shown, limit);
    }
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
  } catch (e) {
    throw e instanceof IoError ? e : IoError.from(shown, e);
  } finally {
    fs.closeSync(fd);
  }
}

/** What kind of file a stat describes, for messages ("a FIFO", "a directory"). */
export function fileKind(st: fs.Stats | fs.BigIntStats): string {
  if (st.isSymbolicLink()) return 'a symlink';
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFile()) return 'a regular file';
  return 'an unknown file type';
}
