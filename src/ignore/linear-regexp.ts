/**
 * Regexp matching in linear time, as Go's regexp (RE2) matches: the builders match ignore patterns with Go's
 * regexp, whose time is linear in the length of the path times the size of the pattern; JavaScript's
 * backtracking engine is exponential on the same regexps (a repeated `**` becomes a repeated optional group
 * `(?:.*SLASH)?`, fatal on a deep path; `*a*a*a*b`; `(a+)+` where a variant leaves `+` and `(` live).
 *
 * `linearTester` takes the JavaScript `u` source go-regexp.ts writes (a known subset: `(?:`…`)`, `|`,
 * quantifiers, `(?:^)`, `(?:$)`, `(?:\b)`, classes, literals, and single-character lookahead classes) and
 * returns a tester with RegExp.test's answer. A regexp that cannot backtrack much (at most one unbounded
 * repetition, no counted one, few alternatives) runs on V8's own engine, which is faster there; every other
 * one is compiled into a Thompson NFA and simulated one code point at a time (the Pike VM, without captures:
 * a set of states per position), in O(path length × NFA size).
 */

/** NFA state kinds. */
const CHAR = 0, SPLIT = 1, ASSERT = 2, MATCH = 3;
/** Assertions. */
const A_BEGIN = 0, A_END = 1, A_WORD = 2, A_NOT_WORD = 3;

type Node =
  | { k: 'char'; test: (cp: number) => boolean }
  | { k: 'assert'; a: number }
  | { k: 'cat'; items: Node[] }
  | { k: 'alt'; items: Node[] }
  | { k: 'rep'; item: Node; min: number; max: number /* -1: unbounded */ };

/** Largest NFA built (counted repetitions are expanded); Go's own limit on a regexp's size is of this order. */
const MAX_STATES = 200_000;

class Parser {
  private i = 0;
  constructor(private readonly s: string, private readonly flags: string) {}

  parse(): Node {
    const n = this.alt();
    if (this.i !== this.s.length) throw new SyntaxError(`linear regexp: unexpected ${this.s[this.i]} at ${this.i}`);
    return n;
  }

  private alt(): Node {
    const items = [this.cat()];
    while (this.s[this.i] === '|') {
      this.i++;
      items.push(this.cat());
    }
    return items.length === 1 ? items[0]! : { k: 'alt', items };
  }

  private cat(): Node {
    const items: Node[] = [];
    while (this.i < this.s.length && this.s[this.i] !== '|' && this.s[this.i] !== ')') {
      let atom = this.atom();
      for (;;) {
        const q = this.quantifier();
        if (q === null) break;
        atom = { k: 'rep', item: atom, min: q.min, max: q.max };
      }
      items.push(atom);
    }
    return items.length === 1 ? items[0]! : { k: 'cat', items };
  }

  private quantifier(): { min: number; max: number } | null {
    const { s } = this;
    const c = s[this.i];
    let q: { min: number; max: number } | null = null;
    if (c === '*') q = { min: 0, max: -1 };
    else if (c === '+') q = { min: 1, max: -1 };
    else if (c === '?') q = { min: 0, max: 1 };
    else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(s.slice(this.i));
      if (!m) return null;
      const min = Number(m[1]);
      const max = m[2] === undefined ? min : m[3] === '' ? -1 : Number(m[3]);
      this.i += m[0].length - 1;
      q = { min, max };
    }
    if (q === null) return null;
    this.i++;
    if (s[this.i] === '?') this.i++; // laziness does not change whether there is a match
    return q;
  }

  private atom(): Node {
    const { s } = this;
    const c = s[this.i]!;
    if (c === '(') {
      if (s.startsWith('(?:(?!', this.i)) {
        // A single-character class with exclusions: (?:(?!X)[range]), tested on one code point.
        const end = this.groupEnd(this.i);
        const src = s.slice(this.i, end);
        this.i = end;
        return this.charNode(src);
      }
      for (const [text, a] of [['(?:^)', A_BEGIN], ['(?:$)', A_END], ['(?:\\b)', A_WORD], ['(?:\\B)', A_NOT_WORD]] as const) {
        if (s.startsWith(text, this.i)) {
          this.i += text.length;
          return { k: 'assert', a };
        }
      }
      this.i += s.startsWith('(?:', this.i) ? 3 : 1;
      const inner = this.alt();
      if (s[this.i] !== ')') throw new SyntaxError('linear regexp: missing )');
      this.i++;
      return inner;
    }
    if (c === '^') {
      this.i++;
      return { k: 'assert', a: A_BEGIN };
    }
    if (c === '$') {
      this.i++;
      return { k: 'assert', a: A_END };
    }
    if (c === '[') {
      const end = this.classEnd(this.i);
      const src = s.slice(this.i, end);
      this.i = end;
      return this.charNode(src);
    }
    if (c === '.') {
      this.i++;
      return this.charNode('.');
    }
    if (c === '\\') {
      const m = /^\\(u\{[0-9a-fA-F]+\}|[pP]\{[^}]*\}|.)/su.exec(s.slice(this.i))!;
      this.i += m[0].length;
      if (m[1] === 'b') return { k: 'assert', a: A_WORD };
      if (m[1] === 'B') return { k: 'assert', a: A_NOT_WORD };
      return this.charNode(m[0]);
    }
    const cp = s.codePointAt(this.i)!;
    this.i += cp > 0xffff ? 2 : 1;
    const own = this.flags.includes('i') ? null : cp;
    return own !== null ? { k: 'char', test: (x) => x === own } : this.charNode(String.fromCodePoint(cp));
  }

  /** The end of the class starting at `at` (`[`), just past its `]`. */
  private classEnd(at: number): number {
    const { s } = this;
    let i = at + 1;
    if (s[i] === '^') i++;
    for (; i < s.length; i++) {
      if (s[i] === '\\') i++;
      else if (s[i] === ']') return i + 1;
    }
    throw new SyntaxError('linear regexp: unterminated class');
  }

  /** The end of the group starting at `at` (`(`), just past its `)`. */
  private groupEnd(at: number): number {
    const { s } = this;
    let depth = 0;
    for (let i = at; i < s.length; i++) {
      const c = s[i];
      if (c === '\\') i++;
      else if (c === '[') i = this.classEnd(i) - 1;
      else if (c === '(') depth++;
      else if (c === ')' && --depth === 0) return i + 1;
    }
    throw new SyntaxError('linear regexp: missing )');
  }

  /** A one-code-point atom tested by V8 (linear: the input is one code point), with its answers cached. */
  private charNode(src: string): Node {
    const re = new RegExp(`^(?:${src})$`, this.flags);
    const cache = new Map<number, boolean>();
    return {
      k: 'char',
      test: (cp) => {
        let v = cache.get(cp);
        if (v === undefined) {
          v = re.test(String.fromCodePoint(cp));
          if (cache.size < 4096) cache.set(cp, v);
        }
        return v;
      },
    };
  }
}

/** A compiled NFA: parallel arrays by state. */
class Nfa {
  kind: number[] = [];
  out1: number[] = [];
  out2: number[] = [];
  arg: number[] = [];
  tests: ((cp: number) => boolean)[] = [];

  add(kind: number, out1 = -1, out2 = -1, arg = 0, test?: (cp: number) => boolean): number {
    if (this.kind.length >= MAX_STATES) throw new SyntaxError('linear regexp: pattern too large');
    this.kind.push(kind);
    this.out1.push(out1);
    this.out2.push(out2);
    this.arg.push(arg);
    this.tests.push(test ?? noTest);
    return this.kind.length - 1;
  }
}

const noTest = (): boolean => false;

/**
 * Compiles `n` so that it continues at state `next`; returns its first state. Built back to front, so
 * every state's successors exist when it is made.
 */
function build(nfa: Nfa, n: Node, next: number): number {
  switch (n.k) {
    case 'char':
      return nfa.add(CHAR, next, -1, 0, n.test);
    case 'assert':
      return nfa.add(ASSERT, next, -1, n.a);
    case 'cat': {
      let at = next;
      for (let i = n.items.length - 1; i >= 0; i--) at = build(nfa, n.items[i]!, at);
      return at;
    }
    case 'alt': {
      let at = build(nfa, n.items[n.items.length - 1]!, next);
      for (let i = n.items.length - 2; i >= 0; i--) at = nfa.add(SPLIT, build(nfa, n.items[i]!, next), at);
      return at;
    }
    case 'rep': {
      let at = next;
      if (n.max === -1) {
        // A loop: split → (item → back to the split) | next.
        const loop = nfa.add(SPLIT, -1, next);
        nfa.out1[loop] = build(nfa, n.item, loop);
        at = loop;
      } else {
        // Each optional copy, innermost first: split → item → (the next copy) | next.
        for (let i = n.max - n.min; i > 0; i--) at = nfa.add(SPLIT, build(nfa, n.item, at), next);
      }
      for (let i = 0; i < n.min; i++) at = build(nfa, n.item, at);
      return at;
    }
  }
}

const isWord = (cp: number): boolean =>
  (cp >= 48 && cp <= 57) || (cp >= 65 && cp <= 90) || (cp >= 97 && cp <= 122) || cp === 95;

/** Runs the NFA over `input` (RegExp.test semantics: a match anywhere). */
function simulate(nfa: Nfa, start: number, input: string): boolean {
  const { kind, out1, out2, arg, tests } = nfa;
  const n = kind.length;
  let cur = new Int32Array(n);
  let next = new Int32Array(n);
  let curLen = 0;
  let nextLen = 0;
  const mark = new Int32Array(n).fill(-1);
  const stack = new Int32Array(n + 1);
  let gen = 0;
  let prevCp = -1;
  let i = 0;
  const len = input.length;

  /** Adds the closure of `s` at the current position to `next` (CHAR states) ; true when MATCH is reached. */
  const addClosure = (s0: number, cp: number): boolean => {
    let sp = 0;
    stack[sp++] = s0;
    while (sp > 0) {
      const s = stack[--sp]!;
      if (s < 0 || mark[s] === gen) continue;
      mark[s] = gen;
      switch (kind[s]) {
        case MATCH:
          return true;
        case CHAR:
          next[nextLen++] = s;
          break;
        case SPLIT:
          stack[sp++] = out2[s]!;
          stack[sp++] = out1[s]!;
          break;
        case ASSERT: {
          const a = arg[s]!;
          const ok =
            a === A_BEGIN ? i === 0
            : a === A_END ? i === len
            : (isWord(prevCp) !== isWord(cp)) === (a === A_WORD);
          if (ok) stack[sp++] = out1[s]!;
          break;
        }
      }
    }
    return false;
  };

  for (;;) {
    const cp = i < len ? input.codePointAt(i)! : -1;
    // The states reached at position i: those carried over from the last step, plus a fresh start.
    gen++;
    nextLen = 0;
    for (let k = 0; k < curLen; k++) if (addClosure(out1[cur[k]!]!, cp)) return true;
    if (addClosure(start, cp)) return true;
    if (i >= len) return false;
    // Step over the code point at i.
    const t = cur;
    cur = next;
    next = t;
    curLen = 0;
    for (let k = 0; k < nextLen; k++) {
      const s = cur[k]!;
      if (tests[s]!(cp)) cur[curLen++] = s;
    }
    prevCp = cp;
    i += cp > 0xffff ? 2 : 1;
  }
}

/** Unbounded repetitions, counted repetitions and alternatives in a source (outside classes). */
function backtrackingRisk(src: string): { loops: number; counted: number; alternatives: number } {
  let loops = 0, counted = 0, alternatives = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') {
      i++;
      if (src[i] === 'u' && src[i + 1] === '{') i = src.indexOf('}', i);
    } else if (c === '[') {
      i++;
      if (src[i] === '^') i++;
      for (; i < src.length && src[i] !== ']'; i++) if (src[i] === '\\') i++;
    } else if (c === '*' || c === '+') loops++;
    else if (c === '|') alternatives++;
    else if (c === '{' && /^\{\d+(,\d*)?\}/.test(src.slice(i))) {
      if (/^\{\d+,\}/.test(src.slice(i))) loops++;
      counted++;
    } else if (c === '?' && src[i - 1] !== '(') alternatives++;
  }
  return { loops, counted, alternatives };
}

/** Whether V8's backtracking engine is safe on `src`: at most one loop, nothing counted, few alternatives. */
export function backtracksSafely(src: string): boolean {
  const r = backtrackingRisk(src);
  return r.loops <= 1 && r.counted === 0 && r.alternatives <= 4;
}

/**
 * A tester for a JavaScript `u` regexp source written by goRegexpToJs: RegExp.test's answer, in time linear
 * in the input's length. `force` ('nfa') always simulates the NFA (tests compare both engines).
 * Throws SyntaxError where `new RegExp(src, flags)` would.
 */
export function linearTester(src: string, flags = 'u', force?: 'nfa'): (input: string) => boolean {
  const re = new RegExp(src, flags); // the same errors as before, and V8's engine where it is safe
  if (force !== 'nfa' && backtracksSafely(src)) return (input) => re.test(input);
  const ast = new Parser(src, flags).parse();
  const nfa = new Nfa();
  const match = nfa.add(MATCH);
  const start = build(nfa, ast, match);
  return (input) => simulate(nfa, start, input);
}
