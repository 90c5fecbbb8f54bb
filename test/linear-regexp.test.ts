/** ignore/linear-regexp.ts: the NFA gives RegExp.test's answer, in linear time. */
import { describe, expect, it } from 'vitest';
import { goRegexpToJs } from '../src/ignore/go-regexp.js';
import { backtracksSafely, linearTester } from '../src/ignore/linear-regexp.js';

describe('linearTester', () => {
  it('agrees with V8 on glob-made and hand-made regexps over many inputs', () => {
    const sources = [
      '^(.*/)?[^/]*\\.pyc$', '^a(.*/)?(.*/)?b$', '^[^/]*a[^/]*b$', '^(a+)+b$', '^(a|ab)(c|bcd)(d*)$', '^x{2,4}y?$',
      '^[[:alpha:]]+[0-9]{0,2}$', '^\\d+\\.\\w*$', '^(?:foo|bar)/.*$', '^a\\b.*$', '^[^a]b$', '^(x*)*$', '^.?.?.?$',
      '^\\pL+$', '^[^\\p{Greek}/]+$', '^(?i)$', '^x$|^y', 'a|b', '^$',
    ];
    const inputs = ['', 'a', 'b', 'ab', 'aab', 'a/b', 'x/y/a/b', 'foo/x', 'bar', 'abcd', 'abcdd', 'xx', 'xxxxy', 'abc12', 'a.b',
      '12.x', 'Ωmega', 'ωx', 'ba', 'a b', 'x.pyc', 'd/e/x.pyc', 'xyz', 'y', '💀', 'aaaaaaaaaaaaaaaaaaab'];
    for (const go of sources) {
      let js: string;
      try {
        js = goRegexpToJs(go);
      } catch {
        continue; // not a Go regexp: nothing to compare
      }
      const re = new RegExp(js, 'u');
      const nfa = linearTester(js, 'u', 'nfa');
      for (const s of inputs) expect(nfa(s), `${go} on ${JSON.stringify(s)}`).toBe(re.test(s));
    }
  });

  it('is linear where backtracking is exponential: 20 ** on a 40-deep path, (a+)+b on 5000 a', () => {
    const deep = Array.from({ length: 40 }, () => 'd').join('/') + '/x';
    const stars = goRegexpToJs('^' + '(.*/)?'.repeat(20) + 'c$');
    expect(backtracksSafely(stars)).toBe(false);
    const t0 = performance.now();
    expect(linearTester(stars)(deep)).toBe(false);
    expect(linearTester(goRegexpToJs('^(a+)+b$'))('a'.repeat(5000))).toBe(false);
    expect(linearTester(goRegexpToJs('^' + '[^/]*a'.repeat(12) + 'b$'))('a'.repeat(250))).toBe(false);
    expect(performance.now() - t0).toBeLessThan(5000);
  });
});
