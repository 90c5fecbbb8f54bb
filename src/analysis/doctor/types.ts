/**
 * The shapes every doctor rule module shares: the inputs, a finding, and a rule's documentation (the data
 * `doctor --list-rules`, suppression and the README are derived from).
 */
import type { BuilderProfile } from '../../builders/profiles.js';
import type { Entry, IgnoreFileInfo } from '../../core/types.js';
import type { DockerfileModel } from '../../dockerfile/model.js';
import type { IgnoreMatcher } from '../../ignore/matcher.js';
import type { DiskEntry } from '../du.js';
import type { Severity } from '../severity.js';
import type { DockerfileFeatures } from './tools.js';

export interface Finding {
  /** The rule's id (see RULES). */
  id: string;
  severity: Severity;
  /** The file the finding is about (Dockerfile or ignore file), relative to the context root. */
  file: string;
  /** 1-based line in that file, or null when the finding is about the file as a whole. */
  line: number | null;
  message: string;
  /** What to change: a sentence, or the lines to write (several lines joined with '\n'). */
  fix: string;
  /** Context paths the finding is about. */
  paths?: string[];
  /** `file` as a path from the current directory (directory contexts), for annotations; set by the CLI. */
  location?: string;
}

export interface DoctorReport {
  context: string;
  builder: string;
  dockerfile: string | null;
  ignoreFile: string | null;
  findings: Finding[];
  /** Findings suppressed by --ignore, the config file or a ctxdiff-ignore comment (doctor-gate.ts). */
  suppressed?: { id: string; file: string; line: number | null; by: string }[];
}

/** Everything the checks read. Only `entries` is required; a check whose input is missing is skipped. */
export interface DoctorInput {
  context: string;
  profile: BuilderProfile;
  /** What the builder receives. */
  entries: readonly Entry[];
  ignore: IgnoreFileInfo | null;
  matcher: IgnoreMatcher | null;
  dockerfile: DockerfileModel | null;
  /** The whole directory (see walkAll), when the context is a directory. */
  disk?: readonly DiskEntry[] | null;
  /** The ignore file each builder profile would use for this context and Dockerfile (null: none). */
  ignoreByBuilder?: Record<string, string | null>;
  /** Ignore-file candidates of the chosen profile that exist, in the order the builder tries them. */
  ignoreCandidates?: string[];
  /** First bytes (up to 512) of a context file, or null when it cannot be read. */
  readHead?: (p: string) => Uint8Array | null;
  /** Text of a file of the directory (relative path), or null when it cannot be read. */
  readText?: (p: string) => string | null;
}

/** What every check receives besides the input. */
export interface CheckContext {
  /** The ignore file fixes should name (the one in force, else `.dockerignore`). */
  ignoreName: string;
  /** What the chosen builder accepts. */
  features: DockerfileFeatures;
}

/** A rule's documentation: what `--list-rules`, `--ignore` and the README show. */
export interface Rule {
  id: string;
  /** The usual severity (the finding's message says when it is raised or lowered, see `why`). */
  severity: Severity;
  /** One line. */
  title: string;
  /** Why it costs cache hits (or gives stale ones). */
  why: string;
  /** What the fix is (each finding carries the concrete lines). */
  fix: string;
  /** The rule applies only to builders with this Dockerfile feature; absent: every builder. */
  requires?: keyof DockerfileFeatures;
}

/** A family of rules: their documentation and the check that produces their findings. */
export interface RuleFamily {
  name: string;
  rules: readonly Rule[];
  check(input: DoctorInput, ctx: CheckContext): Finding[];
}
