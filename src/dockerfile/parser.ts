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
 *
 * The model's types are in model.ts; the shell-word lexer in shell-lexer.ts; COPY/ADD source paths and
 * patterns in path-patterns.ts.
 */
import { DockerfileError } from '../core/errors.js';
import type { CopyInstruction, CopySource, DockerfileModel, Instruction, RunMount, SourceKind, Stage } from './model.js';
import { cleanRelative, containsWildcards, patternError } from './path-patterns.js';
import { escapeRegExp, isSpace, LexError, lexWord, RE_WHITESPACE, splitShellWords, trimLeftSpace, trimSpace, type Lookup } from './shell-lexer.js';

export interface ParseOptions {
  /**
   * The complete set of `--build-arg` values of the build. When given, an ARG without default
   * that is not listed here is known to be unset; when omitted, such an ARG is unknown.
   */
  buildArgs?: Record<string, string>;
  /** Build args that are set, to a value not known here (recorded only as a hash): their ARGs are unknown. */
  opaqueArgs?: readonly string[];
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

/** What the instruction parsers share while one Dockerfile is read. */
interface ParseState {
  file: string;
  escape: string;
  /** The build's --build-arg values, when the complete set is known. */
  buildArgs: Record<string, string> | undefined;
  opaqueArgs: Set<string>;
  /** Global ARG values (builtin ARGs included): null = declared but unset; undefined = unknown. */
  globalVals: Map<string, string | null | undefined>;
  globalLookup: Lookup;
  stages: Stage[];
  scopes: StageScope[];
  /** COPY --from values to settle once every stage is known (a stage may be named before it is defined). */
  pendingFrom: CopyInstruction[];
}

/** One instruction being parsed: its raw node, the fields every instruction has, and its expansion. */
interface NodeContext {
  state: ParseState;
  node: RawNode;
  base: Omit<InstructionDraft, 'args' | 'flags' | 'unresolved'>;
  flags: Record<string, string[]>;
  /** Variables left unresolved by `expand` so far. */
  unresolved: string[];
  /** Substitutes variables in a word as the instruction sees them (or with another lookup). */
  expand: (word: string, lk?: Lookup) => string;
  lookup: Lookup;
  /** The current stage's scope; undefined before the first FROM. */
  scope: StageScope | undefined;
  stageIndex: number;
  fail: (reason: string) => never;
}

const hasKey = (o: Record<string, string> | undefined, k: string): o is Record<string, string> =>
  o !== undefined && Object.prototype.hasOwnProperty.call(o, k);

/**
 * Parse a Dockerfile into a model of its stages and instructions.
 * Throws DockerfileError (file:line: reason) for what the builder rejects.
 */
export function parseDockerfile(text: string, file: string, options: ParseOptions = {}): DockerfileModel {
  const { nodes, directives, lines } = parseLines(text, file);
  const buildArgs = options.buildArgs;
  const globalVals = new Map<string, string | null | undefined>();
  for (const b of BUILTIN_ARGS) globalVals.set(b, hasKey(buildArgs, b) ? buildArgs[b] : undefined);
  const state: ParseState = {
    file,
    escape: directives.escape,
    buildArgs,
    opaqueArgs: new Set(options.opaqueArgs ?? []),
    globalVals,
    globalLookup: (name) => (globalVals.has(name) ? globalVals.get(name) : null),
    stages: [],
    scopes: [],
    pendingFrom: [],
  };
  const { stages } = state;
  const globalArgs: Instruction[] = [];
  const all: Instruction[] = [];

  for (const node of nodes) {
    try {
      const c = nodeContext(state, node, lines);
      const ins = (INSTRUCTION_PARSERS[node.keyword] ?? parseSingleArgument)(c);
      all.push(ins);
      if (ins.keyword === 'FROM') continue;
      if (c.scope === undefined) globalArgs.push(ins);
      else stages[c.stageIndex]!.instructions.push(ins);
    } catch (e) {
      if (e instanceof LexError) throw new DockerfileError(file, node.line, e.message);
      throw e;
    }
  }

  if (stages.length === 0) throw new DockerfileError(file, undefined, 'dockerfile contains no stages to build (FROM missing)');
  for (const c of state.pendingFrom) resolveCopyFrom(c, stages, file);
  checkCycles(stages, file);
  for (const s of stages) s.dependsOn = [...new Set(s.dependsOn)].sort((a, b) => a - b);
  return { file, escape: state.escape, ...(directives.syntax !== undefined ? { syntax: directives.syntax } : {}), globalArgs, stages, instructions: all };
}

/** The context an instruction is parsed in: the scope it sees, its common fields, its flags. */
function nodeContext(state: ParseState, node: RawNode, lines: string[]): NodeContext {
  const fail = (reason: string): never => {
    throw new DockerfileError(state.file, node.line, reason);
  };
  if (!STEP_KEYWORDS.has(node.keyword)) fail(`unknown instruction: ${node.keyword}`);
  const stageIndex = state.stages.length - 1;
  const scope = stageIndex >= 0 ? state.scopes[stageIndex]! : undefined;
  if (scope === undefined && node.keyword !== 'ARG' && node.keyword !== 'FROM') fail('no build stage in current context');
  const lookup: Lookup = scope
    ? (name) => {
        if (scope.env.has(name)) return scope.env.get(name);
        if (scope.args.has(name)) return scope.args.get(name);
        if (!scope.baseKnown || name === 'PATH') return undefined;
        return null;
      }
    : state.globalLookup;
  const base = {
    keyword: node.keyword,
    line: node.line,
    endLine: node.endLine,
    text: lines.slice(node.line - 1, node.endLine).map(trimNewline).join('\n'),
    original: node.original,
    stage: node.keyword === 'FROM' ? state.stages.length : stageIndex,
    json: false,
    heredocs: [] as { name: string; content: string }[],
    argsInScope: scope ? [...scope.args.keys()] : [],
    vars: scope ? visibleVars(scope) : {},
  };
  const unresolved: string[] = [];
  const expand = (word: string, lk: Lookup = lookup): string => {
    const r = lexWord(word, { escape: state.escape, lookup: lk });
    for (const n of r.unresolved) if (!unresolved.includes(n)) unresolved.push(n);
    return r.value;
  };
  const healthNone = node.keyword === 'HEALTHCHECK' && /^none$/i.test(node.rest.split(RE_WHITESPACE)[0] ?? '');
  const flags = parseFlags(node.keyword, node.flagWords, healthNone);
  return { state, node, base, flags, unresolved, expand, lookup, scope, stageIndex, fail };
}

/** Parsers per keyword (BuildKit instructions.ParseInstruction); the rest take one argument. */
const INSTRUCTION_PARSERS: Record<string, (c: NodeContext) => Instruction> = {
  FROM: parseFrom,
  COPY: parseCopyOrAdd,
  ADD: parseCopyOrAdd,
  ARG: parseArg,
  ENV: parseEnvOrLabel,
  LABEL: parseEnvOrLabel,
  RUN: parseCommand,
  CMD: parseCommand,
  ENTRYPOINT: parseCommand,
  SHELL: parseCommand,
  HEALTHCHECK: parseHealthcheck,
  ONBUILD: parseOnbuild,
  EXPOSE: parseWordList,
  VOLUME: parseWordList,
};

/** FROM: opens a stage, with the scope it inherits from a parent stage. */
function parseFrom(c: NodeContext): Instruction {
  const { node, base, flags, unresolved, expand, fail, state } = c;
  const { stages, scopes, globalLookup } = state;
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
  const ins = finish({ ...base, args: name ? [baseName, 'AS', name] : [baseName], flags, unresolved }, { args: [baseName] });
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
  return ins;
}

function parseCopyOrAdd(c: NodeContext): Instruction {
  const built = buildCopy(c.node, c.base, c.flags, c.unresolved, c.expand, { lookup: c.lookup }, c.fail);
  if (built.fromKnown && built.ins.from !== undefined) c.state.pendingFrom.push(built.ins);
  return built.ins;
}

/** ARG: declares names in the global scope (before the first FROM) or the stage's, with their values. */
function parseArg(c: NodeContext): Instruction {
  const { node, base, flags, unresolved, expand, fail, scope, state } = c;
  const { buildArgs, globalVals } = state;
  const words = parseWords(node.rest, state.escape);
  if (words.length === 0) fail('ARG requires at least one argument');
  const pairs: { key: string; value?: string }[] = [];
  const argValues: NonNullable<Instruction['argValues']> = [];
  for (const w of words) {
    const eq = w.indexOf('=');
    const key = eq >= 0 ? w.slice(0, eq) : w;
    if (key === '') fail('ARG names can not be blank');
    let value: string | null | undefined;
    const opaque = state.opaqueArgs.has(key);
    if (opaque) value = undefined;
    else if (hasKey(buildArgs, key)) value = buildArgs[key];
    else if (eq >= 0) {
      const before = unresolved.length;
      value = expand(w.slice(eq + 1));
      if (unresolved.length > before) value = undefined;
    } else if (scope && globalVals.has(key)) value = globalVals.get(key);
    else value = buildArgs ? null : undefined;
    if (scope) scope.args.set(key, value);
    else globalVals.set(key, value);
    const shown = value ?? (eq >= 0 ? w.slice(eq + 1) : undefined);
    pairs.push(shown === undefined ? { key } : { key, value: shown });
    argValues.push({ key, value, fromBuildArg: opaque || hasKey(buildArgs, key) });
  }
  base.argsInScope = scope ? [...scope.args.keys()] : [];
  // The step's key is the declaration as written: a build arg's value is an input of the RUN steps after it
  // (see analysis/verdicts.ts), not of the ARG, which changes no file (a COPY after it stays cached).
  const args = pairs.map((p) => (p.value === undefined ? p.key : `${p.key}=${p.value}`));
  return finish({ ...base, args, flags, unresolved, pairs, argValues }, { args: words });
}

function parseEnvOrLabel(c: NodeContext): Instruction {
  const { node, base, flags, unresolved, expand, scope } = c;
  const pairs = parseNameVal(node.rest, node.keyword, c.state.escape).map(({ key, value }) => {
    const k = expand(key);
    const before = unresolved.length;
    const v = expand(value);
    if (node.keyword === 'ENV') scope!.env.set(k, unresolved.length > before ? undefined : v);
    return { key: k, value: v };
  });
  return finish({ ...base, args: pairs.map((p) => `${p.key}=${p.value}`), flags, unresolved, pairs });
}

/** RUN, CMD, ENTRYPOINT, SHELL: exec (JSON) or shell form, heredocs. */
function parseCommand(c: NodeContext): Instruction {
  const { node, base, flags, unresolved, fail } = c;
  const arr = parseJsonArray(node.rest);
  if (node.keyword === 'SHELL' && !arr) fail(`SHELL requires the arguments to be in JSON form`);
  if (node.keyword === 'SHELL' && arr!.length === 0) fail('SHELL requires at least one argument');
  const args = arr ?? (node.rest === '' ? [] : [node.rest]);
  const heredocs = node.heredocs.map((h) => ({ name: h.name, content: h.content }));
  const ins = finish({ ...base, args, flags, unresolved, json: arr !== undefined, heredocs });
  if (node.keyword === 'RUN' && flags.mount) {
    ins.mounts = flags.mount.map((spec) => parseMount(spec, c));
    noteMountDeps(ins.mounts, c.state.stages, c.stageIndex);
  }
  return ins;
}

const MOUNT_TYPES = new Set(['bind', 'cache', 'tmpfs', 'secret', 'ssh']);
const MOUNT_KEYS: Record<string, string> = {
  type: 'type', source: 'source', src: 'source', target: 'target', dst: 'target', destination: 'target',
  from: 'from', rw: 'rw', readwrite: 'rw', ro: 'ro', readonly: 'ro',
};

/**
 * One `--mount` value (BuildKit parseMount): comma-separated `key=value` fields, keys case-insensitive, each
 * value substituted with the variables the RUN sees; `type` defaults to `bind`. Fields that do not concern
 * the cache key (id, sharing, mode, uid, gid, size, required, env) are checked only for the shape.
 */
function parseMount(spec: string, c: NodeContext): RunMount {
  const fields: Record<string, string> = {};
  const unresolved: string[] = [];
  for (const field of spec.split(',')) {
    if (field === '') continue;
    const eq = field.indexOf('=');
    const rawKey = (eq < 0 ? field : field.slice(0, eq)).trim().toLowerCase();
    const key = MOUNT_KEYS[rawKey] ?? rawKey;
    let value = eq < 0 ? '' : field.slice(eq + 1);
    if (eq >= 0 && key !== 'type') {
      const before = c.unresolved.length;
      value = c.expand(value);
      unresolved.push(...c.unresolved.slice(before));
    }
    fields[key] = value;
  }
  const type = (fields.type ?? 'bind').toLowerCase();
  if (!MOUNT_TYPES.has(type)) throw new LexError(`unsupported mount type "${type}"`);
  const readwrite = 'rw' in fields && !/^(false|0)$/i.test(fields.rw!);
  const m: RunMount = { type, spec, source: cleanRelative(fields.source ?? '.'), readwrite };
  if (fields.target !== undefined) m.target = fields.target;
  if (fields.from !== undefined && fields.from !== '') m.from = fields.from;
  if (unresolved.length) m.unresolved = [...new Set(unresolved)];
  return m;
}

/** Settle `RUN --mount=…,from=stage` (an earlier stage, by name or index) and record the dependency. */
function noteMountDeps(mounts: RunMount[], stagesSoFar: Stage[], current: number): void {
  for (const m of mounts) {
    if (m.from === undefined || m.unresolved?.length) continue;
    const idx = resolveStageRef(m.from, stagesSoFar);
    if (idx !== undefined && idx !== current) {
      m.fromStage = idx;
      stagesSoFar[current]!.dependsOn.push(idx);
    }
  }
}

function parseHealthcheck(c: NodeContext): Instruction {
  const { node, base, flags, unresolved, fail } = c;
  const [type = '', ...restWords] = node.rest.split(RE_WHITESPACE);
  const t = type.toUpperCase();
  if (node.rest === '') fail('HEALTHCHECK requires at least one argument');
  if (t === 'NONE') {
    if (restWords.length) fail('HEALTHCHECK NONE takes no arguments');
    return finish({ ...base, args: ['NONE'], flags, unresolved });
  }
  if (t === 'CMD') {
    const cmdRest = trimSpace(node.rest.slice(type.length));
    const arr = parseJsonArray(cmdRest);
    const args = arr ?? (cmdRest === '' ? [] : [cmdRest]);
    if (args.length === 0) fail('Missing command after HEALTHCHECK CMD');
    return finish({ ...base, args: ['CMD', ...args], flags, unresolved, json: arr !== undefined });
  }
  return fail(`Unknown type "${type}" in HEALTHCHECK (try CMD)`);
}

function parseOnbuild(c: NodeContext): Instruction {
  const { node, base, flags, unresolved, fail } = c;
  if (node.rest === '') fail('ONBUILD requires at least one argument');
  const trigger = node.rest.split(RE_WHITESPACE)[0]!.toUpperCase();
  if (trigger === 'ONBUILD') fail('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
  if (trigger === 'MAINTAINER' || trigger === 'FROM') fail(`${trigger} isn't allowed as an ONBUILD trigger`);
  const heredocs = node.heredocs.map((h) => ({ name: h.name, content: h.content }));
  return finish({ ...base, args: [node.rest], flags, unresolved, heredocs });
}

/** EXPOSE, VOLUME: a list of words (VOLUME also in JSON form). */
function parseWordList(c: NodeContext): Instruction {
  const { node, base, flags, unresolved, expand, fail } = c;
  const arr = node.keyword === 'VOLUME' ? parseJsonArray(node.rest) : undefined;
  const words = arr ?? (node.rest === '' ? [] : node.rest.split(RE_WHITESPACE));
  if (words.length === 0) fail(`${node.keyword} requires at least one argument`);
  const args = words.map((w) => expand(w));
  if (node.keyword === 'VOLUME' && args.some((a) => trimSpace(a) === '')) fail('VOLUME specified can not be an empty string');
  return finish({ ...base, args, flags, unresolved, json: arr !== undefined });
}

/** WORKDIR, USER, STOPSIGNAL, MAINTAINER: the rest of the line is one argument. */
function parseSingleArgument(c: NodeContext): Instruction {
  const { node, base, flags, unresolved, expand, fail } = c;
  if (node.rest === '') fail(`${node.keyword} requires exactly one argument`);
  const value = node.keyword === 'MAINTAINER' ? node.rest : expand(node.rest);
  return finish({ ...base, args: [value], flags, unresolved });
}

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
