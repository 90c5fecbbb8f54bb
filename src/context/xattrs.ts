/**
 * Extended attributes, read without following symlinks (llistxattr/lgetxattr) through @napi-rs/xattr, a
 * maintained N-API binding shipped prebuilt for each platform. Only the attributes a builder can carry into a
 * layer are kept: every namespace but `security.*` and `system.*`, plus `security.capability` (BuildKit's
 * tar header rule). If the binding cannot load, no attributes are read and `xattrSupport()` says why.
 */
import { createRequire } from 'node:module';

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
  return load() ? null : `extended attributes are not read: ${loadError}`;
}

function kept(name: string): boolean {
  return name === 'security.capability' || !(name.startsWith('security.') || name.startsWith('system.'));
}

/**
 * The kept extended attributes of a path (symlinks not followed), name → value in base64, or undefined when
 * it has none. Filesystems without xattr support simply have none.
 */
export function readXattrs(path: string): Record<string, string> | undefined {
  const b = load();
  if (!b) return undefined;
  let names: string[];
  try {
    names = b.listAttributesSync(path);
  } catch {
    return undefined;
  }
  let out: Record<string, string> | undefined;
  for (const name of names.sort()) {
    if (!kept(name)) continue;
    let value: Buffer | null;
    try {
      value = b.getAttributeSync(path, name);
    } catch {
      continue;
    }
    (out ??= {})[name] = (value ?? Buffer.alloc(0)).toString('base64');
  }
  return out;
}

/** Canonical text of an attribute set, for comparing and hashing ("" for none). */
export function xattrsKey(x: Record<string, string> | undefined): string {
  if (!x) return '';
  return Object.keys(x)
    .sort()
    .map((k) => `${k}=${x[k]}`)
    .join('\0');
}
