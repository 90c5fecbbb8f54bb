/**
 * Smoke test of the real-builder harness: cache hits and received files, on every available builder.
 * Without builders (and without CI=true) the whole suite is skipped with one line saying why.
 */
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ALL_REAL_BUILDERS,
  baseImage,
  build,
  exclusive,
  pruneCache,
  REAL_BUILDER_TEST_TIMEOUT_MS,
  realBuilders,
  receivedFiles,
  type ReceivedFile,
  type StepCache,
} from './support/realbuilders.js';

const { available, reason } = await realBuilders();
const skipLine = `real-builder smoke test skipped: ${reason ?? 'no builder'}`;
if (available.length === 0) console.warn(skipLine);

const BUILDER_TEST_TIMEOUT_MS = REAL_BUILDER_TEST_TIMEOUT_MS;

const outcome = (steps: StepCache[]) => steps.map((s) => [s.line, s.cached] as const);

const builders = ALL_REAL_BUILDERS.filter((b) => available.includes(b));

describe.skipIf(available.length === 0)(available.length === 0 ? skipLine : 'real builders', { concurrent: true }, () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'ctxdiff-smoke-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  describe.each(builders)('%s', (builder) => {
    it('reports a rebuilt first build, an all-cached rebuild, and rebuilds the COPY whose file changed', async () => {
      const ctx = path.join(root, `${builder}-two-steps`);
      await mkdir(ctx);
      await writeFile(path.join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY a.txt /a\nCOPY b.txt /b\n');
      await writeFile(path.join(ctx, 'a.txt'), 'a1\n');
      await writeFile(path.join(ctx, 'b.txt'), 'b1\n');
      await exclusive(builder, async () => {
        await pruneCache(builder);
        expect(outcome(await build(builder, ctx))).toEqual([[2, false], [3, false]]);
        expect(outcome(await build(builder, ctx))).toEqual([[2, true], [3, true]]);
        await writeFile(path.join(ctx, 'b.txt'), 'b2\n');
        expect(outcome(await build(builder, ctx))).toEqual([[2, true], [3, false]]);
        await writeFile(path.join(ctx, 'a.txt'), 'a2\n');
        expect(outcome(await build(builder, ctx))).toEqual([[2, false], [3, false]]);
      });
    }, BUILDER_TEST_TIMEOUT_MS);

    it('maps multi-stage steps with RUN on the base image back to their Dockerfile lines', async () => {
      const ctx = path.join(root, `${builder}-multi-stage`);
      await mkdir(ctx);
      const base = await baseImage(builder);
      const dockerfile = [
        `FROM ${base} AS build`, // 1
        'RUN echo built \\', // 2
        '    > /x', // 3
        'COPY a.txt /a', // 4
        '', // 5
        'FROM scratch AS unused', // 6
        'COPY b.txt /b', // 7
        '', // 8
        'FROM scratch', // 9
        'COPY --from=build /x /x', // 10
        'COPY  b.txt   /b', // 11
      ].join('\n');
      await writeFile(path.join(ctx, 'Dockerfile'), dockerfile + '\n');
      await writeFile(path.join(ctx, 'a.txt'), 'a1\n');
      await writeFile(path.join(ctx, 'b.txt'), 'b1\n');
      await exclusive(builder, async () => {
        await pruneCache(builder);
        const first = await build(builder, ctx);
        const second = await build(builder, ctx);
        await writeFile(path.join(ctx, 'a.txt'), 'a2\n');
        const third = await build(builder, ctx);

        const used = [2, 4, 10, 11];
        expect(first.map((s) => s.line)).toEqual(expect.arrayContaining(used));
        expect(first.filter((s) => used.includes(s.line)).every((s) => !s.cached)).toBe(true);
        expect(second.map((s) => s.line)).toEqual(first.map((s) => s.line));
        expect(second.every((s) => s.cached)).toBe(true);
        expect(second.find((s) => s.line === 2)?.instruction).toBe('RUN echo built > /x');
        const at = (line: number) => third.find((s) => s.line === line)?.cached;
        expect([at(2), at(4), at(11)]).toEqual([true, false, true]);
      });
    }, BUILDER_TEST_TIMEOUT_MS);

    it('lists exactly the files received from a context with a .dockerignore', async () => {
      const ctx = path.join(root, `${builder}-received`);
      const files: [string, string, number][] = [
        ['a.txt', 'a\n', 0o644],
        ['run.sh', '#!/bin/sh\n', 0o755],
        ['README.md', 'readme\n', 0o644],
        ['sub/b.txt', 'b\n', 0o600],
        ['sub/skip.log', 'log\n', 0o644],
        ['ignored/x', 'x\n', 0o644],
        ['.dockerignore', 'ignored\n*.md\nsub/*.log\n', 0o644],
      ];
      for (const [rel, content, mode] of files) {
        await mkdir(path.dirname(path.join(ctx, rel)), { recursive: true });
        await writeFile(path.join(ctx, rel), content);
        await chmod(path.join(ctx, rel), mode);
      }
      await mkdir(path.join(ctx, 'empty'));
      await chmod(path.join(ctx, 'empty'), 0o750);
      await chmod(path.join(ctx, 'sub'), 0o711);
      await symlink('a.txt', path.join(ctx, 'link'));

      const expected: ReceivedFile[] = [
        { path: '.dockerignore', type: 'file', mode: 0o644 },
        { path: 'a.txt', type: 'file', mode: 0o644 },
        { path: 'empty', type: 'dir', mode: 0o750 },
        { path: 'link', type: 'symlink', mode: 0o777 },
        { path: 'run.sh', type: 'file', mode: 0o755 },
        { path: 'sub', type: 'dir', mode: 0o711 },
        { path: 'sub/b.txt', type: 'file', mode: 0o600 },
      ];
      expect(await receivedFiles(builder, ctx)).toEqual(expected);
    }, BUILDER_TEST_TIMEOUT_MS);

    it('with a Dockerfile inside the context, receives that Dockerfile too', async () => {
      const ctx = path.join(root, `${builder}-received-dockerfile`);
      await mkdir(path.join(ctx, 'build'), { recursive: true });
      await writeFile(path.join(ctx, 'a.txt'), 'a\n');
      await chmod(path.join(ctx, 'a.txt'), 0o644);
      const received = await receivedFiles(builder, ctx, { dockerfile: 'build/Dockerfile' });
      expect(received.map((f) => [f.path, f.type])).toEqual([
        ['a.txt', 'file'],
        ['build', 'dir'],
        ['build/Dockerfile', 'file'],
      ]);
    }, BUILDER_TEST_TIMEOUT_MS);
  });
});
