/**
 * `why`: verdicts, deciding rules and COPY/ADD steps on fixture repos, checked against the conformance
 * vectors, the project's walker (every builder profile) and, when available, the real builders.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/core/errors.js';
import { createIgnoreMatcher } from '../src/ignore/matcher.js';
import { rulesFromPatterns } from '../src/ignore/ignore-file.js';
import { goClean } from '../src/ignore/go-strings.js';
import { builderIds, getProfile } from '../src/builders/profiles.js';
import { walkContext } from '../src/context/walk.js';
import { contextRelative, explain, explainPath, whyInputForDirectory, type WhyInput } from '../src/analysis/why.js';
import type { FixtureSpec } from './support/fixture.js';
import { projectCopies } from './support/projects.js';
import { ALL_REAL_BUILDERS, profileOf, realBuilders, receivedFiles, REAL_BUILDER_TEST_TIMEOUT_MS } from './support/realbuilders.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const project = projectCopies('ctxdiff-why-');

const ask = (input: WhyInput, p: string) => explainPath(input, p, contextRelative(p, '.'));

describe('why on a Node app', () => {
  it('says which rule decides, when no rule matches, and which steps take the path', async () => {
    const dir = await project('node-app', {
      '.git/HEAD': { content: 'ref: refs/heads/main\n' },
      '.git/index': { content: 'DIRC' },
      'node_modules/express/index.js': { content: 'module.exports = {};\n' },
      'npm-debug.log': { content: 'npm ERR!\n' },
    });
    const input = whyInputForDirectory(dir, getProfile('buildkit'), undefined);
    expect(input.ignoreFile).toBe('.dockerignore');

    const git = ask(input, '.git/index');
    expect(git).toMatchObject({ path: '.git/index', included: true, rule: null, notWalkedBelow: null });
    expect(git.steps.map((s) => [s.line, s.keyword, s.source, s.coverage])).toEqual([[5, 'COPY', '.', 'below']]);

    const dep = ask(input, './node_modules/express/index.js');
    expect(dep.path).toBe('node_modules/express/index.js');
    expect(dep.included).toBe(false);
    expect(dep.notWalkedBelow).toBe('node_modules');
    expect(dep.rule).toMatchObject({ file: '.dockerignore', line: 2, pattern: 'node_modules' });

    const log = ask(input, 'npm-debug.log');
    expect(log).toMatchObject({ included: false, notWalkedBelow: null, rule: { line: 3, pattern: 'npm-debug.log' } });
    // Not sent, so no step takes it, though `COPY . .` covers it.
    expect(log.steps.map((s) => s.line)).toEqual([5]);

    // A path that does not exist: pure rule evaluation.
    const future = ask(input, 'src/app.ts');
    expect(future).toMatchObject({ included: true, rule: null });
    expect(future.steps.map((s) => s.line)).toEqual([5]);

    // BuildKit does not even evaluate an exception for a path that is not excluded: no rule decides.
    expect(ask(input, 'src/vendor/keep.js')).toMatchObject({ included: true, rule: null });
    const kept = ask(whyInputForDirectory(dir, getProfile('buildah'), undefined), 'src/vendor/keep.js');
    expect(kept).toMatchObject({ included: true, rule: { line: 5, exclusion: true, pattern: 'src/vendor/keep.js' } });

    const dirRule = ask(input, 'build/out/main.js');
    expect(dirRule).toMatchObject({ included: false, notWalkedBelow: 'build', rule: { line: 4, pattern: 'build' } });
  });

  it('rejects the root and paths outside the context', () => {
    expect(() => contextRelative('.', '/ctx')).toThrow(UsageError);
    expect(() => contextRelative('a/../..', '/ctx')).toThrow(UsageError);
    expect(() => contextRelative('/elsewhere/x', '/ctx')).toThrow(UsageError);
    expect(contextRelative('/ctx/src/a.ts', '/ctx')).toBe('src/a.ts');
    expect(contextRelative('./src//b/', '/ctx')).toBe('src/b');
  });
});

describe('why on a Go app with an allow-list', () => {
  it('reports the exceptions that re-include and the steps per stage', async () => {
    const dir = await project('go-app', { '.git/HEAD': { content: 'ref: refs/heads/main\n' } });
    const input = whyInputForDirectory(dir, getProfile('buildkit'), undefined);
    const r = explain(input, ['internal/store/store.go', 'docs/design.md', '.git/HEAD', 'go.sum', 'Dockerfile'], dir).results;
    expect(r[0]).toMatchObject({ included: true, rule: { line: 6, pattern: 'internal', exclusion: true } });
    expect(r[0]!.steps.map((s) => [s.line, s.stage, s.source, s.coverage])).toEqual([[7, 'build', 'internal', 'below']]);
    expect(r[1]).toMatchObject({ included: false, notWalkedBelow: 'docs', rule: { line: 2, pattern: '*' } });
    expect(r[2]).toMatchObject({ included: false, notWalkedBelow: '.git', rule: { line: 2, pattern: '*' } });
    expect(r[3]).toMatchObject({ included: true, rule: { line: 4 } });
    expect(r[3]!.steps.map((s) => s.line)).toEqual([4]);
    expect(r[4]).toMatchObject({ included: false, rule: { pattern: '*' }, steps: [] });
  });
});

describe('why in a monorepo with a Dockerfile-specific ignore file', () => {
  it('uses services/api/Dockerfile.dockerignore under BuildKit and .dockerignore under the classic builder', async () => {
    const dir = await project('monorepo', { 'services/web/node_modules/react/index.js': { content: 'x' } });
    const df = path.join(dir, 'services/api/Dockerfile');
    const bk = whyInputForDirectory(dir, getProfile('buildkit'), df);
    expect(bk.ignoreFile).toBe('services/api/Dockerfile.dockerignore');
    const [src, web, nm] = explain(bk, ['services/api/src/index.js', 'services/web/src/app.js', 'services/web/node_modules/react/index.js'], dir).results;
    expect(src).toMatchObject({ included: true, rule: null });
    expect(src!.steps.map((s) => [s.line, s.source])).toEqual([[5, 'services/api/src']]);
    expect(web).toMatchObject({ included: false, notWalkedBelow: 'services/web', rule: { file: 'services/api/Dockerfile.dockerignore', line: 1 } });
    // The root .dockerignore is replaced, not merged: its **/node_modules rule does not apply.
    expect(nm).toMatchObject({ included: false, notWalkedBelow: 'services/web' });

    const classic = whyInputForDirectory(dir, getProfile('classic'), df);
    expect(classic.ignoreFile).toBe('.dockerignore');
    const [web2, nm2] = explain(classic, ['services/web/src/app.js', 'services/web/node_modules/react/index.js'], dir).results;
    expect(web2).toMatchObject({ included: true, rule: null });
    expect(nm2).toMatchObject({ included: false, rule: { file: '.dockerignore', line: 1, pattern: '**/node_modules' } });
  });

  it('lists every COPY that takes a path, with --exclude honoured', async () => {
    const dir = await project(null, {
      Dockerfile: { content: 'FROM scratch\nCOPY . /all\nCOPY --exclude=*.md docs /docs\nCOPY docs/*.md /md/\nCOPY --from=build /x /y\n' },
      'docs/a.md': { content: 'a' },
    });
    const input = whyInputForDirectory(dir, getProfile('buildkit'), undefined);
    const [md, txt] = explain(input, ['docs/a.md', 'docs/b.txt'], dir).results;
    expect(md!.steps.map((s) => [s.line, s.coverage])).toEqual([[2, 'below'], [4, 'self']]);
    expect(txt!.steps.map((s) => [s.line, s.coverage])).toEqual([[2, 'below'], [3, 'below']]);
  });
});

describe('why follows the walker, not just the rules', () => {
  const spec: FixtureSpec = {
    '.dockerignore': { content: 'build\n!**/*.keep\nlogs/*.log\n!logs/important.log\ncache/\n!cache/tags\n' },
    'build/a.js': { content: 'a' },
    'build/x.keep': { content: 'k' },
    'logs/a.log': { content: 'l' },
    'logs/important.log': { content: 'i' },
    'logs/readme.txt': { content: 'r' },
    'cache/tags': { content: 't' },
    'cache/blob': { content: 'b' },
    'src/main.keep': { content: 'm' },
    'src/main.c': { content: 'c' },
  };

  it('an exception cannot re-include below a directory the builder does not enter (Buildah), but can where it does (BuildKit)', async () => {
    const dir = await project(null, spec);
    const bk = explain(whyInputForDirectory(dir, getProfile('buildkit'), undefined), ['build/x.keep'], dir).results[0]!;
    expect(bk).toMatchObject({ included: true, notWalkedBelow: null, rule: { line: 2, exclusion: true } });
    const bh = explain(whyInputForDirectory(dir, getProfile('buildah'), undefined), ['build/x.keep'], dir).results[0]!;
    expect(bh).toMatchObject({ included: false, notWalkedBelow: 'build', rule: { line: 1, pattern: 'build' } });
    expect(bh.own).toMatchObject({ excluded: false, rule: { line: 2 } });
  });

  for (const builder of builderIds()) {
    it(`agrees with walkContext on every file (${builder})`, async () => {
      const dir = await project(null, spec);
      const ctx = await walkContext(dir, { profile: getProfile(builder), hash: false });
      const sent = new Set(ctx.entries.filter((e) => e.type === 'file').map((e) => e.path));
      const files = Object.keys(spec);
      const input = whyInputForDirectory(dir, getProfile(builder), undefined);
      const answers = explain(input, files, dir).results;
      for (const a of answers) expect({ path: a.path, sent: a.included }).toEqual({ path: a.path, sent: sent.has(a.path) });
    });
  }
});

// ---------------------------------------------------------------------------------------------------------

const vectorsFile = path.resolve(process.env.CTXDIFF_SHARED ?? path.resolve(ROOT, '../shared'), 'conformance/patternmatcher-vectors.json');
interface Vector {
  patterns: string[];
  path: string;
  excluded: boolean;
  api: string;
  error?: string;
  source: string;
}
const vectors: Vector[] | null = fs.existsSync(vectorsFile) ? JSON.parse(fs.readFileSync(vectorsFile, 'utf8')).vectors : null;

describe.skipIf(!vectors)(vectors ? 'why against the patternmatcher conformance vectors' : `conformance vectors absent (${vectorsFile})`, () => {
  // Pure-matching vectors on clean relative paths; walker and error vectors are covered by the ignore tests.
  const pure = (vectors ?? []).filter(
    (v) => v.error === undefined && !/Walk|context transfer|override/.test(v.api) && goClean(v.path) === v.path && v.path !== '.' && !v.path.startsWith('/'),
  );
  it('has vectors to check', () => expect(pure.length).toBeGreaterThan(100));
  for (const v of pure) {
    it(`${JSON.stringify(v.patterns)} ${v.path} → ${v.excluded ? 'not sent' : 'sent'} (${v.source})`, () => {
      const input: WhyInput = {
        builder: 'buildkit',
        ignoreFile: '<patterns>',
        matcher: createIgnoreMatcher(rulesFromPatterns(v.patterns), 'patternmatcher'),
        dockerfile: null,
      };
      expect(explainPath(input, v.path, v.path).included).toBe(!v.excluded);
    });
  }
});

// ---------------------------------------------------------------------------------------------------------

const { available, reason } = await realBuilders();
describe.skipIf(available.length === 0)(available.length ? 'why against the real builders' : `real builders skipped: ${reason}`, { concurrent: true }, () => {
  const spec: FixtureSpec = {
    '.dockerignore': { content: 'build\n!**/*.keep\nlogs/*.log\n!logs/important.log\n*.md\n!README.md\n' },
    'build/a.js': { content: 'a' },
    'build/x.keep': { content: 'k' },
    'logs/a.log': { content: 'l' },
    'logs/important.log': { content: 'i' },
    'README.md': { content: 'r' },
    'docs/guide.md': { content: 'g' },
    'src/main.keep': { content: 'm' },
  };
  for (const builder of ALL_REAL_BUILDERS.filter((b) => available.includes(b))) {
    it(`every file's answer matches what ${builder} receives`, async () => {
      const dir = await project(null, spec);
      const received = new Set((await receivedFiles(builder, dir)).filter((f) => f.type === 'file').map((f) => f.path));
      const input = whyInputForDirectory(dir, profileOf(builder), undefined);
      const files = Object.keys(spec);
      for (const a of explain(input, files, dir).results) {
        expect({ path: a.path, sent: a.included }).toEqual({ path: a.path, sent: received.has(a.path) });
      }
    }, REAL_BUILDER_TEST_TIMEOUT_MS);
  }
});
