/** Finding and reading the Dockerfile(s) of a context (their text is kept in contexts and snapshots). */
import fs from 'node:fs';
import path from 'node:path';
import { IoError, UsageError } from '../core/errors.js';

/** Default Dockerfile names at the context root, in the order builders look for them. */
export const DEFAULT_DOCKERFILES = ['Dockerfile', 'Containerfile'];

/** Key under which a Dockerfile is stored: its path relative to the context root when inside it, else absolute. */
export function dockerfileKey(root: string, file: string): string {
  const abs = path.resolve(file);
  const rel = path.relative(root, abs);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel.split(path.sep).join('/') : abs;
}

/**
 * Read the Dockerfile given with -f (must exist) or the default one at the root (may be absent).
 * Returns texts keyed by dockerfileKey and the chosen key.
 */
export function readDockerfiles(root: string, given: string | undefined): { texts: Record<string, string>; chosen?: string } {
  if (given !== undefined) {
    const abs = path.resolve(given);
    let text: string;
    try {
      text = fs.readFileSync(abs, 'utf8');
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'ENOENT') throw new UsageError(`Dockerfile not found: ${given}`);
      throw IoError.from(given, e);
    }
    const key = dockerfileKey(root, abs);
    return { texts: { [key]: text }, chosen: key };
  }
  for (const name of DEFAULT_DOCKERFILES) {
    const abs = path.join(root, name);
    try {
      const text = fs.readFileSync(abs, 'utf8');
      return { texts: { [name]: text }, chosen: name };
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'ENOENT' || err.code === 'EISDIR' || err.code === 'ENOTDIR') continue;
      throw IoError.from(abs, e);
    }
  }
  return { texts: {} };
}
