/**
 * COPY/ADD source paths and patterns as BuildKit matches them: Go's path.Clean made relative, its
 * containsWildcards, and filepath.Match (Unix) on whole paths, which the Dockerfile's sources
 * (parser.ts) and BuildKit's content digests (contenthash.ts) both use.
 */
import type { CopySource } from './model.js';
import { escapeRegExp, trimSpace } from './shell-lexer.js';

/** A path with an empty, `.` or `..` segment. */
const NOT_CLEAN = /(?:^|\/)(?:\.\.?)?(?:\/|$)/;

/** Go path.Clean of `/` + p, made relative: '.', 'src', 'src/*.txt' — a source can never leave the context. */
export function cleanRelative(p: string): string {
  // Already clean (every path of a walk or a snapshot): no empty, `.` or `..` segment.
  if (p !== '' && !NOT_CLEAN.test(p)) return p;
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  return out.length ? out.join('/') : '.';
}

/** BuildKit's containsWildcards (Unix): `*`, `?` or `[` not preceded by a backslash escape. */
export function containsWildcards(p: string): boolean {
  for (let i = 0; i < p.length; i++) {
    const ch = p[i];
    if (ch === '\\') i++;
    else if (ch === '*' || ch === '?' || ch === '[') return true;
  }
  return false;
}

class BadPattern extends Error {}

/** Read one (possibly escaped) character of a class; Go's getEsc. */
function classChar(chunk: string[], i: number): [string, number] {
  let c = chunk[i];
  if (c === undefined || c === '-' || c === ']') throw new BadPattern('syntax error in pattern');
  if (c === '\\') {
    i++;
    c = chunk[i];
    if (c === undefined) throw new BadPattern('syntax error in pattern');
  }
  i++;
  if (i >= chunk.length) throw new BadPattern('syntax error in pattern');
  return [c, i];
}

/**
 * Match one star-free chunk at the start of `s` (Go's matchChunk). Returns the rest of `s`, or
 * null when it does not match. The whole chunk is always parsed, so a bad pattern always throws.
 */
function matchChunk(chunk: string[], s: string[]): string[] | null {
  let failed = false;
  let si = 0;
  for (let ci = 0; ci < chunk.length; ) {
    const c = chunk[ci]!;
    if (!failed && si >= s.length) failed = true;
    if (c === '[') {
      const r = failed ? '' : s[si++]!;
      ci++;
      let negated = false;
      if (chunk[ci] === '^') {
        negated = true;
        ci++;
      }
      let matched = false;
      let nrange = 0;
      for (;;) {
        if (chunk[ci] === ']' && nrange > 0) {
          ci++;
          break;
        }
        let lo: string;
        [lo, ci] = classChar(chunk, ci);
        let hi = lo;
        if (chunk[ci] === '-') [hi, ci] = classChar(chunk, ci + 1);
        const cp = r.codePointAt(0) ?? -1;
        if (lo.codePointAt(0)! <= cp && cp <= hi.codePointAt(0)!) matched = true;
        nrange++;
      }
      if (matched === negated) failed = true;
      continue;
    }
    if (c === '?') {
      if (!failed) {
        if (s[si] === '/') failed = true;
        si++;
      }
      ci++;
      continue;
    }
    if (c === '\\') {
      ci++;
      if (ci >= chunk.length) throw new BadPattern('syntax error in pattern');
    }
    if (!failed) {
      if (chunk[ci] !== s[si]) failed = true;
      si++;
    }
    ci++;
  }
  return failed ? null : s.slice(si);
}

/** Go's scanChunk: leading stars, then the chunk up to the next star outside a class. */
function scanChunk(p: string[]): { star: boolean; chunk: string[]; rest: string[] } {
  let i = 0;
  let star = false;
  while (p[i] === '*') {
    i++;
    star = true;
  }
  const start = i;
  let inRange = false;
  for (; i < p.length; i++) {
    const c = p[i];
    if (c === '\\') {
      if (i + 1 < p.length) i++;
    } else if (c === '[') inRange = true;
    else if (c === ']') inRange = false;
    else if (c === '*' && !inRange) break;
  }
  return { star, chunk: p.slice(start, i), rest: p.slice(i) };
}

/** Go filepath.Match (Unix); throws BadPattern for a malformed pattern. */
function goMatch(pattern: string, name: string): boolean {
  let p = Array.from(pattern);
  let n = Array.from(name);
  outer: while (p.length > 0) {
    const { star, chunk, rest } = scanChunk(p);
    p = rest;
    if (star && chunk.length === 0) return !n.includes('/');
    const t = matchChunk(chunk, n);
    if (t && (t.length === 0 || p.length > 0)) {
      n = t;
      continue;
    }
    if (star) {
      for (let i = 0; i < n.length && n[i] !== '/'; i++) {
        const t2 = matchChunk(chunk, n.slice(i + 1));
        if (t2) {
          if (p.length === 0 && t2.length > 0) continue;
          n = t2;
          continue outer;
        }
      }
    }
    // Fails: still check that the rest of the pattern is well-formed.
    while (p.length > 0) {
      const next = scanChunk(p);
      p = next.rest;
      matchChunk(next.chunk, []);
    }
    return false;
  }
  return n.length === 0;
}

/** Why a pattern is malformed for Go filepath.Match, or undefined if it is well-formed. */
export function patternError(pattern: string): string | undefined {
  try {
    goMatch(pattern, '');
    return undefined;
  } catch (e) {
    if (e instanceof BadPattern) return e.message;
    throw e;
  }
}

/**
 * Go filepath.Match semantics ('*' and '?' do not cross '/', `[...]` classes with `^` negation
 * and ranges, '\\' escapes). A malformed pattern matches nothing: it returns false (parseDockerfile
 * has already rejected such a COPY source; use patternError to tell the two apart).
 */
export function matchPathPattern(pattern: string, path: string): boolean {
  try {
    return goMatch(pattern, path);
  } catch (e) {
    if (e instanceof BadPattern) return false;
    throw e;
  }
}

interface ExcludeRule {
  re: RegExp;
  exclusion: boolean;
}

/**
 * Compile `--exclude` patterns with moby/patternmatcher semantics: cleaned, leading '/' dropped,
 * `!` re-includes, `*`/`?` stay within a segment, `**` spans directories, and a pattern also
 * matches everything below a directory it matches.
 */
function compileExcludes(patterns: string[]): ExcludeRule[] {
  return patterns.map((raw) => {
    let p = trimSpace(raw);
    let exclusion = false;
    if (p.startsWith('!')) {
      exclusion = true;
      p = p.slice(1);
    }
    p = cleanRelative(p);
    let re = '^';
    const chars = Array.from(p);
    for (let i = 0; i < chars.length; i++) {
      const ch = chars[i]!;
      if (ch === '*') {
        if (chars[i + 1] === '*') {
          i++;
          if (chars[i + 1] === '/') i++;
          re += i + 1 >= chars.length ? '.*' : '(.*/)?';
        } else {
          re += '[^/]*';
        }
      } else if (ch === '?') re += '[^/]';
      else if (ch === '\\') {
        i++;
        re += i < chars.length ? escapeRegExp(chars[i]!) : '\\\\';
      } else if (ch === '[' || ch === ']' || ch === '^' || ch === '-') re += ch;
      else re += escapeRegExp(ch);
    }
    let compiled: RegExp;
    try {
      compiled = new RegExp(re + '$', 'u');
    } catch {
      compiled = /(?!)/;
    }
    return { re: compiled, exclusion };
  });
}

/** patternmatcher MatchesOrParentMatches: a rule decides if it matches the path or any ancestor; the last one wins. */
function isExcluded(rules: ExcludeRule[], rel: string): boolean {
  const dirs = rel.split('/');
  let matched = false;
  for (const r of rules) {
    if (r.exclusion !== matched) continue;
    let m = r.re.test(rel);
    for (let i = 1; !m && i < dirs.length; i++) m = r.re.test(dirs.slice(0, i).join('/'));
    if (m) matched = !r.exclusion;
  }
  return matched;
}

/** The non-wildcard directory prefix of a wildcard source ('.' when the first segment has one). */
function wildcardBase(p: string): string {
  const segs = p.split('/');
  const i = segs.findIndex((s) => containsWildcards(s));
  return i <= 0 ? '.' : segs.slice(0, i).join('/');
}

const relativeTo = (base: string, p: string): string =>
  base === '.' ? p : p === base ? '' : p.slice(base.length + 1);

/**
 * Does a context path fall under a COPY source? 'self' (the path is the source itself or matches
 * its wildcard), 'below' (inside a source directory, or inside a directory the wildcard matches),
 * or null. Only context sources with a known path cover anything.
 *
 * `exclude` (the instruction's `--exclude` patterns) is matched, with `excludeBase` `source` (BuildKit),
 * against the path relative to the source: the source directory for a plain source, the context root for
 * '.', and the directory before the first wildcard segment for a wildcard source (so `--exclude=*.txt hom*`
 * drops `home.txt`, as documented); with `context` (Buildah 1.43, observed), against the context-relative
 * path. A plain source itself is never excluded by its own patterns.
 */
export function sourceCovers(
  source: CopySource,
  path: string,
  exclude: string[] = [],
  excludeBase: 'source' | 'context' = 'source',
): 'self' | 'below' | null {
  if (source.kind !== 'context' || source.unresolved?.length) return null;
  const p = cleanRelative(path);
  const src = source.path;
  let verdict: 'self' | 'below' | null = null;
  if (!source.wildcard) {
    if (src === '.') verdict = p === '.' ? 'self' : 'below';
    else if (p === src) verdict = 'self';
    else if (p.startsWith(src + '/')) verdict = 'below';
  } else if (p !== '.') {
    if (matchPathPattern(src, p)) verdict = 'self';
    else {
      const segs = p.split('/');
      for (let i = 1; i < segs.length && !verdict; i++) {
        if (matchPathPattern(src, segs.slice(0, i).join('/'))) verdict = 'below';
      }
    }
  }
  if (!verdict || exclude.length === 0) return verdict;
  const base = excludeBase === 'context' ? '.' : source.wildcard ? wildcardBase(src) : src;
  const rel = p === '.' || (excludeBase === 'context' && verdict === 'self' && !source.wildcard) ? '' : relativeTo(base, p);
  if (rel === '') return verdict;
  return isExcluded(compileExcludes(exclude), rel) ? null : verdict;
}

