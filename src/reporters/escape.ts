/**
 * Control characters never reach a terminal or a markdown page raw: every string of a report rendered as
 * text or markdown goes through `escapeControls` (core/names.ts) first, so a file named `a\nb` cannot forge
 * an extra line and one named `\e[31m` cannot colour the terminal; bytes of a name that is not UTF-8 show as
 * `\xff`. One pass over the report, at the one place reports are rendered, so that every reporter (and every
 * future one) is covered. JSON is not escaped this way: it is exact (JSON.stringify escapes controls itself).
 */
import { escapeControls } from '../core/names.js';

const NEEDS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u{dc80}-\u{dcff}]/u;

/**
 * Fields that are several lines by design (a doctor finding's suggested fix): their newlines stay, each
 * line's other control characters are escaped.
 */
const MULTILINE_KEYS = new Set(['fix']);

function escapeLines(s: string): string {
  return s.split('\n').map((line) => (NEEDS.test(line) ? escapeControls(line) : line)).join('\n');
}

/** `v` with every string in it (values and keys) escaped; parts with nothing to escape are shared, not copied. */
export function escapeReport<T>(v: T): T {
  return escapeValue(v, new Map()) as T;
}

function escapeValue(v: unknown, seen: Map<object, unknown>): unknown {
  if (typeof v === 'string') return NEEDS.test(v) ? escapeControls(v) : v;
  if (typeof v !== 'object' || v === null) return v;
  const done = seen.get(v);
  if (done !== undefined) return done;
  seen.set(v, v); // cycles (none expected) end at the original
  let out: unknown = v;
  if (Array.isArray(v)) {
    let copy: unknown[] | null = null;
    for (let i = 0; i < v.length; i++) {
      const e = escapeValue(v[i], seen);
      if (e !== v[i]) (copy ??= v.slice())[i] = e;
    }
    if (copy) out = copy;
  } else if (v instanceof Map) {
    let changed = false;
    const m = new Map();
    for (const [k, x] of v) {
      const ek = escapeValue(k, seen);
      const ex = escapeValue(x, seen);
      if (ek !== k || ex !== x) changed = true;
      m.set(ek, ex);
    }
    if (changed) out = m;
  } else if (v instanceof Set) {
    let changed = false;
    const s = new Set();
    for (const x of v) {
      const ex = escapeValue(x, seen);
      if (ex !== x) changed = true;
      s.add(ex);
    }
    if (changed) out = s;
  } else {
    const proto = Object.getPrototypeOf(v);
    if (proto === Object.prototype || proto === null) {
      let copy: Record<string, unknown> | null = null;
      const src = v as Record<string, unknown>;
      for (const k of Object.keys(src)) {
        const ek = NEEDS.test(k) ? escapeControls(k) : k;
        const ex = MULTILINE_KEYS.has(k) && typeof src[k] === 'string' ? escapeLines(src[k]) : escapeValue(src[k], seen);
        if (ek !== k || ex !== src[k]) {
          if (copy === null) {
            copy = Object.create(proto) as Record<string, unknown>;
            for (const k2 of Object.keys(src)) {
              if (k2 === k) break;
              copy[k2] = src[k2];
            }
          }
        }
        if (copy !== null) copy[ek] = ex;
      }
      if (copy) out = copy;
    }
  }
  seen.set(v, out);
  return out;
}
