/**
 * Reading real builders' logs: which Dockerfile step was a cache hit.
 *
 * Each builder prints its steps differently:
 * - BuildKit (`--progress=plain`): `#7 [build 3/3] COPY a.txt /a` … `#7 CACHED`. Only filesystem steps are
 *   shown (no LABEL/ENV, no `FROM scratch`), stages run in parallel so vertices interleave, and steps of
 *   stages the target does not need are never printed. The prefix names the stage (`AS` name or `stage-N`)
 *   and is omitted when the Dockerfile has a single stage.
 * - classic (`DOCKER_BUILDKIT=0`): `Step 3/9 : COPY a.txt /a` then ` ---> Using cache` when it hits; every
 *   instruction of every stage, in file order.
 * - Buildah (`bud --layers`): `[3/3] STEP 2/4: COPY a.txt /a` then `--> Using cache <id>` when it hits; the
 *   `[stage/stages]` prefix is omitted for single-stage files; unused stages are skipped.
 *
 * Steps are mapped back to Dockerfile lines by matching their text, in order, against the instructions of
 * the stage they belong to.
 */

/** One instruction of a Dockerfile, with its first line number (1-based). */
export interface DockerfileInstruction {
  line: number;
  /** Upper-case instruction keyword, e.g. `COPY`. */
  keyword: string;
  /** The instruction with continuations joined and whitespace collapsed, keyword upper-cased. */
  text: string;
}

/** A build stage: its `FROM` and what follows it. Index -1 holds global `ARG`s before the first `FROM`. */
export interface DockerfileStage {
  index: number;
  /** Lower-cased `AS` name, if any. */
  name?: string;
  instructions: DockerfileInstruction[];
}

/** A step as a builder's log reports it. */
export interface ReportedStep {
  /** Stage as the log names it: a 0-based index, a BuildKit stage name, or undefined when not said. */
  stage: number | string | undefined;
  /** Position of the step within its stage as printed (`k` of `k/n`), for ordering out-of-order logs. */
  ordinal: number;
  text: string;
  cached: boolean;
}

/** A Dockerfile step with its cache outcome. */
export interface StepCache {
  /** 1-based line of the instruction's first line in the Dockerfile. */
  line: number;
  /** The instruction as written (continuations joined, whitespace collapsed). */
  instruction: string;
  cached: boolean;
}

/** Collapse whitespace runs and upper-case the keyword, so printed and written instructions compare equal. */
export function normalizeInstruction(text: string): string {
  const collapsed = text.trim().replace(/\s+/g, ' ');
  const space = collapsed.indexOf(' ');
  return space < 0 ? collapsed.toUpperCase() : collapsed.slice(0, space).toUpperCase() + collapsed.slice(space);
}

/** Split a Dockerfile into stages of instructions (no heredocs: Docker 20.10 has none). */
export function parseDockerfile(source: string): DockerfileStage[] {
  const lines = source.replace(/^\uFEFF/, '').split('\n').map((l) => l.replace(/\r$/, ''));
  let escape = '\\';
  let i = 0;
  // Parser directives: `# name=value` lines at the very top.
  for (; i < lines.length; i++) {
    const m = /^#\s*([a-zA-Z]+)\s*=\s*(\S+)\s*$/.exec(lines[i]);
    if (!m) break;
    if (m[1].toLowerCase() === 'escape') escape = m[2];
  }
  const global: DockerfileStage = { index: -1, instructions: [] };
  const stages: DockerfileStage[] = [global];
  const isBlankOrComment = (l: string) => l.trim() === '' || l.trimStart().startsWith('#');
  for (; i < lines.length; i++) {
    if (isBlankOrComment(lines[i])) continue;
    const first = i;
    let text = '';
    let line = lines[i];
    for (;;) {
      const trimmed = line.trimEnd();
      if (trimmed.endsWith(escape) && i + 1 < lines.length) {
        text += trimmed.slice(0, -escape.length) + ' ';
        i++;
        while (i < lines.length - 1 && isBlankOrComment(lines[i])) i++;
        line = lines[i];
        continue;
      }
      text += trimmed.endsWith(escape) ? trimmed.slice(0, -escape.length) : line;
      break;
    }
    const normalized = normalizeInstruction(text);
    const keyword = normalized.split(' ', 1)[0];
    if (keyword === 'FROM') {
      const as = /\sAS\s+(\S+)\s*$/i.exec(normalized);
      stages.push({ index: stages.length - 1, name: as?.[1].toLowerCase(), instructions: [] });
    }
    stages[stages.length - 1].instructions.push({ line: first + 1, keyword, text: normalized });
  }
  return stages;
}

/** BuildKit `--progress=plain` output. */
export function parseBuildkitLog(log: string): ReportedStep[] {
  const steps = new Map<string, ReportedStep>();
  const cached = new Set<string>();
  for (const line of log.split('\n')) {
    const header = /^#(\d+) \[([^\]]*?)\s*(\d+)\/\d+\] (.*)$/.exec(line);
    if (header) {
      const [, vertex, prefix, ordinal, text] = header;
      if (!steps.has(vertex)) {
        // The prefix may hold a platform before the stage name: `[linux/amd64 build 1/3]`.
        const name = prefix.trim().split(/\s+/).pop();
        steps.set(vertex, { stage: name || undefined, ordinal: Number(ordinal), text, cached: false });
      }
      continue;
    }
    const hit = /^#(\d+) CACHED\s*$/.exec(line);
    if (hit) cached.add(hit[1]);
  }
  return [...steps].map(([vertex, step]) => ({ ...step, cached: cached.has(vertex) }));
}

/** Classic builder output. Stages are not named; steps come in file order. */
export function parseClassicLog(log: string): ReportedStep[] {
  const steps: ReportedStep[] = [];
  for (const line of log.split('\n')) {
    const header = /^Step (\d+)\/\d+ : (.*)$/.exec(line);
    if (header) steps.push({ stage: undefined, ordinal: Number(header[1]), text: header[2], cached: false });
    else if (/^ ---> Using cache\s*$/.test(line) && steps.length > 0) steps[steps.length - 1].cached = true;
  }
  return steps;
}

/** Buildah `bud` output. */
export function parseBuildahLog(log: string): ReportedStep[] {
  const steps: ReportedStep[] = [];
  let open = false;
  for (const line of log.split('\n')) {
    const header = /^(?:\[(\d+)\/\d+\] )?STEP (\d+)\/\d+: (.*)$/.exec(line);
    if (header) {
      const stage = header[1] === undefined ? 0 : Number(header[1]) - 1;
      steps.push({ stage, ordinal: Number(header[2]), text: header[3], cached: false });
      open = true;
    } else if (/^(?:\[\d+\/\d+\] )?COMMIT\b/.test(line)) {
      open = false;
    } else if (open && /^--> Using cache\b/.test(line)) {
      steps[steps.length - 1].cached = true;
    }
  }
  return steps;
}

function resolveStage(stages: DockerfileStage[], ref: ReportedStep['stage']): DockerfileStage | undefined {
  const real = stages.filter((s) => s.index >= 0);
  if (typeof ref === 'number') return real[ref];
  if (ref === undefined) return real.length === 1 ? real[0] : undefined;
  const byName = real.find((s) => s.name === ref.toLowerCase());
  if (byName) return byName;
  const m = /^stage-(\d+)$/.exec(ref);
  return m ? real[Number(m[1])] : undefined;
}

/**
 * Map reported steps to Dockerfile instructions, in order within each stage: the first instruction at or
 * after the stage's cursor with the same text, else (BuildKit prints `FROM` with the resolved image name)
 * the first with the same keyword. `FROM` steps are dropped: they are not a cache decision.
 * Throws when a step cannot be placed, so a log format change cannot pass silently.
 */
export function mapStepsToDockerfile(stages: DockerfileStage[], reported: ReportedStep[]): StepCache[] {
  const flat = [...stages].sort((a, b) => a.index - b.index).flatMap((s) => s.instructions);
  const cursors = new Map<DockerfileStage | undefined, number>();
  const ordered = [...reported].sort((a, b) => {
    const sa = resolveStage(stages, a.stage)?.index ?? -1;
    const sb = resolveStage(stages, b.stage)?.index ?? -1;
    return sa - sb || a.ordinal - b.ordinal;
  });
  const result: StepCache[] = [];
  for (const step of ordered) {
    const stage = resolveStage(stages, step.stage);
    const pool = stage ? stage.instructions : flat;
    const from = cursors.get(stage) ?? 0;
    const text = normalizeInstruction(step.text);
    const keyword = text.split(' ', 1)[0];
    let at = pool.findIndex((ins, k) => k >= from && ins.text === text);
    if (at < 0) at = pool.findIndex((ins, k) => k >= from && ins.keyword === keyword);
    if (at < 0) {
      throw new Error(`cannot map builder step "${step.text}" (stage ${String(step.stage)}) to the Dockerfile`);
    }
    cursors.set(stage, at + 1);
    const ins = pool[at];
    if (ins.keyword !== 'FROM') result.push({ line: ins.line, instruction: ins.text, cached: step.cached });
  }
  return result.sort((a, b) => a.line - b.line);
}
