/**
 * What `ctxdiff explain` must say about the builds of explain-scenario.ts, per builder: each case names the
 * logs and snapshots it is given and, per Dockerfile line, what the builder did, what ctxdiff predicts, the
 * verdict and the cause. Derived from the scenario and builder-facts.md (§3 chain rules, §8.4 build args,
 * §8.5 COPY --from of identical output), not from ctxdiff's output: the real-build test and the fixture test
 * both hold explain to them.
 */
import type { BuildName, ExplainBuilder } from './explain-scenario.js';

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
  rows: (builder: ExplainBuilder) => Row[];
  /** Exit status with --exit-code. */
  exitCode: number;
}

const family = (b: ExplainBuilder) => (b.startsWith('buildkit') ? 'buildkit' : b.startsWith('classic') ? 'classic' : 'buildah');
/** Classic and Buildah print the ARG step; BuildKit prints filesystem steps only. */
const argRow = (b: ExplainBuilder, row: Row): Row[] => (family(b) === 'buildkit' ? [] : [row]);
/** Whether the builder's log shows the base image's digest or id (classic: image ids; BuildKit on the containerd store: digests). */
const showsBaseImage = (b: ExplainBuilder) => b.startsWith('classic') || b === 'buildkit-28';

/** Every step of the first stage rebuilt although predicted cached, for `cause`. */
const baseStageRebuilt = (b: ExplainBuilder, cause: string): Row[] =>
  [...(family(b) === 'buildkit' ? [] : [2]), 3, 4, 5].map((line) => [line, 'rebuilt', 'cached', 'unexpected-rebuild', cause]);

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
];

/** The rows of an `explain --json` document, in the shape of {@link Row}. */
export function rowsOf(doc: { steps: { line: number; actual: string; predicted: string; verdict: string; cause: string }[] }): Row[] {
  return doc.steps.map((s) => [s.line, s.actual, s.predicted, s.verdict, s.cause]);
}
