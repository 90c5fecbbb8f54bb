/**
 * `ctxdiff doctor`: cache-busting risks in a build context and its Dockerfile, each with severity, place and a
 * concrete fix. The rules live in doctor/, one module per family; each family documents its rules as data
 * (id, severity, title, why, fix, which builders), so `--list-rules`, suppression and the README derive
 * from RULES. Every check reads the Dockerfile model (never regexes over the raw file), the entries the
 * builder receives, and, for a directory, the whole tree on disk. Tool knowledge is data (doctor/tools.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { walkAll } from './du.js';
import { IoError } from '../core/errors.js';
import { fsPath } from '../core/names.js';
import { readRegularFile } from '../core/regular-file.js';
import { locateIgnoreFile } from '../ignore/ignore-file.js';
import { defaultProfile, PROFILES, type BuilderProfile } from '../builders/profiles.js';
import { walkContext } from '../context/walk.js';
import { matcherFor, readModel } from './why.js';
import { atLeast, SEVERITIES, type Severity } from './severity.js';
import { DEPENDENCY_RULES } from './doctor/dependencies.js';
import { IGNORE_FILE_RULES } from './doctor/ignore-files.js';
import { MOUNT_RULES } from './doctor/mounts.js';
import { PACKAGE_RULES } from './doctor/packages.js';
import { PATH_RULES } from './doctor/paths.js';
import { REMOTE_RULES } from './doctor/remote.js';
import type { DockerfileFeatures } from './doctor/tools.js';
import type { DoctorInput, DoctorReport, Finding, Rule, RuleFamily } from './doctor/types.js';
import { VOLATILE_RULES } from './doctor/volatile.js';

export { atLeast, SEVERITIES, type Severity };
export { isArchive } from './doctor/remote.js';
export type { DockerfileFeatures };
export type { DoctorInput, DoctorReport, Finding, Rule };

const FAMILIES: readonly RuleFamily[] = [PATH_RULES, DEPENDENCY_RULES, PACKAGE_RULES, VOLATILE_RULES, REMOTE_RULES, IGNORE_FILE_RULES, MOUNT_RULES];

/** Every rule doctor has, in a stable order (by family, then as each family lists them). */
export const RULES: readonly Rule[] = FAMILIES.flatMap((f) => f.rules);

/** The Dockerfile features of a builder profile, from its data (RUN --mount: bind mounts not rejected; ADD --checksum enforced). */
export const featuresOf = (profile: BuilderProfile): DockerfileFeatures => ({
  runMount: profile.bindMounts !== 'rejected',
  addChecksum: profile.copyFlags.addChecksum === 'supported',
});

/** Whether `rule` applies to builds with `profile`. */
export const ruleApplies = (rule: Rule, profile: BuilderProfile): boolean => rule.requires === undefined || featuresOf(profile)[rule.requires];

/** The ids of the builder profiles a rule applies to (for `--list-rules` and the README). */
export const ruleBuilders = (rule: Rule): string[] => Object.values(PROFILES).filter((p) => ruleApplies(rule, p)).map((p) => p.id);

const RULE_BY_ID = new Map(RULES.map((r) => [r.id, r]));

const order = (a: Finding, b: Finding) =>
  SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) ||
  (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) ||
  (a.line ?? 0) - (b.line ?? 0) ||
  (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Run every check on the inputs; only the rules that apply to the profile; findings ordered by severity, then file and line. */
export function diagnose(input: DoctorInput): DoctorReport {
  const ctx = { ignoreName: input.ignore?.file ?? '.dockerignore', features: featuresOf(input.profile) };
  const findings: Finding[] = [];
  for (const family of FAMILIES) {
    for (const f of family.check(input, ctx)) {
      const rule = RULE_BY_ID.get(f.id);
      if (!rule) throw new Error(`doctor: finding ${f.id} has no rule in RULES`);
      if (ruleApplies(rule, input.profile)) findings.push(f);
    }
  }
  findings.sort(order);
  return {
    context: input.context,
    builder: input.profile.id,
    dockerfile: input.dockerfile?.file ?? null,
    ignoreFile: input.ignore?.file ?? null,
    findings,
  };
}

function readHeadIn(root: string): (p: string) => Uint8Array | null {
  return (p) => {
    let fd: number | undefined;
    try {
      fd = fs.openSync(fsPath(path.join(root, p)), fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW);
      const buf = Buffer.alloc(512);
      const n = fs.readSync(fd, buf, 0, 512, 0);
      return buf.subarray(0, n);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EISDIR' || code === 'ELOOP' || code === 'EAGAIN' || code === 'ENXIO') return null;
      throw IoError.from(p, e);
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  };
}

/** Small text files (ignore files) of the directory; null when missing, unreadable or larger than 1 MiB. */
function readTextIn(root: string): (p: string) => string | null {
  return (p) => {
    try {
      // Only a regular file (a FIFO, or a link to one, would block): core/regular-file.ts.
      return readRegularFile(fsPath(path.join(root, p)), p, { maxBytes: 1 << 20 }).toString('utf8');
    } catch {
      return null;
    }
  };
}

/**
 * Diagnose a context directory: walk it as the builder would (not hashed), walk it whole for the ignore
 * checks, and look up the ignore file every builder profile would use. `dockerfile` is as given with -f.
 */
export async function diagnoseDirectory(
  dir: string,
  options: { profile?: BuilderProfile; dockerfile?: string; onWarning?: (message: string) => void } = {},
): Promise<DoctorReport> {
  const profile = options.profile ?? defaultProfile();
  const root = path.resolve(dir);
  const onWarning = options.onWarning;
  // What cannot be read is a warning here (see WalkOptions.unreadable).
  const context = await walkContext(dir, { profile, dockerfile: options.dockerfile, hash: false, unreadable: 'warn', ...(onWarning ? { onWarning } : {}) });
  const matcher = matcherFor(context.ignore, profile);
  const ignoreByBuilder: Record<string, string | null> = {};
  for (const p of Object.values(PROFILES)) ignoreByBuilder[p.id] = locateIgnoreFile(root, options.dockerfile, p)?.file ?? null;
  const ignoreCandidates = candidatesThatExist(root, options.dockerfile, profile);
  return diagnose({
    context: dir,
    profile,
    entries: context.entries,
    ignore: context.ignore,
    matcher,
    dockerfile: readModel(context.dockerfiles, context.dockerfile),
    disk: walkAll(root, matcher, onWarning ?? (() => {})),
    ignoreByBuilder,
    ignoreCandidates,
    readHead: readHeadIn(root),
    readText: readTextIn(root),
  });
}

/** The profile's ignore-file candidates that exist, in lookup order (shown relative to the root when inside). */
function candidatesThatExist(root: string, dockerfile: string | undefined, profile: BuilderProfile): string[] {
  const out: string[] = [];
  const abs: string[] = [];
  // Without -f, the default Dockerfile's own ignore file counts too (as in locateIgnoreFile).
  const df = dockerfile ? path.resolve(dockerfile) : profile.defaultDockerfiles.map((n) => path.join(root, n)).find((p) => fs.existsSync(p));
  if (df) for (const c of profile.ignoreFiles.besideDockerfile) abs.push(c.replaceAll('{dockerfile}', df));
  for (const c of profile.ignoreFiles.atRoot) abs.push(path.join(root, c));
  for (const a of abs) {
    if (!fs.existsSync(a)) continue;
    const rel = path.relative(root, a);
    out.push(rel.startsWith('..') || path.isAbsolute(rel) ? a : rel.split(path.sep).join('/'));
  }
  return out;
}
