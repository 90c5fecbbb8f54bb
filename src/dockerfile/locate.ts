/** Finding and reading the Dockerfile(s) of a context (their text is kept in contexts and snapshots). */
import path from 'node:path';
import { UsageError } from '../core/errors.js';
import { readRegularFile } from '../core/regular-file.js';

/** Default Dockerfile names at the context root, in the order builders look for them. */
export const DEFAULT_DOCKERFILES = ['Dockerfile', 'Containerfile'];

/** Key under which a Dockerfile is stored: its path relative to the context root when inside it, else absolute. */
export function dockerfileKey(root: string, file: string): string {
  const abs = path.resolve(file);
  const rel = path.relative(root, abs);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel.split(path.sep).join('/') : abs;
}

/**
 * Read the Dockerfile given with -f (must exist) or the default one at the root (may be absent). Only a
 * regular file (or a symlink to one) of at most MAX_BUILD_FILE_BYTES is read; anything else is an IoError.
 * Returns texts keyed by dockerfileKey and the chosen key.
 */
export function readDockerfiles(root: string, given: string | undefined): { texts: Record<string, string>; chosen?: string } {
  if (given !== undefined) {
    const abs = path.resolve(given);
    const bytes = readRegularFile(abs, given, { optional: true });
    if (bytes === null) throw new UsageError(`Dockerfile not found: ${given}`);
    const text = bytes.toString('utf8');
    const key = dockerfileKey(root, abs);
    return { texts: { [key]: text }, chosen: key };
  }
  for (const name of DEFAULT_DOCKERFILES) {
    // A Dockerfile that is a directory, a FIFO, … fails the build: an error here too, never "no Dockerfile".
    const bytes = readRegularFile(path.join(root, name), name, { optional: true });
    if (bytes !== null) return { texts: { [name]: bytes.toString('utf8') }, chosen: name };
  }
  return { texts: {} };
}
