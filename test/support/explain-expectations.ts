/**
 * What `ctxdiff explain` must say about the builds of explain-scenario.ts, per builder: each case names the
 * logs and snapshots it is given and, per Dockerfile line, what the builder did, what ctxdiff predicts, the
 * verdict and the cause. Derived from the scenario and builder-facts.md (§3 chain rules, §8.4 build args,
 * §8.5 COPY --from of identical output, §2 stale context transfer), not from ctxdiff's output, except where
 * the prediction for a `COPY --from` of a rebuilt stage is read from `ctxdiff diff` (see copyFromRow): the
 * real-build test and the fixture test both hold explain to them.
 */
import { ctxdiff, type BuildName, type ExplainBuilder } from './explain-scenario.js';

export type Row = [line: number, actual: string, predicted: string, verdict: string, cause: string];

export interface ExplainCase {
  title: string;
  /** Logs (earlier first) and the snapshots of the contexts of the two builds. */
  logs: BuildName[];
  since: BuildName;
  context: BuildName;
  extra: string[];
  /** Kinds of build-wide findings that must be reported. */
  findings: (builder: ExplainBuilder) => string[];
  /**
   * Per line, given what `ctxdiff diff` predicts (only the COPY --from of a rebuilt stage reads it: whether
   * that prediction is `rebuilt` or `unknown` is verdicts.ts's call, not explain's).
   */
  rows: (builder: ExplainBuilder, prediction: Prediction) => Row[];
  /** Hazard kinds `diff` reports for the context change. */
  hazards?: (builder: ExplainBuilder) => string[];
  /** Per line, text the step's message must contain. */
  messages?: (builder: ExplainBuilder, prediction: Prediction) => [line: number, text: string][];
  /** Exit status with --exit-code. */
  exitCode: number | ((builder: ExplainBuilder, prediction: Prediction) => number);
}

/** What `ctxdiff diff --json` says per step and which hazards it reports. */
export interface Prediction {
  steps: Map<number, { verdict: string; cause: string; note?: string }>;
  hazards: { kind: string; path: string; lines: number[] }[];
}

const family = (b: ExplainBuilder) => (b.startsWith('buildkit') ? 'buildkit' : b.startsWith('classic') ? 'classic' : 'buildah');
/** Classic and Buildah print the ARG step; BuildKit prints filesystem steps only. */
const argRow = (b: ExplainBuilder, row: Row): Row[] => (family(b) === 'buildkit' ? [] : [row]);
/** Whether the builder's log shows the base image's digest or id (classic: image ids; BuildKit on the containerd store: digests). */
const showsBaseImage = (b: ExplainBuilder) => b.startsWith('classic') || b.startsWith('buildkit-28');

/** Every step of the first stage rebuilt although predicted cached, for `cause`. */
const baseStageRebuilt = (b: ExplainBuilder, cause: string): Row[] =>
  [...(family(b) === 'buildkit' ? [] : [2]), 3, 4, 5].map((line) => [line, 'rebuilt', 'cached', 'unexpected-rebuild', cause]);

/** The stage rebuilt from line 3 on (a.txt changed), as predicted. */
const rebuiltFromA = (b: ExplainBuilder): Row[] => [
  ...argRow(b, [2, 'cached', 'cached', 'agree', 'none']),
  [3, 'rebuilt', 'rebuilt', 'agree', 'sources'],
  [4, 'rebuilt', 'rebuilt', 'agree', 'previous-step'],
  [5, 'rebuilt', 'rebuilt', 'agree', 'previous-step'],
];

/**
 * Line 7, `COPY --from=base /v /v`, stays cached in every builder (/v comes out the same, builder-facts
 * §8.5). What explain makes of it depends on the prediction: `rebuilt` (the stage was rebuilt) is an
 * unexpected hit, from identical output when the builder rebuilt the stage, else because it kept the stage
 * cached; `unknown` (what a rebuilt RUN writes cannot be known) is unknown with the prediction's cause.
 */
const copyFromRow = (p: Prediction, stageRebuilt: boolean): Row => {
  const v = p.steps.get(7);
  if (v?.verdict === 'rebuilt') return [7, 'cached', 'rebuilt', 'unexpected-hit', stageRebuilt ? 'identical-output' : 'follows-cached'];
  if (v?.verdict === 'unknown') return [7, 'cached', 'unknown', 'unknown', v.cause];
  return [7, 'cached', 'cached', 'agree', 'none'];
};
/** An unknown prediction's reason is said in the step's message. */
const unknownReason = (p: Prediction): [number, string][] => {
  const v = p.steps.get(7);
  return v?.verdict === 'unknown' ? [[7, v.note ?? v.cause]] : [];
};
/** 06-stale: BuildKit keeps the whole stage cached on the old a.txt; classic and Buildah rebuild from line 3. */
const staleRows = (b: ExplainBuilder, p: Prediction): Row[] =>
  family(b) === 'buildkit'
    ? [
        [3, 'cached', 'rebuilt', 'unexpected-hit', 'stale-transfer'],
        [4, 'cached', 'rebuilt', 'unexpected-hit', 'follows-cached'],
        [5, 'cached', 'rebuilt', 'unexpected-hit', 'follows-cached'],
        copyFromRow(p, false),
      ]
    : [...rebuiltFromA(b), copyFromRow(p, true)];
/** 07-identical: every builder rebuilds from line 3 on; the COPY --from stays cached. */
const identicalRows = (b: ExplainBuilder, p: Prediction): Row[] => [...rebuiltFromA(b), copyFromRow(p, true)];
const disagrees = (rows: Row[]) => (rows.some((r) => r[3].startsWith('unexpected')) ? 1 : 0);

export const EXPLAIN_CASES: ExplainCase[] = [
  {
    title: 'a change in the context: build and prediction agree',
    logs: ['02-changed'],
    since: '01-fresh',
    context: '02-changed',
    extra: [],
    findings: () => [],
    rows: (b) => [
      ...argRow(b, [2, 'cached', 'cached', 'agree', 'none']),
      [3, 'cached', 'cached', 'agree', 'none'],
      [4, 'cached', 'cached', 'agree', 'none'],
      [5, 'rebuilt', 'rebuilt', 'agree', 'sources'],
      [7, 'cached', 'cached', 'agree', 'none'],
    ],
    exitCode: 0,
  },
  {
    title: 'cache pruned between the builds: no cache',
    logs: ['02-changed', '03-pruned'],
    since: '02-changed',
    context: '03-pruned',
    extra: [],
    findings: (b) => (family(b) === 'buildkit' ? ['no-cache', 'cache-import'] : ['no-cache']),
    rows: (b) => [...baseStageRebuilt(b, 'no-cache'), [7, 'rebuilt', 'cached', 'unexpected-rebuild', 'no-cache']],
    exitCode: 1,
  },
  {
    title: 'another image re-tagged under the base image name',
    logs: ['03-pruned', '04-base-changed'],
    since: '03-pruned',
    context: '04-base-changed',
    extra: [],
    findings: (b) => (showsBaseImage(b) ? ['base-image'] : []),
    rows: (b) => [
      ...baseStageRebuilt(b, showsBaseImage(b) ? 'base-image' : 'cache-lost'),
      // /v comes out byte-identical: the COPY --from stays cached (builder-facts §8.5).
      [7, 'cached', 'cached', 'agree', 'none'],
    ],
    exitCode: 1,
  },
  {
    title: 'a build arg changed',
    logs: ['04-base-changed', '05-build-arg'],
    since: '04-base-changed',
    context: '05-build-arg',
    extra: ['--since-build-arg', 'V=1', '--build-arg', 'V=2'],
    findings: (b) => (family(b) === 'buildkit' ? ['build-arg', 'printed-text'] : ['build-arg']),
    rows: (b) => [
      ...argRow(b, [2, 'cached', 'cached', 'agree', 'none']),
      // The COPY between the ARG and the first RUN stays cached (builder-facts §8.4).
      [3, 'cached', 'cached', 'agree', 'none'],
      [4, 'rebuilt', 'cached', 'unexpected-rebuild', 'build-arg'],
      [5, 'rebuilt', 'cached', 'unexpected-rebuild', 'build-arg'],
      [7, 'rebuilt', 'cached', 'unexpected-rebuild', 'build-arg'],
    ],
    exitCode: 1,
  },
  {
    // builder-facts §2: BuildKit re-sends a file only when its size, mtime (ns), mode, owner… differ.
    title: 'content changed keeping size and mtime: BuildKit keeps the old content (stale context transfer)',
    logs: ['05-build-arg', '06-stale'],
    since: '05-build-arg',
    context: '06-stale',
    extra: ['--since-build-arg', 'V=2', '--build-arg', 'V=2'],
    findings: () => [],
    hazards: (b) => (family(b) === 'buildkit' ? ['same-size-and-mtime'] : []),
    rows: (b, p) => staleRows(b, p),
    messages: (b, p) => [
      ...(family(b) === 'buildkit'
        ? ([
            [3, 'cached although a.txt changed: content changed but size and mtime did not'],
            [4, 'predicted to follow line 3, which the builder kept cached: a stale context transfer'],
            [5, 'after the stale context transfer at line 3'],
            ...(p.steps.get(7)?.verdict === 'rebuilt' ? ([[7, 'whose steps the builder kept cached']] as [number, string][]) : []),
          ] as [number, string][])
        : []),
      ...unknownReason(p),
    ],
    exitCode: (b, p) => disagrees(staleRows(b, p)),
  },
  {
    title: 'a rebuilt stage writes the same bytes: the COPY --from stays cached',
    logs: ['06-stale', '07-identical'],
    since: '06-stale',
    context: '07-identical',
    extra: ['--since-build-arg', 'V=2', '--build-arg', 'V=2'],
    findings: () => [],
    hazards: () => [],
    rows: (b, p) => identicalRows(b, p),
    messages: (_b, p) => unknownReason(p),
    exitCode: (b, p) => disagrees(identicalRows(b, p)),
  },
];

/** The profile explain takes for a builder's log when `--builder` is not given. */
export const defaultProfile = (b: ExplainBuilder): string => family(b);

/** `ctxdiff diff --json` of two snapshots under `profile`, with the `--build-arg`s of `extra`. */
export function predictionOf(since: string, context: string, profile: string, extra: string[]): Prediction {
  const args = extra.flatMap((a, i) => (a === '--build-arg' ? [a, extra[i + 1]!] : []));
  const r = ctxdiff(['diff', since, context, '--builder', profile, ...args, '--json']);
  if (r.code !== 0) throw new Error(`ctxdiff diff failed: ${r.stderr}`);
  const doc = JSON.parse(r.stdout) as { steps: { line: number; verdict: string; cause: string; note?: string }[]; hazards: Prediction['hazards'] };
  return { steps: new Map(doc.steps.map((s) => [s.line, { verdict: s.verdict, cause: s.cause, ...(s.note !== undefined ? { note: s.note } : {}) }])), hazards: doc.hazards };
}

/** Exit status the case expects with --exit-code. */
export const exitCodeOf = (c: ExplainCase, b: ExplainBuilder, p: Prediction): number => (typeof c.exitCode === 'number' ? c.exitCode : c.exitCode(b, p));

/** The rows of an `explain --json` document, in the shape of {@link Row}. */
export function rowsOf(doc: { steps: { line: number; actual: string; predicted: string; verdict: string; cause: string }[] }): Row[] {
  return doc.steps.map((s) => [s.line, s.actual, s.predicted, s.verdict, s.cause]);
}
