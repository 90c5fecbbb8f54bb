/**
 * `ctxdiff explain` on logs saved from real builds (fixtures/buildlogs/, recorded by
 * test/support/record-buildlogs.ts): each format, each cause, held to explain-expectations.ts; plus the CLI's
 * contract (JSON, markdown, --exit-code, stdin, unplaced steps, bad input).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ctxdiff } from './support/explain-scenario.js';
import { defaultProfile, EXPLAIN_CASES, exitCodeOf, predictionOf, rowsOf } from './support/explain-expectations.js';
import type { ExplainBuilder } from './support/explain-scenario.js';
import { REPO_ROOT } from './support/realbuilders.js';
import { spawnSync } from 'node:child_process';

const FIXTURES = path.join(REPO_ROOT, 'fixtures', 'buildlogs');
const BUILDERS = fs.readdirSync(FIXTURES).filter((d) => fs.statSync(path.join(FIXTURES, d)).isDirectory()) as ExplainBuilder[];

function argsFor(dir: string, c: (typeof EXPLAIN_CASES)[number]): string[] {
  return [
    'explain',
    ...c.logs.map((l) => path.join(dir, `${l}.log`)),
    '--since',
    path.join(dir, `${c.since}.ctxsnap`),
    '--context',
    path.join(dir, `${c.context}.ctxsnap`),
    ...c.extra,
  ];
}

it('has fixtures of every log format', () => {
  expect(BUILDERS.sort()).toEqual(['buildah', 'buildkit-0.8', 'buildkit-28', 'classic']);
});

describe.each(BUILDERS)('explain on the logs of %s', (builder) => {
  const dir = path.join(FIXTURES, builder);
  it.each(EXPLAIN_CASES.map((c) => [c.title, c] as const))('%s', (_title, c) => {
    const r = ctxdiff([...argsFor(dir, c), '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    const p = predictionOf(path.join(dir, `${c.since}.ctxsnap`), path.join(dir, `${c.context}.ctxsnap`), defaultProfile(builder), c.extra);
    expect(rowsOf(doc)).toEqual(c.rows(builder, p));
    expect(doc.findings.map((f: { kind: string }) => f.kind)).toEqual(c.findings(builder));
    if (c.hazards) expect(p.hazards.map((h) => h.kind)).toEqual(c.hazards(builder));
    for (const [line, text] of c.messages?.(builder, p) ?? []) expect(doc.steps.find((s: { line: number }) => s.line === line).message).toContain(text);
    expect(doc.unplaced).toEqual([]);
    expect(doc.summary.disagreements).toBe(doc.steps.filter((s: { verdict: string }) => s.verdict.startsWith('unexpected')).length);
    expect(ctxdiff([...argsFor(dir, c), '--exit-code']).code).toBe(exitCodeOf(c, builder, p));
  });
});

describe('explain: what the causes quote', () => {
  const json = (args: string[]) => JSON.parse(ctxdiff([...args, '--json']).stdout);
  it('no cache: quotes the first rebuilt step and the failed cache import', () => {
    const dir = path.join(FIXTURES, 'buildkit-0.8');
    const doc = json(argsFor(dir, EXPLAIN_CASES[1]!));
    const f = doc.findings.find((x: { kind: string }) => x.kind === 'no-cache');
    expect(f.message).toMatch(/no cache for this build .*no step is CACHED/);
    expect(f.evidence.map((e: { text: string }) => e.text)).toEqual(
      expect.arrayContaining([expect.stringMatching(/COPY a\.txt \/a$/), expect.stringMatching(/^#\d+ importing cache manifest from localhost:1\//), expect.stringMatching(/^#\d+ ERROR: .*connection refused/)]),
    );
    // The log lines are the file's own.
    const log = fs.readFileSync(path.join(dir, '03-pruned.log'), 'utf8').split('\n');
    for (const e of f.evidence) expect(log[e.line - 1]).toBe(e.text);
  });

  it('base image changed: both digests (current BuildKit) or image ids (classic), from both logs', () => {
    for (const [builder, re] of [['buildkit-28', /^sha256:[0-9a-f]{64}$/], ['classic', /^[0-9a-f]{12}$/]] as const) {
      const doc = json(argsFor(path.join(FIXTURES, builder), EXPLAIN_CASES[2]!));
      const f = doc.findings.find((x: { kind: string }) => x.kind === 'base-image');
      expect(f.before).toMatch(re);
      expect(f.after).toMatch(re);
      expect(f.before).not.toBe(f.after);
      expect(doc.steps[0].message).toBe(`base image changed: ${f.before} → ${f.after}`);
    }
  });

  it('base image not shown in the log: says it may have changed, or the stage cache was lost', () => {
    const doc = json(argsFor(path.join(FIXTURES, 'buildah'), EXPLAIN_CASES[2]!));
    expect(doc.steps[0].message).toMatch(/base image behind ctxdiff-explain-base:latest may have changed .*or the builder lost this stage's cache/);
  });

  it('build arg: named from the args of both builds; BuildKit also shows it in the RUN it printed', () => {
    const doc = json(argsFor(path.join(FIXTURES, 'buildkit-28'), EXPLAIN_CASES[3]!));
    const run = doc.steps.find((s: { line: number }) => s.line === 4);
    expect(run.message).toBe('build arg V changed: 1 → 2');
    expect(run.evidence.map((e: { text: string }) => e.text)).toEqual(expect.arrayContaining(['[base 3/4] RUN echo 1 > /v', '[base 3/4] RUN echo 2 > /v']));
    // Without the recorded args, the two BuildKit logs alone still show it.
    const c = EXPLAIN_CASES[3]!;
    const logsOnly = json(['explain', ...c.logs.map((l) => path.join(FIXTURES, 'buildkit-28', `${l}.log`)), '--context', path.join(FIXTURES, 'buildkit-28', `${c.context}.ctxsnap`)]);
    const step = logsOnly.steps.find((s: { line: number }) => s.line === 4);
    expect([step.verdict, step.cause]).toEqual(['unpredicted', 'build-arg']);
    expect(step.message).toMatch(/RUN echo 1 > \/v → RUN echo 2 > \/v/);
  });

  it('an earlier build without recorded args: warns that a changed build arg cannot be told apart', () => {
    const c = EXPLAIN_CASES[3]!;
    const dir = path.join(FIXTURES, 'classic');
    const r = ctxdiff(['explain', path.join(dir, '05-build-arg.log'), '--since', path.join(dir, '04-base-changed.ctxsnap'), '--context', path.join(dir, `${c.context}.ctxsnap`), '--build-arg', 'V=2', '--json']);
    const doc = JSON.parse(r.stdout);
    expect(doc.warnings.join('\n')).toMatch(/build args are not known/);
    expect(doc.steps.find((s: { line: number }) => s.line === 4).cause).toBe('cache-lost');
  });
});

describe('explain: the command line', () => {
  const dir = path.join(FIXTURES, 'classic');
  const c = EXPLAIN_CASES[1]!;

  it('text and markdown name each step, the verdict and the cause', () => {
    const text = ctxdiff(argsFor(dir, c));
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/line 3 \[base\] COPY a\.txt \/a\n  builder: rebuilt; predicted: cached; REBUILT, predicted cached — follows line 2: the builder had no cache/);
    expect(text.stdout).toMatch(/the build and the prediction disagree: 5 rebuilt that ctxdiff predicted cached\n$/);
    const md = ctxdiff([...argsFor(dir, c), '--format', 'markdown']).stdout;
    expect(md).toMatch(/^### ctxdiff explain: the build and the prediction disagree/);
    expect(md).toContain('| base | 4 | `RUN echo $V > /v` | rebuilt | cached | **REBUILT, predicted cached** |');
  });

  it('reads the log from stdin', () => {
    const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'ctxdiff.js'), 'explain', '-', '--context', path.join(dir, '02-changed.ctxsnap'), '--json'], {
      input: fs.readFileSync(path.join(dir, '02-changed.log')),
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).log).toEqual({ file: '-', format: 'classic' });
  });

  it('lists a log step it cannot place on the Dockerfile, with a warning, instead of dropping it', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ctxdiff-explain-'));
    try {
      fs.writeFileSync(path.join(tmp, 'Dockerfile'), fs.readFileSync(path.join(FIXTURES, 'Dockerfile'), 'utf8').replace('COPY b.txt /b', 'COPY c.txt /c'));
      const r = ctxdiff(['explain', path.join(FIXTURES, 'buildkit-0.8', '02-changed.log'), '--context', tmp, '--json']);
      expect(r.code).toBe(0);
      const doc = JSON.parse(r.stdout);
      expect(doc.unplaced).toEqual([{ log: 'build', line: expect.any(Number), text: 'COPY b.txt /b', stage: 'base' }]);
      expect(r.stderr).toMatch(/warning: log line \d+: step "COPY b\.txt \/b" matches no line of the Dockerfile/);
      expect(doc.steps.find((s: { line: number }) => s.line === 5).actual).toBe('not-in-log');
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('refuses what is not a build log, a missing file and three logs, with exit 2 and one line', () => {
    const notLog = ctxdiff(['explain', path.join(FIXTURES, 'Dockerfile'), '--context', dir]);
    expect([notLog.code, notLog.stderr.trim().split('\n').length]).toEqual([2, 1]);
    expect(notLog.stderr).toMatch(/not a build log ctxdiff can read/);
    const missing = ctxdiff(['explain', path.join(dir, 'nope.log'), '--context', dir]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope\.log/);
    expect(ctxdiff(['explain', 'a', 'b', 'c']).code).toBe(2);
  });
});
