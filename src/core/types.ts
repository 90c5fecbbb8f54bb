/** Core data types shared by every module. The core returns these; it never prints. */

export type EntryType = 'file' | 'dir' | 'symlink' | 'fifo' | 'socket' | 'char' | 'block';

/**
 * One entry of a build context, as the builder would receive it. Raw attributes only:
 * which of them matter is decided later by a builder profile.
 */
export interface Entry {
  /** Relative POSIX path from the context root, no leading "./"; never the root itself. */
  path: string;
  type: EntryType;
  /** Permission bits including setuid/setgid/sticky (st_mode & 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  /** Size in bytes for regular files; 0 for every other type. */
  size: number;
  /** Modification time: whole seconds since the epoch and the nanoseconds within that second. */
  mtimeSec: number;
  mtimeNsec: number;
  /** Symlink target (symlinks only), not followed. */
  target?: string;
  /** xxhash64 of the content, 16 lowercase hex digits (regular files only). */
  hash?: string;
  /**
   * Extended attributes a builder can carry (all but security.* and system.*, plus security.capability),
   * name → base64 value; absent when there are none.
   */
  xattrs?: Record<string, string>;
  /** Device numbers (char and block devices only). */
  devMajor?: number;
  devMinor?: number;
  /**
   * The file changed while it was read (its size or mtime before, during and after the read disagreed,
   * twice): `hash` and `size` are those of one reading, not necessarily a state the file was ever in. A diff
   * of such an entry is unknown.
   */
  changedWhileRead?: true;
}

/** Where the ignore rules in force came from. */
export interface IgnoreFileInfo {
  /** Path of the ignore file relative to the context root (or as given, when outside it). */
  file: string;
  /** Its full text. */
  text: string;
}

/**
 * A build argument's value as recorded: in clear, or, for a name that looks secret (see core/build-args.ts),
 * only its hash, so that two builds can be compared without the value being stored or printed.
 */
export type BuildArgValue = string | { sha256: string };

/**
 * The key under which a snapshot records the context as it is on disk (no ignore file applied), next to its
 * named contexts, for a builder that bind-mounts the raw context. Not a valid context name (it has spaces).
 */
export const RAW_CONTEXT = '(raw context)';

/** How a build was invoked, as far as its cache keys are concerned (recorded in snapshots). */
export interface BuildInvocation {
  /** `--build-arg NAME=VALUE` values. */
  buildArgs?: Record<string, BuildArgValue>;
  /** `-f` as given. */
  dockerfile?: string;
  /** `--target`. */
  target?: string;
  /** `--build-context NAME=…`: where each named context came from, as given. */
  contexts?: Record<string, string>;
}

/** A build context as walked (or read from a snapshot or tar): what the builder receives. */
export interface Context {
  /** Human name of the context: the directory path, tar or snapshot file it came from. */
  name: string;
  /** Builder profile id whose ignore rules were applied while walking. */
  builder: string;
  /** Whether extended attributes were read (absent: unknown, treated as not read). */
  xattrs?: boolean;
  /** The ignore file in force, or null when there is none. */
  ignore: IgnoreFileInfo | null;
  /** Dockerfile texts found or given, keyed by path relative to the context root. */
  dockerfiles: Record<string, string>;
  /** The Dockerfile chosen with -f (key into dockerfiles), if any. */
  dockerfile?: string;
  /** Entries in canonical order (see comparePaths); the root is not listed. */
  entries: Entry[];
  /** Attributes of the context root itself (mode/uid/gid/mtime), when known. */
  root?: Pick<Entry, 'mode' | 'uid' | 'gid' | 'mtimeSec' | 'mtimeNsec'>;
  /** How the build was invoked (snapshots taken with --build-arg, --target, --build-context), when recorded. */
  invocation?: BuildInvocation;
  /** Named build contexts recorded with the snapshot (`--build-context NAME=…`), each with its own entries. */
  namedContexts?: Record<string, Context>;
  /**
   * Snapshots of directories: how every other builder profile's walk of the same directory differs from the
   * one recorded, so that one snapshot serves every builder exactly. Absent in snapshots of older versions.
   */
  walks?: ContextWalks;
  /**
   * Why this context may not be exactly what the builder receives (a snapshot that lacks what its builder
   * needs): steps that take context files are then `unknown`, never guessed.
   */
  incomplete?: string;
}

/** The walks of other builder profiles, recorded beside the entries of one (see Context.walks). */
export interface ContextWalks {
  /** Profiles whose walk sends exactly the recorded entries. */
  same: string[];
  variants: WalkVariant[];
}

/** One other walk of the same directory, as a difference from the recorded entries. */
export interface WalkVariant {
  /** Profiles whose walk this is. */
  builders: string[];
  /** The ignore file in force for them. */
  ignore: IgnoreFileInfo | null;
  /** Recorded paths this walk does not send. */
  removed: string[];
  /** Entries this walk sends that are not recorded, or sends with other attributes (they replace those). */
  entries: Entry[];
}

/**
 * Canonical path order: component by component, each compared by UTF-16 code unit
 * ("a/x" < "a-b" < "ab"), i.e. string order with '/' sorting before every other character.
 */
export function comparePaths(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let ca = a.charCodeAt(i);
    let cb = b.charCodeAt(i);
    if (ca === cb) continue;
    if (ca === 47) ca = 0;
    if (cb === 47) cb = 0;
    return ca - cb;
  }
  return a.length - b.length;
}
