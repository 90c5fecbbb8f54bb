/**
 * Dockerfile reading: a model of every instruction, stage and COPY/ADD source, faithful to the
 * current BuildKit Dockerfile frontend (moby/buildkit frontend/dockerfile: parser, instructions,
 * shell lexer) where the cache is concerned. Our own focused parser: the cache questions need
 * the builder's exact word splitting, quoting and substitution, which a general AST does not give.
 *
 * What it reproduces:
 * - parser directives (`# syntax=`, `# escape=`, `# check=`) only at the very top, each at most once;
 * - comments, line continuations with the escape token (comment lines and empty lines inside a
 *   continuation are dropped), keywords case-insensitive, builder flags (`--name=value`);
 * - JSON (exec) and shell forms, heredocs (`<<EOF`, `<<-EOF`; a quoted terminator is not expanded);
 * - stages, `FROM … AS name`, `COPY --from` by stage name (case-insensitive) or index, or an image;
 * - variable substitution (`$V`, `${V}`, `${V:-w}`, `${V-w}`, `${V:+w}`, `${V+w}`, `${V:?m}`,
 *   `${V?m}`, `${V#p}`, `${V%p}`, `${V/p/r}` and greedy forms) with ARG/ENV scoping: global ARGs
 *   feed FROM lines only; a stage sees its own ARGs, its ENVs and those of a parent stage. A value
 *   the file cannot know (a base image's ENV, an ARG with neither default nor build-arg) is never
 *   guessed: the expression is left as written and the variable is listed in `unresolved`.
 *
 * Docker 20.10's built-in frontend (BuildKit 0.8) is older: it knows no heredocs, no
 * `--link`/`--exclude`/`--parents`/`--checksum`/`--keep-git-dir`, no git sources in ADD, and a
 * `COPY --from` naming a later stage does not see that stage's files (the classic builder takes
 * it for an image). This module follows the current syntax; profiles decide what an older
 * builder would make of it.
 */
import { DockerfileError } from './errors.js';

// ---------------------------------------------------------------------------------------------
// Public model
// ---------------------------------------------------------------------------------------------

/**
 * Where a COPY/ADD source comes from. `context`: the build context; `remote`: a URL or git
 * repository fetched by the builder (not judged); `heredoc`: an inline file; `stage`: a stage
 * of this Dockerfile (`--from=name|index`); `image`: an external image (`--from=image`).
 */
export type SourceKind = 'context' | 'remote' | 'heredoc' | 'stage' | 'image';

export interface CopySource {
  /** As written (after substitution). */
  raw: string;
  kind: SourceKind;
  /**
   * For context (and stage/image) sources: the path cleaned like Go path.Clean and made relative
   * to the root: '.', 'src', 'src/*.txt' (no leading '/' or './'). For heredocs: the heredoc name.
   * Empty for remote sources.
   */
  path: string;
  /** True if the path contains wildcard characters (* ? [ ) — matched like Go filepath.Match per segment. */
  wildcard: boolean;
  /** For remote sources: an HTTP(S) download or a git repository. */
  remote?: 'http' | 'git';
  /** Variables left unresolved in this source: its path is then not exactly known. */
  unresolved?: string[];
}

export interface Instruction {
  /** Upper case: FROM, RUN, COPY, ADD, ENV, ARG, LABEL, WORKDIR, ... */
  keyword: string;
  /** 1-based first line. */
  line: number;
  /** Last line (continuations and heredoc bodies included). */
  endLine: number;
  /** Source text of the instruction: its lines as written (line..endLine), joined with '\n'. */
  text: string;
  /** The logical line as the builder assembles it: continuations joined, comment lines dropped. */
  original: string;
  /**
   * Arguments after flags, after variable substitution where known. Shell-form RUN/CMD/
   * ENTRYPOINT/SHELL: one element, the command line as the builder sees it (never substituted:
   * the shell does that at run time). ENV/LABEL: 'key=value' pairs; ARG: 'name' or 'name=value'.
   */
  args: string[];
  /** e.g. { from: ['build'], chmod: ['755'], exclude: ['*.md','tmp'] }; boolean flags like --link → ['true']. */
  flags: Record<string, string[]>;
  /** Variable names that could not be resolved in this instruction. */
  unresolved: string[];
  /** Index of the stage it belongs to (-1 for global ARGs before the first FROM). */
  stage: number;
  /** True for the JSON (exec) form. */
  json: boolean;
  /** ENV/LABEL/ARG: the pairs, after substitution (value undefined for `ARG name`). */
  pairs?: { key: string; value?: string }[];
  /** Names of the ARGs declared in this stage so far (an ARG instruction included). */
  argsInScope: string[];
  /**
   * The ARG and ENV values this instruction runs with, as the builder passes them to RUN (ENV
   * wins over an ARG of the same name; ARGs without a value are left out): null = value unknown.
   * Base-image ENVs are not listed (unknown to the file). Empty for global ARGs.
   */
  vars: Record<string, string | null>;
  /** Heredoc bodies (COPY/ADD/RUN); content after substitution for expanding COPY/ADD heredocs. */
  heredocs: { name: string; content: string }[];
  /** Canonical form used to decide "the instruction itself changed": keyword + flags + args after substitution (+ heredoc bodies). */
  key: string;
}

export interface CopyInstruction extends Instruction {
  keyword: 'COPY' | 'ADD';
  sources: CopySource[];
  dest: string;
  /** --from value, and the stage index it names if it is a stage of this file (undefined if an external image). */
  from?: string;
  fromStage?: number;
  chmod?: string;
  chown?: string;
  link: boolean;
  parents: boolean;
  exclude: string[];
}

export interface Stage {
  index: number;
  /** Stage name, lower-cased as the builder stores it. */
  name?: string;
  /** Base image or stage name, after substitution with the global ARGs. */
  base: string;
  /** Index of the earlier stage this one is built FROM, if any. */
  baseStage?: number;
  /** `FROM --platform=` value, after substitution. */
  platform?: string;
  /** Line of the FROM instruction. */
  line: number;
  /** The FROM instruction itself. */
  from: Instruction;
  /** Instructions after FROM, in order. */
  instructions: Instruction[];
  /** Stages this one uses: its base stage, `COPY --from` stages, `RUN --mount=…,from=` stages (sorted, unique). */
  dependsOn: number[];
}

export interface DockerfileModel {
  file: string;
  /** The escape token in force: '\\' or '`'. */
  escape: string;
  /** The `# syntax=` directive value, if any. */
  syntax?: string;
  /** ARG instructions before the first FROM. */
  globalArgs: Instruction[];
  stages: Stage[];
  /** Every instruction in file order (global ARGs and FROMs included). */
  instructions: Instruction[];
}

export interface ParseOptions {
  /**
   * The complete set of `--build-arg` values of the build. When given, an ARG without default
   * that is not listed here is known to be unset; when omitted, such an ARG is unknown.
   */
  buildArgs?: Record<string, string>;
}

/** Type guard for COPY/ADD. */
export function isCopy(i: Instruction): i is CopyInstruction {
  return i.keyword === 'COPY' || i.keyword === 'ADD';
}

// ---------------------------------------------------------------------------------------------
// Character helpers (Go unicode.IsSpace and the parser's whitespace class)
// ---------------------------------------------------------------------------------------------

const GO_SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;
const isSpace = (ch: string): boolean => GO_SPACE.test(ch);
const trimLeftSpace = (s: string): string => {
  let i = 0;
  while (i < s.length && isSpace(s[i]!)) i++;
  return s.slice(i);
};
const trimSpace = (s: string): string => {
  let j = s.length;
  while (j > 0 && isSpace(s[j - 1]!)) j--;
  return trimLeftSpace(s.slice(0, j));
};
/** The parser's argument separator: `[\t\v\f\r ]+`. */
const RE_WHITESPACE = /[\t\v\f\r ]+/;

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// ---------------------------------------------------------------------------------------------
// Variable lookup and the shell-word lexer (BuildKit's shell.Lex, single-word mode)
// ---------------------------------------------------------------------------------------------

/** A variable's value: a string, null when known to be unset, undefined when unknown. */
type Lookup = (name: string) => string | null | undefined;

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
class LexError extends Error {}

const SPECIAL_PARAMS = new Set(['@', '*', '#', '?', '-', '$', '!', '0']);
const isNameChar = (ch: string): boolean => /[\p{L}\p{Nd}_]/u.test(ch);
const isDigit = (ch: string | undefined): boolean => ch !== undefined && /\p{Nd}/u.test(ch);

/**
 * Process one word like BuildKit's shell lexer (ProcessWord): quote removal, escapes and `$`
 * substitution (`$V`, `${V}`, `${V:-w}`, `${V-w}`, `${V:+w}`, `${V+w}`, `${V:?m}`, `${V?m}`,
 * `${V#p}`, `${V##p}`, `${V%p}`, `${V%%p}`, `${V/p/r}`, `${V//p/r}`). Whitespace is kept.
 * An expression over a variable whose value is unknown is kept exactly as written.
 */
function lexWord(src: string, opts: LexOptions): LexResult {
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
function splitShellWords(src: string): string[] {
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

// ---------------------------------------------------------------------------------------------
// Line-level parsing (BuildKit parser.Parse)
// ---------------------------------------------------------------------------------------------

interface Heredoc {
  name: string;
  expand: boolean;
  chomp: boolean;
  content: string;
}

interface RawNode {
  keyword: string; // upper case
  line: number;
  endLine: number;
  original: string;
  flagWords: string[];
  rest: string;
  heredocs: Heredoc[];
}

interface Directives {
  escape: string;
  syntax?: string;
}

const DIRECTIVE_RE = /^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;
const KNOWN_DIRECTIVES = new Set(['syntax', 'escape', 'check']);
const HEREDOC_RE = /^(\d*)<<(-?)([^<]*)$/;
const HEREDOC_KEYWORDS = new Set(['ADD', 'COPY', 'RUN']);

/** Split into lines like Go's bufio scanner with line endings kept. */
function splitLines(text: string): string[] {
  const lines: string[] = [];
  let start = 0;
  while (start < text.length) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) {
      lines.push(text.slice(start));
      break;
    }
    lines.push(text.slice(start, nl + 1));
    start = nl + 1;
  }
  return lines;
}

const trimNewline = (s: string): string => s.replace(/[\r\n]+$/, '');
const isCommentLine = (s: string): boolean => trimLeftSpace(s).startsWith('#');

/** Parse a heredoc word (`<<EOF`, `<<-"EOF"`, `3<<EOF`); undefined when it is not one. */
function parseHeredocWord(word: string): Omit<Heredoc, 'content'> | undefined {
  const m = HEREDOC_RE.exec(word);
  if (!m || m[3] === '') return undefined;
  const rest = m[3]!;
  const words = splitShellWords(rest);
  if (words.length !== 1) return undefined;
  let name: string;
  try {
    name = lexWord(rest, { escape: '\\', lookup: () => undefined }).value;
  } catch (e) {
    if (e instanceof LexError) return undefined;
    throw e;
  }
  // Quoted anywhere (the quotes vanish when processed): the body is taken literally.
  const withQuotes = lexWord(rest, { escape: '\\', rawQuotes: true, lookup: () => undefined }).value;
  const quoteCount = (s: string) => (s.match(/['"]/g) ?? []).length;
  return { name, expand: quoteCount(name) === quoteCount(withQuotes), chomp: m[2] === '-' };
}

/** Builder flags at the start of the arguments (BuildKit extractBuilderFlags). */
function extractBuilderFlags(line: string): { rest: string; words: string[] } {
  const words: string[] = [];
  let pos = 0;
  for (;;) {
    while (pos < line.length && isSpace(line[pos]!)) pos++;
    if (pos >= line.length) return { rest: '', words };
    if (!line.startsWith('--', pos)) return { rest: line.slice(pos), words };
    let word = '';
    let blankOK = false;
    let quote: string | null = null;
    while (pos < line.length) {
      const ch = line[pos]!;
      if (quote) {
        if (ch === quote) {
          quote = null;
        } else if (ch === '\\') {
          if (pos + 1 >= line.length) {
            quote = null;
          } else {
            word += line[++pos];
          }
        } else {
          word += ch;
        }
        pos++;
        continue;
      }
      if (isSpace(ch)) break;
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
      } else if (ch === '\\') {
        if (pos + 1 < line.length) word += line[++pos];
      } else {
        word += ch;
      }
      pos++;
    }
    if (word === '--') return { rest: line.slice(pos), words };
    if (blankOK || word.length > 0) words.push(word);
  }
}

function parseLines(text: string, file: string): { nodes: RawNode[]; directives: Directives; lines: string[] } {
  const lines = splitLines(text.startsWith('\ufeff') ? text.slice(1) : text);
  const directives: Directives = { escape: '\\' };
  const seenDirectives = new Set<string>();
  let directivesDone = false;
  let continuationRe = /([^\\])\\[ \t]*$|^\\[ \t]*$/;

  const fail = (line: number, reason: string): never => {
    throw new DockerfileError(file, line, reason);
  };

  /** BuildKit's DirectiveParser.ParseLine on every processed line until the first non-directive. */
  const possibleDirective = (lineText: string, lineNo: number) => {
    if (directivesDone) return;
    if (!lineText.startsWith('#')) {
      directivesDone = true;
      return;
    }
    const m = DIRECTIVE_RE.exec(trimLeftSpace(lineText.slice(1)));
    const key = m?.[1]?.toLowerCase();
    if (!m || !key || !KNOWN_DIRECTIVES.has(key)) {
      directivesDone = true;
      return;
    }
    if (seenDirectives.has(key)) fail(lineNo, `only one ${key} parser directive can be used`);
    seenDirectives.add(key);
    const value = m[2]!;
    if (key === 'escape') {
      if (value !== '`' && value !== '\\') fail(lineNo, `invalid escape token '${value}' does not match \` or \\`);
      directives.escape = value;
      const e = escapeRegExp(value);
      continuationRe = new RegExp(`([^${e}])${e}[ \\t]*$|^${e}[ \\t]*$`);
    } else if (key === 'syntax') {
      directives.syntax = value;
    }
  };

  /** Strip a trailing continuation token; returns [line, endOfInstruction]. */
  const trimContinuation = (s: string): [string, boolean] =>
    continuationRe.test(s) ? [s.replace(continuationRe, '$1'), false] : [s, true];

  const nodes: RawNode[] = [];
  let i = 0;
  while (i < lines.length) {
    const raw = lines[i]!;
    const lineNo = i + 1;
    i++;
    const first = trimLeftSpace(trimNewline(raw));
    possibleDirective(first, lineNo);
    const [head, endOfLine] = trimContinuation(isCommentLine(first) ? '' : first);
    let isEnd = endOfLine;
    if (isEnd && head === '') continue;
    let logical = head;
    while (!isEnd && i < lines.length) {
      const cont = trimNewline(lines[i]!);
      possibleDirective(cont, i + 1);
      i++;
      if (isCommentLine(cont)) continue;
      if (trimLeftSpace(cont) === '') continue;
      const [part, end] = trimContinuation(cont);
      logical += part;
      isEnd = end;
    }
    let endLine = i;

    const trimmed = trimSpace(logical);
    const split = RE_WHITESPACE.exec(trimmed);
    const cmd = split ? trimmed.slice(0, split.index) : trimmed;
    const afterCmd = split ? trimmed.slice(split.index + split[0].length) : '';
    const { rest, words } = extractBuilderFlags(afterCmd);
    const keyword = cmd.toUpperCase();

    const heredocs: Heredoc[] = [];
    if (logical.includes('<<') && canContainHeredoc(keyword, rest)) {
      for (const w of splitShellWords(logical)) {
        const h = parseHeredocWord(w);
        if (!h) continue;
        let content = '';
        let terminated = false;
        while (i < lines.length) {
          const body = lines[i]!;
          i++;
          let candidate = trimNewline(body);
          if (h.chomp) candidate = candidate.replace(/^\t+/, '');
          if (candidate === h.name) {
            terminated = true;
            break;
          }
          content += body;
        }
        if (!terminated) fail(lineNo, 'unterminated heredoc');
        heredocs.push({ ...h, content });
      }
      endLine = i;
    }

    nodes.push({ keyword, line: lineNo, endLine, original: logical, flagWords: words, rest: trimSpace(rest), heredocs });
  }
  if (nodes.length === 0) fail(lines.length || 1, 'file with no instructions');
  return { nodes, directives, lines };
}

/** ADD, COPY and RUN in shell form take heredocs, also as an ONBUILD trigger. */
function canContainHeredoc(keyword: string, rest: string): boolean {
  if (keyword === 'ONBUILD') {
    const m = RE_WHITESPACE.exec(rest);
    if (!m) return false;
    return canContainHeredoc(rest.slice(0, m.index).toUpperCase(), extractBuilderFlags(rest.slice(m.index + m[0].length)).rest);
  }
  return HEREDOC_KEYWORDS.has(keyword) && !isJsonArray(trimSpace(rest));
}

/** The parser's JSON form: a JSON array (of strings) and nothing else. */
function isJsonArray(rest: string): boolean {
  return parseJsonArray(rest) !== undefined;
}

/** Parse the JSON form; undefined if not JSON; throws LexError for a non-string array. */
function parseJsonArray(rest: string): string[] | undefined {
  const s = trimLeftSpace(rest);
  if (!s.startsWith('[')) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(s);
  } catch {
    return undefined;
  }
  if (!Array.isArray(v)) return undefined;
  if (!v.every((x): x is string => typeof x === 'string'))
    throw new LexError('when using JSON array syntax, arrays must be comprised of strings only');
  return v;
}

/** BuildKit parseWords: split on whitespace, keeping quotes and escapes for the lexer. */
function parseWords(rest: string, escape: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let blankOK = false;
  let quote: string | null = null;
  const chars = Array.from(rest);
  for (let p = 0; p < chars.length; p++) {
    let ch = chars[p]!;
    if (!inWord) {
      if (isSpace(ch)) continue;
      inWord = true;
    }
    if (quote === null) {
      if (isSpace(ch)) {
        if (blankOK || word.length > 0) words.push(word);
        word = '';
        blankOK = false;
        inWord = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
      }
      if (ch === escape) {
        if (p + 1 === chars.length) continue;
        word += ch;
        ch = chars[++p]!;
      }
      word += ch;
      continue;
    }
    if (ch === quote) quote = null;
    else if (ch === escape && quote !== "'") {
      if (p + 1 === chars.length) {
        quote = null;
        continue;
      }
      word += ch;
      ch = chars[++p]!;
    }
    word += ch;
  }
  if (inWord && (blankOK || word.length > 0)) words.push(word);
  return words;
}

// ---------------------------------------------------------------------------------------------
// Flags (BuildKit BFlags)
// ---------------------------------------------------------------------------------------------

type FlagType = 'bool' | 'string' | 'strings';
const FLAG_SPECS: Record<string, Record<string, FlagType>> = {
  FROM: { platform: 'string' },
  COPY: { chown: 'string', chmod: 'string', from: 'string', link: 'bool', parents: 'bool', exclude: 'strings' },
  ADD: {
    chown: 'string', chmod: 'string', link: 'bool', 'keep-git-dir': 'bool', checksum: 'string',
    exclude: 'strings', unpack: 'bool',
  },
  RUN: { mount: 'strings', network: 'string', security: 'string', device: 'strings' },
  HEALTHCHECK: {
    interval: 'string', timeout: 'string', 'start-period': 'string', 'start-interval': 'string', retries: 'string',
  },
  ARG: { required: 'bool' },
};
/** Instructions whose parser never looks at flags (they are silently ignored). */
const FLAGS_IGNORED = new Set(['STOPSIGNAL']);

function parseFlags(keyword: string, words: string[], healthNone: boolean): Record<string, string[]> {
  const flags: Record<string, string[]> = {};
  if (FLAGS_IGNORED.has(keyword) || (keyword === 'HEALTHCHECK' && healthNone)) return flags;
  const spec = FLAG_SPECS[keyword] ?? {};
  for (const word of words) {
    if (!word.startsWith('--')) throw new LexError(`arg should start with -- : ${word}`);
    if (word === '--') break;
    const body = word.slice(2);
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const value = eq >= 0 ? body.slice(eq + 1) : '';
    const type = spec[name];
    if (!type) throw new LexError(`unknown flag: ${name}`);
    if (flags[name] && type !== 'strings') throw new LexError(`duplicate flag specified: ${name}`);
    if (type === 'bool') {
      if (eq >= 0 && value === '') throw new LexError(`missing a value on flag: ${name}`);
      const lower = value.toLowerCase();
      if (lower !== '' && lower !== 'true' && lower !== 'false')
        throw new LexError(`expecting boolean value for flag ${name}, not: ${value}`);
      flags[name] = [lower === '' ? 'true' : lower];
    } else {
      if (eq < 0) throw new LexError(`missing a value on flag: ${name}`);
      (flags[name] ??= []).push(value);
    }
  }
  return flags;
}

// ---------------------------------------------------------------------------------------------
// Scopes: global ARGs, stage ARGs and ENVs
// ---------------------------------------------------------------------------------------------

/** ARGs the builder defines in the global scope; their values depend on the build. */
const BUILTIN_ARGS = [
  'TARGETPLATFORM', 'TARGETOS', 'TARGETARCH', 'TARGETVARIANT',
  'BUILDPLATFORM', 'BUILDOS', 'BUILDARCH', 'BUILDVARIANT', 'TARGETSTAGE',
];

interface StageScope {
  /** ENV values (inherited by child stages). undefined value = unknown. */
  env: Map<string, string | undefined>;
  /** ARG values of this stage: null = declared but unset; undefined = unknown. */
  args: Map<string, string | null | undefined>;
  /** What an undeclared variable is: unset (scratch-rooted stage) or unknown (image ENV). */
  baseKnown: boolean;
}

/** The values a RUN would see: ARGs with a value, then ENVs over them. */
function visibleVars(scope: StageScope): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const [k, v] of scope.args) if (v !== null) out[k] = v ?? null;
  for (const [k, v] of scope.env) out[k] = v ?? null;
  return out;
}

const STEP_KEYWORDS = new Set([
  'ADD', 'ARG', 'CMD', 'COPY', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'FROM', 'HEALTHCHECK', 'LABEL',
  'MAINTAINER', 'ONBUILD', 'RUN', 'SHELL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR',
]);

// ---------------------------------------------------------------------------------------------
// parseDockerfile
// ---------------------------------------------------------------------------------------------

/**
 * Parse a Dockerfile into a model of its stages and instructions.
 * Throws DockerfileError (file:line: reason) for what the builder rejects.
 */
export function parseDockerfile(text: string, file: string, options: ParseOptions = {}): DockerfileModel {
  const { nodes, directives, lines } = parseLines(text, file);
  const escape = directives.escape;
  const buildArgs = options.buildArgs;
  const has = (o: Record<string, string> | undefined, k: string): o is Record<string, string> =>
    o !== undefined && Object.prototype.hasOwnProperty.call(o, k);

  const globalVals = new Map<string, string | null | undefined>();
  for (const b of BUILTIN_ARGS) globalVals.set(b, has(buildArgs, b) ? buildArgs[b] : undefined);
  const globalLookup: Lookup = (name) => (globalVals.has(name) ? globalVals.get(name) : null);

  const globalArgs: Instruction[] = [];
  const stages: Stage[] = [];
  const scopes: StageScope[] = [];
  const all: Instruction[] = [];
  /** COPY --from values to settle once every stage is known (a stage may be named before it is defined). */
  const pendingFrom: CopyInstruction[] = [];

  for (const node of nodes) {
    const fail = (reason: string): never => {
      throw new DockerfileError(file, node.line, reason);
    };
    try {
      if (!STEP_KEYWORDS.has(node.keyword)) fail(`unknown instruction: ${node.keyword}`);
      const stageIndex = stages.length - 1;
      const inStage = stageIndex >= 0;
      if (!inStage && node.keyword !== 'ARG' && node.keyword !== 'FROM') fail('no build stage in current context');

      const scope = inStage ? scopes[stageIndex]! : undefined;
      const lookup: Lookup = scope
        ? (name) => {
            if (scope.env.has(name)) return scope.env.get(name);
            if (scope.args.has(name)) return scope.args.get(name);
            if (!scope.baseKnown || name === 'PATH') return undefined;
            return null;
          }
        : globalLookup;

      const base = {
        keyword: node.keyword,
        line: node.line,
        endLine: node.endLine,
        text: lines.slice(node.line - 1, node.endLine).map(trimNewline).join('\n'),
        original: node.original,
        stage: node.keyword === 'FROM' ? stages.length : stageIndex,
        json: false,
        heredocs: [] as { name: string; content: string }[],
        argsInScope: scope ? [...scope.args.keys()] : [],
        vars: scope ? visibleVars(scope) : {},
      };
      const unresolved: string[] = [];
      const expand = (word: string, lk: Lookup = lookup): string => {
        const r = lexWord(word, { escape, lookup: lk });
        for (const n of r.unresolved) if (!unresolved.includes(n)) unresolved.push(n);
        return r.value;
      };

      const healthNone = node.keyword === 'HEALTHCHECK' && /^none$/i.test(node.rest.split(RE_WHITESPACE)[0] ?? '');
      const flags = parseFlags(node.keyword, node.flagWords, healthNone);

      let ins: Instruction;
      switch (node.keyword) {
        case 'FROM': {
          const args = node.rest === '' ? [] : node.rest.split(RE_WHITESPACE);
          let name: string | undefined;
          if (args.length === 3 && args[1]!.toLowerCase() === 'as') {
            name = args[2]!.toLowerCase();
            if (!/^[a-z][a-z0-9-_.]*$/.test(name))
              fail(`invalid name for build stage: "${args[2]}", name can't start with a number or contain symbols`);
          } else if (args.length !== 1) {
            fail('FROM requires either one or three arguments');
          }
          const baseName = expand(args[0]!, globalLookup);
          const baseKnown = unresolved.length === 0;
          if (baseName === '' && baseKnown) fail(`base name (${args[0]}) should not be blank`);
          for (const k of Object.keys(flags)) flags[k] = flags[k]!.map((v) => expand(v, globalLookup));
          // Only an earlier stage, matched exactly: stage names are stored lower-case and an
          // upper-case base is taken as an image reference (observed on Docker 20.10).
          const parent = baseKnown ? lastIndexOf(stages, (s) => s.name === baseName) : undefined;
          ins = finish({ ...base, args: name ? [baseName, 'AS', name] : [baseName], flags, unresolved },
            { args: [baseName] });
          const parentScope = parent !== undefined ? scopes[parent]! : undefined;
          scopes.push({
            env: new Map(parentScope?.env),
            args: new Map(),
            baseKnown: parentScope ? parentScope.baseKnown : baseName.toLowerCase() === 'scratch',
          });
          stages.push({
            index: stages.length, name, base: baseName, baseStage: parent, platform: flags.platform?.[0],
            line: node.line, from: ins, instructions: [], dependsOn: parent !== undefined ? [parent] : [],
          });
          break;
        }
        case 'COPY':
        case 'ADD':
        {
          const built = buildCopy(node, base, flags, unresolved, expand, { lookup }, fail);
          ins = built.ins;
          if (built.fromKnown && built.ins.from !== undefined) pendingFrom.push(built.ins);
        }
          break;
        case 'ARG': {
          const words = parseWords(node.rest, escape);
          if (words.length === 0) fail('ARG requires at least one argument');
          const pairs: { key: string; value?: string }[] = [];
          for (const w of words) {
            const eq = w.indexOf('=');
            const key = eq >= 0 ? w.slice(0, eq) : w;
            if (key === '') fail('ARG names can not be blank');
            let value: string | null | undefined;
            if (has(buildArgs, key)) value = buildArgs[key];
            else if (eq >= 0) {
              const before = unresolved.length;
              value = expand(w.slice(eq + 1));
              if (unresolved.length > before) value = undefined;
            } else if (inStage && globalVals.has(key)) value = globalVals.get(key);
            else value = buildArgs ? null : undefined;
            if (inStage) scope!.args.set(key, value);
            else globalVals.set(key, value);
            const shown = value ?? (eq >= 0 ? w.slice(eq + 1) : undefined);
            pairs.push(shown === undefined ? { key } : { key, value: shown });
          }
          base.argsInScope = scope ? [...scope.args.keys()] : [];
          ins = finish({ ...base, args: pairs.map((p) => (p.value === undefined ? p.key : `${p.key}=${p.value}`)), flags, unresolved, pairs });
          break;
        }
        case 'ENV':
        case 'LABEL': {
          const pairs = parseNameVal(node.rest, node.keyword, escape).map(({ key, value }) => {
            const k = expand(key);
            const before = unresolved.length;
            const v = expand(value);
            if (node.keyword === 'ENV') scope!.env.set(k, unresolved.length > before ? undefined : v);
            return { key: k, value: v };
          });
          ins = finish({ ...base, args: pairs.map((p) => `${p.key}=${p.value}`), flags, unresolved, pairs });
          break;
        }
        case 'RUN':
        case 'CMD':
        case 'ENTRYPOINT':
        case 'SHELL': {
          const arr = parseJsonArray(node.rest);
          if (node.keyword === 'SHELL' && !arr) fail(`SHELL requires the arguments to be in JSON form`);
          if (node.keyword === 'SHELL' && arr!.length === 0) fail('SHELL requires at least one argument');
          const args = arr ?? (node.rest === '' ? [] : [node.rest]);
          const heredocs = node.heredocs.map((h) => ({ name: h.name, content: h.content }));
          ins = finish({ ...base, args, flags, unresolved, json: arr !== undefined, heredocs });
          if (node.keyword === 'RUN') noteMountDeps(flags, stages, stageIndex);
          break;
        }
        case 'HEALTHCHECK': {
          const [type = '', ...restWords] = node.rest.split(RE_WHITESPACE);
          const t = type.toUpperCase();
          if (node.rest === '') fail('HEALTHCHECK requires at least one argument');
          if (t === 'NONE') {
            if (restWords.length) fail('HEALTHCHECK NONE takes no arguments');
            ins = finish({ ...base, args: ['NONE'], flags, unresolved });
          } else if (t === 'CMD') {
            const cmdRest = trimSpace(node.rest.slice(type.length));
            const arr = parseJsonArray(cmdRest);
            const args = arr ?? (cmdRest === '' ? [] : [cmdRest]);
            if (args.length === 0) fail('Missing command after HEALTHCHECK CMD');
            ins = finish({ ...base, args: ['CMD', ...args], flags, unresolved, json: arr !== undefined });
          } else {
            ins = fail(`Unknown type "${type}" in HEALTHCHECK (try CMD)`);
          }
          break;
        }
        case 'ONBUILD': {
          if (node.rest === '') fail('ONBUILD requires at least one argument');
          const trigger = node.rest.split(RE_WHITESPACE)[0]!.toUpperCase();
          if (trigger === 'ONBUILD') fail('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
          if (trigger === 'MAINTAINER' || trigger === 'FROM') fail(`${trigger} isn't allowed as an ONBUILD trigger`);
          const heredocs = node.heredocs.map((h) => ({ name: h.name, content: h.content }));
          ins = finish({ ...base, args: [node.rest], flags, unresolved, heredocs });
          break;
        }
        case 'EXPOSE':
        case 'VOLUME': {
          const arr = node.keyword === 'VOLUME' ? parseJsonArray(node.rest) : undefined;
          const words = arr ?? (node.rest === '' ? [] : node.rest.split(RE_WHITESPACE));
          if (words.length === 0) fail(`${node.keyword} requires at least one argument`);
          const args = words.map((w) => expand(w));
          if (node.keyword === 'VOLUME' && args.some((a) => trimSpace(a) === '')) fail('VOLUME specified can not be an empty string');
          ins = finish({ ...base, args, flags, unresolved, json: arr !== undefined });
          break;
        }
        default: {
          // WORKDIR, USER, STOPSIGNAL, MAINTAINER: the rest of the line is one argument.
          if (node.rest === '') fail(`${node.keyword} requires exactly one argument`);
          const value = node.keyword === 'MAINTAINER' ? node.rest : expand(node.rest);
          ins = finish({ ...base, args: [value], flags, unresolved });
        }
      }

      all.push(ins);
      if (ins.keyword === 'FROM') continue;
      if (!inStage) globalArgs.push(ins);
      else stages[stageIndex]!.instructions.push(ins);
    } catch (e) {
      if (e instanceof LexError) throw new DockerfileError(file, node.line, e.message);
      throw e;
    }
  }

  if (stages.length === 0) throw new DockerfileError(file, undefined, 'dockerfile contains no stages to build (FROM missing)');
  for (const c of pendingFrom) resolveCopyFrom(c, stages, file);
  checkCycles(stages, file);
  for (const s of stages) s.dependsOn = [...new Set(s.dependsOn)].sort((a, b) => a - b);
  return { file, escape, ...(directives.syntax !== undefined ? { syntax: directives.syntax } : {}), globalArgs, stages, instructions: all };

  /** Record `RUN --mount=…,from=stage` dependencies. */
  function noteMountDeps(flags: Record<string, string[]>, stagesSoFar: Stage[], current: number) {
    for (const m of flags.mount ?? []) {
      for (const field of m.split(',')) {
        const [k, v] = field.split('=', 2);
        if (k?.trim().toLowerCase() !== 'from' || !v) continue;
        const idx = resolveStageRef(v.trim(), stagesSoFar);
        if (idx !== undefined && idx !== current) stagesSoFar[current]!.dependsOn.push(idx);
      }
    }
  }
}

/**
 * The stage a `--from` value names: a number is an index, otherwise a stage name, compared
 * case-insensitively; with duplicate names the last stage wins, as in BuildKit's name table.
 */
function resolveStageRef(ref: string, stages: Stage[]): number | undefined {
  if (/^\d+$/.test(ref)) {
    const n = Number(ref);
    return n < stages.length ? n : undefined;
  }
  const lower = ref.toLowerCase();
  return lastIndexOf(stages, (s) => s.name === lower);
}

function lastIndexOf<T>(items: T[], pred: (item: T) => boolean): number | undefined {
  for (let i = items.length - 1; i >= 0; i--) if (pred(items[i]!)) return i;
  return undefined;
}

/**
 * Settle a `COPY --from`: a number is a stage index (it must exist), a name is looked up among
 * all stages (case-insensitive), anything else is an external image.
 */
function resolveCopyFrom(c: CopyInstruction, stages: Stage[], file: string): void {
  const ref = c.from!;
  let idx: number | undefined;
  if (/^\d+$/.test(ref)) {
    idx = Number(ref);
    if (idx >= stages.length) throw new DockerfileError(file, c.line, `invalid stage index ${ref}`);
  } else {
    idx = resolveStageRef(ref, stages);
  }
  if (idx === undefined) return;
  if (idx === c.stage) throw new DockerfileError(file, c.line, `circular dependency detected on stage: ${stages[idx]!.name ?? idx}`);
  c.fromStage = idx;
  for (const s of c.sources) if (s.kind === 'image') s.kind = 'stage';
  stages[c.stage]!.dependsOn.push(idx);
}

/** The builder rejects stages that depend on each other in a cycle. */
function checkCycles(stages: Stage[], file: string): void {
  const state = new Array<number>(stages.length).fill(0); // 0 new, 1 visiting, 2 done
  const visit = (i: number): void => {
    if (state[i] === 2) return;
    if (state[i] === 1) throw new DockerfileError(file, stages[i]!.line, `circular dependency detected on stage: ${stages[i]!.name ?? i}`);
    state[i] = 1;
    for (const d of stages[i]!.dependsOn) visit(d);
    state[i] = 2;
  };
  stages.forEach((_, i) => visit(i));
}

type InstructionDraft = Omit<Instruction, 'key'>;

/** Attach the canonical key. `keyParts` overrides what enters the key (FROM leaves out the stage alias). */
function finish<T extends InstructionDraft>(draft: T, keyParts: Partial<Pick<Instruction, 'args'>> = {}): T & { key: string } {
  const flagNames = Object.keys(draft.flags).sort();
  const key = JSON.stringify([
    draft.keyword,
    flagNames.map((n) => [n, draft.flags[n]]),
    keyParts.args ?? draft.args,
    draft.json,
    draft.heredocs.map((h) => [h.name, h.content]),
  ]);
  return { ...draft, key };
}

/** ENV/LABEL pairs (BuildKit parseNameVal): `k=v …` or the legacy `k v`. Words keep quotes for the lexer. */
function parseNameVal(rest: string, keyword: string, escape: string): { key: string; value: string }[] {
  const words = parseWords(rest, escape);
  if (words.length === 0) throw new LexError(`${keyword} requires at least one argument`);
  if (!words[0]!.includes('=')) {
    const parts = rest.split(RE_WHITESPACE);
    if (parts.length < 2) throw new LexError(`${keyword} must have two arguments`);
    const m = RE_WHITESPACE.exec(rest)!;
    const key = parts[0]!;
    if (key === '') throw new LexError(`${keyword} names can not be blank`);
    return [{ key, value: rest.slice(m.index + m[0].length) }];
  }
  return words.map((w) => {
    const eq = w.indexOf('=');
    if (eq < 0) throw new LexError(`Syntax error - can't find = in "${w}". Must be of the form: name=value`);
    const key = w.slice(0, eq);
    if (key === '') throw new LexError(`${keyword} names can not be blank`);
    return { key, value: w.slice(eq + 1) };
  });
}

// ---------------------------------------------------------------------------------------------
// COPY / ADD
// ---------------------------------------------------------------------------------------------

const URL_RE = /^https?:\/\//i;
const GIT_SCHEME_RE = /^(git|ssh):\/\//i;
const GIT_SCP_RE = /^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:/;

/**
 * ADD's remote sources: a git repository (`git@host:…`, `git://`, `ssh://`, or an HTTP(S) URL
 * whose path ends in `.git`, optionally with a `#ref`) or any other HTTP(S) download.
 */
function remoteKind(src: string): 'http' | 'git' | undefined {
  if (GIT_SCHEME_RE.test(src) || GIT_SCP_RE.test(src)) return 'git';
  if (!URL_RE.test(src)) return undefined;
  const path = src.split('#', 1)[0]!.replace(/^https?:\/\/[^/]*/i, '').replace(/\?.*$/, '');
  return path.endsWith('.git') ? 'git' : 'http';
}

function buildCopy(
  node: RawNode,
  base: Omit<InstructionDraft, 'args' | 'flags' | 'unresolved'>,
  flags: Record<string, string[]>,
  unresolved: string[],
  expand: (w: string) => string,
  lex: { lookup: Lookup },
  fail: (reason: string) => never,
): { ins: CopyInstruction; fromKnown: boolean } {
  const keyword = node.keyword as 'COPY' | 'ADD';
  const json = parseJsonArray(node.rest);
  const words = json ?? (node.rest === '' ? [] : node.rest.split(RE_WHITESPACE));
  if (words.length < 2)
    fail(`${keyword} requires at least two arguments, but only one was provided. Destination could not be determined.`);

  // Flag values are substituted like the arguments.
  let fromUnresolved: string[] = [];
  for (const k of Object.keys(flags)) {
    if (k === 'link' || k === 'parents' || k === 'keep-git-dir' || k === 'unpack') continue;
    const before = unresolved.length;
    flags[k] = flags[k]!.map((v) => expand(v));
    if (k === 'from') fromUnresolved = unresolved.slice(before);
  }
  const fromRaw = flags.from?.[0];

  const destWord = words[words.length - 1]!;
  if (!json && parseHeredocWord(destWord)) fail(`${keyword} cannot accept a heredoc as a destination`);
  const heredocByName = new Map(node.heredocs.map((h) => [h.name, h]));
  const heredocs: { name: string; content: string }[] = [];
  const sources: CopySource[] = [];
  for (const word of words.slice(0, -1)) {
    const h = json ? undefined : parseHeredocWord(word);
    if (h) {
      const doc = heredocByName.get(h.name);
      let content = doc?.content ?? '';
      if (h.chomp) content = content.replace(/^\t+/gm, '');
      if (h.expand) {
        const r = lexWord(content, { escape: '\\', skipQuotes: true, lookup: lex.lookup });
        for (const n of r.unresolved) if (!unresolved.includes(n)) unresolved.push(n);
        content = r.value;
      }
      heredocs.push({ name: h.name, content });
      sources.push({ raw: word, kind: 'heredoc', path: h.name, wildcard: false });
      continue;
    }
    const before = unresolved.length;
    const raw = expand(word);
    const srcUnresolved = [...new Set([...fromUnresolved, ...unresolved.slice(before)])];
    const remote = keyword === 'ADD' && fromRaw === undefined ? remoteKind(raw) : undefined;
    if (keyword === 'COPY' && URL_RE.test(raw)) fail("source can't be a URL for COPY");
    if (remote) {
      sources.push({ raw, kind: 'remote', path: '', wildcard: false, remote });
      continue;
    }
    const path = cleanRelative(raw);
    const wildcard = containsWildcards(path);
    if (wildcard && unresolved.length === before) {
      const bad = patternError(path);
      if (bad) fail(`invalid source pattern "${raw}": ${bad}`);
    }
    // Stage or image: settled once every stage is known (see resolveCopyFrom). With an unknown
    // --from value it stays 'image' and the source lists the --from variables as unresolved.
    const kind: SourceKind = fromRaw === undefined ? 'context' : 'image';
    const src: CopySource = { raw, kind, path, wildcard };
    if (srcUnresolved.length) src.unresolved = srcUnresolved;
    sources.push(src);
  }
  const dest = expand(destWord);
  const args = [...sources.map((s) => s.raw), dest];
  const draft = {
    ...base,
    keyword,
    args,
    flags,
    unresolved,
    json: json !== undefined,
    heredocs,
  };
  const ins = finish(draft);
  const last = (k: string) => flags[k]?.[flags[k]!.length - 1];
  const out: CopyInstruction = {
    ...ins,
    keyword,
    sources,
    dest,
    link: last('link') === 'true',
    parents: last('parents') === 'true',
    exclude: flags.exclude ?? [],
  };
  if (fromRaw !== undefined) out.from = fromRaw;
  if (flags.chmod) out.chmod = last('chmod')!;
  if (flags.chown) out.chown = last('chown')!;
  return { ins: out, fromKnown: fromUnresolved.length === 0 };
}

// ---------------------------------------------------------------------------------------------
// Paths and patterns
// ---------------------------------------------------------------------------------------------

/** Go path.Clean of `/` + p, made relative: '.', 'src', 'src/*.txt' — a source can never leave the context. */
export function cleanRelative(p: string): string {
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
 * `exclude` (the instruction's `--exclude` patterns) is matched against the path relative to the
 * source: the source directory for a plain source, the context root for '.', and the directory
 * before the first wildcard segment for a wildcard source (so `--exclude=*.txt hom*` drops
 * `home.txt`, as documented). A plain source itself is never excluded by its own patterns.
 */
export function sourceCovers(source: CopySource, path: string, exclude: string[] = []): 'self' | 'below' | null {
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
  const base = source.wildcard ? wildcardBase(src) : src;
  const rel = p === '.' ? '' : relativeTo(base, p);
  if (rel === '') return verdict;
  return isExcluded(compileExcludes(exclude), rel) ? null : verdict;
}
