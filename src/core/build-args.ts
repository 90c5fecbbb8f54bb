/**
 * Build-argument values: which names look secret, and the hash recorded in their place. A secret-looking
 * value is never stored or printed in clear; two builds are compared by hash (SHA-256 of the name and the
 * value, domain-separated: not salted, so that snapshots taken apart can be compared; a short or guessable
 * secret can be found by trying values, so pass real secrets with `--secret`, which is not a build arg).
 */
import { createHash } from 'node:crypto';
import { UsageError } from './errors.js';
import type { BuildArgValue } from './types.js';

/** Parts of a name that mark it as secret (matched case-insensitively, anywhere in the name). */
const SECRET_NAME = /TOKEN|PASSWORD|PASSWD|SECRET|KEY|CREDENTIAL|AUTH|PRIVATE|CERT/i;

export function secretLooking(name: string): boolean {
  return SECRET_NAME.test(name);
}

export function hashBuildArg(name: string, value: string): string {
  return createHash('sha256').update(`ctxdiff build-arg\0${name}\0${value}`).digest('hex');
}

/** What a value is compared by: the clear value, or its hash for a secret-looking name. */
export function fingerprint(name: string, value: BuildArgValue | null | undefined): string | null | undefined {
  if (value === null || value === undefined) return value;
  if (typeof value !== 'string') return `sha256:${value.sha256}`;
  return secretLooking(name) ? `sha256:${hashBuildArg(name, value)}` : value;
}

/** The form a value is recorded in: secret-looking names keep only the hash. */
export function recordable(args: Record<string, string>): Record<string, BuildArgValue> {
  const out: Record<string, BuildArgValue> = {};
  for (const [k, v] of Object.entries(args)) out[k] = secretLooking(k) ? { sha256: hashBuildArg(k, v) } : v;
  return out;
}

/** The values a Dockerfile can be expanded with (hashed values are known to be set, but not to what). */
export function clearValues(args: Record<string, BuildArgValue>): { values: Record<string, string>; opaque: string[] } {
  const values: Record<string, string> = {};
  const opaque: string[] = [];
  for (const [k, v] of Object.entries(args)) {
    if (typeof v === 'string') values[k] = v;
    else opaque.push(k);
  }
  return { values, opaque };
}

/** Parse `NAME=VALUE` words (as given to `--build-arg`); a bare NAME takes the value of the environment variable, as docker build does. */
export function parseBuildArgs(list: readonly string[] | undefined, env: Record<string, string | undefined> = {}): Record<string, string> | undefined {
  if (!list) return undefined;
  const out: Record<string, string> = {};
  for (const a of list) {
    const eq = a.indexOf('=');
    if (eq === 0 || a === '') throw new UsageError(`--build-arg takes name=value, not "${a}"`);
    if (eq < 0) {
      const v = env[a];
      if (v !== undefined) out[a] = v; // docker build: an unset variable leaves the arg out
      continue;
    }
    out[a.slice(0, eq)] = a.slice(eq + 1);
  }
  return out;
}
