/** The inputs of a step's cache key beyond COPY sources: bind mounts, build args, COPY --from paths, --target. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { getProfile } from '../src/builders/profiles.js';
import { judge, type JudgeOptions, type VerdictReport } from '../src/analysis/verdicts.js';
import { walkContext } from '../src/context/walk.js';
import { hashBuildArg } from '../src/core/build-args.js';
import { columnsOf } from '../src/context/entry-columns.js';
import type { Entry } from '../src/core/types.js';
import { materialize, type FixtureSpec } from './support/fixture.js';
import { useContextPair } from './support/context-pair.js';

const dirs = useContextPair('ctxdiff-inputs-');
const pair = (spec: FixtureSpec) => dirs.make(spec);

async function verdicts(builder: string, options: JudgeOptions = {}): Promise<VerdictReport> {
  const before = await walkContext(dirs.A, { profile: getProfile(builder) });
  const after = await walkContext(dirs.B, { profile: getProfile(builder) });
  return judge(before, after, getProfile(builder), options);
}

const summary = (r: VerdictReport) => r.steps.map((s) => `${s.line}:${s.verdict}:${s.cause}`);
const write = (rel: string, content: string) => fs.writeFileSync(path.join(dirs.B, rel), content);

const MOUNT: FixtureSpec = {
  Dockerfile: {
    content: [
      'FROM scratch', //                                                                   1
      'RUN --mount=type=bind,source=package.json,target=/app/package.json --mount=type=cache,target=/root/.npm npm ci', // 2
      'COPY src /app/src', //                                                               3
      'RUN --mount=type=bind,target=/ctx ls /ctx', //                                       4
      '',
    ].join('\n'),
  },
  '.dockerignore': { content: '*.log\n' },
  'package.json': { content: '{}' },
  'src/a.ts': { content: 'a' },
  'notes.log': { content: 'log' },
};

describe('RUN bind mounts', () => {
  it('a change under the mounted source rebuilds the RUN, and names the mount and the path', async () => {
    await pair(MOUNT);
    write('package.json', '{"x":1}');
    const r = await verdicts('buildkit');
    expect(summary(r)).toEqual(['2:rebuilt:mount', '3:rebuilt:previous-step', '4:rebuilt:mount']);
    const run = r.steps[0]!;
    expect(run.changes.map((c) => [c.path, c.kinds, c.input])).toEqual([
      ['package.json', ['content'], 'type=bind,source=package.json,target=/app/package.json'],
    ]);
    // Only the bind mount is an input; the cache mount is not.
    expect(run.inputs.map((i) => [i.kind, i.paths, i.changed])).toEqual([['bind-mount', ['package.json'], 'yes']]);
    expect(r.ignored).toEqual([]);
  });

  it('an mtime-only change, an unrelated file and a .dockerignore\'d file leave the mount cached', async () => {
    await pair(MOUNT);
    const later = new Date('2030-01-01T00:00:00Z');
    fs.utimesSync(path.join(dirs.B, 'package.json'), later, later);
    write('notes.log', 'more log');
    const r = await verdicts('buildkit');
    expect(summary(r)).toEqual(['2:cached:none', '3:cached:none', '4:cached:none']);
    expect(r.ignored.map((i) => [i.path, i.reason])).toEqual([['package.json', 'attributes']]);
  });

  it('the whole context mounted (no source=): any change under it rebuilds', async () => {
    await pair(MOUNT);
    write('src/a.ts', 'A');
    expect(summary(await verdicts('buildkit'))).toEqual(['2:cached:none', '3:rebuilt:sources', '4:rebuilt:mount']);
  });

  it('Buildah 1.28 does not see bind-mount changes: cached, with a stale hazard', async () => {
    await pair(MOUNT);
    write('package.json', '{"x":1}');
    const r = await verdicts('buildah-1.28');
    expect(summary(r)).toEqual(['2:cached:none', '3:cached:none', '4:cached:none']);
    expect(r.hazards.map((h) => [h.kind, h.path, h.lines])).toEqual([['bind-mount-not-seen', 'package.json', [2, 4]]]);
    expect(r.hazards[0]!.message).toMatch(/^stale: buildah-1.28 does not see bind-mount changes/);
  });

  it('the classic builder rejects RUN --mount', async () => {
    await pair(MOUNT);
    const r = await verdicts('classic');
    // The same cause as a COPY flag the builder rejects: the build fails there.
    expect(r.steps[0]).toMatchObject({ verdict: 'unknown', cause: 'unsupported-flag', note: 'builder classic rejects RUN --mount: the build fails at this step' });
    expect(r.warnings).toContain('classic rejects RUN --mount: the build fails');
  });

  it('a mount from= a stage follows that stage like COPY --from', async () => {
    await pair({
      Dockerfile: {
        content: ['FROM scratch AS s', 'COPY src /out', 'FROM scratch', 'RUN --mount=from=s,source=/out/a.ts,target=/a cat /a', ''].join('\n'),
      },
      'src/a.ts': { content: 'a' },
      'src/b.ts': { content: 'b' },
    });
    write('src/b.ts', 'B');
    expect(summary(await verdicts('buildkit'))).toEqual(['2:rebuilt:sources', '4:cached:none']);
    write('src/a.ts', 'A');
    const r = await verdicts('buildkit');
    expect(summary(r)).toEqual(['2:rebuilt:sources', '4:rebuilt:stage']);
    expect(r.steps[1]!.inputs).toMatchObject([{ kind: 'stage', name: 's', paths: ['/out/a.ts'], changed: 'yes' }]);
  });
});

const ARGS: FixtureSpec = {
  Dockerfile: {
    content: [
      'FROM scratch', //          1
      'ARG V=1', //               2
      'ARG API_TOKEN', //         3
      'COPY src /src', //         4
      'RUN true', //              5
      'RUN echo $V', //           6
      '',
    ].join('\n'),
  },
  'src/a.ts': { content: 'a' },
};

describe('build args', () => {
  const run = (builder: string, before: Record<string, string>, after: Record<string, string>) =>
    verdicts(builder, { beforeInvocation: { buildArgs: before }, afterInvocation: { buildArgs: after } });

  it('a changed value rebuilds the first RUN after the ARG, even one that does not use it; the COPY stays cached', async () => {
    await pair(ARGS);
    const bk = await run('buildkit', { V: '1' }, { V: '2' });
    expect(summary(bk)).toEqual(['4:cached:none', '5:rebuilt:build-arg', '6:rebuilt:build-arg']);
    expect(bk.steps[1]!.note).toBe('build arg V changed: 1 → 2');
    expect(bk.steps[1]!.causeLine).toBe(2);
    for (const b of ['classic', 'buildah']) {
      expect(summary(await run(b, { V: '1' }, { V: '2' }))).toEqual([
        '2:cached:none', '3:cached:none', '4:cached:none', '5:rebuilt:build-arg', '6:rebuilt:build-arg',
      ]);
    }
  });

  it('an undeclared arg, or a value equal to the default, changes nothing', async () => {
    await pair(ARGS);
    expect(summary(await run('buildkit', {}, { OTHER: 'x' }))).toEqual(['4:cached:none', '5:cached:none', '6:cached:none']);
    expect(summary(await run('buildkit', {}, { V: '1' }))).toEqual(['4:cached:none', '5:cached:none', '6:cached:none']);
  });

  it('a secret-looking value is compared by hash and never shown', async () => {
    await pair(ARGS);
    const r = await run('buildkit', { API_TOKEN: 'hunter2' }, { API_TOKEN: 'hunter3' });
    expect(r.steps[1]!.note).toBe('build arg API_TOKEN changed');
    expect(JSON.stringify(r)).not.toMatch(/hunter/);
    // A recorded hash compares equal to the same clear value.
    const same = await verdicts('buildkit', {
      beforeInvocation: { buildArgs: { API_TOKEN: { sha256: hashBuildArg('API_TOKEN', 'hunter2') } } },
      afterInvocation: { buildArgs: { API_TOKEN: 'hunter2' } },
    });
    expect(summary(same)).toEqual(['4:cached:none', '5:cached:none', '6:cached:none']);
  });

  it('global ARGs: they reach FROM; a stage sees one only where it declares it again', async () => {
    await pair({
      Dockerfile: { content: 'ARG BASE=alpine:3.19\nARG V=1\nFROM $BASE\nCOPY src /src\nRUN true\nFROM scratch\nARG V\nRUN true\n' },
      'src/a.ts': { content: 'a' },
    });
    expect(summary(await run('buildkit', {}, { BASE: 'alpine:3.20' }))).toEqual(['4:rebuilt:previous-step', '5:rebuilt:previous-step', '8:cached:none']);
    const r = await run('buildkit', { V: '1' }, { V: '2' });
    expect(summary(r)).toEqual(['4:cached:none', '5:cached:none', '8:rebuilt:build-arg']);
    expect(r.steps[2]!.inputs).toMatchObject([{ kind: 'build-arg', name: 'V', before: '1', after: '2', line: 7 }]);
  });

  it('a COPY whose path uses the arg is rebuilt by it', async () => {
    await pair({
      Dockerfile: { content: 'FROM scratch\nARG DIR=src\nCOPY $DIR /x\n' },
      'src/a.ts': { content: 'a' },
      'lib/b.ts': { content: 'b' },
    });
    expect(summary(await run('buildkit', { DIR: 'src' }, { DIR: 'lib' }))).toEqual(['3:rebuilt:instruction']);
  });
});

describe('COPY --from judged by the copied paths', () => {
  const STAGES: FixtureSpec = {
    Dockerfile: {
      content: [
        'FROM scratch AS build', //            1
        'COPY src /ctx', //                    2
        'FROM scratch', //                     3
        'COPY --from=build /ctx/a.txt /a', //  4
        '',
      ].join('\n'),
    },
    'src/a.txt': { content: 'alpha' },
    'src/sub/b.txt': { content: 'beta' },
  };

  it('cached when only other paths of the stage changed; rebuilt when a copied path did', async () => {
    await pair(STAGES);
    write('src/sub/b.txt', 'BETA');
    expect(summary(await verdicts('buildkit'))).toEqual(['2:rebuilt:sources', '4:cached:none']);
    expect(summary(await verdicts('classic'))).toEqual(['2:rebuilt:sources', '4:cached:none']);
    write('src/a.txt', 'ALPHA');
    expect(summary(await verdicts('buildkit'))).toEqual(['2:rebuilt:sources', '4:rebuilt:stage']);
  });

  it('after a rebuilt RUN in the stage: unknown (depends on what RUN produces)', async () => {
    await pair({
      ...STAGES,
      Dockerfile: { content: ['FROM scratch AS build', 'COPY src /ctx', 'RUN wc -c < /ctx/a.txt > /len', 'FROM scratch', 'COPY --from=build /len /len', ''].join('\n') },
    });
    write('src/a.txt', 'ALPHA');
    const r = await verdicts('buildkit');
    expect(summary(r)).toEqual(['2:rebuilt:sources', '3:rebuilt:previous-step', '5:unknown:stage']);
    expect(r.steps[2]!.note).toBe('depends on what RUN produces (line 3); cached if byte-identical');
  });
});

describe('--target', () => {
  it('judges only the stages the target needs and lists the others as not built', async () => {
    await pair({
      Dockerfile: { content: ['FROM scratch AS deps', 'COPY a /a', 'FROM scratch AS test', 'COPY b /b', 'FROM scratch AS app', 'COPY --from=deps /a /a', ''].join('\n') },
      a: { content: 'a' },
      b: { content: 'b' },
    });
    write('b', 'B');
    const r = await verdicts('buildkit', { target: 'app' });
    expect(summary(r)).toEqual(['2:cached:none', '6:cached:none']);
    expect(r.notBuilt).toEqual([{ stage: 'test', stageIndex: 1, line: 3 }]);
    // The classic builder runs every stage up to the target.
    expect(summary(await verdicts('classic', { target: 'app' }))).toEqual(['2:cached:none', '4:rebuilt:sources', '6:cached:none']);
  });
});

describe('why, doctor and snapshots', () => {
  it('why lists the RUN steps that bind-mount a path', async () => {
    const { whyInputForDirectory, explain } = await import('../src/analysis/why.js');
    await pair(MOUNT);
    const r = explain(whyInputForDirectory(dirs.A, getProfile('buildkit'), undefined), ['package.json', 'src/a.ts'], dirs.A);
    expect(r.results[0]!.steps.map((s) => [s.keyword, s.line, s.mount ?? s.source])).toEqual([
      ['RUN', 2, 'type=bind,source=package.json,target=/app/package.json'],
      ['RUN', 4, 'type=bind,target=/ctx'],
    ]);
    expect(r.results[1]!.steps.map((s) => [s.keyword, s.line])).toEqual([['COPY', 3], ['RUN', 4]]);
  });

  it('doctor: a bind-mounted file that is not in the context, or that the ignore file excludes', async () => {
    const { diagnoseDirectory } = await import('../src/analysis/doctor.js');
    await pair({
      Dockerfile: { content: 'FROM scratch\nRUN --mount=type=bind,source=secret.txt,target=/s --mount=source=nope,target=/n --mount=source=ok,target=/o true\n' },
      '.dockerignore': { content: 'secret.txt\n' },
      'secret.txt': { content: 's' },
      ok: { content: 'o' },
    });
    const found = (await diagnoseDirectory(dirs.A)).findings.filter((f) => f.id === 'bind-mount-not-sent');
    expect(found.map((f) => [f.line, f.paths, f.severity])).toEqual([[2, ['secret.txt'], 'error'], [2, ['nope'], 'error']]);
    expect(found[0]!.message).toContain('.dockerignore:1 `secret.txt` excludes');
  });

  it('a snapshot keeps the invocation and the named contexts; secret-looking values only as a hash', async () => {
    const { encodeSnapshot, decodeSnapshot } = await import('../src/snapshot/format.js');
    const { recordable } = await import('../src/core/build-args.js');
    await pair(MOUNT);
    const ctx = await walkContext(dirs.A);
    const shared = await walkContext(path.join(dirs.A, 'src'));
    const invocation = { buildArgs: recordable({ V: '1', NPM_TOKEN: 'hunter2' }), target: 'app', contexts: { shared: 'src' } };
    const bytes = encodeSnapshot({ ...ctx, invocation, namedContexts: { shared } });
    expect(bytes.includes(Buffer.from('hunter2'))).toBe(false);
    const back = decodeSnapshot(bytes, 'mem').context;
    expect(back.invocation).toEqual({ buildArgs: { V: '1', NPM_TOKEN: { sha256: hashBuildArg('NPM_TOKEN', 'hunter2') } }, target: 'app', contexts: { shared: 'src' } });
    expect(back.namedContexts!.shared!.entries.map((e) => e.path)).toEqual(['a.ts']);
    expect(back.entries).toEqual(ctx.entries);
  });
});

describe('named build contexts', () => {
  it('COPY --from=name and a mount from=name read the named context', async () => {
    await pair({
      Dockerfile: { content: 'FROM scratch\nCOPY --from=shared lib /lib\nRUN --mount=from=shared,source=tools,target=/t true\n' },
    });
    const shared = path.join(dirs.tmp, 'shared');
    await materialize({ 'lib/x.ts': { content: 'x' }, 'tools/t.sh': { content: 't' }, 'other': { content: 'o' } }, shared);
    const before = await walkContext(shared);
    fs.writeFileSync(path.join(shared, 'other'), 'O');
    const unrelated = await walkContext(shared);
    fs.writeFileSync(path.join(shared, 'lib/x.ts'), 'X');
    const after = await walkContext(shared);
    expect(summary(await verdicts('buildkit', { namedContexts: { shared: { before, after: unrelated } } }))).toEqual(['2:cached:none', '3:cached:none']);
    const r = await verdicts('buildkit', { namedContexts: { shared: { before, after } } });
    expect(summary(r)).toEqual(['2:rebuilt:named-context', '3:rebuilt:previous-step']);
    expect(r.steps[0]!.changes.map((c) => [c.context, c.path])).toEqual([['shared', 'lib/x.ts']]);
    expect(r.steps[0]!.inputs).toMatchObject([{ kind: 'named-context', context: 'shared', paths: ['lib'], changed: 'yes' }]);
  });

  it('column contexts (as diff loads them) give the verdicts entry lists give', async () => {
    await pair({
      Dockerfile: { content: 'FROM scratch\nCOPY --from=shared lib /lib\nCOPY src /src\n' },
      'src/a.ts': { content: 'a' },
    });
    write('src/a.ts', 'A');
    const shared = path.join(dirs.tmp, 'shared');
    await materialize({ 'lib/x.ts': { content: 'x' } }, shared);
    const sharedBefore = await walkContext(shared);
    fs.writeFileSync(path.join(shared, 'lib/x.ts'), 'X');
    const sharedAfter = await walkContext(shared);
    const profile = getProfile('buildkit');
    const before = await walkContext(dirs.A, { profile });
    const after = await walkContext(dirs.B, { profile });
    const cols = <T extends { entries: Entry[] }>(c: T) => ({ ...c, entries: columnsOf(c.entries) });
    const objects = judge(before, after, profile, { namedContexts: { shared: { before: sharedBefore, after: sharedAfter } } });
    const columns = judge(cols(before), cols(after), profile, { namedContexts: { shared: { before: cols(sharedBefore), after: cols(sharedAfter) } } });
    expect(summary(objects)).toEqual(['2:rebuilt:named-context', '3:rebuilt:sources']);
    expect(columns).toEqual(objects);
  });
});

describe('a builder that mounts the raw context (profile.bindMounts = raw-context)', () => {
  it('a change to a .dockerignore\'d path under the mount rebuilds the RUN', async () => {
    const profile = { ...getProfile('buildkit'), id: 'raw-test', bindMounts: 'raw-context' as const };
    await pair(MOUNT);
    write('notes.log', 'more');
    const raw = { ...profile, ignoreFiles: { besideDockerfile: [], atRoot: [] } };
    const ctx = async (dir: string, p: typeof profile) => walkContext(dir, { profile: p });
    const before = await ctx(dirs.A, profile);
    const after = await ctx(dirs.B, profile);
    const rawContexts = { before: await ctx(dirs.A, raw), after: await ctx(dirs.B, raw) };
    const r = judge(before, after, profile, { rawContexts });
    expect(summary(r)).toEqual(['2:cached:none', '3:cached:none', '4:rebuilt:mount']);
    expect(r.steps[2]!.changes.map((c) => c.path)).toEqual(['notes.log']);
    expect(r.ignored).toEqual([]);
    // Without the raw contexts it cannot be seen, and says so.
    expect(judge(before, after, profile).warnings[0]).toMatch(/bind-mounts the context as it is on disk/);
  });
});
