/**
 * Go (RE2, Perl flags) regexp → an equivalent JavaScript `u` regexp source. The ignore matchers of every
 * builder compile each pattern into a Go regexp (moby/patternmatcher, fsutil, Buildah's fileutils); this
 * turns that regexp into one JavaScript runs the same way, and fails where Go's regexp.Compile fails, with
 * its message. The parsing steps follow Go's regexp/syntax parser (parse.go: parseEscape,
 * parseUnicodeClass, parseClass, parsePerlClassEscape, repeat), one method each.
 */

/** A regexp Go's regexp.Compile rejects; the message is Go's. */
export class GoRegexpError extends Error {}

const POSIX_CLASSES: Readonly<Record<string, string>> = {
  alnum: '0-9A-Za-z', alpha: 'A-Za-z', ascii: '\\u{0}-\\u{7f}', blank: '\\u{9}\\u{20}', cntrl: '\\u{0}-\\u{1f}\\u{7f}',
  digit: '0-9', graph: '\\u{21}-\\u{7e}', lower: 'a-z', print: '\\u{20}-\\u{7e}',
  punct: '\\u{21}-\\u{2f}\\u{3a}-\\u{40}\\u{5b}-\\u{60}\\u{7b}-\\u{7e}', space: '\\u{9}-\\u{d}\\u{20}', upper: 'A-Z',
  word: '0-9A-Za-z_', xdigit: '0-9A-Fa-f',
};
/** Go's Perl classes (ASCII only); `S` etc. are their complements. */
const PERL_CLASSES: Readonly<Record<string, string>> = { d: '0-9', s: '\\u{9}\\u{a}\\u{c}\\u{d}\\u{20}', w: '0-9A-Za-z_' };

function jsChar(cp: number): string {
  const c = String.fromCodePoint(cp);
  return /^[0-9A-Za-z_]$/.test(c) ? c : `\\u{${cp.toString(16)}}`;
}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isOctal = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '7';
const isHex = (c: string | undefined): boolean => c !== undefined && /^[0-9A-Fa-f]$/.test(c);
const isAsciiAlnum = (c: string): boolean => /^[0-9A-Za-z]$/.test(c);

/**
 * Translate a Go regexp into a JavaScript `u` regexp source. Covers the whole syntax a builder-generated
 * source can contain; throws GoRegexpError where Go's regexp.Compile fails.
 */
export function goRegexpToJs(src: string): string {
  return new GoRegexpTranslator(src).translate();
}

/** One pass over a Go regexp, writing the JavaScript source as it goes. */
class GoRegexpTranslator {
  /** The source, one code point per element. */
  private readonly s: string[];
  private i = 0;
  private out = '';
  /** Open groups. */
  private depth = 0;
  /** Whether what was written last can take a repetition operator, and whether it was one. */
  private canRepeat = false;
  private lastWasRepeat = false;

  constructor(src: string) {
    this.s = Array.from(src);
  }

  translate(): string {
    const { s } = this;
    while (this.i < s.length) {
      const c = s[this.i]!;
      switch (c) {
        case '(':
          if (s[this.i + 1] === '?') throw new GoRegexpError('unsupported group flags');
          this.i++;
          this.depth++;
          this.operator('(?:');
          break;
        case ')':
          if (this.depth === 0) throw new GoRegexpError('unexpected )');
          this.i++;
          this.depth--;
          this.atom(')');
          break;
        case '|':
          this.i++;
          this.operator('|');
          break;
        case '*':
        case '+':
        case '?':
          this.i++;
          this.repeat(c);
          break;
        case '{':
          this.braces();
          break;
        case '^':
          this.i++;
          this.atom('(?:^)');
          break;
        case '$':
          this.i++;
          this.atom('(?:$)');
          break;
        case '.':
          this.i++;
          this.atom('[^\\n]');
          break;
        case '[':
          this.atom(this.charClass());
          break;
        case '\\':
          this.backslash();
          break;
        default:
          this.i++;
          this.atom(jsChar(c.codePointAt(0)!));
      }
    }
    if (this.depth > 0) throw new GoRegexpError('missing closing )');
    return this.out;
  }

  /** Writes an atom: something a repetition operator may follow. */
  private atom(js: string): void {
    this.out += js;
    this.canRepeat = true;
    this.lastWasRepeat = false;
  }

  /** Writes a group opening or an alternation: nothing to repeat after it. */
  private operator(js: string): void {
    this.out += js;
    this.canRepeat = false;
    this.lastWasRepeat = false;
  }

  /** A repetition operator (`*`, `+`, `?`, `{n,m}`), with its non-greedy `?`. */
  private repeat(op: string): void {
    if (this.lastWasRepeat) throw new GoRegexpError(`invalid nested repetition operator: ${op}`);
    if (!this.canRepeat) throw new GoRegexpError(`missing argument to repetition operator: ${op}`);
    if (this.s[this.i] === '?') {
      op += '?';
      this.i++;
    }
    this.out += op;
    this.lastWasRepeat = true;
  }

  /** `{n}`, `{n,}`, `{n,m}` is a repetition; anything else is a literal '{'. `i` is at the '{'. */
  private braces(): void {
    const { s } = this;
    let j = this.i + 1;
    let min = '';
    while (isDigit(s[j])) min += s[j++];
    let max: string | undefined = min;
    if (min !== '' && s[j] === ',') {
      j++;
      max = '';
      while (isDigit(s[j])) max += s[j++];
    }
    if (min !== '' && s[j] === '}') {
      const lo = Number(min);
      const hi = max === '' ? -1 : Number(max);
      if (lo > 1000 || hi > 1000 || (hi >= 0 && hi < lo)) throw new GoRegexpError('invalid repeat count');
      this.i = j + 1;
      this.repeat(`{${min}${max === min ? '' : `,${max}`}}`);
    } else {
      this.i++;
      this.atom('\\{');
    }
  }

  /** What follows a backslash outside a class: an assertion, `\Q…\E`, a class, or an escaped character. */
  private backslash(): void {
    const { s } = this;
    const e = s[this.i + 1];
    if (e === undefined) throw new GoRegexpError('trailing backslash at end of expression');
    if (e === 'A' || e === 'z') {
      this.i += 2;
      this.atom(e === 'A' ? '(?:^)' : '(?:$)');
    } else if (e === 'b' || e === 'B') {
      this.i += 2;
      this.atom(`(?:\\${e})`);
    } else if (e === 'Q') {
      this.i += 2;
      let lit = '';
      while (this.i < s.length && !(s[this.i] === '\\' && s[this.i + 1] === 'E')) lit += jsChar(s[this.i++]!.codePointAt(0)!);
      if (this.i < s.length) this.i += 2;
      if (lit !== '') this.atom(`(?:${lit})`);
    } else if (e === 'p' || e === 'P') {
      this.i++;
      this.atom(`[${this.unicodeClass()}]`);
    } else if ('dDsSwW'.includes(e)) {
      this.i += 2;
      const body = PERL_CLASSES[e.toLowerCase()]!;
      this.atom(e === e.toLowerCase() ? `[${body}]` : `[^${body}]`);
    } else {
      this.i++;
      this.atom(jsChar(this.escapeChar()));
    }
  }

  /** A single escaped character (Go parseEscape); `i` is just after the backslash. */
  private escapeChar(): number {
    const { s } = this;
    const c = s[this.i];
    if (c === undefined) throw new GoRegexpError('trailing backslash at end of expression');
    this.i++;
    if (c.length === 1 && c.charCodeAt(0) < 0x80 && !isAsciiAlnum(c)) return c.charCodeAt(0);
    switch (c) {
      case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': {
        // A single non-zero digit would be a backreference, which Go does not support.
        if (c !== '0' && !isOctal(s[this.i])) throw new GoRegexpError(`invalid escape sequence: \\${c}`);
        let v = Number(c);
        for (let n = 0; n < 2 && isOctal(s[this.i]); n++) v = v * 8 + Number(s[this.i++]);
        return v;
      }
      case 'x': {
        if (s[this.i] === '{') {
          this.i++;
          let hex = '';
          while (isHex(s[this.i])) hex += s[this.i++];
          if (s[this.i] !== '}' || hex === '' || parseInt(hex, 16) > 0x10ffff) throw new GoRegexpError('invalid escape sequence: \\x{');
          this.i++;
          return parseInt(hex, 16);
        }
        if (!isHex(s[this.i]) || !isHex(s[this.i + 1])) throw new GoRegexpError('invalid escape sequence: \\x');
        const v = parseInt(s[this.i]! + s[this.i + 1]!, 16);
        this.i += 2;
        return v;
      }
      case 'a': return 7;
      case 'f': return 12;
      case 'n': return 10;
      case 'r': return 13;
      case 't': return 9;
      case 'v': return 11;
      default:
        throw new GoRegexpError(`invalid escape sequence: \\${c}`);
    }
  }

  /** `\pL`, `\p{Greek}`, `\PL`, `\p{^L}` as a JS class body (Go parseUnicodeClass); `i` is at the 'p'/'P'. */
  private unicodeClass(): string {
    const { s } = this;
    let negate = s[this.i] === 'P';
    this.i++;
    let name: string;
    if (s[this.i] === '{') {
      const end = s.indexOf('}', this.i);
      if (end < 0) throw new GoRegexpError('invalid character class range: \\p{');
      name = s.slice(this.i + 1, end).join('');
      this.i = end + 1;
    } else {
      if (s[this.i] === undefined) throw new GoRegexpError('invalid character class range: \\p');
      name = s[this.i++]!;
    }
    if (name.startsWith('^')) {
      negate = !negate;
      name = name.slice(1);
    }
    if (name === 'Any') return negate ? '' : '\\u{0}-\\u{10ffff}';
    const candidates = /^[A-Z][a-z]?$/.test(name) ? [name] : [`Script=${name}`];
    for (const c of candidates) {
      const js = `\\${negate ? 'P' : 'p'}{${c}}`;
      try {
        new RegExp(js, 'u');
        return js;
      } catch {
        /* not a JavaScript property name */
      }
    }
    throw new GoRegexpError(`invalid character class range: \\p{${name}}`);
  }

  /** A bracket expression (Go parseClass); `i` is at '['. Returns a JS atom. */
  private charClass(): string {
    const { s } = this;
    this.i++;
    let negated = false;
    if (s[this.i] === '^') {
      negated = true;
      this.i++;
    }
    const pos: string[] = []; // bodies of positive JS classes (or \p{..} atoms)
    const neg: string[] = []; // bodies whose complement is a member
    let first = true;
    while (first || s[this.i] !== ']') {
      if (this.i >= s.length) throw new GoRegexpError('missing closing ]');
      first = false;
      if (s[this.i] === '[' && s[this.i + 1] === ':' && this.posixClass(pos, neg)) continue;
      if (s[this.i] === '\\' && (s[this.i + 1] === 'p' || s[this.i + 1] === 'P')) {
        this.i++;
        pos.push(this.unicodeClass());
        continue;
      }
      if (s[this.i] === '\\' && s[this.i + 1] !== undefined && 'dDsSwW'.includes(s[this.i + 1]!)) {
        const c = s[this.i + 1]!;
        this.i += 2;
        const body = PERL_CLASSES[c.toLowerCase()]!;
        (c === c.toLowerCase() ? pos : neg).push(body);
        continue;
      }
      const lo = this.classChar();
      let hi = lo;
      if (s[this.i] === '-' && s[this.i + 1] !== undefined && s[this.i + 1] !== ']') {
        this.i++;
        hi = this.classChar();
        if (hi < lo) throw new GoRegexpError('invalid character class range');
      }
      pos.push(lo === hi ? jsChar(lo) : `${jsChar(lo)}-${jsChar(hi)}`);
    }
    this.i++; // ']'
    // Inside a JavaScript class the complement of a set cannot be united with others: use alternation then.
    if (neg.length === 0) return `[${negated ? '^' : ''}${pos.join('')}]`;
    const union = `(?:${[...(pos.length > 0 ? [`[${pos.join('')}]`] : []), ...neg.map((b) => `[^${b}]`)].join('|')})`;
    return negated ? `(?:(?!${union})[\\u{0}-\\u{10ffff}])` : union;
  }

  /**
   * A POSIX class `[:name:]` or `[:^name:]` inside a bracket expression (`i` at its '['), added to `pos`
   * or `neg`; false (nothing read) when no `:]` closes it, so that the '[' is an ordinary character.
   */
  private posixClass(pos: string[], neg: string[]): boolean {
    const { s } = this;
    let end = this.i + 2;
    while (end + 1 < s.length && !(s[end] === ':' && s[end + 1] === ']')) end++;
    if (end + 1 >= s.length) return false;
    let name = s.slice(this.i + 2, end).join('');
    const inverted = name.startsWith('^');
    if (inverted) name = name.slice(1);
    const body = POSIX_CLASSES[name];
    if (body === undefined) throw new GoRegexpError(`invalid character class range: [:${name}:]`);
    (inverted ? neg : pos).push(body);
    this.i = end + 2;
    return true;
  }

  /** One character of a bracket expression, escaped or not. */
  private classChar(): number {
    const c = this.s[this.i];
    if (c === undefined) throw new GoRegexpError('missing closing ]');
    this.i++;
    if (c === '\\') return this.escapeChar();
    return c.codePointAt(0)!;
  }
}
