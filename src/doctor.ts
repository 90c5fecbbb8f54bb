/** `ctxdiff doctor`: cache-busting risks in a build context and its Dockerfile, each with a concrete fix. */

export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  id: string;
  severity: Severity;
  /** The file the finding is about (Dockerfile, ignore file, or a context path), relative to the context root. */
  file: string;
  /** 1-based line in that file, or null when the finding is about a whole path. */
  line: number | null;
  message: string;
  /** What to change: a sentence, or the replacement lines. */
  fix: string;
  /** Context paths the finding is about, when there are several. */
  paths?: string[];
}

export interface DoctorReport {
  context: string;
  builder: string;
  dockerfile: string | null;
  ignoreFile: string | null;
  findings: Finding[];
}
