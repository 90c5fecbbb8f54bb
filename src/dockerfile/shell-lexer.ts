/**
 * BuildKit's shell-word lexer (moby/buildkit frontend/dockerfile/shell, single-word mode), as the Dockerfile
 * parser (parser.ts) uses it: quote removal, escapes and `$` substitution with the builder's rules, and
 * Go's whitespace class that the Dockerfile parser trims with.
 */

// ---------------------------------------------------------------------------------------------
// Character helpers (Go unicode.IsSpace and the parser's whitespace class)
// ---------------------------------------------------------------------------------------------

const GO_SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;
export const isSpace = (ch: string): boolean => GO_SPACE.test(ch);
export const trimLeftSpace = (s: string): string => {
  let i = 0;
  while (i < s.length && isSpace(s[i]!)) i++;
  return s.slice(i);
};
export const trimSpace = (s: string): string => {
  let j = s.length;
  while (j > 0 && isSpace(s[j - 1]!)) j--;
  return trimLeftSpace(s.slice(0, j));
};
/** The parser's argument separator: `[\t\v\f\r ]+`. */
export const RE_WHITESPACE = /[\t\v\f\r ]+/;

export const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// ---------------------------------------------------------------------------------------------
// Variable lookup and the shell-word lexer (BuildKit's shell.Lex, single-word mode)
// ---------------------------------------------------------------------------------------------

/** A variable's value: a string, null when known to be unset, undefined when unknown. */
export type Lookup = (name: string) => string | null | undefined;

interface LexOptions {
  escape: string;
  lookup: Lookup;
  /** Keep quote characters in the output (they still group and protect). */
  rawQuotes?: boolean;
  /** Keep escape characters in the output. */
  rawEscapes?: boolean;
  /** Treat quotes as ordinary characters (heredoc bodies). */
  skipQuotes?: boolean;
}

interface LexResult {
  value: string;
  /** Variables whose value is unknown; their expressions are left as written. */
  unresolved: string[];
}

/** Thrown inside the lexer; converted to a DockerfileError with the instruction's line. */
export class LexError extends Error {}

const SPECIAL_PARAMS = new Set(['@', '*', '#', '?', '-', '$', '!', '0']);
const isNameChar = (ch: string): boolean => /[\p{L}\p{Nd}_]/u.test(ch);
const isDigit = (ch: string | undefined): boolean => ch !== undefined && /\p{Nd}/u.test(ch);

/**
 * Process one word like BuildKit's shell lexer (ProcessWord): quote removal, escapes and `$`
 * substitution (`$V`, `${V}`, `${V:-w}`, `${V-w}`, `${V:+w}`, `${V+w}`, `${V:?m}`, `${V?m}`,
 * `${V#p}`, `${V##p}`, `${V%p}`, `${V%%p}`, `${V/p/r}`, `${V//p/r}`). Whitespace is kept.
 * An expression over a variable whose value is unknown is kept exactly as written.
 *
 * One function on purpose: its inner steps are the upstream lexer's (processStopOn, processSingleQuote,
 * processDoubleQuote, processDollar, processName) in the same order, sharing one read position, so that
 * it can be read side by side with shell/lex.go; splitting it would hide that correspondence.
 */
export function lexWord(src: string, opts: LexOptions): LexResult {
  const chars = Array.from(src);
  const unresolved: string[] = [];
  const { escape } = opts;
  let pos = 0;
  let rawEscapes = opts.rawEscapes ?? false;

  const note = (name: string) => {
    if (!unresolved.includes(name)) unresolved.push(name);
  };
  const asWritten = (start: number) => chars.slice(start, pos).join('');

  const readName = (): string => {
    const first = chars[pos];
    if (first === undefined) return '';
    if (isDigit(first)) {
      const start = pos;
      while (isDigit(chars[pos])) pos++;
      return chars.slice(start, pos).join('');
    }
    if (SPECIAL_PARAMS.has(first)) {
      pos++;
      return first;
    }
    const start = pos;
    while (pos < chars.length && isNameChar(chars[pos]!)) pos++;
    return chars.slice(start, pos).join('');
  };

  /** Positional and special parameters are never set in a Dockerfile. */
  const valueOf = (name: string): string | null | undefined =>
    isDigit(name[0]) || SPECIAL_PARAMS.has(name) ? null : opts.lookup(name);

  /** Process until `stop` (consumed) or the end; `unknown` when an unknown variable was kept as written. */
  const processUntil = (stop: string | undefined, withRawEscapes: boolean): { text: string; unknown: boolean } => {
    const saved = rawEscapes;
    rawEscapes = withRawEscapes;
    try {
      let out = '';
      let unknown = false;
      while (pos < chars.length) {
        const ch = chars[pos]!;
        if (stop !== undefined && ch === stop) {
          pos++;
          return { text: out, unknown };
        }
        if (ch === '$' || (!opts.skipQuotes && (ch === "'" || ch === '"'))) {
          const r = ch === '$' ? processDollar() : ch === "'" ? processSingleQuote() : processDoubleQuote();
          out += r.text;
          unknown ||= r.unknown;
          continue;
        }
        pos++;
        if (ch === escape) {
          if (rawEscapes) out += ch;
          if (pos >= chars.length) break;
          out += chars[pos++];
          continue;
        }
        out += ch;
      }
      if (stop !== undefined) throw new LexError(`unexpected end of statement while looking for matching ${stop}`);
      return { text: out, unknown };
    } finally {
      rawEscapes = saved;
    }
  };

  const processSingleQuote = (): { text: string; unknown: boolean } => {
    pos++;
    let out = opts.rawQuotes ? "'" : '';
    for (;;) {
      const ch = chars[pos++];
      if (ch === undefined) throw new LexError('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") return { text: opts.rawQuotes ? out + ch : out, unknown: false };
      out += ch;
    }
  };

  const processDoubleQuote = (): { text: string; unknown: boolean } => {
    pos++;
    let out = opts.rawQuotes ? '"' : '';
    let unknown = false;
    for (;;) {
      const ch = chars[pos];
      if (ch === undefined) throw new LexError('unexpected end of statement while looking for matching double-quote');
      if (ch === '"') {
        pos++;
        return { text: opts.rawQuotes ? out + ch : out, unknown };
      }
      if (ch === '$') {
        const r = processDollar();
        out += r.text;
        unknown ||= r.unknown;
        continue;
      }
      pos++;
      if (ch === escape) {
        if (rawEscapes) out += ch;
        const next = chars[pos];
        if (next === undefined) continue;
        if (next === '"' || next === '$' || next === escape) {
          out += next;
          pos++;
          continue;
        }
      }
      out += ch;
    }
  };

  /** Read a `${…}` sub-word, turning a premature end into the builder's "missing '}'". */
  const subWord = (stop: string, withRawEscapes: boolean) => {
    try {
      return processUntil(stop, withRawEscapes);
    } catch (e) {
      if (e instanceof LexError && pos >= chars.length) throw new LexError(stop === '}' ? "syntax error: missing '}'" : "syntax error: missing '/' in ${}");
      throw e;
    }
  };

  const processDollar = (): { text: string; unknown: boolean } => {
    const start = pos;
    pos++; // '$'
    if (chars[pos] !== '{') {
      const name = readName();
      if (name === '') return { text: '$', unknown: false };
      const v = valueOf(name);
      if (v === undefined) {
        note(name);
        return { text: asWritten(start), unknown: true };
      }
      return { text: v ?? '', unknown: false };
    }
    pos++; // '{'
    const first = chars[pos];
    if (first === undefined) throw new LexError("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new LexError('syntax error: bad substitution');
    const name = readName();
    let ch = chars[pos++];
    if (ch === undefined) throw new LexError("syntax error: missing '}'");
    let modifier = ch;
    const unknownResult = () => {
      note(name);
      return { text: asWritten(start), unknown: true };
    };

    if (ch === '}') {
      const v = valueOf(name);
      return v === undefined ? unknownResult() : { text: v ?? '', unknown: false };
    }
    if (ch === '/') {
      const all = chars[pos] === '/';
      if (all) pos++;
      const pattern = subWord('/', true);
      const replacement = subWord('}', true);
      const v = valueOf(name);
      if (v === undefined || pattern.unknown || replacement.unknown) return unknownResult();
      const re = shellPatternToRegExp(pattern.text, true, false, all);
      return { text: (v ?? '').replace(re, () => replacement.text), unknown: false };
    }
    let nullIsUnset = false;
    if (ch === ':') {
      nullIsUnset = true;
      ch = chars[pos++];
      if (ch === undefined) throw new LexError("syntax error: missing '}'");
      modifier += ch;
    }
    if (!['+', '-', '?', '#', '%'].includes(ch) && !nullIsUnset) {
      throw new LexError(`unsupported modifier (${modifier}) in substitution`);
    }
    const patternModifier = ch === '#' || ch === '%';
    if (nullIsUnset && patternModifier) throw new LexError(`unsupported modifier (${modifier}) in substitution`);
    const word = subWord('}', patternModifier);
    const v = valueOf(name);
    if (v === undefined) return unknownResult();
    const isSet = v !== null;
    const empty = !isSet || (nullIsUnset && v === '');
    switch (ch) {
      case '-':
        return empty ? word : { text: v!, unknown: false };
      case '+':
        return empty ? { text: '', unknown: false } : word;
      case '?':
        if (!isSet) throw new LexError(`${name}: ${word.text || 'is not allowed to be unset'}`);
        if (empty) throw new LexError(`${name}: ${word.text || 'is not allowed to be empty'}`);
        return { text: v!, unknown: false };
      case '#':
      case '%': {
        if (word.unknown) return unknownResult();
        let pattern = word.text;
        const greedy = pattern.startsWith(ch);
        if (greedy) pattern = pattern.slice(1);
        return { text: ch === '#' ? trimPrefix(pattern, v ?? '', greedy) : trimSuffix(pattern, v ?? '', greedy), unknown: false };
      }
      default:
        throw new LexError(`unsupported modifier (${modifier}) in substitution`);
    }
  };

  const { text } = processUntil(undefined, rawEscapes);
  return { value: text, unresolved };
}

/** BuildKit's shell pattern for `${V#p}`, `${V%p}`, `${V/p/r}`: `*`, `?`, `\` escapes; no classes. */
function shellPatternToRegExp(pattern: string, greedy: boolean, anchored: boolean, global = false): RegExp {
  const cps = Array.from(pattern);
  let out = anchored ? '^' : '';
  for (let i = 0; i < cps.length; i++) {
    const tok = cps[i]!;
    if (tok === '*') out += greedy ? '.*' : '.*?';
    else if (tok === '?') out += '.';
    else if (tok === '\\') {
      const next = cps[i + 1];
      if (next === '}' || next === '/') continue;
      i++;
      if (next !== '*' && next !== '?' && next !== '\\') throw new LexError(`invalid pattern (${pattern}) in substitution: invalid escape '\\${next ?? ''}'`);
      out += '\\' + next;
    } else out += escapeRegExp(tok);
  }
  return new RegExp(out, global ? 'gu' : 'u');
}

function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const m = shellPatternToRegExp(pattern, greedy, true).exec(value);
  return m ? value.slice(m.index + m[0].length) : value;
}

/** Shortest/longest suffix removal: reverse both pattern (keeping escapes before their char) and value. */
function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  const cps = Array.from(pattern);
  const reversed: string[] = [];
  for (let i = 0; i < cps.length; i++) {
    if (cps[i] === '\\' && i + 1 < cps.length) {
      reversed.unshift('\\', cps[i + 1]!);
      i++;
    } else reversed.unshift(cps[i]!);
  }
  const rev = (s: string) => Array.from(s).reverse().join('');
  return rev(trimPrefix(reversed.join(''), rev(value), greedy));
}

/** Split like BuildKit's ProcessWords (whitespace outside quotes separates words); raw mode, no substitution. */
export function splitShellWords(src: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: string | null = null;
  for (let i = 0; i < src.length; i++) {
    const ch = src[i]!;
    if (quote) {
      word += ch;
      if (ch === '\\' && quote === '"' && i + 1 < src.length) word += src[++i];
      else if (ch === quote) quote = null;
      continue;
    }
    if (isSpace(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (ch === '\\' && i + 1 < src.length) {
      word += ch + src[++i];
      continue;
    }
    if (ch === "'" || ch === '"') quote = ch;
    word += ch;
  }
  if (inWord) words.push(word);
  return words;
}

