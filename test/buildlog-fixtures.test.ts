/**
 * The log parsers on whole logs saved from real builds (fixtures/buildlogs/, recorded by
 * test/support/record-buildlogs.ts): each format is recognised, every step is placed on its Dockerfile line
 * with the outcome the scenario implies (explain-scenario.ts), and the base image and cache-import lines are
 * read where the builder prints them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectFormat, parseBuildLog } from '../src/buildlog/parse.js';
import { placeSteps } from '../src/buildlog/match.js';
import { parseDockerfile } from '../src/dockerfile/parser.js';
import { BUILD_NAMES } from './support/explain-scenario.js';
import { REPO_ROOT } from './support/realbuilders.js';

const FIXTURES = path.join(REPO_ROOT, 'fixtures', 'buildlogs');
const FORMAT = { 'buildkit-0.8': 'buildkit-plain', 'buildkit-28': 'buildkit-rawjson', classic: 'classic', buildah: 'buildah' } as const;

/** Per build, the outcome of each line the builder prints (lines 2 = ARG, printed by classic and Buildah only). */
const OUTCOMES: Record<(typeof BUILD_NAMES)[number], Record<number, string>> = {
  '01-fresh': { 2: 'rebuilt', 3: 'rebuilt', 4: 'rebuilt', 5: 'rebuilt', 7: 'rebuilt' },
  '02-changed': { 2: 'cached', 3: 'cached', 4: 'cached', 5: 'rebuilt', 7: 'cached' },
  '03-pruned': { 2: 'rebuilt', 3: 'rebuilt', 4: 'rebuilt', 5: 'rebuilt', 7: 'rebuilt' },
  '04-base-changed': { 2: 'rebuilt', 3: 'rebuilt', 4: 'rebuilt', 5: 'rebuilt', 7: 'cached' },
  '05-build-arg': { 2: 'cached', 3: 'cached', 4: 'rebuilt', 5: 'rebuilt', 7: 'rebuilt' },
  // Classic and Buildah; BuildKit keeps every step cached (stale context transfer), see STALE_BUILDKIT.
  '06-stale': { 2: 'cached', 3: 'rebuilt', 4: 'rebuilt', 5: 'rebuilt', 7: 'cached' },
  '07-identical': { 2: 'cached', 3: 'rebuilt', 4: 'rebuilt', 5: 'rebuilt', 7: 'cached' },
};
const STALE_BUILDKIT = { 3: 'cached', 4: 'cached', 5: 'cached', 7: 'cached' };

describe.each(Object.keys(FORMAT) as (keyof typeof FORMAT)[])('logs of %s', (builder) => {
  const dir = path.join(FIXTURES, builder);
  const model = parseDockerfile(fs.readFileSync(path.join(FIXTURES, 'Dockerfile'), 'utf8'), 'Dockerfile');
  it.each(BUILD_NAMES)('%s', (name) => {
    const text = fs.readFileSync(path.join(dir, `${name}.log`), 'utf8');
    expect(detectFormat(text)).toBe(FORMAT[builder]);
    const log = parseBuildLog(text)!;
    const { placed, unplaced } = placeSteps(model, log);
    expect(unplaced).toEqual([]);
    const steps = placed.filter((p) => p.instruction.keyword !== 'FROM');
    const outcomes = name === '06-stale' && builder.startsWith('buildkit') ? STALE_BUILDKIT : OUTCOMES[name];
    const expected = Object.entries(outcomes)
      .filter(([line]) => builder.startsWith('classic') || builder.startsWith('buildah') || line !== '2')
      .map(([line, outcome]) => [Number(line), outcome]);
    expect(steps.map((p) => [p.instruction.line, p.logged.outcome])).toEqual(expected);
    // Each step's quoted line is the log's own (rawjson: the vertex name on that line).
    const lines = text.split('\n');
    for (const p of placed) {
      const line = lines[p.logged.at.line - 1]!;
      if (builder === 'buildkit-28') expect((JSON.parse(line) as { vertexes: { name: string }[] }).vertexes.map((v) => v.name)).toContain(p.logged.at.text);
      else expect(line).toBe(p.logged.at.text);
    }
    // FROM: both stages' FROM lines are placed where the builder prints them (BuildKit does not print FROM scratch).
    const froms = placed.filter((p) => p.instruction.keyword === 'FROM').map((p) => p.instruction.line);
    expect(froms).toEqual(builder.startsWith('buildkit') ? [1] : [1, 6]);
    const image = placed.find((p) => p.instruction.line === 1)!.logged.image;
    if (builder === 'classic') expect(image).toMatch(/^[0-9a-f]{12}$/);
    else if (builder === 'buildkit-28') expect(image).toMatch(/^sha256:[0-9a-f]{64}$/);
    else expect(image).toBeUndefined();
    // The cache import that cannot reach its registry (BuildKit, 03-pruned).
    if (builder.startsWith('buildkit') && name === '03-pruned') {
      expect(log.cacheImport.some((l) => /importing cache manifest from localhost:1\//.test(l.text))).toBe(true);
      expect(log.cacheImport.some((l) => /ERROR: .*connection refused/.test(l.text))).toBe(true);
    } else expect(log.cacheImport).toEqual([]);
    expect(log.errors).toEqual([]);
  });
});

describe('log lines as CI runners save them', () => {
  it('reads through CR line ends and timestamp prefixes', () => {
    const text = fs.readFileSync(path.join(FIXTURES, 'buildkit-0.8', '02-changed.log'), 'utf8');
    const ci = text.split('\n').map((l) => `2024-05-01T10:00:00.1234567Z ${l}\r`).join('\n');
    const strip = (log: ReturnType<typeof parseBuildLog>) => log!.steps.map((s) => [s.text, s.outcome]);
    expect(strip(parseBuildLog(ci))).toEqual(strip(parseBuildLog(text)));
  });
});
