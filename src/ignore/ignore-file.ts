/**
 * Ignore files: finding the one in force for a context and Dockerfile, and reading it into rules exactly as
 * each builder's reader does (line splitting, comments, trimming, the builders' pattern syntax check).
 * Matching the rules is matcher.ts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { IgnoreSyntaxError } from '../core/errors.js';
import { readRegularFile } from '../core/regular-file.js';
import type { BuilderProfile } from '../builders/profiles.js';
import type { IgnoreFileInfo } from '../core/types.js';
import { goClean, goTrimSpace, trimSlashes } from './go-strings.js';
import { traitsOf, type IgnoreRule, type IgnoreVariant } from './matcher.js';

// ---------------------------------------------------------------------------------------------------------
// Reading an ignore file
// ---------------------------------------------------------------------------------------------------------

/** One pattern line as the reader hands it to the matcher (before the matcher's own clean-up). */
export interface IgnoreLine {
  line: number;
  text: string;
  /** The pattern string the builder passes to its matcher, '!' included. */
  pattern: string;
}

/** bufio.Scanner's default token limit: a longer line fails the whole read. */
const MAX_LINE_BYTES = 64 * 1024;

/**
 * Split an ignore file into the pattern strings the builder's reader produces (moby ignorefile.ReadAll,
 * or Buildah's reader), keeping line numbers. A bare '!' is kept here; {@link parseIgnoreFile} rejects it.
 */
export function readIgnoreLines(text: string, file: string, variant: IgnoreVariant = 'patternmatcher'): IgnoreLine[] {
  const reader = traitsOf(variant).reader;
  const lines = text.split('\n');
  const out: IgnoreLine[] = [];
  if (reader === 'readall') {
    if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    for (let i = 0; i < lines.length; i++) {
      const scanned = lines[i]!;
      // A line and its newline must fit in the scanner's buffer.
      if (scanned.length * 3 >= MAX_LINE_BYTES && Buffer.byteLength(scanned) + 1 > MAX_LINE_BYTES) {
        const raw = scanned.replace(/\r$/, '');
        throw new IgnoreSyntaxError(file, i + 1, raw.slice(0, 40) + '…', 'line longer than 64 KiB (bufio.Scanner: token too long)');
      }
      const raw = scanned.endsWith('\r') ? scanned.slice(0, -1) : scanned;
      const lineText = i === 0 && raw.startsWith('\uFEFF') ? raw.slice(1) : raw;
      if (lineText.startsWith('#')) continue;
      let p = goTrimSpace(lineText);
      if (p === '') continue;
      const invert = p[0] === '!';
      if (invert) p = goTrimSpace(p.slice(1));
      if (p.length > 0) {
        p = goClean(p);
        if (p.length > 1 && p[0] === '/') p = p.slice(1);
      }
      out.push({ line: i + 1, text: raw, pattern: invert ? '!' + p : p });
    }
  } else {
    for (let i = 0; i < lines.length; i++) {
      const raw = lines[i]!;
      if (raw.length === 0 || raw[0] === '#') continue;
      let p = trimSlashes(raw);
      if (p.length === 0) continue;
      if (p[0] === '!') {
        let rest = p.slice(1);
        if (rest.length > 0) {
          rest = goClean(rest);
          if (rest.length > 1 && rest[0] === '/') rest = rest.slice(1);
        }
        p = '!' + rest;
      }
      out.push({ line: i + 1, text: raw, pattern: p });
    }
  }
  return out;
}

/** The matcher's own clean-up of one pattern string (patternmatcher.New / fileutils.NewPatternMatcher). */
function ruleFromPattern(raw: string, file: string, line: number, text: string): IgnoreRule | null {
  let p = goTrimSpace(raw);
  if (p === '') return null;
  p = goClean(p);
  let exclusion = false;
  if (p[0] === '!') {
    if (p.length === 1) throw new IgnoreSyntaxError(file, line, text, 'illegal exclusion pattern: "!"');
    exclusion = true;
    p = p.slice(1);
  }
  const err = globSyntaxError(p);
  if (err) throw new IgnoreSyntaxError(file, line, text, `syntax error in pattern (${err})`);
  return { pattern: p, exclusion, file, line, text };
}

/**
 * Parse an ignore file (builder-facts §5) as the given variant's builder reads it (default: current BuildKit).
 * Throws IgnoreSyntaxError(file, line, pattern, reason) for anything the builder rejects when it reads the
 * rules: a bare '!', a malformed pattern (Go filepath.Match syntax: '[', '[]a]', '[x-]', '\' at the end), a
 * line over 64 KiB.
 */
export function parseIgnoreFile(text: string, file: string, variant: IgnoreVariant = 'patternmatcher'): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const l of readIgnoreLines(text, file, variant)) {
    const r = ruleFromPattern(l.pattern, file, l.line, l.text);
    if (r) rules.push(r);
  }
  return rules;
}

/**
 * Rules from pattern strings already normalised by a reader (what BuildKit passes to patternmatcher.New as
 * ExcludePatterns). Line numbers are 1-based positions in the list.
 */
export function rulesFromPatterns(patterns: readonly string[], file = '<patterns>'): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  patterns.forEach((p, i) => {
    const r = ruleFromPattern(p, file, i + 1, p);
    if (r) rules.push(r);
  });
  return rules;
}

/**
 * The error Go's filepath.Match(pattern, ".") reports for a malformed pattern (the builders' syntax check),
 * or null. Character classes need at least one item, no unescaped leading '-' or ']' in an item, and a
 * closing ']'; a trailing '\' is an error.
 */
function globSyntaxError(p: string): string | null {
  const n = p.length;
  let i = 0;
  /** Go's getEsc: one class item character. */
  const classChar = (): boolean => {
    if (i >= n || p[i] === '-' || p[i] === ']') return false;
    if (p[i] === '\\') {
      i++;
      if (i >= n) return false;
    }
    i += p.codePointAt(i)! > 0xffff ? 2 : 1;
    return i < n;
  };
  while (i < n) {
    const c = p[i];
    if (c === '\\') {
      if (i + 1 >= n) return 'trailing backslash';
      i += p.codePointAt(i + 1)! > 0xffff ? 3 : 2;
    } else if (c === '[') {
      i++;
      if (p[i] === '^') i++;
      for (let items = 0; ; items++) {
        if (i < n && p[i] === ']' && items > 0) {
          i++;
          break;
        }
        if (!classChar()) return 'malformed character class';
        if (p[i] === '-') {
          i++;
          if (!classChar()) return 'malformed character class range';
        }
      }
    } else {
      i++;
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------------
// Finding the ignore file
// ---------------------------------------------------------------------------------------------------------

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/**
 * Find the ignore file in force for a context per the profile's `ignoreFiles`: candidates beside the
 * Dockerfile (`{dockerfile}` = the Dockerfile path, e.g. `docker/app.Dockerfile.dockerignore`; without -f the
 * first of the profile's `defaultDockerfiles` that exists at the root), then at the context root; the first
 * that exists wins. `dockerfile` is the path as the user gave it (absolute or relative
 * to the current directory) or undefined; Buildah resolves a relative path against the context directory for
 * this lookup (observed), so the Buildah profile does too. Returns null when none exists. Throws IoError on read errors.
 */
export function locateIgnoreFile(
  contextDir: string,
  dockerfile: string | undefined,
  profile: BuilderProfile,
): IgnoreFileInfo | null {
  const root = path.resolve(contextDir);
  const candidates: { abs: string; given: string }[] = [];
  let abs: string | undefined;
  let given = dockerfile;
  if (dockerfile !== undefined && dockerfile !== '') {
    const base = traitsOf(profile.matcher).dockerfileBase === 'context' ? root : process.cwd();
    abs = path.resolve(base, dockerfile);
  } else if (profile.ignoreFiles.besideDockerfile.length > 0) {
    // Without -f the default Dockerfile's own ignore file applies too (BuildKit and Buildah, observed).
    given = profile.defaultDockerfiles.find((name) => isFile(path.join(root, name)));
    if (given !== undefined) abs = path.join(root, given);
  }
  if (abs !== undefined) {
    for (const c of profile.ignoreFiles.besideDockerfile) {
      candidates.push({ abs: c.replaceAll('{dockerfile}', abs), given: c.replaceAll('{dockerfile}', given!) });
    }
  }
  for (const c of profile.ignoreFiles.atRoot) candidates.push({ abs: path.join(root, c), given: c });
  for (const { abs, given } of candidates) {
    const rel = path.relative(root, abs);
    const shown = rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel.split(path.sep).join('/') : given;
    // Only a regular file (a FIFO named .dockerignore would block the run forever), of a bounded size.
    const bytes = readRegularFile(abs, shown, { optional: true });
    if (bytes === null) continue;
    return { file: shown, text: bytes.toString('utf8') };
  }
  return null;
}
