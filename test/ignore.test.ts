/**
 * The ignore-rules layer: reading ignore files, matching per builder variant, walking, and finding the file
 * in force. Expected values in the variant and walk tables were observed on the real builders (Docker
 * 20.10.24 with BuildKit and the classic builder, Buildah 1.28.2) with `FROM scratch` + `COPY . /ctx`; the
 * `patternmatcher` column follows moby/patternmatcher + fsutil as read in their source.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IgnoreSyntaxError, IoError } from '../src/core/errors.js';
import { createIgnoreMatcher, matchAlongWalk, transferRules, type IgnoreMatcher, type IgnoreVariant, type MatchResult } from '../src/ignore/matcher.js';
import { locateIgnoreFile, parseIgnoreFile, readIgnoreLines, rulesFromPatterns } from '../src/ignore/ignore-file.js';
import { goClean } from '../src/ignore/go-strings.js';
import { getProfile, type BuilderProfile } from '../src/builders/profiles.js';

const VARIANTS: IgnoreVariant[] = ['patternmatcher', 'fileutils-20.10', 'fileutils-20.10-tar', 'patternmatcher-tar', 'buildah'];

const patterns = (text: string, variant: IgnoreVariant = 'patternmatcher') =>
  parseIgnoreFile(text, '.dockerignore', variant).map((r) => (r.exclusion ? '!' : '') + r.pattern);

const matcher = (text: string, variant: IgnoreVariant) =>
  createIgnoreMatcher(parseIgnoreFile(text, '.dockerignore', variant), variant);

function syntaxError(fn: () => unknown): IgnoreSyntaxError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(IgnoreSyntaxError);
    return e as IgnoreSyntaxError;
  }
  throw new Error('expected an IgnoreSyntaxError');
}

describe('parseIgnoreFile (ignorefile.ReadAll + patternmatcher.New)', () => {
  it('splits on LF, drops a CR before LF, strips a BOM from the first line only', () => {
    expect(patterns('\uFEFFa\r\nb\r\n\uFEFFc\n')).toEqual(['a', 'b', '\uFEFFc']);
    expect(patterns('a\rb\n')).toEqual(['a\rb']);
  });

  it('treats only a # at byte 0 as a comment (after the first-line BOM)', () => {
    expect(patterns('# c\n  #x\n\uFEFF#bom\n')).toEqual(['#x', '\uFEFF#bom']);
    expect(patterns('\uFEFF# comment\nx\n')).toEqual(['x']);
  });

  it('trims like Go TrimSpace, skips empty lines, cleans, drops one leading slash', () => {
    expect(patterns(' a \n\t\n\n/b/\n./c/\nd/../e\n//f\n/\n.\n\u00a0g\u3000\n')).toEqual(['a', 'b', 'c', 'e', 'f', '/', '.', 'g']);
  });

  it('reads a leading ! as an exception, trimmed and cleaned after the !', () => {
    const rules = parseIgnoreFile('*\n! /inverted/abs/path\n!./x/\n!!y\n', '.dockerignore');
    expect(rules.map((r) => [r.pattern, r.exclusion])).toEqual([
      ['*', false], ['inverted/abs/path', true], ['x', true], ['!y', true],
    ]);
  });

  it('records file, line and the raw text of each rule', () => {
    const rules = parseIgnoreFile('# head\n\n  node_modules \r\n!keep\n', 'docker/app.Dockerfile.dockerignore');
    expect(rules).toEqual([
      { pattern: 'node_modules', exclusion: false, file: 'docker/app.Dockerfile.dockerignore', line: 3, text: '  node_modules ' },
      { pattern: 'keep', exclusion: true, file: 'docker/app.Dockerfile.dockerignore', line: 4, text: '!keep' },
    ]);
  });

  it.each([
    ['!', 'illegal exclusion pattern'],
    ['! ', 'illegal exclusion pattern'],
    ['!/', 'illegal exclusion pattern'],
    ['[', 'syntax error'],
    ['[]a]', 'syntax error'],
    ['[x-]', 'syntax error'],
    ['[-x]', 'syntax error'],
    ['[a-b-c]', 'syntax error'],
    ['[^', 'syntax error'],
    ['a\\', 'syntax error'],
    ['a\\ ', 'syntax error'], // TrimSpace leaves a trailing backslash
  ])('rejects %j with file and line, as the build fails', (line, reason) => {
    const e = syntaxError(() => parseIgnoreFile(`ok\n# c\n${line}\n`, '.dockerignore'));
    expect(e.file).toBe('.dockerignore');
    expect(e.line).toBe(3);
    expect(e.message).toContain(reason);
    expect(e.message).toMatch(/^\.dockerignore:3: /);
  });

  it('accepts escapes and classes Go filepath.Match accepts', () => {
    expect(patterns('[\\]a]\n[\\-x]\na\\*b\n[^a]\n[[]\n')).toEqual(['[\\]a]', '[\\-x]', 'a\\*b', '[^a]', '[[]']);
  });

  it('fails on a line longer than bufio.Scanner allows', () => {
    expect(patterns('a'.repeat(65_535))).toHaveLength(1);
    expect(syntaxError(() => parseIgnoreFile(`x\n${'a'.repeat(65_536)}\n`, '.dockerignore')).line).toBe(2);
  });

  it('is what readIgnoreLines hands to the matcher, plus the matcher clean-up', () => {
    expect(readIgnoreLines('a\n!\n', '.dockerignore').map((l) => l.pattern)).toEqual(['a', '!']);
  });
});

describe('Buildah reader (observed on Buildah 1.28)', () => {
  it('does not trim spaces before the leading-slash and ! handling', () => {
    // "! foo" does not re-include foo; "  /baz" never matches baz (both observed).
    expect(patterns('! foo\n!  bar \n  /baz\n\t/q/\n', 'buildah')).toEqual(['! foo', '!  bar', '/baz', '/q']);
    const m = matcher('*\n! foo\n!/qux/\n!/sub/../keep\n', 'buildah');
    expect(['foo', 'qux', 'keep', 'other'].map((p) => m.match(p).excluded)).toEqual([true, false, false, true]);
  });

  it('trims slashes from both ends of the line', () => {
    expect(patterns('/bar/\nq/../b\n', 'buildah')).toEqual(['bar', 'b']);
    expect(syntaxError(() => parseIgnoreFile('!/\n', '.dockerignore', 'buildah')).message).toContain('illegal exclusion');
  });

  it('keeps a BOM, which the pattern compiler then skips at the start of a pattern', () => {
    // Observed: "\uFEFFa" on line 1 or 2 excludes a; "\uFEFF  a" excludes nothing; "\uFEFF#y" excludes #y.
    for (const text of ['\uFEFFa\n', 'x\n\uFEFFa\n']) expect(matcher(text, 'buildah').match('a').excluded).toBe(true);
    expect(matcher('\uFEFF  a\n', 'buildah').match('a').excluded).toBe(false);
    expect(matcher('\uFEFF#y\n', 'buildah').match('#y').excluded).toBe(true);
    expect(matcher('\uFEFF  #x\n', 'buildah').match('#x').excluded).toBe(false);
    expect(matcher('  #x\n', 'buildah').match('#x').excluded).toBe(true);
  });
});

describe('matching per variant', () => {
  // [ignore file, path, patternmatcher, fileutils-20.10 (both walkers), buildah]
  const table: [string, string, boolean, boolean, boolean][] = [
    ['**.md', 'README.md', true, false, false],
    ['**.md', 'docs/a.md', true, false, false],
    ['**foo', 'xfoo', true, false, false],
    ['**foo', 'x/foo/bar', true, false, true], // 20.10 tries only the ancestor "x" (see the walk below)
    ['a+b', 'a+b', true, false, false],
    ['a+b', 'aab', false, true, true],
    ['a|b', 'abc', false, true, true],
    ['a|b', 'xb', false, true, true],
    ['a|b', 'a|b', true, true, true],
    ['a{2}', 'aa', false, true, true],
    ['a{2}', 'a{2}', true, false, false],
    ['^c', 'c', false, true, true],
    ['^c', '^c', true, false, false],
    ['a(b)c/def', 'a(b)c/def', true, false, false],
    ['x[^a]y', 'x/y', true, true, true],
    ['m?n', 'm/n', false, false, false],
    ['[[:digit:]]x', '1x', true, true, true],
    ['[[:digit:]]x', ':x', false, false, false],
    ['f\\d', 'f1', true, true, true],
    ['f\\d', 'fd', false, false, false],
    ['a\\*b', 'a*b', true, true, true],
    ['abc**', 'abcdef', true, true, true],
    ['docs/**', 'docs', false, false, false],
    ['docs/**', 'docs/x/y', true, true, true],
    ['README.md', 'readme.md', false, false, false],
    ['**/foo\n!foo/keep', 'foo/other', true, false, true],
    ['**/foo\n!foo/keep', 'foo/keep', false, false, false],
    ['**/foo', 'a/foo/x', true, true, true], // the ancestor as deep as the pattern is "a/foo"
    ['x\n!x/y\nx', 'x/y', true, true, true],
    ['dir\n!dir/*.txt', 'dir/sub/c.txt', true, true, true],
    ['x\n\uFEFFa', 'a', false, true, true],
    ['x\n\uFEFFa*', 'ab', true, true, true],
  ];
  for (const [text, p, pm, fu, bh] of table) {
    it(`${JSON.stringify(text)} on ${JSON.stringify(p)}`, () => {
      expect(matcher(text, 'patternmatcher').match(p).excluded).toBe(pm);
      expect(matcher(text, 'fileutils-20.10').match(p).excluded).toBe(fu);
      expect(matcher(text, 'fileutils-20.10-tar').match(p).excluded).toBe(fu);
      expect(matcher(text, 'buildah').match(p).excluded).toBe(bh);
    });
  }

  it('matchAlongWalk gives the walk verdict where the matcher alone differs', () => {
    for (const v of VARIANTS) {
      expect(matchAlongWalk(matcher('**foo\n', v), 'x/foo/bar')).toMatchObject({ excluded: true, rule: { line: 1 } });
      expect(matchAlongWalk(matcher('x\n!x/y\nx\n', v), 'x/y').excluded).toBe(!v.startsWith('patternmatcher'));
      expect(matchAlongWalk(matcher('a\n!**/keep\n', v), 'a/b/keep').excluded).toBe(v !== 'patternmatcher');
      expect(matchAlongWalk(matcher('**/foo\n!foo/keep\n', v), 'foo/sub/deep').excluded).toBe(!v.startsWith('fileutils'));
    }
  });

  it('reports the rule that decides, like git check-ignore -v', () => {
    const m = matcher('*.log\n!keep.log\nlogs/\n', 'patternmatcher');
    expect(m.match('a.log').rule?.line).toBe(1);
    expect(m.match('keep.log')).toMatchObject({ excluded: false, rule: { line: 2, exclusion: true } });
    expect(m.match('logs/x/y.txt')).toMatchObject({ excluded: true, rule: { line: 3, pattern: 'logs' } });
    expect(m.match('src/a.ts')).toEqual({ excluded: false, rule: null, ruleHits: expect.any(Uint8Array) });
  });

  it('never excludes the context root', () => {
    for (const v of VARIANTS) {
      expect(matcher('**\n*\n', v).match('').excluded).toBe(false);
      expect(matcher('**\n*\n', v).match('.').excluded).toBe(false);
    }
  });

  it('fails when the builder evaluates a rule it cannot compile, and only then', () => {
    // Observed: `a(b` fails all three 20.10-era builders even as a lone exception; patternmatcher escapes '('.
    for (const v of ['fileutils-20.10', 'fileutils-20.10-tar', 'buildah'] as const) {
      const m = matcher('!a(b\n', v);
      const e = syntaxError(() => m.match('x'));
      expect([e.file, e.line, e.pattern]).toEqual(['.dockerignore', 1, '!a(b']);
    }
    expect(matcher('!a(b\n', 'patternmatcher').match('a(b').excluded).toBe(false);
    // patternmatcher skips an exception while nothing is excluded, so a bad one is not evaluated yet.
    expect(matcher('![Local-Only]\n', 'patternmatcher').match('x').excluded).toBe(false);
    syntaxError(() => matcher('x\n![Local-Only]\n', 'patternmatcher').match('x'));
    syntaxError(() => matcher('[Local-Only]/\n', 'patternmatcher').match('y'));
  });
});

describe('Go regexp semantics where the Docker 20.10 and Buildah compilers leave characters unescaped', () => {
  // From Go's regexp/syntax rules (the builders hand the translated pattern to regexp.Compile).
  const m = (p: string) => createIgnoreMatcher(rulesFromPatterns([p]), 'fileutils-20.10');
  it.each([
    ['a\\pLb', 'axb', true], ['a\\p{Greek}b', 'a\u03b1b', true], ['a\\p{Greek}b', 'axb', false],
    ['a[\\p{Greek}x]b', 'axb', true], ['a[^\\d]b', 'a1b', false], ['a[^\\d]b', 'a/b', true],
    ['a[\\S]b', 'a b', false], ['a[^\\S]b', 'a b', true], ['a[[:^digit:]]b', 'a1b', false],
    ['a[[:^digit:]x]b', 'axb', true], ['x\\Qa.b\\Ey', 'xa\\.by', true], ['x\\x41', 'xA', true], ['x\\101', 'xA', true],
    ['a{2,3}', 'aaa', true], ['a{,3}', 'a{,3}', true], ['(a|b)c', 'bc', true], ['(?i)a', 'xia', true], ['?', '\u{1F600}', true],
  ])('%j on %j → %j', (p, path, excluded) => expect(m(p).match(path).excluded).toBe(excluded));

  it.each(['a++', 'x\\q', 'a{1001}', 'a(b', 'a)'])('%j fails when evaluated', (p) => {
    syntaxError(() => m(p).match('x'));
  });
});

/** A builder-style walk over a virtual tree: which paths the builder sends, and which dirs it sends as parents. */
function walk(tree: string[], m: IgnoreMatcher): string[] {
  const kids = new Map<string, Set<string>>();
  for (const p of tree) {
    const parts = p.split('/');
    for (let i = 1; i <= parts.length; i++) {
      const parent = parts.slice(0, i - 1).join('/');
      if (!kids.has(parent)) kids.set(parent, new Set());
      kids.get(parent)!.add(parts.slice(0, i).join('/'));
    }
  }
  const sent: string[] = [];
  const visit = (dir: string, parent: MatchResult | undefined): number => {
    let added = 0;
    for (const child of [...(kids.get(dir) ?? [])].sort()) {
      const isDir = kids.has(child);
      const r = m.matchInWalk(child, parent);
      if (r.excluded) {
        if (!isDir || !m.mustDescend(child)) continue;
        const at = sent.length;
        const below = visit(child, r);
        if (m.sendsDescendedDirs || (below > 0 && m.sendsParentsOfReincluded)) sent.splice(at, 0, child);
        else if (below > 0) sent.splice(at, 0, `(${child})`); // created implicitly, with default metadata
        added += below;
        continue;
      }
      sent.push(child);
      added++;
      if (isDir) added += visit(child, r);
    }
    return added;
  };
  visit('', undefined);
  return sent;
}

describe('walking (what reaches the builder)', () => {
  // "(d)" = directory created implicitly by the builder (its own metadata is not sent).
  const cases: { name: string; ignore: string; tree: string[]; sent: Record<IgnoreVariant, string[]> }[] = [
    {
      name: 're-included file under an excluded dir',
      ignore: 'foo*\n!foo/bar2\n',
      tree: ['bar', 'foo/bar2', 'foo/bar3', 'foo/sub/x', 'foo2'],
      sent: {
        patternmatcher: ['bar', 'foo', 'foo/bar2'],
        'fileutils-20.10': ['bar', 'foo', 'foo/bar2'],
        'fileutils-20.10-tar': ['bar', '(foo)', 'foo/bar2'],
        'patternmatcher-tar': ['bar', '(foo)', 'foo/bar2'],
        buildah: ['bar', '(foo)', 'foo/bar2'],
      },
    },
    {
      name: 'Docker 20.10 only checks the ancestor as deep as the pattern',
      ignore: '**/foo\n!foo/keep\n',
      tree: ['b/c', 'foo/keep', 'foo/other', 'foo/sub/deep'],
      sent: {
        patternmatcher: ['b', 'b/c', 'foo', 'foo/keep'],
        'fileutils-20.10': ['b', 'b/c', 'foo', 'foo/keep', 'foo/other', 'foo/sub', 'foo/sub/deep'],
        'fileutils-20.10-tar': ['b', 'b/c', '(foo)', 'foo/keep', 'foo/other', 'foo/sub', 'foo/sub/deep'],
        'patternmatcher-tar': ['b', 'b/c', '(foo)', 'foo/keep'],
        buildah: ['b', 'b/c', '(foo)', 'foo/keep'],
      },
    },
    {
      name: 'parent results are reused in the walk (BuildKit MatchInfo)',
      ignore: 'x\n!x/y\nx\n',
      tree: ['x/y', 'x/z'],
      sent: { patternmatcher: ['x', 'x/y'], 'fileutils-20.10': ['x'], 'fileutils-20.10-tar': [], 'patternmatcher-tar': ['(x)', 'x/y'], buildah: [] },
    },
    {
      name: 'an exception with a wildcard makes current BuildKit read every excluded dir',
      ignore: 'a\n!**/keep\n',
      tree: ['a/b/d', 'a/b/keep', 'a/c', 'x/keep'],
      sent: {
        patternmatcher: ['a', 'a/b', 'a/b/keep', 'x', 'x/keep'],
        'fileutils-20.10': ['x', 'x/keep'],
        'fileutils-20.10-tar': ['x', 'x/keep'],
        'patternmatcher-tar': ['x', 'x/keep'],
        buildah: ['x', 'x/keep'],
      },
    },
    {
      name: 'Buildah descends when an exception merely starts with the dir name',
      ignore: 'do*\n!do*/x\n',
      tree: ['do/x', 'do/y', 'dox'],
      sent: { patternmatcher: ['do', 'do/x'], 'fileutils-20.10': [], 'fileutils-20.10-tar': [], 'patternmatcher-tar': [], buildah: ['(do)', 'do/x'] },
    },
    {
      name: 'exception for everything below a dir',
      ignore: 'a\n!a/b/*\n',
      tree: ['a/b/c', 'a/b/d/e', 'a/x'],
      sent: {
        patternmatcher: ['a', 'a/b', 'a/b/c', 'a/b/d', 'a/b/d/e'],
        'fileutils-20.10': ['a', 'a/b', 'a/b/c', 'a/b/d', 'a/b/d/e'],
        'fileutils-20.10-tar': ['(a)', '(a/b)', 'a/b/c', 'a/b/d', 'a/b/d/e'],
        'patternmatcher-tar': ['(a)', '(a/b)', 'a/b/c', 'a/b/d', 'a/b/d/e'],
        buildah: ['(a)', '(a/b)', 'a/b/c', 'a/b/d', 'a/b/d/e'],
      },
    },
  ];
  for (const c of cases) {
    for (const v of VARIANTS) {
      it(`${c.name} (${v})`, () => {
        expect(walk(c.tree, matcher(c.ignore, v))).toEqual(c.sent[v]);
      });
    }
  }

  it('mustDescend is false without exceptions', () => {
    for (const v of VARIANTS) expect(matcher('a\nb/**\n', v).mustDescend('a')).toBe(false);
  });

  it('matches a large walk quickly (precompiled rules)', () => {
    const m = matcher('node_modules\n**/*.log\n.git\ndist/**\n!dist/keep/**\n*.tmp\n**/__pycache__\n!build/out.txt\n', 'patternmatcher');
    const t0 = performance.now();
    let excluded = 0;
    for (let a = 0; a < 50; a++) {
      const ra = m.matchInWalk(`src${a}`, undefined);
      for (let b = 0; b < 40; b++) {
        const rb = m.matchInWalk(`src${a}/pkg${b}`, ra);
        for (let f = 0; f < 50; f++) if (m.matchInWalk(`src${a}/pkg${b}/f${f}.${f % 2 ? 'log' : 'ts'}`, rb).excluded) excluded++;
      }
    }
    expect(excluded).toBe(50_000);
    expect(performance.now() - t0).toBeLessThan(5_000);
  });
});

describe('transferRules (build files forced through by the classic builder)', () => {
  const transfer = (ignore: string, variant: IgnoreVariant, dockerfile?: string) => {
    const t = transferRules(parseIgnoreFile(ignore, '.dockerignore', variant), variant, dockerfile);
    return { ...t, m: createIgnoreMatcher(t.rules, variant) };
  };

  it('re-includes an excluded Dockerfile and .dockerignore for the transfer, then removes them', () => {
    const t = transfer('Dockerfile\n.dockerignore\n', 'fileutils-20.10-tar', 'Dockerfile');
    expect(t.rules.slice(2).map((r) => [r.text, r.file, r.line])).toEqual([['!.dockerignore', '<docker CLI>', 0], ['!Dockerfile', '<docker CLI>', 0]]);
    expect(t.removedAfterTransfer).toEqual(['.dockerignore', 'Dockerfile']);
    expect(walk(['.dockerignore', 'Dockerfile', 'x'], t.m)).toEqual(['.dockerignore', 'Dockerfile', 'x']);
  });

  it('leaves the excluded Dockerfile directory behind, empty (observed: docker/ with mode 0755)', () => {
    const t = transfer('docker\n', 'fileutils-20.10-tar', 'docker/Dockerfile');
    expect(t.removedAfterTransfer).toEqual(['docker/Dockerfile']);
    expect(walk(['docker/Dockerfile', 'docker/x', 'y'], t.m)).toEqual(['(docker)', 'docker/Dockerfile', 'y']);
  });

  it('adds nothing when only the walk excludes the Dockerfile (the classic build then fails)', () => {
    const t = transfer('**/docker\n', 'fileutils-20.10-tar', 'docker/Dockerfile');
    expect(t.rules).toHaveLength(1);
    expect(t.removedAfterTransfer).toEqual([]);
    expect(walk(['docker/Dockerfile', 'docker/x', 'y'], t.m)).toEqual(['y']);
  });

  it('changes nothing for the other variants', () => {
    for (const v of ['patternmatcher', 'fileutils-20.10', 'buildah'] as const) {
      expect(transfer('Dockerfile\n', v, 'Dockerfile')).toMatchObject({ removedAfterTransfer: [], rules: [{ pattern: 'Dockerfile' }] });
    }
  });
});

describe('goClean', () => {
  it.each([
    ['a/../b', 'b'], ['./a/', 'a'], ['', '.'], ['/..', '/'], ['../../a', '../../a'], ['a//b/./c/..', 'a/b'], ['/', '/'],
  ])('%j → %j', (input, out) => expect(goClean(input)).toBe(out));
});

describe('rulesFromPatterns', () => {
  it('applies only the matcher clean-up (patterns already read)', () => {
    expect(rulesFromPatterns(['**/', ' !a/ ', ''], 'x').map((r) => [r.pattern, r.exclusion, r.line])).toEqual([
      ['**', false, 1], ['a', true, 2],
    ]);
  });
});

describe('locateIgnoreFile', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });
  const context = (files: Record<string, string>): string => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ctxdiff-locate-'));
    dirs.push(dir);
    for (const [f, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      fs.writeFileSync(path.join(dir, f), text);
    }
    return dir;
  };
  const DF = 'FROM scratch\nCOPY . /ctx\n';

  it('finds .dockerignore at the root, or nothing', () => {
    expect(locateIgnoreFile(context({ Dockerfile: DF }), undefined, getProfile('buildkit'))).toBeNull();
    const dir = context({ Dockerfile: DF, '.dockerignore': 'a\n' });
    expect(locateIgnoreFile(dir, undefined, getProfile('buildkit'))).toEqual({ file: '.dockerignore', text: 'a\n' });
  });

  it('prefers <Dockerfile>.dockerignore next to the -f Dockerfile (BuildKit), which replaces .dockerignore', () => {
    const dir = context({
      'docker/app.Dockerfile': DF, 'docker/app.Dockerfile.dockerignore': 'a\n', 'docker/.dockerignore': 'e\n', '.dockerignore': 'b\n',
    });
    const df = path.join(dir, 'docker/app.Dockerfile');
    expect(locateIgnoreFile(dir, df, getProfile('buildkit'))).toEqual({ file: 'docker/app.Dockerfile.dockerignore', text: 'a\n' });
    expect(locateIgnoreFile(dir, df, getProfile('buildkit-0.8'))?.file).toBe('docker/app.Dockerfile.dockerignore');
    // The classic builder ignores it.
    expect(locateIgnoreFile(dir, df, getProfile('classic'))?.file).toBe('.dockerignore');
    // A path relative to the current directory works the same.
    expect(locateIgnoreFile(dir, path.relative(process.cwd(), df), getProfile('buildkit'))?.file).toBe('docker/app.Dockerfile.dockerignore');
  });

  it('falls back to the root file when the Dockerfile has no ignore file of its own (docker/.dockerignore is not used)', () => {
    const dir = context({ 'docker/app.Dockerfile': DF, 'docker/.dockerignore': 'e\n', '.dockerignore': 'b\n' });
    expect(locateIgnoreFile(dir, path.join(dir, 'docker/app.Dockerfile'), getProfile('buildkit'))?.file).toBe('.dockerignore');
  });

  it('uses the ignore file next to a Dockerfile outside the context, shown as given', () => {
    const dir = context({ '.dockerignore': 'b\n' });
    const outside = context({ 'x.Dockerfile': DF, 'x.Dockerfile.dockerignore': 'c\n' });
    const df = path.join(outside, 'x.Dockerfile');
    expect(locateIgnoreFile(dir, df, getProfile('buildkit'))).toEqual({ file: `${df}.dockerignore`, text: 'c\n' });
  });

  it('Buildah: .containerignore wins over .dockerignore at the root', () => {
    const dir = context({ Dockerfile: DF, '.containerignore': 'd\n', '.dockerignore': 'b\n' });
    expect(locateIgnoreFile(dir, undefined, getProfile('buildah'))?.file).toBe('.containerignore');
    expect(locateIgnoreFile(dir, path.join(dir, 'Dockerfile'), getProfile('buildah'))?.file).toBe('.containerignore');
    const only = context({ Dockerfile: DF, '.dockerignore': 'b\n' });
    expect(locateIgnoreFile(only, undefined, getProfile('buildah'))?.file).toBe('.dockerignore');
  });

  it('Buildah: <Containerfile>.containerignore beside the file wins over the root files', () => {
    const dir = context({
      'docker/app.Dockerfile': DF, 'docker/app.Dockerfile.containerignore': 'c\n', '.containerignore': 'd\n', '.dockerignore': 'b\n',
    });
    expect(locateIgnoreFile(dir, path.join(dir, 'docker/app.Dockerfile'), getProfile('buildah'))?.file)
      .toBe('docker/app.Dockerfile.containerignore');
  });

  it('resolves a relative -f against the current directory, but Buildah against the context (observed)', () => {
    // cwd/docker/app.Dockerfile is the Dockerfile both builders read; only the context has an ignore file beside
    // docker/app.Dockerfile, and only BuildKit finds the one beside the cwd copy.
    const cwd = context({ 'docker/app.Dockerfile': DF, 'docker/app.Dockerfile.dockerignore': 'cwd\n' });
    const ctx = context({ 'docker/app.Dockerfile': DF, 'docker/app.Dockerfile.dockerignore': 'ctx\n', '.dockerignore': 'root\n' });
    const before = process.cwd();
    process.chdir(cwd);
    try {
      expect(locateIgnoreFile(ctx, 'docker/app.Dockerfile', getProfile('buildkit'))?.text).toBe('cwd\n');
      expect(locateIgnoreFile(ctx, 'docker/app.Dockerfile', getProfile('buildah'))?.text).toBe('ctx\n');
    } finally {
      process.chdir(before);
    }
  });

  it('takes the candidates in profile order, first existing wins', () => {
    // Buildah 1.28 was observed to prefer <file>.dockerignore when both files sit beside the Containerfile.
    const observedBuildah: BuilderProfile = {
      ...getProfile('buildah'),
      ignoreFiles: { besideDockerfile: ['{dockerfile}.dockerignore', '{dockerfile}.containerignore'], atRoot: ['.containerignore', '.dockerignore'] },
    };
    const dir = context({
      'docker/app.Dockerfile': DF, 'docker/app.Dockerfile.containerignore': 'c\n', 'docker/app.Dockerfile.dockerignore': 'a\n',
    });
    expect(locateIgnoreFile(dir, path.join(dir, 'docker/app.Dockerfile'), observedBuildah)).toEqual({
      file: 'docker/app.Dockerfile.dockerignore', text: 'a\n',
    });
  });

  it('throws IoError when the ignore file cannot be read', () => {
    const dir = context({ Dockerfile: DF });
    fs.mkdirSync(path.join(dir, '.dockerignore'));
    expect(() => locateIgnoreFile(dir, undefined, getProfile('buildkit'))).toThrow(IoError);
  });
});
