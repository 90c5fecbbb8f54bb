/**
 * Extended attributes, read without following symlinks (llistxattr/lgetxattr, or on a file's open
 * descriptor) through ctxdiff's native helpers (native.ts: one call to list them), else through
 * @napi-rs/xattr, a maintained N-API binding shipped prebuilt for each platform (two calls to list them, by
 * path). Only the attributes a builder can carry into a layer are kept: every namespace but `security.*` and
 * `system.*`, plus `security.capability` (BuildKit's tar header rule). If neither can load, no attributes are
 * read and `xattrSupport()` says why.
 */
import { createRequire } from 'node:module';
import { nativeFs } from './native.js';

interface XattrBinding {
  listAttributesSync(path: string): string[];
  getAttributeSync(path: string, name: string): Buffer | null;
}

let binding: XattrBinding | null | undefined;
let loadError: string | undefined;

function load(): XattrBinding | null {
  if (binding !== undefined) return binding;
  try {
    binding = createRequire(import.meta.url)('@napi-rs/xattr') as XattrBinding;
  } catch (e) {
    binding = null;
    loadError = (e as Error).message.split('\n')[0];
  }
  return binding;
}

/** null when extended attributes can be read, else the reason they cannot. */
export function xattrSupport(): string | null {
  return nativeFs() || load() ? null : `extended attributes are not read: ${loadError}`;
}

function kept(name: string): boolean {
  return name === 'security.capability' || !(name.startsWith('security.') || name.startsWith('system.'));
}

/**
 * The kept extended attributes of a path (symlinks not followed), or of `fd` when given (the path's open
 * descriptor), name → value in base64, or undefined when it has none. Filesystems without xattr support
 * simply have none. A path that holds bytes (a Buffer) is read only through the native helpers.
 */
export function readXattrs(path: string | Buffer, fd?: number): Record<string, string> | undefined {
  const names = namesOf(path, fd);
  if (names === null || names.length === 0) return undefined;
  let out: Record<string, string> | undefined;
  for (const name of names.sort()) {
    if (!kept(name)) continue;
    const value = valueOf(path, fd, name);
    if (value !== null) (out ??= {})[name] = value.toString('base64');
  }
  return out;
}

/** The attribute names (see readXattrs), or null when they cannot be listed. */
function namesOf(path: string | Buffer, fd: number | undefined): string[] | null {
  const n = nativeFs();
  if (n) {
    const names = fd === undefined ? n.llistxattr(path) : n.flistxattr(fd);
    return typeof names === 'number' ? null : names;
  }
  const b = typeof path === 'string' ? load() : null;
  if (!b) return null;
  try {
    return b.listAttributesSync(path as string);
  } catch {
    return null;
  }
}

/** An attribute's value (see readXattrs), or null when it cannot be read. */
function valueOf(path: string | Buffer, fd: number | undefined, name: string): Buffer | null {
  const n = nativeFs();
  if (n) {
    const value = fd === undefined ? n.lgetxattr(path, name) : n.fgetxattr(fd, name);
    return typeof value === 'number' ? null : value;
  }
  try {
    return load()!.getAttributeSync(path as string, name) ?? Buffer.alloc(0);
  } catch {
    return null;
  }
}

/** Canonical text of an attribute set, for comparing and hashing ("" for none). */
export function xattrsKey(x: Record<string, string> | undefined): string {
  if (!x) return '';
  return Object.keys(x)
    .sort()
    .map((k) => `${k}=${x[k]}`)
    .join('\0');
}
