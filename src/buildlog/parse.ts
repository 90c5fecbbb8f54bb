/**
 * Reading real builders' logs: which steps the builder ran, which it took from its cache, and what it says
 * about its base images and cache imports. Four formats, recognised from their content:
 * - BuildKit `--progress=plain` (`docker build` with BuildKit, `docker buildx build`): `#7 [build 3/3] COPY a.txt /a`
 *   … `#7 CACHED` or `#7 DONE 0.1s`. Only filesystem steps are printed (no LABEL/ENV, no `FROM scratch`), stages
 *   run in parallel so vertices interleave, steps of stages the target does not need are never printed. The
 *   prefix names the stage (`AS` name or `stage-N`, possibly after a platform) and is left out when the
 *   Dockerfile has a single stage. A RUN is printed with its build args substituted. A FROM is printed with
 *   the image's digest when the builder resolved one (`FROM docker.io/library/node:20@sha256:…`).
 * - BuildKit `--progress=rawjson` (buildx): one JSON status per line; vertexes carry the same names and a
 *   `cached` flag (the plain log of a `COPY --link` prints "merging" whether or not it was cached: the flag
 *   does not mislead).
 * - the classic builder (`DOCKER_BUILDKIT=0`): `Step 3/9 : COPY a.txt /a`, then ` ---> Using cache` when it
 *   hits, ` ---> Running in …` when it runs; every instruction of every stage, in file order; after a FROM,
 *   ` ---> <image id>`.
 * - Buildah/Podman (`bud --layers`): `[2/3] STEP 2/4: COPY a.txt /a`, then `--> Using cache <id>` when it hits
 *   (for the last step of the build, before `COMMIT`); the `[stage/stages]` prefix is left out for a
 *   single-stage file; stages the target does not need are skipped.
 * Lines may carry a CI runner's timestamp prefix (`2024-05-01T10:00:00.1234567Z `) and CR line ends.
 * The parsers return data only; placing steps on Dockerfile lines is match.ts.
 */

export type LogFormat = 'buildkit-plain' | 'buildkit-rawjson' | 'classic' | 'buildah';

export const LOG_FORMATS: readonly LogFormat[] = ['buildkit-plain', 'buildkit-rawjson', 'classic', 'buildah'];

/** What the builder did with a step: took it from its cache, ran it, failed it, or the log does not say. */
export type StepOutcome = 'cached' | 'rebuilt' | 'failed' | 'unknown';

/** A line of the log, quoted as evidence (1-based line number in the log file). */
export interface LogLine {
  line: number;
  text: string;
}

/** A step as a builder's log reports it. */
export interface LoggedStep {
  /** Stage as the log names it: a 0-based index, a BuildKit stage name, or undefined when not said. */
  stage: number | string | undefined;
  /** Position of the step within its stage as printed (`k` of `k/n`), for ordering interleaved logs. */
  ordinal: number;
  /** The instruction as the builder printed it. */
  text: string;
  outcome: StepOutcome;
  /** Where the step is first named in the log. */
  at: LogLine;
  /** For a FROM: the image digest or id the log shows (`sha256:…`, or a classic short id), if any. */
  image?: string;
  /** The line that shows it. */
  imageAt?: LogLine;
}

export interface ParsedLog {
  format: LogFormat;
  steps: LoggedStep[];
  /** Lines about importing a cache (`--cache-from`), with the errors of those vertices. */
  cacheImport: LogLine[];
  /** Error lines of the build itself. */
  errors: LogLine[];
}

const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z /;

/** The log's lines without CR ends and CI timestamp prefixes. */
function logLines(log: string): string[] {
  return log.split('\n').map((l) => l.replace(/\r$/, '').replace(TIMESTAMP, ''));
}

/** BuildKit's step name: `[stage k/n] TEXT`, the stage part possibly after a platform, or empty. */
const BUILDKIT_NAME = /^\[([^\]]*?)\s*(\d+)\/(\d+)\] (.*)$/;
const DIGEST_IN_FROM = /^FROM\s+\S+?@(sha256:[0-9a-f]{64})(?:\s|$)/i;
const CACHE_IMPORT = /importing cache manifest|cache import|cache importer|--cache-from/i;

function buildkitStage(prefix: string): string | undefined {
  return prefix.trim().split(/\s+/).pop() || undefined;
}

/** Which format a log is in, from its first recognisable lines; undefined when none. */
export function detectFormat(log: string): LogFormat | undefined {
  let checked = 0;
  for (const line of logLines(log)) {
    if (line.trim() === '') continue;
    if (line.startsWith('{') && /"vertexes"|"statuses"|"logs"/.test(line)) return 'buildkit-rawjson';
    if (/^#\d+ /.test(line)) return 'buildkit-plain';
    if (/^Step \d+\/\d+ : /.test(line)) return 'classic';
    if (/^(?:\[\d+\/\d+\] )?STEP \d+\/\d+: /.test(line)) return 'buildah';
    if (++checked > 2000) break;
  }
  return undefined;
}

/** BuildKit `--progress=plain` output. */
export function parseBuildkitPlain(log: string): ParsedLog {
  const steps = new Map<string, LoggedStep>();
  const outcome = new Map<string, StepOutcome>();
  const importVertices = new Set<string>();
  const cacheImport: LogLine[] = [];
  const errors: LogLine[] = [];
  logLines(log).forEach((text, i) => {
    const at = { line: i + 1, text };
    const m = /^#(\d+) (.*)$/.exec(text);
    if (!m) return;
    const [, vertex, rest] = m as unknown as [string, string, string];
    const header = BUILDKIT_NAME.exec(rest);
    if (header && !steps.has(vertex)) {
      const [, prefix, ordinal, , name] = header as unknown as [string, string, string, string, string];
      const step: LoggedStep = { stage: buildkitStage(prefix), ordinal: Number(ordinal), text: name, outcome: 'unknown', at };
      const digest = DIGEST_IN_FROM.exec(name);
      if (digest) (step.image = digest[1]), (step.imageAt = at);
      steps.set(vertex, step);
      return;
    }
    if (CACHE_IMPORT.test(rest)) {
      importVertices.add(vertex);
      cacheImport.push(at);
      return;
    }
    if (/^CACHED\s*$/.test(rest)) outcome.set(vertex, 'cached');
    else if (/^DONE\b/.test(rest)) {
      if (outcome.get(vertex) !== 'cached') outcome.set(vertex, 'rebuilt');
    } else if (/^ERROR\b/.test(rest)) {
      outcome.set(vertex, 'failed');
      if (importVertices.has(vertex)) cacheImport.push(at);
      else errors.push(at);
    } else if (/^CANCELED\b/.test(rest)) {
      if (!outcome.has(vertex)) outcome.set(vertex, 'unknown');
    } else if (importVertices.has(vertex) && /error|failed|not found|denied|refused/i.test(rest)) {
      cacheImport.push(at);
    } else {
      const step = steps.get(vertex);
      const resolved = /^resolve \S+?@(sha256:[0-9a-f]{64})/.exec(rest);
      if (step && resolved && !step.image) (step.image = resolved[1]), (step.imageAt = at);
    }
  });
  for (const [vertex, step] of steps) step.outcome = outcome.get(vertex) ?? 'unknown';
  return { format: 'buildkit-plain', steps: [...steps.values()], cacheImport, errors };
}

interface RawVertex {
  digest?: unknown;
  name?: unknown;
  cached?: unknown;
  completed?: unknown;
  error?: unknown;
}

/** BuildKit `--progress=rawjson` output: vertexes by digest; a step is cached if any update says so. */
export function parseBuildkitRawjson(log: string): ParsedLog {
  const steps = new Map<string, LoggedStep>();
  const outcome = new Map<string, StepOutcome>();
  const cacheImport: LogLine[] = [];
  const errors: LogLine[] = [];
  const seenImport = new Set<string>();
  logLines(log).forEach((text, i) => {
    if (!text.startsWith('{')) return;
    let status: { vertexes?: unknown };
    try {
      status = JSON.parse(text) as { vertexes?: unknown };
    } catch {
      return;
    }
    if (!Array.isArray(status.vertexes)) return;
    for (const v of status.vertexes as RawVertex[]) {
      if (typeof v?.digest !== 'string' || typeof v.name !== 'string') continue;
      const at = { line: i + 1, text: v.name };
      const header = BUILDKIT_NAME.exec(v.name);
      const error = typeof v.error === 'string' && v.error !== '' ? v.error : undefined;
      if (!header) {
        if (CACHE_IMPORT.test(v.name)) {
          if (!seenImport.has(v.digest)) (seenImport.add(v.digest), cacheImport.push(at));
          if (error) cacheImport.push({ line: i + 1, text: `${v.name}: ERROR: ${error}` });
        } else if (error) errors.push({ line: i + 1, text: `${v.name}: ERROR: ${error}` });
        continue;
      }
      // With the containerd image store a `COPY --link` step is two vertexes: the copy (its cache decision)
      // and a merge named `[k/n] LINK COPY --link …`, always run; only the copy is the step (observed on
      // Docker 28).
      if (/^LINK\s/.test((header as unknown as string[])[4]!)) continue;
      // One step may be several vertexes of the same name: `ADD <url>` is the fetch (run on every build) and
      // the copy, whose cache flag is the step's (observed on Docker 28). Steps are keyed by their name.
      const key = v.name;
      if (!steps.has(key)) {
        const [, prefix, ordinal, , name] = header as unknown as [string, string, string, string, string];
        const step: LoggedStep = { stage: buildkitStage(prefix), ordinal: Number(ordinal), text: name, outcome: 'unknown', at };
        const digest = DIGEST_IN_FROM.exec(name);
        if (digest) (step.image = digest[1]), (step.imageAt = at);
        steps.set(key, step);
      }
      if (v.cached === true) outcome.set(key, 'cached');
      else if (error) {
        outcome.set(key, 'failed');
        errors.push({ line: i + 1, text: `${v.name}: ERROR: ${error}` });
      } else if (typeof v.completed === 'string' && !outcome.has(key)) outcome.set(key, 'rebuilt');
    }
  });
  for (const [key, step] of steps) step.outcome = outcome.get(key) ?? 'unknown';
  return { format: 'buildkit-rawjson', steps: [...steps.values()], cacheImport, errors };
}

/** Classic builder output. Stages are not named: they are counted by their FROM steps, printed in file order. */
export function parseClassic(log: string): ParsedLog {
  const steps: LoggedStep[] = [];
  const errors: LogLine[] = [];
  const cacheImport: LogLine[] = [];
  let stage = -1;
  let current: LoggedStep | undefined;
  logLines(log).forEach((text, i) => {
    const at = { line: i + 1, text };
    const header = /^Step (\d+)\/\d+ : (.*)$/.exec(text);
    if (header) {
      const body = header[2]!;
      if (/^FROM\s/i.test(body)) stage++;
      current = { stage: Math.max(stage, 0), ordinal: Number(header[1]), text: body, outcome: 'unknown', at };
      steps.push(current);
      return;
    }
    if (!current) {
      if (/cache/i.test(text) && /error|fail|warn/i.test(text)) cacheImport.push(at);
      return;
    }
    if (/^ ---> Using cache\s*$/.test(text)) current.outcome = 'cached';
    else if (/^ ---> Running in \S+/.test(text)) {
      if (current.outcome === 'unknown') current.outcome = 'rebuilt';
    } else {
      const id = /^ ---> ([0-9a-f]{12,64})\s*$/.exec(text);
      if (id) {
        if (/^FROM\s/i.test(current.text)) {
          current.image = id[1];
          current.imageAt = at;
          current.outcome = 'cached';
        } else if (current.outcome === 'unknown') current.outcome = 'rebuilt';
      } else if (/^The command .* returned a non-zero code|^(?:ERROR|Error response from daemon)\b/.test(text)) {
        current.outcome = 'failed';
        errors.push(at);
      }
    }
  });
  return { format: 'classic', steps, cacheImport, errors };
}

/** Buildah `bud` output. */
export function parseBuildah(log: string): ParsedLog {
  const steps: LoggedStep[] = [];
  const errors: LogLine[] = [];
  let open: LoggedStep | undefined;
  logLines(log).forEach((text, i) => {
    const at = { line: i + 1, text };
    const header = /^(?:\[(\d+)\/\d+\] )?STEP (\d+)\/\d+: (.*)$/.exec(text);
    if (header) {
      if (open && open.outcome === 'unknown' && !/^FROM\s/i.test(open.text)) open.outcome = 'rebuilt';
      const stage = header[1] === undefined ? 0 : Number(header[1]) - 1;
      open = { stage, ordinal: Number(header[2]), text: header[3]!, outcome: 'unknown', at };
      if (/^FROM\s/i.test(open.text)) open.outcome = 'cached';
      steps.push(open);
      return;
    }
    if (/^(?:\[\d+\/\d+\] )?COMMIT\b/.test(text)) {
      if (open && open.outcome === 'unknown') open.outcome = 'rebuilt';
      open = undefined;
    } else if (/^--> Using cache\b/.test(text)) {
      if (open) open.outcome = 'cached';
    } else if (/^--> [0-9a-f]{6,64}\s*$/.test(text)) {
      if (open && open.outcome === 'unknown') open.outcome = 'rebuilt';
    } else if (/^(?:Error|error)\b/.test(text)) {
      if (open && open.outcome !== 'cached') open.outcome = 'failed';
      errors.push(at);
    }
  });
  return { format: 'buildah', steps, cacheImport: [], errors };
}

const PARSERS: Record<LogFormat, (log: string) => ParsedLog> = {
  'buildkit-plain': parseBuildkitPlain,
  'buildkit-rawjson': parseBuildkitRawjson,
  classic: parseClassic,
  buildah: parseBuildah,
};

/** Parse a log in the given format, or in the one detected; undefined when no format is recognised. */
export function parseBuildLog(log: string, format?: LogFormat): ParsedLog | undefined {
  const f = format ?? detectFormat(log);
  return f ? PARSERS[f](log) : undefined;
}
