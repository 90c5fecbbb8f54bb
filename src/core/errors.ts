/**
 * Typed errors. Every error the user can cause carries a one-line message; the CLI prints
 * that line and exits 2 (stack traces only with --debug).
 */
export class CtxdiffError extends Error {
  readonly code: string;
  readonly exitCode = 2;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Bad command-line usage. */
export class UsageError extends CtxdiffError {
  constructor(message: string) {
    super('EUSAGE', message);
  }
}

/** A file or directory could not be read or written. */
export class IoError extends CtxdiffError {
  readonly path: string;
  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super('EIO', `${path}: ${message}`, options);
    this.path = path;
  }
  static from(path: string, err: unknown): IoError {
    const e = err as NodeJS.ErrnoException;
    const what = (e?.code !== undefined ? ERRNO_MESSAGES[e.code] : undefined) ?? firstLine(e?.message ?? String(err));
    return new IoError(path, what, { cause: err });
  }
}

/** One-line messages for the system errors a user can cause (as strerror words them). */
const ERRNO_MESSAGES: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EFBIG: 'file too large',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'file name too long',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in system',
  ENXIO: 'no such device or address',
  ENODEV: 'no such device',
  EIO: 'input/output error',
  EAGAIN: 'resource temporarily unavailable',
  EBUSY: 'device or resource busy',
  ETXTBSY: 'text file busy',
  EEXIST: 'file exists',
  EXDEV: 'cross-device link',
};

function firstLine(s: string): string {
  const nl = s.indexOf('\n');
  return nl === -1 ? s : s.slice(0, nl);
}

/** A .dockerignore line the builder would reject (the build would fail). */
export class IgnoreSyntaxError extends CtxdiffError {
  readonly file: string;
  readonly line: number;
  readonly pattern: string;
  constructor(file: string, line: number, pattern: string, reason: string) {
    super('EIGNORE', `${file}:${line}: invalid pattern ${JSON.stringify(pattern)}: ${reason}`);
    this.file = file;
    this.line = line;
    this.pattern = pattern;
  }
}

/** A snapshot file that is corrupt, truncated, or of an unknown version. */
export class SnapshotFormatError extends CtxdiffError {
  readonly file: string;
  constructor(file: string, reason: string, options?: { cause?: unknown }) {
    super('ESNAPSHOT', `${file}: ${reason}`, options);
    this.file = file;
  }
}

/** A Dockerfile that cannot be read or parsed. */
export class DockerfileError extends CtxdiffError {
  readonly file: string;
  readonly line?: number;
  constructor(file: string, line: number | undefined, reason: string) {
    super('EDOCKERFILE', `${file}${line ? `:${line}` : ''}: ${reason}`);
    this.file = file;
    this.line = line;
  }
}
