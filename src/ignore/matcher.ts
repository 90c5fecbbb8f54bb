/**
 * .dockerignore (and .containerignore) rules exactly as the real builders read and apply them.
 *
 * Three matcher families exist in the wild (see ../shared/builder-facts.md §5–6); every difference between
 * them is a row of {@link VARIANTS} below, never a branch on a builder name:
 *
 * - `patternmatcher`: moby/patternmatcher + the tonistiigi/fsutil walker (current BuildKit);
 * - `fileutils-20.10`: Docker 20.10's pkg/fileutils driven by BuildKit 0.8's fsutil walker (`DOCKER_BUILDKIT=1`);
 * - `fileutils-20.10-tar`: the same matcher driven by the docker CLI's tar walker (classic builder, `DOCKER_BUILDKIT=0`);
 * - `buildah`: containers/storage pkg/fileutils + buildah's copier walker (Buildah 1.28).
 *
 * The pattern-to-regexp step follows the builders (`*` → `[^/]*`, `**` → any run of directories, …) and the resulting Go
 * regexp is translated into an equivalent JavaScript one, so characters the builder leaves unescaped keep
 * their Go-regexp meaning (`a+b`, `a|b`, `[^a]` matching `/`, `[[:digit:]]`, `\d` all behave as in the builder).
 * @balena/dockerignore is not used at run time: see the module's commit history for the failing vectors.
 *
 * Finding and reading the ignore file is ignore-file.ts; the Go-regexp translation is go-regexp.ts.
 */
import * as path from 'node:path';
import { IgnoreSyntaxError } from '../core/errors.js';
import type { MatcherVariant } from '../builders/profiles.js';
import { goRegexpToJs, GoRegexpError } from './go-regexp.js';
import { linearTester } from './linear-regexp.js';
import { goClean, trimSlashes } from './go-strings.js';

// ---------------------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------------------

/**
 * A matcher family. `fileutils-20.10-tar` is the classic builder's walker over the Docker 20.10 matcher; it
 * differs from `fileutils-20.10` (BuildKit 0.8) only in which excluded directories reach the builder.
 */
export type IgnoreVariant = MatcherVariant | 'fileutils-20.10-tar';

export interface IgnoreRule {
  /** Cleaned pattern (builder-facts §5.4), without the leading '!'. */
  pattern: string;
  /** True for a '!' exception line (re-includes). */
  exclusion: boolean;
  /** Ignore file name as shown to users (e.g. ".dockerignore"). */
  file: string;
  /** 1-based line number in that file. */
  line: number;
  /** The raw line as written (without its line terminator). */
  text: string;
}

export interface MatchResult {
  excluded: boolean;
  /** The last rule that matched (it decides), null if none did. */
  rule: IgnoreRule | null;
  /**
   * Walk bookkeeping for variants that reuse the parent directory's results (BuildKit's MatchInfo): for each
   * rule, 1 if it matched this path. Pass the whole result back as `parent` to {@link IgnoreMatcher.matchInWalk}.
   */
  readonly ruleHits?: Uint8Array;
}

export interface IgnoreMatcher {
  readonly variant: IgnoreVariant;
  readonly rules: readonly IgnoreRule[];
  /**
   * Pure rule evaluation for any relative POSIX path (need not exist), as the builder's matcher decides it
   * (a rule matching the path or an ancestor counts, per variant). Like `git check-ignore -v`.
   * Throws IgnoreSyntaxError when a rule the builder compiles lazily turns out to be invalid.
   */
  match(path: string): MatchResult;
  /** Fast path for a top-down walk: `parent` is the result for the parent directory (undefined at top level). */
  matchInWalk(path: string, parent: MatchResult | undefined): MatchResult;
  /** For an EXCLUDED directory: must the walker still descend because an exception could re-include something below? */
  mustDescend(dirPath: string): boolean;
  /** Whether the builder also sends the parent directories of a file re-included under an excluded directory. */
  readonly sendsParentsOfReincluded: boolean;
  /**
   * Whether every excluded directory the walker descends into is itself sent, even when nothing below it is
   * re-included (BuildKit 0.8's fsutil walker). Implies {@link sendsParentsOfReincluded}.
   */
  readonly sendsDescendedDirs: boolean;
}

// ---------------------------------------------------------------------------------------------------------
// Per-variant behaviour, as data
// ---------------------------------------------------------------------------------------------------------

interface VariantTraits {
  /**
   * How lines become patterns: `readall` = moby's ignorefile.ReadAll (BOM on line 1, CR, `#` at byte 0,
   * TrimSpace, Clean, one leading '/'); `buildah` = Buildah 1.28 (no BOM/CR/space handling before the
   * matcher's own TrimSpace; '/' trimmed from both ends; after '!' the rest is cleaned but not trimmed).
   */
  reader: 'readall' | 'buildah';
  /** Characters escaped when a pattern becomes a regexp; other regexp metacharacters keep their meaning. */
  regexpEscapes: string;
  /** Exact, prefix (`p/**`) and suffix (leading `**`) matches without a regexp. */
  fastPaths: boolean;
  /** Which ancestors of a path a rule is also tried against: every one, or only the one as deep as the rule. */
  ancestors: 'all' | 'same-depth';
  /** Rules that cannot change the verdict are not evaluated (inclusions once excluded, exceptions while included). */
  skipUndecisive: boolean;
  /** A walk reuses the parent directory's per-rule results instead of re-testing ancestors. */
  inheritParentHits: boolean;
  /**
   * When an excluded directory is still read: `prefix-or-wildcard` = always if any exception has a wildcard
   * (after stripping a trailing `/**` or `/*`), else if an exception starts with `dir/`; `dir-prefix` = if an
   * exception + '/' starts with `dir/`; `loose-prefix` = if an exception + '/' starts with `dir` (no slash).
   */
  descend: 'prefix-or-wildcard' | 'dir-prefix' | 'loose-prefix';
  sendsParentsOfReincluded: boolean;
  sendsDescendedDirs: boolean;
  /**
   * The client forces `.dockerignore` and the Dockerfile into the transfer when the rules exclude them (by
   * appending `!.dockerignore` / `!<dockerfile>` exceptions) and the daemon deletes them again afterwards
   * (docker CLI 20.10 TrimBuildFilesFromExcludes + daemon removeDockerfile).
   */
  forcesBuildFiles: boolean;
  /**
   * What a relative -f path is resolved against when looking for `<Dockerfile>.dockerignore`: the current
   * directory (docker CLI / BuildKit), or the context directory (Buildah, even though it reads the
   * Dockerfile itself from the current directory first). Belongs with the profile's ignoreFiles.
   */
  dockerfileBase: 'cwd' | 'context';
  caseSensitive: boolean;
}

const VARIANTS: Readonly<Record<IgnoreVariant, VariantTraits>> = {
  patternmatcher: {
    reader: 'readall', regexpEscapes: '.+()|{}$', fastPaths: true, caseSensitive: true,
    ancestors: 'all', skipUndecisive: true, inheritParentHits: true, descend: 'prefix-or-wildcard',
    sendsParentsOfReincluded: true, sendsDescendedDirs: false, forcesBuildFiles: false, dockerfileBase: 'cwd',
  },
  'fileutils-20.10': {
    reader: 'readall', regexpEscapes: '.$', fastPaths: false, caseSensitive: true,
    ancestors: 'same-depth', skipUndecisive: false, inheritParentHits: false, descend: 'dir-prefix',
    sendsParentsOfReincluded: true, sendsDescendedDirs: true, forcesBuildFiles: false, dockerfileBase: 'cwd',
  },
  'fileutils-20.10-tar': {
    reader: 'readall', regexpEscapes: '.$', fastPaths: false, caseSensitive: true,
    ancestors: 'same-depth', skipUndecisive: false, inheritParentHits: false, descend: 'dir-prefix',
    sendsParentsOfReincluded: false, sendsDescendedDirs: false, forcesBuildFiles: true, dockerfileBase: 'cwd',
  },
  // docker CLI 23+ tar walker for the classic builder (moby/go-archive TarWithOptions): the current matcher,
  // an excluded directory is read only when an exception starts with `dir/`, never sent itself.
  'patternmatcher-tar': {
    reader: 'readall', regexpEscapes: '.+()|{}$', fastPaths: true, caseSensitive: true,
    ancestors: 'all', skipUndecisive: true, inheritParentHits: true, descend: 'dir-prefix',
    sendsParentsOfReincluded: false, sendsDescendedDirs: false, forcesBuildFiles: true, dockerfileBase: 'cwd',
  },
  buildah: {
    reader: 'buildah', regexpEscapes: '.$', fastPaths: false, caseSensitive: true,
    ancestors: 'all', skipUndecisive: false, inheritParentHits: false, descend: 'loose-prefix',
    sendsParentsOfReincluded: false, sendsDescendedDirs: false, forcesBuildFiles: false, dockerfileBase: 'context',
  },
};

export function traitsOf(variant: IgnoreVariant): VariantTraits {
  const t = VARIANTS[variant];
  if (!t) throw new TypeError(`unknown ignore matcher variant "${String(variant)}"`);
  return t;
}

// ---------------------------------------------------------------------------------------------------------
// Pattern → Go regexp → JavaScript RegExp
// ---------------------------------------------------------------------------------------------------------

type PatternKind = 'exact' | 'prefix' | 'suffix' | 'regexp';

/**
 * The builder's pattern compiler: the Go regexp source it builds, and (patternmatcher) the fast-path kind.
 * Mirrors the scanner loop of patternmatcher/fileutils `compile`, including text/scanner skipping a leading BOM.
 */
function compileGlob(pattern: string, t: VariantTraits): { kind: PatternKind; source: string } {
  const cps = Array.from(pattern);
  let k = cps[0] === '\uFEFF' ? 1 : 0;
  let re = '^';
  let kind: PatternKind = 'exact';
  for (let iter = 0; k < cps.length; iter++) {
    const ch = cps[k++]!;
    if (ch === '*') {
      if (cps[k] === '*') {
        k++;
        if (cps[k] === '/') k++;
        if (k >= cps.length) {
          if (t.fastPaths && kind === 'exact') kind = 'prefix';
          else {
            re += '.*';
            kind = 'regexp';
          }
        } else {
          re += '(.*/)?';
          kind = 'regexp';
        }
        if (t.fastPaths && iter === 0) kind = 'suffix';
      } else {
        re += '[^/]*';
        kind = 'regexp';
      }
    } else if (ch === '?') {
      re += '[^/]';
      kind = 'regexp';
    } else if (t.regexpEscapes.includes(ch)) {
      re += '\\' + ch;
    } else if (ch === '\\') {
      if (k < cps.length) {
        re += '\\' + cps[k++]!;
        kind = 'regexp';
      } else {
        re += '\\';
      }
    } else if (ch === '[' || ch === ']') {
      re += ch;
      kind = 'regexp';
    } else {
      re += ch;
    }
  }
  if (!t.fastPaths || !t.caseSensitive) kind = 'regexp';
  return { kind, source: re + '$' };
}

// ---------------------------------------------------------------------------------------------------------
// The matcher
// ---------------------------------------------------------------------------------------------------------

interface CompiledRule {
  readonly rule: IgnoreRule;
  readonly exclusion: boolean;
  /** Number of '/'-separated components of the pattern (same-depth ancestor check). */
  readonly depth: number;
  /** Does the rule match this exact path? Throws IgnoreSyntaxError for a pattern the builder cannot compile. */
  readonly test: (p: string) => boolean;
}

/**
 * Which engine runs regexp rules: the default picks V8's where it cannot backtrack much, the NFA elsewhere;
 * 'nfa' always simulates the NFA (CTXDIFF_REGEXP_ENGINE=nfa; tests run the conformance vectors both ways).
 */
const engine = process.env.CTXDIFF_REGEXP_ENGINE === 'nfa' ? 'nfa' : undefined;

function compileRule(rule: IgnoreRule, t: VariantTraits): CompiledRule {
  const p = rule.pattern;
  const { kind, source } = compileGlob(p, t);
  let test: (path: string) => boolean;
  switch (kind) {
    case 'exact':
      test = (path) => path === p;
      break;
    case 'prefix': {
      const prefix = p.slice(0, -2);
      test = (path) => path.startsWith(prefix);
      break;
    }
    case 'suffix': {
      const suffix = p.slice(2);
      const bare = suffix.startsWith('/') ? suffix.slice(1) : null;
      test = (path) => path.endsWith(suffix) || path === bare;
      break;
    }
    case 'regexp': {
      let tester: ((path: string) => boolean) | null = null;
      let reason = '';
      try {
        // Linear in the path's length, as Go's regexp is (a backtracking RegExp is exponential on `**/**/…`).
        tester = linearTester(goRegexpToJs(source), t.caseSensitive ? 'u' : 'iu', engine);
      } catch (e) {
        reason = e instanceof GoRegexpError ? e.message : `regexp not supported: ${(e as Error).message}`;
      }
      if (tester) {
        test = tester;
      } else {
        // The builders compile lazily: the build fails only when the rule is evaluated.
        test = () => {
          throw new IgnoreSyntaxError(rule.file, rule.line, rule.text, `syntax error in pattern (${reason})`);
        };
      }
      break;
    }
  }
  return { rule, exclusion: rule.exclusion, depth: p.split('/').length, test };
}

/** Ancestors of a path as Go computes them: the components of filepath.Dir(path), joined cumulatively. */
function ancestorsOf(p: string): string[] {
  const last = p.lastIndexOf('/');
  if (last < 0) return [];
  const simple = p.charCodeAt(0) !== 47 && !p.includes('//') && !p.endsWith('/') && !/(^|\/)\.\.?(\/|$)/.test(p);
  const parent = simple ? p.slice(0, last) : goClean(p.slice(0, last + 1));
  if (parent === '.') return [];
  const out: string[] = [];
  let at = parent.indexOf('/');
  while (at >= 0) {
    out.push(parent.slice(0, at));
    at = parent.indexOf('/', at + 1);
  }
  out.push(parent);
  return out;
}

const WILDCARD_CHARS = /[*[\]?^\\]/;

function withoutTrailingGlob(p: string): string {
  let s = p.endsWith('/**') ? p.slice(0, -3) : p;
  if (s.endsWith('/*')) s = s.slice(0, -2);
  return s;
}

class Matcher implements IgnoreMatcher {
  readonly sendsParentsOfReincluded: boolean;
  readonly sendsDescendedDirs: boolean;
  private readonly traits: VariantTraits;
  private readonly compiled: readonly CompiledRule[];
  /** Exception patterns prepared for the descend test (null: no exceptions). */
  private readonly exceptionPrefixes: readonly string[] | null;
  private readonly alwaysDescend: boolean;

  constructor(
    readonly rules: readonly IgnoreRule[],
    readonly variant: IgnoreVariant,
  ) {
    this.traits = traitsOf(variant);
    this.compiled = rules.map((r) => compileRule(r, this.traits));
    this.sendsParentsOfReincluded = this.traits.sendsParentsOfReincluded;
    this.sendsDescendedDirs = this.traits.sendsDescendedDirs;
    const exceptions = rules.filter((r) => r.exclusion).map((r) => r.pattern);
    let always = false;
    let prefixes: string[] | null = null;
    if (exceptions.length > 0) {
      switch (this.traits.descend) {
        case 'prefix-or-wildcard':
          prefixes = exceptions.map((p) => withoutTrailingGlob(p) + '/');
          always = prefixes.some((p) => WILDCARD_CHARS.test(p));
          break;
        case 'dir-prefix':
          prefixes = exceptions.map((p) => p + '/');
          break;
        case 'loose-prefix':
          prefixes = exceptions.map((p) => trimSlashes(p) + '/');
          break;
      }
    }
    this.exceptionPrefixes = prefixes;
    this.alwaysDescend = always;
  }

  match(p: string): MatchResult {
    return this.evaluate(p, undefined);
  }

  matchInWalk(p: string, parent: MatchResult | undefined): MatchResult {
    const hits = this.traits.inheritParentHits ? parent?.ruleHits : undefined;
    return this.evaluate(p, hits);
  }

  mustDescend(dirPath: string): boolean {
    const prefixes = this.exceptionPrefixes;
    if (prefixes === null) return false;
    if (this.alwaysDescend) return true;
    const dir = this.traits.descend === 'loose-prefix' ? trimSlashes(dirPath) : dirPath + '/';
    return prefixes.some((p) => p.startsWith(dir));
  }

  private evaluate(p: string, parentHits: Uint8Array | undefined): MatchResult {
    if (p === '' || p === '.') return { excluded: false, rule: null };
    const t = this.traits;
    const rules = this.compiled;
    const hits = t.inheritParentHits ? new Uint8Array(rules.length) : undefined;
    let excluded = false;
    let decisive: IgnoreRule | null = null;
    let ancestors: string[] | undefined;
    for (let i = 0; i < rules.length; i++) {
      const c = rules[i]!;
      let m = parentHits !== undefined && parentHits[i] === 1;
      if (!m) {
        if (t.skipUndecisive && c.exclusion !== excluded) continue;
        m = c.test(p);
        if (!m && parentHits === undefined) {
          ancestors ??= ancestorsOf(p);
          if (t.ancestors === 'all') {
            for (const a of ancestors) {
              if (c.test(a)) {
                m = true;
                break;
              }
            }
          } else if (c.depth <= ancestors.length) {
            m = c.test(ancestors[c.depth - 1]!);
          }
        }
      }
      if (m) {
        if (hits) hits[i] = 1;
        excluded = !c.exclusion;
        decisive = c.rule;
      }
    }
    return hits ? { excluded, rule: decisive, ruleHits: hits } : { excluded, rule: decisive };
  }
}

/**
 * The verdict a builder's walk reaches for a path (which need not exist): its ancestors are matched top-down,
 * and an excluded ancestor the walker does not descend into decides for everything below it. Differs from
 * {@link IgnoreMatcher.match} where the matcher alone would decide otherwise (Docker 20.10 checks only the
 * ancestor as deep as the pattern; BuildKit reuses the parent's per-rule results).
 */
export function matchAlongWalk(matcher: IgnoreMatcher, p: string): MatchResult {
  let parent: MatchResult | undefined;
  let at = p.indexOf('/');
  while (at > 0) {
    const dir = p.slice(0, at);
    parent = matcher.matchInWalk(dir, parent);
    if (parent.excluded && !matcher.mustDescend(dir)) return parent;
    at = p.indexOf('/', at + 1);
  }
  return matcher.matchInWalk(p, parent);
}

/**
 * Compile rules for one matcher variant. Patterns are compiled once here; a pattern the builder accepts when
 * reading but cannot compile (e.g. `[Local-Only]`, or `a(b` outside patternmatcher) makes match() throw
 * IgnoreSyntaxError when the builder would evaluate it, as the build fails then.
 */
export function createIgnoreMatcher(rules: IgnoreRule[], variant: IgnoreVariant): IgnoreMatcher {
  return new Matcher(rules.slice(), variant);
}

/** The rules the builder's walk really uses once it has made sure its own build files are transferred. */
export interface TransferRules {
  /** The rules, plus any exception the client appends (file `<docker CLI>`, line 0). */
  rules: IgnoreRule[];
  /**
   * Context paths the daemon deletes again after the transfer (their parent directories, created on the way,
   * stay: an excluded `docker/` holding the Dockerfile is left behind as an empty directory).
   */
  removedAfterTransfer: string[];
}

/**
 * Rules for the transfer walk when the builder forces its build files through (classic builder): with
 * `.dockerignore` or the Dockerfile (`dockerfile` = its path relative to the context root, when inside it)
 * excluded by the matcher, an exception for it is appended and the file is deleted after the transfer. When
 * the matcher does not see the Dockerfile as excluded but the walk does (e.g. a leading-`**` pattern naming `docker` with
 * `-f docker/Dockerfile`), no exception is added and the classic build fails to find its Dockerfile.
 * For other variants the rules are returned unchanged.
 */
export function transferRules(rules: IgnoreRule[], variant: IgnoreVariant, dockerfile: string | undefined): TransferRules {
  if (!traitsOf(variant).forcesBuildFiles) return { rules: rules.slice(), removedAfterTransfer: [] };
  const out = rules.slice();
  const removed: string[] = [];
  const files = ['.dockerignore'];
  if (dockerfile !== undefined) {
    const rel = goClean(dockerfile.split(path.sep).join('/'));
    if (rel !== '.' && !rel.startsWith('../') && rel !== '..' && !rel.startsWith('/')) files.push(rel);
  }
  const original = createIgnoreMatcher(rules, variant);
  for (const f of files) {
    if (removed.includes(f)) continue;
    if (createIgnoreMatcher(out, variant).match(f).excluded) {
      out.push({ pattern: f, exclusion: true, file: '<docker CLI>', line: 0, text: `!${f}` });
    }
    if (original.match(f).excluded) removed.push(f);
  }
  return { rules: out, removedAfterTransfer: removed };
}
