/**
 * Tar context source: `docker build - < ctx.tar`. Reads a tar archive (plain or gzip-compressed, detected by
 * its magic bytes) from a file or standard input into a {@link Context}, as the builder sees it once unpacked.
 *
 * What the archive becomes:
 * - paths are cleaned (`./a`, `/a`, `a/` and `a//b/../` all name `a`); the archive's root (`.`, `./`) gives
 *   the context root's attributes; a path that would escape the root is an error (the daemon refuses it);
 * - a later entry for the same path replaces the earlier one (a non-directory replacing a directory takes its
 *   contents with it), as when unpacking;
 * - hard links become the file they link to (its type, size and content hash), with their own header's
 *   mode, owner and mtime;
 * - parent directories the archive omits are added as the unpacking daemon creates them: mode 0755, owner 0:0.
 *   Their mtime is recorded as 0: the real one is the time of unpacking, which no builder's cache key uses;
 * - mtimes are the header's whole seconds, or the PAX `mtime` record (with nanoseconds) when present; PAX
 *   `uid`/`gid` records override the header's; modes keep the permission bits (& 0o7777).
 *
 * Ignore rules: what a builder does with the ignore file inside a tar context is per-builder data
 * ({@link TarIgnoreScope}). Observed with Docker 20.10: BuildKit ignores it entirely (the build context is
 * the whole archive; current BuildKit applies exclude patterns to local contexts only), and the classic
 * builder only deletes `.dockerignore` and the Dockerfile when the patterns match them.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import tar from 'tar-stream';
import xxhash from 'xxhash-wasm';
import { DEFAULT_DOCKERFILES } from '../dockerfile/locate.js';
import { MAX_BUILD_FILE_BYTES, tooLargeError } from '../core/regular-file.js';
import { CtxdiffError, IoError } from '../core/errors.js';
import { nameFromLatin1 } from '../core/names.js';
import { UsageError } from '../core/errors.js';
import { createIgnoreMatcher, matchAlongWalk, type IgnoreMatcher } from '../ignore/matcher.js';
import { parseIgnoreFile } from '../ignore/ignore-file.js';
import type { BuilderProfile } from '../builders/profiles.js';
import { comparePaths, type Context, type Entry, type EntryType, type IgnoreFileInfo } from '../core/types.js';

/** What the builder does with the ignore file inside a tar context: see `BuilderProfile.tarIgnoreScope`. */
export type TarIgnoreScope = BuilderProfile['tarIgnoreScope'];

export interface TarContextOptions {
  /** Builder profile. */
  profile: BuilderProfile;
  /** The Dockerfile's path inside the archive (-f); default: the builder's default names at the root. */
  dockerfile?: string;
  /** Context name; default: the input path, or `<stdin>` for `-`. */
  name?: string;
}

/** Attributes the daemon gives a parent directory the archive does not list. */
const IMPLIED_DIR = { type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0, mtimeSec: 0, mtimeNsec: 0 } as const;

/** Build files (Dockerfile, ignore file) are read up to the limit that holds for directories too. */
const MAX_TEXT_BYTES = MAX_BUILD_FILE_BYTES;

const TAR_TYPES: Readonly<Record<string, EntryType>> = {
  file: 'file',
  'contiguous-file': 'file',
  directory: 'dir',
  symlink: 'symlink',
  fifo: 'fifo',
  'character-device': 'char',
  'block-device': 'block',
};

/** Compressions recognised by their magic bytes; only gzip can be read. */
const COMPRESSIONS: { name: string; magic: number[]; tool?: string }[] = [
  { name: 'gzip', magic: [0x1f, 0x8b] },
  { name: 'bzip2', magic: [0x42, 0x5a, 0x68], tool: 'bunzip2' },
  { name: 'xz', magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], tool: 'unxz' },
  { name: 'zstd', magic: [0x28, 0xb5, 0x2f, 0xfd], tool: 'unzstd' },
];

/** A tar header as tar-stream decodes it (`linkname` may be null; PAX records when present). */
type TarHeader = Omit<tar.Header, 'pax' | 'linkname' | 'type'> & {
  linkname: string | null;
  type: string | null;
  pax?: Record<string, string> | null;
};
/** One entry of the extract stream: its header and a readable of its data. */
type TarEntry = tar.Extract extends AsyncIterable<infer S> ? S : never;

/** A clean relative path ('' for the root), or null when it escapes the root. */
export function cleanTarPath(name: string): string | null {
  const out: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) return null;
      out.pop();
    } else {
      out.push(part);
    }
  }
  return out.join('/');
}

/** Parses a PAX time (`-12.5`, `1700000000.123456789`) into whole seconds and nanoseconds. */
export function parsePaxTime(value: string): { mtimeSec: number; mtimeNsec: number } | null {
  const m = /^(-?)(\d+)(?:\.(\d*))?$/.exec(value.trim());
  if (!m) return null;
  const negative = m[1] === '-';
  const whole = Number(m[2]);
  const nsec = Number(((m[3] ?? '') + '000000000').slice(0, 9));
  if (!Number.isSafeInteger(whole)) return null;
  if (!negative) return { mtimeSec: whole, mtimeNsec: nsec };
  return nsec === 0 ? { mtimeSec: -whole, mtimeNsec: 0 } : { mtimeSec: -whole - 1, mtimeNsec: 1_000_000_000 - nsec };
}

function u32(value: unknown): number | null {
  const n = typeof value === 'string' ? (/^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN) : Number(value);
  return Number.isInteger(n) && n >= 0 && n <= 0xffffffff ? n : null;
}

/** Opens the input and undoes its compression. `bytes` yields the tar bytes; `source` is the input stream. */
async function openTarBytes(input: string, shown: string): Promise<{ bytes: AsyncIterable<Buffer>; source: Readable }> {
  let source: Readable;
  if (input === '-') {
    source = process.stdin;
  } else {
    let handle: fsp.FileHandle;
    try {
      handle = await fsp.open(input, fs.constants.O_RDONLY);
      const st = await handle.stat();
      if (st.isDirectory()) {
        await handle.close();
        throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
      }
    } catch (err) {
      throw IoError.from(shown, err);
    }
    source = handle.createReadStream();
  }

  // Every refusal below closes the file first (else Node closes it at garbage collection, with a warning).
  const refuse = (err: IoError): never => {
    if (source !== process.stdin) source.destroy();
    throw err;
  };
  // Peek at the first bytes to recognise the compression.
  const it = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const head: Buffer[] = [];
  let headLength = 0;
  let done = false;
  try {
    while (headLength < 6) {
      const r = await it.next();
      if (r.done) {
        done = true;
        break;
      }
      head.push(r.value);
      headLength += r.value.length;
    }
  } catch (err) {
    refuse(IoError.from(shown, err));
  }
  const first = Buffer.concat(head);
  if (first.length === 0) refuse(new IoError(shown, 'empty input, not a tar archive'));

  async function* all(): AsyncGenerator<Buffer> {
    yield first;
    if (done) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  }

  const compression = COMPRESSIONS.find((c) => c.magic.every((b, i) => first[i] === b));
  if (!compression) return { bytes: all(), source };
  if (compression.name !== 'gzip') {
    refuse(new IoError(shown, `${compression.name}-compressed archives are not supported; decompress first (${compression.tool})`));
  }
  const raw = Readable.from(all(), { objectMode: false });
  const gunzip = zlib.createGunzip();
  raw.on('error', (err) => gunzip.destroy(err));
  raw.pipe(gunzip);
  return { bytes: gunzip, source };
}

/** Turns a stream or decoder failure into a one-line IoError. */
function readError(shown: string, err: unknown): CtxdiffError {
  if (err instanceof CtxdiffError) return err;
  const e = err as NodeJS.ErrnoException;
  const msg = e?.message ?? String(err);
  if (e?.code === 'Z_BUF_ERROR' || /unexpected end of file/i.test(msg)) {
    return new IoError(shown, 'truncated gzip stream', { cause: err });
  }
  if (typeof e?.code === 'string' && e.code.startsWith('Z_')) {
    return new IoError(shown, `corrupt gzip stream (${msg})`, { cause: err });
  }
  if (/Unexpected end of data/.test(msg)) return new IoError(shown, 'truncated tar archive', { cause: err });
  if (/Invalid tar header|Header exceeds max size|Invalid header/.test(msg)) {
    return new IoError(shown, 'not a tar archive, or a corrupt one (invalid tar header)', { cause: err });
  }
  if (e?.code) return IoError.from(shown, err);
  return new IoError(shown, msg.split('\n')[0]!, { cause: err });
}

/** Paths whose text must be kept while streaming: Dockerfile and ignore-file candidates. */
function buildFileCandidates(profile: BuilderProfile, dockerfile: string | undefined): {
  dockerfiles: string[];
  ignoreFiles: (df: string | undefined) => string[];
} {
  const dockerfiles = dockerfile !== undefined ? [dockerfile] : [...DEFAULT_DOCKERFILES, 'dockerfile'];
  const ignoreFiles = (df: string | undefined): string[] => [
    ...(df !== undefined && dockerfile !== undefined
      ? profile.ignoreFiles.besideDockerfile.map((c) => cleanTarPath(c.replaceAll('{dockerfile}', df)) ?? '')
      : []),
    ...profile.ignoreFiles.atRoot.map((c) => cleanTarPath(c) ?? ''),
  ];
  return { dockerfiles, ignoreFiles };
}

/**
 * Reads a tar build context from a file path or `-` (standard input). Throws IoError when the input cannot
 * be read or is not a (complete) tar archive, UsageError when the -f Dockerfile is not in the archive, and
 * IgnoreSyntaxError when the ignore file in force is invalid.
 */
export async function readTarContext(
  input: string,
  options: TarContextOptions,
): Promise<Context> {
  const { profile } = options;
  const shown = input === '-' ? '<stdin>' : input;
  let givenDockerfile: string | undefined;
  if (options.dockerfile !== undefined) {
    const clean = cleanTarPath(options.dockerfile);
    if (clean === null || clean === '') throw new UsageError(`Dockerfile path must be inside the archive: ${options.dockerfile}`);
    givenDockerfile = clean;
  }
  const candidates = buildFileCandidates(profile, givenDockerfile);
  const wanted = new Set<string>([
    ...candidates.dockerfiles,
    ...candidates.dockerfiles.flatMap((df) => candidates.ignoreFiles(df)),
  ]);

  const api = await xxhash();
  const entries = new Map<string, Entry>();
  const texts = new Map<string, string>();
  /** Build-file candidates over MAX_TEXT_BYTES: an error if chosen (never silently "no Dockerfile"). */
  const tooLarge = new Set<string>();
  let root: Context['root'];

  const { bytes, source } = await openTarBytes(input, shown);
  const extract = bytesExtract();
  const feeding = (async () => {
    try {
      for await (const chunk of bytes) {
        if (extract.destroyed) return;
        // Past the end-of-archive marker nothing is read (as Go's archive/tar, which the daemon uses, stops
        // there): a gzip bomb of zeros ends at its first kilobyte.
        if (archiveEnded(extract)) break;
        if (!extract.write(chunk)) await drainedOrClosed(extract);
      }
      extract.end(undefined);
      if (source !== process.stdin) source.destroy();
    } catch (err) {
      extract.destroy(err as Error);
    }
  })();

  try {
    for await (const item of extract) {
      await readEntry(item, item.header as unknown as TarHeader);
    }
  } catch (err) {
    extract.destroy(err as Error);
    // Stop reading a file; standard input is left alone (the feeding loop ends with it).
    if (source !== process.stdin) source.destroy();
    throw readError(shown, err);
  }
  await feeding;

  async function readEntry(stream: TarEntry, raw: TarHeader): Promise<void> {
    // Names are bytes (see bytesExtract): decoded losslessly, so `x\xfe` and `x\xff` stay two names.
    const h: TarHeader = { ...raw, name: nameFromLatin1(raw.name), linkname: raw.linkname === null ? null : nameFromLatin1(raw.linkname) };
    const p = cleanTarPath(h.name);
    if (p === null) throw new IoError(shown, `entry ${JSON.stringify(h.name)} points outside the context`);
    const pax = h.pax ?? {};
    if (Object.keys(pax).some((k) => k.startsWith('GNU.sparse.'))) {
      throw new IoError(shown, `entry ${JSON.stringify(h.name)}: sparse files are not supported`);
    }
    const time = pax.mtime !== undefined ? parsePaxTime(pax.mtime) : headerTime(h.mtime);
    const uid = u32(pax.uid ?? h.uid ?? 0);
    const gid = u32(pax.gid ?? h.gid ?? 0);
    if (time === null) throw new IoError(shown, `entry ${JSON.stringify(h.name)}: invalid mtime`);
    if (uid === null || gid === null) throw new IoError(shown, `entry ${JSON.stringify(h.name)}: uid/gid out of range`);
    const base = { path: p, mode: (h.mode ?? 0) & 0o7777, uid, gid, ...time };

    if (h.type === 'link') {
      stream.resume();
      const target = cleanTarPath(h.linkname ?? '');
      const linked = target !== null ? entries.get(target) : undefined;
      if (!linked || linked.type === 'dir') {
        throw new IoError(shown, `hard link ${JSON.stringify(h.name)}: target ${JSON.stringify(h.linkname)} is not an earlier file of the archive`);
      }
      const e: Entry = { ...base, type: linked.type, size: linked.size };
      if (linked.hash !== undefined) e.hash = linked.hash;
      if (linked.target !== undefined) e.target = linked.target;
      if (linked.devMajor !== undefined) e.devMajor = linked.devMajor;
      if (linked.devMinor !== undefined) e.devMinor = linked.devMinor;
      const text = texts.get(target!);
      if (text !== undefined && wanted.has(p)) texts.set(p, text);
      place(e);
      return;
    }

    const type = TAR_TYPES[h.type ?? ''];
    if (type === undefined) throw new IoError(shown, `entry ${JSON.stringify(h.name)}: unsupported tar entry type ${String(h.type)}`);
    if (p === '') {
      stream.resume();
      if (type !== 'dir') throw new IoError(shown, 'the archive root is not a directory');
      root = { mode: base.mode, uid, gid, mtimeSec: base.mtimeSec, mtimeNsec: base.mtimeNsec };
      return;
    }

    const e: Entry = { ...base, type, size: 0 };
    if (type === 'file') {
      const hasher = api.create64();
      const keep = wanted.has(p) ? ([] as Buffer[]) : null;
      let size = 0;
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        hasher.update(chunk);
        size += chunk.length;
        if (keep && size <= MAX_TEXT_BYTES) keep.push(chunk);
      }
      e.size = size;
      e.hash = hasher.digest().toString(16).padStart(16, '0');
      tooLarge.delete(p);
      if (keep && size <= MAX_TEXT_BYTES) texts.set(p, Buffer.concat(keep).toString('utf8'));
      else {
        texts.delete(p);
        if (keep) tooLarge.add(p);
      }
    } else {
      stream.resume();
      if (type === 'symlink') e.target = h.linkname ?? '';
      if (type === 'char' || type === 'block') {
        e.devMajor = h.devmajor ?? 0;
        e.devMinor = h.devminor ?? 0;
      }
      if (wanted.has(p)) {
        texts.delete(p);
        tooLarge.delete(p);
      }
    }
    place(e);
  }

  /** Adds an entry; a non-directory replacing a directory removes what was below it. */
  function place(e: Entry): void {
    const before = entries.get(e.path);
    if (before?.type === 'dir' && e.type !== 'dir') {
      const prefix = `${e.path}/`;
      for (const key of entries.keys()) {
        if (key.startsWith(prefix)) {
          entries.delete(key);
          texts.delete(key);
        }
      }
    }
    entries.set(e.path, e);
  }

  addImpliedParents(entries, shown);

  // Build files.
  const dockerfile = candidates.dockerfiles.find((df) => texts.has(df) || tooLarge.has(df));
  if (dockerfile !== undefined && tooLarge.has(dockerfile)) throw tooLargeError(`${shown}: ${dockerfile}`);
  if (givenDockerfile !== undefined && dockerfile === undefined) {
    throw new UsageError(`Dockerfile not found in ${shown}: ${options.dockerfile}`);
  }
  const ignorePath = candidates.ignoreFiles(dockerfile).find((f) => texts.has(f) || tooLarge.has(f));
  if (ignorePath !== undefined && tooLarge.has(ignorePath) && profile.tarIgnoreScope !== 'none') {
    throw tooLargeError(`${shown}: ${ignorePath}`);
  }
  const ignoreText = ignorePath !== undefined ? texts.get(ignorePath)! : undefined;

  const scope = profile.tarIgnoreScope;
  let ignore: IgnoreFileInfo | null = null;
  let list = [...entries.values()];
  if (scope !== 'none' && ignorePath !== undefined && ignoreText !== undefined) {
    ignore = { file: ignorePath, text: ignoreText };
    const matcher = createIgnoreMatcher(parseIgnoreFile(ignoreText, ignorePath, profile.matcher), profile.matcher);
    list = scope === 'all' ? applyAll(list, matcher) : removeBuildFiles(list, matcher, [ignorePath, dockerfile]);
  }
  list.sort((a, b) => comparePaths(a.path, b.path));

  return {
    name: options.name ?? shown,
    builder: profile.id,
    ignore,
    dockerfiles: dockerfile !== undefined ? { [dockerfile]: texts.get(dockerfile)! } : {},
    ...(dockerfile !== undefined ? { dockerfile } : {}),
    entries: list,
    ...(root ? { root } : {}),
  };
}

/**
 * A tar-stream extractor that keeps names as bytes: header names are read as latin1 (one character per
 * byte), and so are PAX records (tar-stream decodes those as UTF-8, replacing what is not: Go's archive/tar,
 * which the docker CLI uses, puts every non-ASCII name in a PAX record). The names become strings with
 * `nameFromLatin1` (core/names.ts). The PAX decoder is replaced on this one extractor only.
 */
function bytesExtract(): tar.Extract {
  // filenameEncoding is an option of tar-stream 3 its type definitions do not list.
  const extract = tar.extract({ filenameEncoding: 'latin1' } as unknown as Parameters<typeof tar.extract>[0]);
  const x = extract as unknown as {
    _header: { type: string; size: number };
    _paxGlobal: Record<string, string> | null;
    _pax: Record<string, string> | null;
    _decodeLongHeader(buf: Buffer): void;
  };
  const original = x._decodeLongHeader;
  const consumeHeader = (x as unknown as { _consumeHeader(): boolean })._consumeHeader;
  if (typeof original !== 'function' || typeof consumeHeader !== 'function') throw new Error('tar-stream: unexpected version');
  // End of archive: two zero blocks where a header is due (tar-stream skips zero blocks and reads on). What
  // follows is dropped from the buffer, and nothing more is fed (see readTarContext).
  let zeros = 0;
  const y = x as unknown as { _header: unknown; _buffer: { buffered: number; shift(n: number): unknown }; _consumeHeader(): boolean };
  y._consumeHeader = function (this: typeof y): boolean {
    // (Returning true with an empty buffer lets the write that brought the bytes complete.)
    if (ended.has(extract)) {
      this._buffer.shift(this._buffer.buffered);
      return true;
    }
    const more = consumeHeader.call(this);
    if (this._header === null && more) {
      if (++zeros >= 2) {
        ended.add(extract);
        this._buffer.shift(this._buffer.buffered);
        return true;
      }
    } else if (this._header) {
      zeros = 0;
    }
    return more;
  };
  x._decodeLongHeader = function (this: typeof x, buf: Buffer): void {
    if (this._header.type === 'pax-global-header') this._paxGlobal = decodePaxBytes(buf);
    else if (this._header.type === 'pax-header') this._pax = { ...(this._paxGlobal ?? {}), ...decodePaxBytes(buf) };
    else original.call(this, buf);
  };
  return extract;
}

/** Extractors that have read their end-of-archive marker. */
const ended = new WeakSet<tar.Extract>();

/** Whether an extractor (made by bytesExtract) has read its end-of-archive marker. */
function archiveEnded(extract: tar.Extract): boolean {
  return ended.has(extract);
}

/** PAX records (`<length> <key>=<value>\n`), values as latin1 (their bytes); as tar-stream stops at a bad one. */
function decodePaxBytes(buf: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  while (buf.length > 0) {
    let i = 0;
    while (i < buf.length && buf[i] !== 32) i++;
    const len = parseInt(buf.toString('latin1', 0, i), 10);
    if (!len || len > buf.length || len <= i + 1) return out;
    const record = buf.toString('latin1', i + 1, len - 1);
    const eq = record.indexOf('=');
    if (eq === -1) return out;
    const key = record.slice(0, eq);
    const value = record.slice(eq + 1);
    // Keys and numeric values are ASCII; only names keep their bytes (latin1), other text is UTF-8.
    out[key] = key === 'path' || key === 'linkpath' ? value : Buffer.from(value, 'latin1').toString('utf8');
    buf = buf.subarray(len);
  }
  return out;
}

/** Resolves once a writable stream can take more data, or is closed. */
function drainedOrClosed(stream: tar.Extract): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}

function headerTime(date: Date | undefined): { mtimeSec: number; mtimeNsec: number } | null {
  const ms = date === undefined ? 0 : date.getTime();
  if (!Number.isFinite(ms)) return null;
  return { mtimeSec: Math.floor(ms / 1000), mtimeNsec: 0 };
}

/** Adds the parent directories no entry describes; a parent that is not a directory is an error. */
function addImpliedParents(entries: Map<string, Entry>, shown: string): void {
  for (const e of [...entries.values()]) {
    for (let at = e.path.lastIndexOf('/'); at > 0; at = e.path.lastIndexOf('/', at - 1)) {
      const dir = e.path.slice(0, at);
      const existing = entries.get(dir);
      if (existing) {
        if (existing.type !== 'dir') {
          throw new IoError(shown, `entry ${JSON.stringify(e.path)} is below ${JSON.stringify(dir)}, which is not a directory`);
        }
        break; // its own parents were (or will be) handled with it
      }
      entries.set(dir, { path: dir, ...IMPLIED_DIR });
    }
  }
}

/** Directory-context semantics: the walk's verdicts, plus the parents of re-included entries when sent. */
function applyAll(list: Entry[], matcher: IgnoreMatcher): Entry[] {
  const keep = new Set(list.filter((e) => !matchAlongWalk(matcher, e.path).excluded).map((e) => e.path));
  if (matcher.sendsParentsOfReincluded) {
    for (const p of [...keep]) {
      for (let at = p.lastIndexOf('/'); at > 0; at = p.lastIndexOf('/', at - 1)) {
        const dir = p.slice(0, at);
        if (keep.has(dir)) break;
        keep.add(dir);
      }
    }
  }
  return list.filter((e) => keep.has(e.path));
}

/** The classic daemon's clean-up: the ignore file and the Dockerfile go when the patterns exclude them. */
function removeBuildFiles(list: Entry[], matcher: IgnoreMatcher, files: (string | undefined)[]): Entry[] {
  const gone = new Set(files.filter((f): f is string => f !== undefined && matcher.match(f).excluded));
  return gone.size === 0 ? list : list.filter((e) => !gone.has(e.path));
}

