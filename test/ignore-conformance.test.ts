/**
 * Every vector of ../shared/conformance/patternmatcher-vectors.json (moby/patternmatcher, fsutil and BuildKit
 * test tables) run against the `patternmatcher` variant through the public API.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { IgnoreSyntaxError } from '../src/core/errors.js';
import { createIgnoreMatcher, type IgnoreMatcher, type MatchResult } from '../src/ignore/matcher.js';
import { locateIgnoreFile, parseIgnoreFile, readIgnoreLines, rulesFromPatterns } from '../src/ignore/ignore-file.js';
import { getProfile } from '../src/builders/profiles.js';

interface Vector {
  patterns: string[];
  path: string;
  excluded: boolean;
  source: string;
  api: string;
  platform?: string;
  error?: string;
  note?: string;
}
interface ReadAllVector {
  input: string;
  output: string[];
  source: string;
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const vectorsFile = path.resolve(process.env.CTXDIFF_SHARED ?? path.resolve(repoRoot, '../shared'), 'conformance/patternmatcher-vectors.json');
const data: { count: number; vectors: Vector[]; readall_vectors: ReadAllVector[] } | null = fs.existsSync(vectorsFile)
  ? JSON.parse(fs.readFileSync(vectorsFile, 'utf8'))
  : null;

const label = (v: Vector) => `${JSON.stringify(v.patterns)} ${JSON.stringify(v.path)} → ${v.excluded} (${v.source})`;

/**
 * A builder-style walk over a virtual tree: returns each visited path's verdict and the set of paths the
 * builder sends (excluded directories are entered only when mustDescend says so; their metadata is sent
 * when something below is re-included and the variant sends parents).
 */
function walkTree(paths: string[], m: IgnoreMatcher): { verdict: Map<string, boolean>; sent: Set<string> } {
  const children = new Map<string, Set<string>>();
  for (const p of paths) {
    const parts = p.split('/');
    for (let i = 1; i <= parts.length; i++) {
      const parent = parts.slice(0, i - 1).join('/');
      const child = parts.slice(0, i).join('/');
      if (!children.has(parent)) children.set(parent, new Set());
      children.get(parent)!.add(child);
    }
  }
  const verdict = new Map<string, boolean>();
  const sent = new Set<string>();
  const visit = (dir: string, parent: MatchResult | undefined): number => {
    let added = 0;
    for (const child of [...(children.get(dir) ?? [])].sort()) {
      const isDir = children.has(child);
      const r = m.matchInWalk(child, parent);
      verdict.set(child, r.excluded);
      if (r.excluded) {
        if (!isDir || !m.mustDescend(child)) continue;
        const below = visit(child, r);
        if (m.sendsDescendedDirs || (below > 0 && m.sendsParentsOfReincluded)) sent.add(child);
        added += below;
        continue;
      }
      sent.add(child);
      added++;
      if (isDir) added += visit(child, r);
    }
    return added;
  };
  visit('', undefined);
  return { verdict, sent };
}

const tmpDirs: string[] = [];
afterAll(() => {
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

if (!data) {
  describe.skip(`patternmatcher conformance vectors (${vectorsFile} is absent)`, () => {
    it('needs ../shared/conformance/patternmatcher-vectors.json', () => {});
  });
} else {
  const { vectors, readall_vectors: readAll } = data;
  const isError = (v: Vector) => v.error !== undefined;
  const isWalk = (v: Vector) => /FilterFS\.Walk|context transfer/.test(v.api) && !isError(v);
  const isOverride = (v: Vector) => /dockerignore override/.test(v.api);
  const isPure = (v: Vector) => !isError(v) && !isWalk(v) && !isOverride(v);

  describe('patternmatcher conformance vectors', () => {
    it('has every vector the file announces', () => {
      expect(vectors.length).toBe(data.count);
      expect(vectors.filter(isError).length + vectors.filter(isWalk).length + vectors.filter(isOverride).length +
        vectors.filter(isPure).length).toBe(vectors.length);
    });

    describe('pure matching (MatchesOrParentMatches and friends)', () => {
      for (const v of vectors.filter(isPure)) {
        it(label(v), () => {
          const m = createIgnoreMatcher(rulesFromPatterns(v.patterns), 'patternmatcher');
          expect(m.match(v.path).excluded).toBe(v.excluded);
          // Walking down to the path gives the same verdict for these vectors.
          if (!v.path.startsWith('/') && !v.path.endsWith('/') && v.path !== '.') {
            let parent: MatchResult | undefined;
            const parts = v.path.split('/');
            for (let i = 1; i < parts.length; i++) parent = m.matchInWalk(parts.slice(0, i).join('/'), parent);
            expect(m.matchInWalk(v.path, parent).excluded).toBe(v.excluded);
          }
        });
      }
    });

    describe('patterns the builder rejects', () => {
      for (const v of vectors.filter(isError)) {
        it(label(v), () => {
          // Either reading the rules fails (patternmatcher.New) or evaluating them does (lazy regexp compile).
          let thrown: unknown;
          try {
            createIgnoreMatcher(rulesFromPatterns(v.patterns), 'patternmatcher').match(v.path);
          } catch (e) {
            thrown = e;
          }
          expect(thrown).toBeInstanceOf(IgnoreSyntaxError);
          expect((thrown as IgnoreSyntaxError).line).toBe(1);
        });
      }
    });

    describe('walks (fsutil FilterFS.Walk, BuildKit context transfer)', () => {
      const groups = new Map<string, Vector[]>();
      for (const v of vectors.filter(isWalk)) {
        const key = JSON.stringify([v.patterns, v.source]);
        groups.set(key, [...(groups.get(key) ?? []), v]);
      }
      for (const group of groups.values()) {
        for (const v of group) {
          it(label(v), () => {
            const m = createIgnoreMatcher(rulesFromPatterns(v.patterns), 'patternmatcher');
            const { verdict, sent } = walkTree(group.map((g) => g.path), m);
            if (/context transfer/.test(v.api)) {
              // End to end: "excluded" means the path is not in the built image.
              expect(sent.has(v.path)).toBe(!v.excluded);
            } else {
              expect(verdict.get(v.path)).toBe(v.excluded);
            }
            if (v.note?.includes('still emitted by the walker as parent')) {
              expect(m.sendsParentsOfReincluded).toBe(true);
              expect(sent.has(v.path)).toBe(true);
            }
            if (v.note?.includes('MatchesOrParentMatches') && v.note.includes('returns excluded=true')) {
              expect(m.match(v.path).excluded).toBe(true);
            }
          });
        }
      }
    });

    describe('Dockerfile-specific ignore file replaces .dockerignore', () => {
      for (const v of vectors.filter(isOverride)) {
        it(label(v), () => {
          const dfName = /filename=(\w+)/.exec(v.api)?.[1] ?? 'Dockerfile';
          const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ctxdiff-ignore-'));
          tmpDirs.push(dir);
          fs.writeFileSync(path.join(dir, dfName), 'FROM scratch\nCOPY . /\n');
          fs.writeFileSync(path.join(dir, `${dfName}.dockerignore`), v.patterns.join('\n') + '\n');
          // A root .dockerignore that would decide the opposite, to prove it is not read.
          fs.writeFileSync(path.join(dir, '.dockerignore'), v.excluded ? '!*\n' : `${v.path}\n`);
          const info = locateIgnoreFile(dir, path.join(dir, dfName), getProfile('buildkit'));
          expect(info?.file).toBe(`${dfName}.dockerignore`);
          const m = createIgnoreMatcher(parseIgnoreFile(info!.text, info!.file), 'patternmatcher');
          expect(m.match(v.path).excluded).toBe(v.excluded);
        });
      }
    });

    describe('ignorefile.ReadAll', () => {
      for (const r of readAll) {
        it(r.source, () => {
          expect(readIgnoreLines(r.input, '.dockerignore').map((l) => l.pattern)).toEqual(r.output);
          // patternmatcher.New then rejects the bare '!' (line 8 of the input): the build fails.
          const bare = r.input.split('\n').findIndex((l) => l.trim() === '!') + 1;
          expect(() => parseIgnoreFile(r.input, '.dockerignore')).toThrow(IgnoreSyntaxError);
          try {
            parseIgnoreFile(r.input, '.dockerignore');
          } catch (e) {
            expect((e as IgnoreSyntaxError).line).toBe(bare);
            expect((e as IgnoreSyntaxError).file).toBe('.dockerignore');
          }
        });
      }
    });
  });
}
