import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getProfile } from '../src/builders/profiles.js';
import { judge, type VerdictReport } from '../src/analysis/verdicts.js';
import { walkContext } from '../src/context/walk.js';
import { materialize, type FixtureSpec } from './support/fixture.js';

let tmp: string;
let A: string;
let B: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ctxdiff-verdict-'));
  A = path.join(tmp, 'a');
  B = path.join(tmp, 'b');
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Materialize the spec as A, copy it (attributes preserved) to B. */
async function pair(spec: FixtureSpec): Promise<void> {
  fs.mkdirSync(A);
  await materialize(spec, A);
  execFileSync('cp', ['-a', A, B]);
}

async function verdicts(builder: string, options: Parameters<typeof getProfile>[1] = {}): Promise<VerdictReport> {
  const profile = getProfile(builder, options);
  const before = await walkContext(A, { profile });
  const after = await walkContext(B, { profile });
  return judge(before, after, profile);
}

const summary = (r: VerdictReport) => r.steps.map((s) => `${s.line}:${s.verdict}:${s.cause}`);

const APP: FixtureSpec = {
  'Dockerfile': {
    content: [
      'FROM scratch AS build', //            1
      'LABEL version=1', //                  2
      'COPY package.json /app/', //          3
      'COPY src /app/src', //                4
      'COPY . /all', //                      5
      'FROM scratch', //                     6
      'COPY --from=build /app/src /src', //  7
      'COPY docs/*.md /docs/', //            8
      '',
    ].join('\n'),
  },
  '.dockerignore': { content: '*.log\n' },
  'package.json': { content: '{}' },
  'src/a.ts': { content: 'a' },
  'src/lib/b.ts': { content: 'b' },
  'docs/readme.md': { content: 'docs' },
  'notes.log': { content: 'log' },
};

describe('judge', () => {
  it('a content change rebuilds the steps that take the file, and the stage that copies from them', async () => {
    await pair(APP);
    fs.writeFileSync(path.join(B, 'src/lib/b.ts'), 'B!');
    const r = await verdicts('buildkit');
    expect(summary(r)).toEqual(['3:cached:none', '4:rebuilt:sources', '5:rebuilt:sources', '7:rebuilt:stage', '8:rebuilt:previous-step']);
    const step4 = r.steps.find((s) => s.line === 4)!;
    expect(step4.changes.map((c) => [c.path, c.kinds])).toEqual([['src/lib/b.ts', ['content']]]);
    expect(step4.stage).toBe('build');
  });

  it('a LABEL change: BuildKit keeps later COPYs cached, classic and buildah rebuild them', async () => {
    await pair(APP);
    const df = path.join(B, 'Dockerfile');
    fs.writeFileSync(df, fs.readFileSync(df, 'utf8').replace('version=1', 'version=2'));
    // The Dockerfile is a context file under COPY . /all, so that step is rebuilt by its sources everywhere.
    expect(summary(await verdicts('buildkit'))).toEqual(['3:cached:none', '4:cached:none', '5:rebuilt:sources', '7:cached:none', '8:cached:none']);
    for (const b of ['classic', 'buildah']) {
      expect(summary(await verdicts(b))).toEqual([
        '2:rebuilt:instruction', '3:rebuilt:previous-step', '4:rebuilt:previous-step', '5:rebuilt:instruction'.replace('instruction', 'sources'),
        '7:cached:none', '8:cached:none',
      ]);
    }
  });

  it('mtime-only and owner changes are ignored per profile, with the reason', async () => {
    await pair(APP);
    fs.utimesSync(path.join(B, 'src/a.ts'), new Date(2001, 0, 1), new Date(2001, 0, 1));
    const r = await verdicts('buildkit');
    expect(r.steps.every((s) => s.verdict === 'cached')).toBe(true);
    expect(r.ignored.map((c) => [c.path, c.kinds, c.reason])).toEqual([['src/a.ts', ['mtime'], 'attributes']]);
    expect((await verdicts('strict')).steps.find((s) => s.line === 4)!.verdict).toBe('rebuilt');
  });

  it.runIf(process.getuid?.() === 0)('an owner change busts Buildah 1.28 only', async () => {
    await pair(APP);
    fs.chownSync(path.join(B, 'package.json'), 1234, 1234);
    for (const builder of ['buildkit', 'buildkit-0.8', 'classic', 'classic-20.10', 'buildah']) {
      expect((await verdicts(builder)).steps.every((s) => s.verdict === 'cached'), builder).toBe(true);
    }
    const bah = await verdicts('buildah-1.28');
    expect(bah.steps.find((s) => s.line === 3)).toMatchObject({ verdict: 'rebuilt', cause: 'sources' });
  });

  it('a change outside every COPY source affects nothing', async () => {
    await pair({ ...APP, 'Dockerfile': { content: 'FROM scratch\nCOPY src /src\n' } });
    fs.writeFileSync(path.join(B, 'package.json'), '{"x":1}');
    const r = await verdicts('buildkit');
    expect(summary(r)).toEqual(['2:cached:none']);
    expect(r.ignored.map((c) => [c.path, c.reason])).toEqual([['package.json', 'outside']]);
  });

  it('wildcard sources: a new match busts, a non-match or a file in a subdirectory does not', async () => {
    await pair(APP);
    fs.writeFileSync(path.join(B, 'docs/other.txt'), 'x');
    fs.mkdirSync(path.join(B, 'docs/sub'));
    fs.writeFileSync(path.join(B, 'docs/sub/deep.md'), 'x');
    const r1 = await verdicts('buildkit');
    expect(r1.steps.find((s) => s.line === 8)!.verdict).toBe('cached');
    fs.writeFileSync(path.join(B, 'docs/new.md'), 'x');
    const r2 = await verdicts('buildkit');
    expect(r2.steps.find((s) => s.line === 8)).toMatchObject({ verdict: 'rebuilt', cause: 'sources' });
    expect(r2.steps.find((s) => s.line === 8)!.changes.map((c) => c.path)).toEqual(['docs/new.md']);
  });

  it('explains a path that an ignore-rule change brought in', async () => {
    await pair(APP);
    fs.writeFileSync(path.join(B, '.dockerignore'), '*.log\n!notes.log\n');
    const r = await verdicts('buildkit');
    const step5 = r.steps.find((s) => s.line === 5)!;
    const notes = step5.changes.find((c) => c.path === 'notes.log')!;
    expect(notes.kinds).toEqual(['added']);
    expect(notes.ignore).toEqual({
      before: { excluded: true, rule: { file: '.dockerignore', line: 1, pattern: '*.log' } },
      after: { excluded: false, rule: { file: '.dockerignore', line: 2, pattern: '!notes.log' } },
    });
  });

  it('judges the whole context as one COPY . / without a Dockerfile', async () => {
    await pair({ 'a.txt': { content: 'a' } });
    fs.writeFileSync(path.join(B, 'a.txt'), 'b');
    const r = await verdicts('buildkit');
    expect(r.dockerfile).toBeNull();
    expect(r.steps).toHaveLength(1);
    expect(r.steps[0]).toMatchObject({ verdict: 'rebuilt', cause: 'sources', line: 0 });
  });

  it('flags a same-size, same-mtime content change as a BuildKit hazard', async () => {
    await pair(APP);
    const f = path.join(B, 'src/a.ts');
    const st = fs.statSync(f);
    fs.writeFileSync(f, 'z');
    fs.utimesSync(f, st.atime, st.mtime);
    const r = await verdicts('buildkit');
    expect(r.steps.find((s) => s.line === 4)!.verdict).toBe('rebuilt');
    expect(r.hazards.map((h) => [h.kind, h.path])).toEqual([['same-size-and-mtime', 'src/a.ts']]);
    expect((await verdicts('classic')).hazards).toEqual([]);
  });

  it('a directory mode change: ignored with a hazard by BuildKit, rebuilt by classic', async () => {
    await pair(APP);
    fs.chmodSync(path.join(B, 'src/lib'), 0o700);
    const bk = await verdicts('buildkit');
    expect(bk.steps.every((s) => s.verdict === 'cached')).toBe(true);
    expect(bk.hazards.map((h) => [h.kind, h.path])).toEqual([['directory-mode', 'src/lib']]);
    const classic = await verdicts('classic');
    expect(classic.steps.find((s) => s.line === 4)).toMatchObject({ verdict: 'rebuilt', cause: 'sources' });
  });

  it('COPY --link does not follow a rebuilt earlier step in current BuildKit with the containerd image store', async () => {
    await pair({
      'Dockerfile': { content: 'FROM scratch\nCOPY a /a\nCOPY --link b /b\nCOPY c /c\n' },
      'a': { content: 'a' }, 'b': { content: 'b' }, 'c': { content: 'c' },
    });
    fs.writeFileSync(path.join(B, 'a'), 'A');
    const chained = ['2:rebuilt:sources', '3:rebuilt:previous-step', '4:rebuilt:previous-step'];
    expect(summary(await verdicts('buildkit', { store: 'containerd' }))).toEqual(['2:rebuilt:sources', '3:cached:none', '4:rebuilt:previous-step']);
    expect(summary(await verdicts('buildkit'))).toEqual(chained);
    expect(summary(await verdicts('buildkit', { store: 'graphdriver' }))).toEqual(chained);
    expect(summary(await verdicts('classic'))).toEqual(chained);
    expect(summary(await verdicts('buildah'))).toEqual(chained);
  });

  it('a flag the builder rejects gives unknown, never a verdict', async () => {
    await pair({
      'Dockerfile': { content: 'FROM scratch\nCOPY --link a /a\nCOPY --exclude=*.log src /src\nCOPY --parents src/x /p/\n' },
      'a': { content: 'a' }, 'src/x': { content: 'x' },
    });
    fs.writeFileSync(path.join(B, 'a'), 'A');
    const notes = (r: VerdictReport) => r.steps.map((s) => (s.cause === 'unsupported-flag' ? `${s.line}:${s.note!.split(':')[0]}` : `${s.line}:${s.verdict}`));
    expect(notes(await verdicts('buildkit-0.8'))).toEqual(['2:builder buildkit-0.8 rejects --link', '3:builder buildkit-0.8 rejects --exclude', '4:builder buildkit-0.8 rejects --parents']);
    expect(notes(await verdicts('buildkit'))).toEqual(['2:rebuilt', '3:rebuilt', '4:builder buildkit rejects --parents']);
    expect(notes(await verdicts('classic-20.10'))[0]).toBe('2:builder classic-20.10 rejects --link');
    expect(notes(await verdicts('buildah'))).toEqual(['2:rebuilt', '3:rebuilt', '4:rebuilt']);
  });

  it('COPY --exclude per builder: below the source (BuildKit), from the root (Buildah 1.43), ignored (classic 28)', async () => {
    const spec = (pattern: string) => ({
      'Dockerfile': { content: `FROM scratch\nCOPY --exclude=${pattern} src /src\n` },
      'src/a.txt': { content: 'a' }, 'src/x.log': { content: 'x' },
    });
    const outcome = async (pattern: string) => {
      fs.rmSync(A, { recursive: true, force: true });
      fs.rmSync(B, { recursive: true, force: true });
      await pair(spec(pattern));
      fs.writeFileSync(path.join(B, 'src/x.log'), 'changed');
      const out: Record<string, string> = {};
      for (const b of ['buildkit', 'buildah', 'classic']) out[b] = (await verdicts(b)).steps[0]!.verdict;
      return out;
    };
    expect(await outcome('*.log')).toEqual({ buildkit: 'cached', buildah: 'rebuilt', classic: 'rebuilt' });
    expect(await outcome('src/*.log')).toEqual({ buildkit: 'rebuilt', buildah: 'cached', classic: 'rebuilt' });
    expect(await outcome('**/*.log')).toEqual({ buildkit: 'cached', buildah: 'cached', classic: 'rebuilt' });
  });

  it('does not judge remote sources', async () => {
    await pair({ 'Dockerfile': { content: 'FROM scratch\nADD https://example.com/x.tgz /x\nCOPY a /a\n' }, 'a': { content: '' } });
    const r = await verdicts('buildkit');
    expect(r.steps[0]).toMatchObject({ verdict: 'unknown', cause: 'remote' });
  });
});
