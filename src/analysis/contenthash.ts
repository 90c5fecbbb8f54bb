/**
 * BuildKit's content digest of a COPY/ADD source (moby/buildkit cache/contenthash), reproduced exactly so
 * that it can be compared with what BuildKit reports.
 *
 * Every entry has a "header digest" made of tar-header fields (tarsum v1: no name, no mtime); a regular file's
 * digest is sha256(header || content); a directory's is sha256 over its own header digest and each direct
 * child's digest, keyed by the child's name. Wildcards and include/exclude patterns switch to a flat list of
 * the selected entries (current BuildKit) or of the matches (BuildKit 0.8). Paths are resolved through
 * symlinks the way BuildKit resolves them inside its record tree.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import nodePath from 'node:path';
import { IoError, UsageError } from '../core/errors.js';
import { fsPath } from '../core/names.js';
import { containsWildcards, matchPathPattern, patternError } from '../dockerfile/path-patterns.js';
import { createIgnoreMatcher, type IgnoreMatcher, type MatchResult } from '../ignore/matcher.js';
import { rulesFromPatterns } from '../ignore/ignore-file.js';
import type { Context, Entry, EntryType } from '../core/types.js';

/** Options as BuildKit's ChecksumOpts: FollowLinks, Wildcard, IncludePatterns, ExcludePatterns. */
export interface ContentHashOptions {
  /**
   * Resolve the source itself when it is a symlink, and each symlink a wildcard matches directly (symlinks
   * inside a directory are never followed, as in the directory's own digest).
   */
  followLinks?: boolean;
  /** The source is a Go `path.Match` pattern (as for `COPY src/*.txt`). */
  wildcard?: boolean;
  /** moby/patternmatcher patterns, relative to the source: only what they match is digested. */
  includePatterns?: string[];
  /** moby/patternmatcher patterns, relative to the source: what they match is left out. */
  excludePatterns?: string[];
}

/**
 * Which BuildKit computes the digest. File and directory digests are the same in both (for the 0:0 owners a
 * local context arrives with, and no xattrs); wildcard and pattern digests differ. `current` is BuildKit
 * since moby/buildkit#6238 (2025); the releases between 0.8 and that change keyed their wildcard/pattern list
 * by basenames, a third format not reproduced here.
 */
export type ContentHashVariant = 'current' | 'v0.8';

/**
 * How the context root's own header is known to BuildKit: `scan` when BuildKit walks the snapshot itself
 * (the root's header is that of the root directory), `transfer` for a local context received from the
 * client, whose records arrive through HandleChange and whose root header is then fixed to sha256("").
 */
export type RootHeaderMode = 'scan' | 'transfer';

export interface BuildkitDigestOptions extends ContentHashOptions {
  /** Default `current`; `v0.8` is BuildKit 0.8 (Docker 20.10), whose wildcard digest differs. */
  variant?: ContentHashVariant;
  /** Default `scan` (see {@link RootHeaderMode}); matters only when the root directory's header is hashed. */
  rootHeader?: RootHeaderMode;
  /**
   * Hash entries' own uid/gid. Default false: the Docker/buildx client resets both to 0 when it sends a
   * local context, so BuildKit sees 0:0 whatever the files' owners are.
   */
  keepOwners?: boolean;
}

/** A file's bytes, whole or as a stream of chunks (for large files). `path` is relative to the context root. */
export type ContentReader = (path: string) => Promise<Uint8Array> | AsyncIterable<Uint8Array>;

/** Per-variant differences, as data. */
interface VariantRules {
  /** uid/gid enter the header (moby/buildkit#3295, 2022); before, tar.FileInfoHeader left them 0. */
  ownersInHeader: boolean;
  /**
   * Xattr values enter the header. BuildKit 0.8 put xattrs in tar.Header.Xattrs but read the values back from
   * the (empty) PAXRecords map, so only the names counted (read in the source, not observed).
   */
  xattrValues: boolean;
  /** Wildcard/pattern digest: the current file list, or 0.8's ChecksumWildcard match list. */
  listMethod: 'file-list' | 'match-list';
  /** Whether include/exclude patterns exist at all (added after 0.8). */
  patterns: boolean;
}

const VARIANTS: Record<ContentHashVariant, VariantRules> = {
  current: { ownersInHeader: true, xattrValues: true, listMethod: 'file-list', patterns: true },
  'v0.8': { ownersInHeader: false, xattrValues: false, listMethod: 'match-list', patterns: false },
};

/** Tar typeflags; a socket is hashed as a regular file (BuildKit clears the socket bit before FileInfoHeader). */
const TYPEFLAGS: Record<EntryType, string> = {
  file: '0', dir: '5', symlink: '2', char: '3', block: '4', fifo: '6', socket: '0',
};

/** Files read at once: enough to overlap I/O with hashing, few enough to bound memory and open files. */
const READ_CONCURRENCY = 8;

/** BuildKit's limit on symlinks followed while resolving one path (maxSymlinkLimit). */
const MAX_SYMLINKS = 255;

const SHA256_EMPTY = 'sha256:' + createHash('sha256').digest('hex');

/**
 * BuildKit's digest ("sha256:<hex>") of `path` (relative; '/' or '' = the root) within a context.
 * One call; to digest many paths of the same context, use {@link ContentHasher}, which remembers digests.
 */
export async function buildkitDigest(
  ctx: Context,
  path: string,
  readContent: ContentReader,
  options: BuildkitDigestOptions = {},
): Promise<string> {
  return new ContentHasher(ctx, readContent, options).digest(path, options);
}

/**
 * BuildKit's digests of `paths` (relative; '.' = the root) of a context directory read from `root`, as a
 * local context reaches BuildKit: through its transfer protocol (root header as for a transfer), links
 * followed as BuildKit follows them for a COPY source.
 */
export async function directoryDigests(
  ctx: Context,
  root: string,
  paths: readonly string[],
  variant: ContentHashVariant,
  onWarning?: (message: string) => void,
): Promise<Record<string, string>> {
  const hasher = new ContentHasher(ctx, (p) => fs.createReadStream(fsPath(nodePath.join(root, p)) as string), { variant, rootHeader: 'transfer' });
  const digests: Record<string, string> = {};
  for (const p of paths) {
    const key = p === '.' ? '/' : p;
    try {
      digests[p] = await hasher.digest(key, { followLinks: true });
    } catch (e) {
      // A symlink that dangles, loops or points outside the context: BuildKit refuses a COPY of it, but digests
      // it in its directory by its target string. That digest is given, the path marked: the tree stands.
      const node = ctx.entries.find((x) => x.path === p);
      if (!(e instanceof IoError) || node?.type !== 'symlink') throw e;
      digests[p] = await hasher.digest(key, { followLinks: false });
      onWarning?.(`${p}: symlink to ${JSON.stringify(node.target ?? '')} cannot be followed inside the context (${e.message.slice(e.path.length + 2)}): its digest is the link's own; a COPY of it fails in BuildKit`);
    }
  }
  return digests;
}

interface Node {
  /** Path relative to the root, '' for the root. */
  path: string;
  type: EntryType;
  entry: Pick<Entry, 'mode' | 'uid' | 'gid' | 'size' | 'target' | 'xattrs' | 'devMajor' | 'devMinor'>;
  /** Child names in byte order of their UTF-8 encoding (directories only). */
  children?: string[];
}

/**
 * BuildKit content digests over one context, remembering every file and directory digest it computes (as
 * BuildKit's record tree does), so digesting the root and then each directory reads every file once.
 *
 * Long on purpose: its methods mirror cache/contenthash's cacheContext one for one (checksumFollow,
 * lazyChecksum, checksumNoFollow, includedPaths / the wildcard file list, the record headers), so that each
 * can be checked against upstream; each method is short but for the file list, which follows
 * includedPaths step by step.
 */
export class ContentHasher {
  private readonly nodes = new Map<string, Node>();
  private readonly rules: VariantRules;
  private readonly headerMemo = new Map<string, string>();
  private readonly contentMemo = new Map<string, Promise<string>>();

  constructor(
    ctx: Context,
    private readonly readContent: ContentReader,
    private readonly options: Pick<BuildkitDigestOptions, 'variant' | 'rootHeader' | 'keepOwners'> = {},
  ) {
    this.rules = VARIANTS[options.variant ?? 'current'];
    const root = ctx.root;
    this.nodes.set('', {
      path: '',
      type: 'dir',
      entry: { mode: root?.mode ?? 0o755, uid: root?.uid ?? 0, gid: root?.gid ?? 0, size: 0 },
      children: [],
    });
    for (const e of ctx.entries) this.nodes.set(e.path, { path: e.path, type: e.type, entry: e, children: e.type === 'dir' ? [] : undefined });
    for (const e of ctx.entries) this.parentOf(e.path).children!.push(baseName(e.path));
    for (const n of this.nodes.values()) n.children?.sort(compareUtf8);
  }

  /**
   * BuildKit's digest of `path` with the given ChecksumOpts (variant, root header and owners are the
   * hasher's). Throws IoError when the path does not exist or a file cannot be read, UsageError for a
   * malformed wildcard or options the variant does not have.
   */
  async digest(path: string, opts: ContentHashOptions = {}): Promise<string> {
    const patterns = (opts.includePatterns?.length ?? 0) + (opts.excludePatterns?.length ?? 0) > 0;
    if (patterns && !this.rules.patterns) throw new UsageError('BuildKit 0.8 has no include/exclude patterns in its checksum');
    if (!opts.wildcard && !patterns) return this.lazyChecksum(keyPath(path), opts.followLinks ?? false);
    if (this.rules.listMethod === 'match-list') return this.matchList(path, opts.followLinks ?? false);
    return this.fileList(path, opts);
  }

  /** Digest of one path, its final symlink followed only when asked (BuildKit's lazyChecksum). */
  private async lazyChecksum(p: string, followTrailing: boolean): Promise<string> {
    const node = this.resolve(p, followTrailing);
    if (!node) throw new IoError(p.slice(1) || '/', 'not found in the context');
    return this.fullDigest(node);
  }

  /** {@link nodeDigest}, reading the files below a directory a few at a time first. */
  private async fullDigest(node: Node): Promise<string> {
    if (node.type === 'dir') await this.hashFiles(this.filesBelow(node));
    return this.nodeDigest(node);
  }

  /** Regular files below a directory whose digest is not known yet. */
  private *filesBelow(dir: Node): Generator<Node> {
    for (const name of dir.children!) {
      const child = this.nodes.get(joinPath(dir.path, name))!;
      if (child.type === 'dir') yield* this.filesBelow(child);
      else if (child.type === 'file' && !this.contentMemo.has(child.path)) yield child;
    }
  }

  /** Digest files a few at a time (their digests are remembered), stopping at the first failure. */
  private async hashFiles(files: Iterable<Node>): Promise<void> {
    const queue = files[Symbol.iterator]();
    let failed = false;
    const worker = async (): Promise<void> => {
      for (let next = queue.next(); !next.done && !failed; next = queue.next()) {
        try {
          await this.nodeDigest(next.value);
        } catch (error) {
          failed = true;
          throw error;
        }
      }
    };
    await Promise.all(Array.from({ length: READ_CONCURRENCY }, worker));
  }

  /** A directory's recursive digest, a file's content digest, a symlink's header digest (never followed). */
  private nodeDigest(node: Node): Promise<string> {
    let d = this.contentMemo.get(node.path);
    if (!d) {
      d = node.type === 'dir' ? this.dirDigest(node) : node.type === 'file' ? this.fileDigest(node) : Promise.resolve(this.headerDigest(node));
      this.contentMemo.set(node.path, d);
    }
    return d;
  }

  private async dirDigest(node: Node): Promise<string> {
    const h = createHash('sha256');
    h.update('\0');
    h.update(this.headerDigest(node));
    for (const name of node.children!) {
      const child = this.nodes.get(joinPath(node.path, name))!;
      const d = await this.nodeDigest(child);
      h.update('\0');
      h.update(name);
      h.update(d);
    }
    return 'sha256:' + h.digest('hex');
  }

  private async fileDigest(node: Node): Promise<string> {
    const h = createHash('sha256');
    h.update(this.header(node));
    const expected = node.entry.size;
    if (expected > 0) {
      let seen = 0;
      const content = this.readContent(node.path);
      if (isAsyncIterable(content)) {
        for await (const chunk of content) {
          seen += chunk.byteLength;
          h.update(chunk);
        }
      } else {
        const bytes = await content;
        seen = bytes.byteLength;
        h.update(bytes);
      }
      if (seen !== expected) throw new IoError(node.path, `changed while hashing (${seen} bytes read, ${expected} expected)`);
    }
    return 'sha256:' + h.digest('hex');
  }

  /** sha256 of the entry's tarsum header; the root's is sha256("") for a transferred context. */
  private headerDigest(node: Node): string {
    let d = this.headerMemo.get(node.path);
    if (d === undefined) {
      d = node.path === '' && this.options.rootHeader === 'transfer'
        ? SHA256_EMPTY
        : 'sha256:' + createHash('sha256').update(this.header(node)).digest('hex');
      this.headerMemo.set(node.path, d);
    }
    return d;
  }

  /**
   * The tarsum v1 header: key and value strings concatenated without separators, in tar order, mtime left
   * out; then the kept xattrs sorted by name.
   */
  private header(node: Node): Buffer {
    const e = node.entry;
    const owners = this.rules.ownersInHeader && this.options.keepOwners === true;
    const device = node.type === 'char' || node.type === 'block';
    const fields = [
      'name', '',
      'mode', String(e.mode & 0o7777),
      'uid', String(owners ? e.uid : 0),
      'gid', String(owners ? e.gid : 0),
      'size', String(node.type === 'file' ? e.size : 0),
      'typeflag', TYPEFLAGS[node.type],
      'linkname', node.type === 'symlink' ? (e.target ?? '') : '',
      'uname', '',
      'gname', '',
      'devmajor', String(device ? (e.devMajor ?? 0) : 0),
      'devminor', String(device ? (e.devMinor ?? 0) : 0),
    ];
    const parts: Buffer[] = [Buffer.from(fields.join(''))];
    if (e.xattrs) {
      const names = Object.keys(e.xattrs).filter(keptXattr).sort(compareUtf8);
      for (const name of names) {
        parts.push(Buffer.from(name));
        if (this.rules.xattrValues) parts.push(Buffer.from(e.xattrs[name]!, 'base64'));
      }
    }
    return Buffer.concat(parts);
  }

  /**
   * Resolve a Go-style path ('/a/b', '' = root) through symlinks inside the context, as BuildKit's
   * getFollowLinks does: a symlink's target is relative to its directory (absolute targets to the root), '..'
   * stops at the root, and the final component is followed only when `followTrailing`. Null when absent.
   */
  private resolve(p: string, followTrailing: boolean): Node | null {
    const direct = this.nodes.get(p.slice(1));
    if (direct && (!followTrailing || direct.type !== 'symlink')) return direct;
    if (p === '') return null;
    let current = '';
    let remaining = p;
    let links = 0;
    let found: Node | undefined;
    while (remaining !== '') {
      const slash = remaining.indexOf('/');
      const part = slash < 0 ? remaining : remaining.slice(0, slash);
      remaining = slash < 0 ? '' : remaining.slice(slash + 1);
      const next = cleanJoin(current, part);
      found = this.nodes.get(next);
      if (!found || found.type !== 'symlink') {
        current = next;
        continue;
      }
      if (!followTrailing && remaining === '') break;
      if (++links > MAX_SYMLINKS) throw new IoError(p.slice(1), 'too many levels of symbolic links');
      const target = found.entry.target ?? '';
      remaining = target + '/' + remaining;
      if (target.startsWith('/')) current = '';
    }
    return found ?? null;
  }

  /**
   * Current BuildKit with a wildcard or patterns: every selected file and symlink individually, and the
   * header (only) of every selected directory and of every directory above a selected entry, in key order,
   * each keyed by its path below the source's literal prefix.
   */
  private async fileList(path: string, opts: ContentHashOptions): Promise<string> {
    const p = keyPath(path);
    const endsInSep = path.length > 0 && path.endsWith('/');
    const include = compilePatterns(opts.includePatterns, '<include patterns>');
    const exclude = compilePatterns(opts.excludePatterns, '<exclude patterns>');
    const followLinks = opts.followLinks ?? false;

    let origPrefix: string;
    let start: Node | null;
    if (opts.wildcard) {
      const [literal, rest] = splitWildcards(p);
      validatePattern(p);
      origPrefix = literal === '/' ? '' : literal;
      start = origPrefix === '' ? this.nodes.get('')! : this.resolve(origPrefix, rest !== '');
    } else {
      origPrefix = p;
      start = this.resolve(p, false);
    }
    const resolvedPrefix = start ? goPath(start.path) : '';

    interface Visited {
      fn: string;
      node: Node;
      /** The source itself or a wildcard match (not something below one): only these symlinks are followed. */
      top: boolean;
      included: boolean;
      include?: MatchResult;
      exclude?: MatchResult;
    }
    const selected: Visited[] = [];
    const parents: Visited[] = [];
    let lastMatchedDir = '';

    const visit = (node: Node, fn: string): void => {
      while (parents.length > 0 && !fn.startsWith(parents[parents.length - 1]!.fn + '/')) parents.pop();
      const parent = parents[parents.length - 1];
      const isDir = node.type === 'dir';
      const skipHeader = isDir && fn === p && endsInSep;
      let candidate: string | null = null;
      if (!skipHeader) {
        if (opts.wildcard) {
          let matched = true;
          if (p !== '' && (lastMatchedDir === '' || !fn.startsWith(lastMatchedDir + '/'))) {
            matched = matchPathPattern(p, fn);
            if (matched) lastMatchedDir = fn;
          }
          if (matched) candidate = relativeTo(fn, lastMatchedDir);
        } else {
          candidate = relativeTo(fn, p);
        }
      }
      if (candidate !== null) {
        const v: Visited = { fn, node, included: false, top: opts.wildcard ? fn === lastMatchedDir : fn === p };
        let keep = true;
        if (include) {
          v.include = include.matchInWalk(candidate, parent?.include);
          keep = v.include.excluded;
        }
        if (keep && exclude) {
          v.exclude = exclude.matchInWalk(candidate, parent?.exclude);
          keep = !v.exclude.excluded;
        }
        if (keep) {
          for (const d of parents) {
            if (!d.included) {
              d.included = true;
              selected.push(d);
            }
          }
          v.included = true;
          selected.push(v);
        }
        if (isDir) parents.push(v);
      }
      if (isDir) for (const name of node.children!) visit(this.nodes.get(joinPath(node.path, name))!, fn + '/' + name);
    };
    if (start) visit(start, origPrefix + goPath(start.path).slice(resolvedPrefix.length));

    await this.hashFiles(selected.filter((v) => v.node.type === 'file').map((v) => v.node));
    const digests: string[] = [];
    for (const v of selected) {
      if (v.node.type === 'dir') digests.push(this.headerDigest(v.node));
      else if (v.node.type === 'symlink' && followLinks && v.top) digests.push(await this.lazyChecksum(v.fn, true));
      else digests.push(await this.nodeDigest(v.node));
    }
    if (selected.length === 0) return SHA256_EMPTY;
    if (selected.length === 1 && goBase(p) === goBase(selected[0]!.fn)) return digests[0]!;
    // Selection order is key order already (a directory's header, then its children in byte order). Each
    // entry is keyed by its path below the literal prefix with '/' as NUL, the prefix itself as one NUL.
    const h = createHash('sha256');
    selected.forEach((v, i) => {
      h.update(v.fn.slice(origPrefix.length).replaceAll('/', '\0') || '\0');
      h.update(digests[i]!);
    });
    return 'sha256:' + h.digest('hex');
  }

  /**
   * BuildKit 0.8's ChecksumWildcard: every path the pattern matches (directories with their recursive
   * digest), joined by NUL as basename || digest.
   */
  private async matchList(path: string, followLinks: boolean): Promise<string> {
    const p = keyPath(path);
    validatePattern(p);
    const matches: { fn: string; digest: string }[] = [];
    const walk = async (node: Node): Promise<void> => {
      for (const name of node.children!) {
        const child = this.nodes.get(joinPath(node.path, name))!;
        const fn = goPath(child.path);
        if (matchPathPattern(p, fn)) {
          const digest = child.type === 'symlink' && followLinks ? await this.lazyChecksum(fn, true) : await this.fullDigest(child);
          matches.push({ fn, digest });
        }
        if (child.type === 'dir') await walk(child);
      }
    };
    await walk(this.nodes.get('')!);
    if (matches.length === 0) return SHA256_EMPTY;
    if (matches.length === 1 && goBase(p) === goBase(matches[0]!.fn)) return matches[0]!.digest;
    const h = createHash('sha256');
    matches.forEach((m, i) => {
      if (i > 0) h.update('\0');
      h.update(goBase(m.fn));
      h.update(m.digest);
    });
    return 'sha256:' + h.digest('hex');
  }

  private parentOf(p: string): Node {
    const at = p.lastIndexOf('/');
    const dir = at < 0 ? '' : p.slice(0, at);
    let parent = this.nodes.get(dir);
    if (!parent) {
      // A context always lists the directories above its entries; tolerate one that does not (0755 dir).
      parent = { path: dir, type: 'dir', entry: { mode: 0o755, uid: 0, gid: 0, size: 0 }, children: [] };
      this.nodes.set(dir, parent);
      this.parentOf(dir).children!.push(baseName(dir));
    }
    if (parent.type !== 'dir') throw new IoError(p, `parent ${dir} is not a directory`);
    return parent;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Paths, Go style: BuildKit keys paths as cleaned absolute paths, '' for the root.
// ---------------------------------------------------------------------------------------------------------

/** BuildKit's keyPath: path.Join("/", p), with the root as ''. */
function keyPath(p: string): string {
  const parts: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return parts.length === 0 ? '' : '/' + parts.join('/');
}

/** A context-relative path ('' = root) as a Go-style key path. */
function goPath(rel: string): string {
  return rel === '' ? '' : '/' + rel;
}

/** `part` applied to the context-relative `dir`, cleaned; '..' stops at the root. */
function cleanJoin(dir: string, part: string): string {
  return keyPath(dir + '/' + part).slice(1);
}

function joinPath(dir: string, name: string): string {
  return dir === '' ? name : dir + '/' + name;
}

function baseName(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

/** Go's path.Base. */
function goBase(p: string): string {
  if (p === '') return '.';
  const trimmed = p.replace(/\/+$/, '');
  if (trimmed === '') return '/';
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

/** strings.TrimSuffix(strings.TrimPrefix(fn+"/", base+"/"), "/"). */
function relativeTo(fn: string, base: string): string {
  let s = fn + '/';
  if (s.startsWith(base + '/')) s = s.slice(base.length + 1);
  return s.endsWith('/') ? s.slice(0, -1) : s;
}

/** Order of UTF-8 byte strings (BuildKit's radix keys), for JS strings. */
function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca === cb) continue;
    // UTF-16 order differs from UTF-8 order only where surrogates meet U+E000..U+FFFF.
    if (ca < 0xd800 && cb < 0xd800) return ca - cb;
    return Buffer.compare(Buffer.from(a.slice(i)), Buffer.from(b.slice(i)));
  }
  return a.length - b.length;
}

/** Xattrs BuildKit hashes: security.capability and everything outside security.* and system.*. */
function keptXattr(name: string): boolean {
  return name === 'security.capability' || (!name.startsWith('security.') && !name.startsWith('system.'));
}

function isAsyncIterable(x: unknown): x is AsyncIterable<Uint8Array> {
  return typeof x === 'object' && x !== null && Symbol.asyncIterator in x;
}

function compilePatterns(patterns: string[] | undefined, file: string): IgnoreMatcher | null {
  if (!patterns || patterns.length === 0) return null;
  return createIgnoreMatcher(rulesFromPatterns(patterns, file), 'patternmatcher');
}

// ---------------------------------------------------------------------------------------------------------
// Go's path.Match, which BuildKit applies to whole key paths ('*' and '?' never match '/').
// ---------------------------------------------------------------------------------------------------------

/** Split a key path at its first component with a wildcard: the literal prefix ('/' if none) and the rest. */
function splitWildcards(p: string): [string, string] {
  const literal: string[] = [];
  const rest: string[] = [];
  let found = false;
  for (const part of (p === '' ? '/' : p).split('/')) {
    if (!found && containsWildcards(part)) found = true;
    (found ? rest : literal).push(part === '' ? '/' : part);
  }
  return [keyPath(literal.join('/')) || '/', rest.join('/')];
}

function validatePattern(p: string): void {
  if (patternError(p) !== undefined) throw new UsageError(`invalid wildcard pattern ${JSON.stringify(p.slice(1))}: syntax error`);
}

