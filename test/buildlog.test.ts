/**
 * Reading builder logs back to Dockerfile lines (the harness's strict mapping over src/buildlog/). The logs
 * are excerpts of real Docker 20.10 (BuildKit and classic) and Buildah 1.28 output for DOCKERFILE below,
 * edited so that hits and misses mix; expected lines are read off DOCKERFILE by hand. Whole logs saved from
 * real builds are tested in buildlog-fixtures.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  mapStepsToDockerfile,
  parseBuildahLog,
  parseBuildkitLog,
  parseClassicLog,
  parseDockerfile,
  parseRawjsonLog,
} from './support/buildlog.js';
import { placeSteps } from '../src/buildlog/match.js';

const DOCKERFILE = [
  '# comment', // 1
  'FROM ctxdiff-base:1 AS build', // 2
  'RUN echo hi \\', // 3
  '    && echo there > /x', // 4
  'COPY a.txt /a', // 5
  '', // 6
  'FROM scratch AS unused', // 7
  'COPY sub /sub', // 8
  '', // 9
  'FROM scratch', // 10
  'LABEL x=1', // 11
  'COPY --from=build /x /x', // 12
  'COPY  sub   /sub', // 13
].join('\n');

/** BuildKit, second build: stages interleave, the unused stage is absent, FROM is "DONE". */
const BUILDKIT_LOG = `#1 [internal] load build definition from Dockerfile2
#1 DONE 0.0s

#3 [internal] load metadata for docker.io/library/ctxdiff-base:1
#3 DONE 0.0s

#4 [build 1/3] FROM docker.io/library/ctxdiff-base:1
#4 DONE 0.0s

#6 [internal] load build context
#6 transferring context: 77B done
#6 DONE 0.0s

#5 [build 2/3] RUN echo hi     && echo there > /x
#5 CACHED

#8 [stage-2 1/2] COPY --from=build /x /x
#8 CACHED

#7 [build 3/3] COPY a.txt /a
#7 DONE 0.0s

#9 [stage-2 2/2] COPY  sub   /sub
#9 CACHED
`;

const CLASSIC_LOG = `Sending build context to Docker daemon  4.143kB
Step 1/9 : FROM ctxdiff-base:1 AS build
 ---> bc2d603b7835
Step 2/9 : RUN echo hi     && echo there > /x
 ---> Using cache
 ---> f2d9a54a6727
Step 3/9 : COPY a.txt /a
 ---> a009d92be356
Step 4/9 : FROM scratch AS unused
 ---> 
Step 5/9 : COPY sub /sub
 ---> Using cache
 ---> ee822434aa52
Step 6/9 : FROM scratch
 ---> 
Step 7/9 : LABEL x=1
 ---> Using cache
 ---> 2c11dce127b8
Step 8/9 : COPY --from=build /x /x
 ---> 451ab79dc743
Step 9/9 : COPY  sub   /sub
 ---> Using cache
 ---> 81b7d1162896
Successfully built 81b7d1162896
`;

/** Buildah: the last step's "Using cache" comes before COMMIT; a rebuilt last step has none. */
const BUILDAH_LOG = `[1/3] STEP 1/3: FROM ctxdiff-base:1 AS build
[1/3] STEP 2/3: RUN echo hi     && echo there > /x
--> Using cache a906c9295fe18cec06cd5f0729d852bee198da7223eaa5dfe82b3405ac49a6de
--> a906c9295fe
[1/3] STEP 3/3: COPY a.txt /a
--> 88d92ed52c2
[3/3] STEP 1/4: FROM scratch
[3/3] STEP 2/4: LABEL x=1
--> Using cache 56f45d587bbaffc7b93cd138ac927e98dd45d93cb1c4a527710785f4d3b3bd47
--> 56f45d587bb
[3/3] STEP 3/4: COPY --from=build /x /x
--> da5ce0d06a5
[3/3] STEP 4/4: COPY  sub   /sub
[3/3] COMMIT t4
--> 0cd46214731
`;

const outcome = (steps: { line: number; cached: boolean }[]) => steps.map((s) => [s.line, s.cached]);

describe('builder logs mapped to Dockerfile lines', () => {
  const stages = parseDockerfile(DOCKERFILE);

  it('BuildKit: interleaved stages, stage names and stage-N, FROM dropped', () => {
    expect(outcome(mapStepsToDockerfile(stages, parseBuildkitLog(BUILDKIT_LOG)))).toEqual([
      [3, true],
      [5, false],
      [12, true],
      [13, true],
    ]);
  });

  it('classic: every instruction of every stage, in order', () => {
    expect(outcome(mapStepsToDockerfile(stages, parseClassicLog(CLASSIC_LOG)))).toEqual([
      [3, true],
      [5, false],
      [8, true],
      [11, true],
      [12, false],
      [13, true],
    ]);
  });

  it('Buildah: stage prefixes, unused stage skipped, last step rebuilt', () => {
    expect(outcome(mapStepsToDockerfile(stages, parseBuildahLog(BUILDAH_LOG)))).toEqual([
      [3, true],
      [5, false],
      [11, true],
      [12, false],
      [13, false],
    ]);
  });

  it('Buildah: a cache hit on the last step is reported before COMMIT', () => {
    const log = BUILDAH_LOG.replace('[3/3] STEP 4/4: COPY  sub   /sub\n', '[3/3] STEP 4/4: COPY  sub   /sub\n--> Using cache 0cd4\n');
    expect(outcome(mapStepsToDockerfile(stages, parseBuildahLog(log))).at(-1)).toEqual([13, true]);
  });

  it('refuses a step that is not in the Dockerfile (the harness); the product lists it as unplaced', () => {
    const log = 'Step 1/2 : FROM scratch\nStep 2/2 : ADD x /x\n';
    const model = parseDockerfile('FROM scratch\nCOPY x /x\n');
    expect(() => mapStepsToDockerfile(model, parseClassicLog(log))).toThrow(/ADD x \/x/);
    const { placed, unplaced } = placeSteps(model, parseClassicLog(log));
    expect(placed.map((p) => p.instruction.line)).toEqual([1]);
    expect(unplaced.map((u) => [u.at.line, u.text])).toEqual([[2, 'ADD x /x']]);
  });

  it('joins continuations with the escape directive and skips comment lines inside them', () => {
    const model = parseDockerfile('# escape=`\nfrom scratch\ncopy a `\n# note\n  b /d/\n');
    const log = 'Step 1/2 : from scratch\n ---> \nStep 2/2 : COPY a   b /d/\n ---> Using cache\n';
    expect(outcome(mapStepsToDockerfile(model, parseClassicLog(log)))).toEqual([[3, true]]);
  });
});

describe('BuildKit rawjson: one step, several vertexes (as Docker 28 prints them)', () => {
  const v = (digest: string, name: string, more: Record<string, unknown> = {}) => JSON.stringify({ vertexes: [{ digest, name, ...more }] });
  const done = { started: '2026-12-01T00:00:00Z', completed: '2026-12-01T00:00:01Z' };

  it('ADD <url>: the fetch runs every build, the copy decides', () => {
    const df = parseDockerfile('FROM scratch\nADD http://127.0.0.1:1/t.txt /t.txt\nCOPY a /a\n');
    const log = (copyCached: boolean) => [
      v('sha256:fetch', '[1/2] ADD http://127.0.0.1:1/t.txt /t.txt', done),
      v('sha256:copy', '[1/2] ADD http://127.0.0.1:1/t.txt /t.txt', copyCached ? { cached: true, ...done } : done),
      v('sha256:a', '[2/2] COPY a /a', { cached: true, ...done }),
    ].join('\n');
    expect(outcome(mapStepsToDockerfile(df, parseRawjsonLog(log(true))))).toEqual([[2, true], [3, true]]);
    expect(outcome(mapStepsToDockerfile(df, parseRawjsonLog(log(false))))).toEqual([[2, false], [3, true]]);
  });

  it('COPY --link on the containerd image store: the LINK merge vertex is not the step', () => {
    const df = parseDockerfile('FROM scratch\nCOPY a /a\nCOPY --link b /b\n');
    const log = [
      v('sha256:a', '[1/2] COPY a /a', done),
      v('sha256:merge', '[2/2] LINK COPY --link b /b', done),
      v('sha256:b', '[2/2] COPY --link b /b', { cached: true, ...done }),
    ].join('\n');
    expect(outcome(mapStepsToDockerfile(df, parseRawjsonLog(log)))).toEqual([[2, false], [3, true]]);
  });
});
