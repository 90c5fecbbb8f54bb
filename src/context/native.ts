/**
 * ctxdiff's optional native helpers (src/native/fsnative.c, built on Linux into dist/native/fsnative.node by
 * src/native/build.mjs after `npm ci` in a checkout and before `npm pack`, so the package ships it): lstat
 * and fstat written into a Float64Array (no `Stats` object, no BigInt, nanoseconds exact; also of a name
 * relative to a directory's descriptor), and extended attributes listed and read with one system call each
 * (on the open descriptor for a file being read). When the addon does not load (another system or
 * architecture, not built) or CTXDIFF_NATIVE=0 is set, the walk does the same through Node's fs and
 * @napi-rs/xattr: same results, more system calls and more time. `nativeSupport()` says which is used.
 *
 * Every raw stat, whichever way it was taken, is laid out as the S_* indexes say.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import util from 'node:util';

export const S_MODE = 0, S_UID = 1, S_GID = 2, S_SIZE = 3, S_MSEC = 4, S_MNSEC = 5, S_CSEC = 6, S_CNSEC = 7;
export const S_INO = 8, S_DEV = 9, S_RMAJOR = 10, S_RMINOR = 11, S_FIELDS = 12;

/** What the addon exports: results are 0 / a value, or a negative errno. */
export interface NativeFs {
  lstat(path: string | Buffer, out: Float64Array): number;
  fstat(fd: number, out: Float64Array): number;
  /** A descriptor of a directory (O_PATH), for lstatat; closed by closefd (not fs.closeSync: Node warns). */
  dirfd(path: string | Buffer): number;
  lstatat(dirfd: number, name: string | Buffer, out: Float64Array): number;
  closefd(fd: number): number;
  llistxattr(path: string | Buffer): string[] | number;
  flistxattr(fd: number): string[] | number;
  lgetxattr(path: string | Buffer, name: string): Buffer | number;
  fgetxattr(fd: number, name: string): Buffer | number;
}

/** Where build.mjs puts the addon, from this module's folder (src/context or dist/context). */
export const ADDON_URL = new URL('../../dist/native/fsnative.node', import.meta.url);

let addon: NativeFs | null | undefined;
let why: string | undefined;

/** The addon, or null when it is not used (see nativeSupport). */
export function nativeFs(): NativeFs | null {
  if (addon !== undefined) return addon;
  addon = null;
  if (process.env.CTXDIFF_NATIVE === '0') {
    why = 'CTXDIFF_NATIVE=0 is set';
  } else if (process.platform !== 'linux') {
    why = `it is built for Linux only (this is ${process.platform})`;
  } else {
    try {
      addon = createRequire(import.meta.url)(fileURLToPath(ADDON_URL)) as NativeFs;
    } catch (e) {
      why = (e as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' ? 'it is not built (`npm run build:native` builds it)' : (e as Error).message.split('\n')[0];
    }
  }
  return addon;
}

/** null when the native helpers are used, else why not (what --debug says; in the library's exports). */
export function nativeSupport(): string | null {
  return nativeFs() ? null : `native file-system helpers not used: ${why}`;
}

/** A system error as Node's fs would throw it (code, errno, syscall, path). */
export function sysError(negErrno: number, syscall: string, path: string | Buffer): NodeJS.ErrnoException {
  const [code, message] = util.getSystemErrorMap().get(negErrno) ?? [`E${-negErrno}`, 'unknown error'];
  const where = typeof path === 'string' ? path : path.toString();
  const e = new Error(`${code}: ${message}, ${syscall} '${where}'`) as NodeJS.ErrnoException;
  e.errno = negErrno;
  e.code = code;
  e.syscall = syscall;
  e.path = where;
  return e;
}

/** The last BigIntStats converted, kept so that an object of its shape stays alive (see DirScanner.keepDirents). */
let keepStats: fs.BigIntStats | null = null;

/** Writes a BigIntStats into the S_* layout (the way without the addon). */
export function rawFromStats(st: fs.BigIntStats, out: Float64Array): void {
  keepStats = st;
  out[S_MODE] = Number(st.mode);
  out[S_UID] = Number(st.uid);
  out[S_GID] = Number(st.gid);
  out[S_SIZE] = Number(st.size);
  splitNs(st.mtimeNs, out, S_MSEC);
  splitNs(st.ctimeNs, out, S_CSEC);
  out[S_INO] = Number(st.ino);
  out[S_DEV] = Number(st.dev);
  // Linux dev_t → major/minor (glibc encoding).
  const rdev = st.rdev;
  out[S_RMAJOR] = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
  out[S_RMINOR] = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
}

/**
 * Writes a time in nanoseconds as whole seconds at `out[at]` and nanoseconds at `out[at + 1]` (exact). Before
 * 1970 the remainder of BigInt division is negative; the correction is always computed, on Numbers, so that
 * optimized code never meets an operation it has not seen before (a deoptimization at the first such file).
 */
function splitNs(ns: bigint, out: Float64Array, at: number): void {
  const sec = Number(ns / 1_000_000_000n);
  const nsec = Number(ns % 1_000_000_000n);
  const borrow = nsec < 0 ? 1 : 0;
  out[at] = sec - borrow;
  out[at + 1] = nsec + borrow * 1e9;
}

/** lstat of `at` into `out` (S_* layout); throws the system error. */
export function lstatRaw(at: string | Buffer, out: Float64Array): void {
  const n = nativeFs();
  if (n) succeeded(n.lstat(at, out), 'lstat', at);
  else rawFromStats(fs.lstatSync(at, { bigint: true }), out);
}

/** fstat of an open descriptor into `out` (S_* layout); `path` names it in an error. */
export function fstatRaw(fd: number, out: Float64Array, path: string | Buffer): void {
  const n = nativeFs();
  if (n) succeeded(n.fstat(fd, out), 'fstat', path);
  else rawFromStats(fs.fstatSync(fd, { bigint: true }), out);
}

/** Throws the system error a helper's negative result stands for. */
export function succeeded(result: number, syscall: string, path: string | Buffer): void {
  if (result !== 0) throw sysError(result, syscall, path);
}
