/**
 * File names as bytes, kept in strings. Linux names are bytes, not text: a name that is not valid UTF-8
 * (`x\xff`) is as real as any, the builder sends it, and two such names differ when their bytes differ.
 * ctxdiff keeps `path: string` everywhere and represents names losslessly, as Python's `surrogateescape`
 * does: each byte of a name that is not part of valid UTF-8 becomes a lone surrogate U+DC80–U+DCFF (byte
 * 0x80–0xFF). Valid UTF-8 decodes as usual, so every UTF-8 name is its own string; `encodeName` gives the
 * raw bytes back, for file-system calls, the snapshot's path bytes and tar names.
 *
 * In JSON such a name shows its escapes exactly (`"x\udcff"`, what JSON.stringify writes for a lone
 * surrogate); text and markdown show them as `\xff` (see `escapeControls`).
 */

/** Whether `s` is well-formed UTF-16 (no lone surrogates): then it is plain UTF-8 text as a name. */
export function isPlainName(s: string): boolean {
  return (s as unknown as { isWellFormed(): boolean }).isWellFormed();
}

/**
 * A name from its bytes (`buf[start, end)`), undecodable bytes as U+DC80–U+DCFF. Valid UTF-8 takes the
 * fast path (the platform decoder); only a name with an invalid sequence is decoded byte by byte.
 */
export function decodeName(buf: Uint8Array, start = 0, end = buf.length): string {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const fast = b.toString('utf8', start, end);
  if (!fast.includes('\uFFFD')) return fast;
  return decodeSlow(b, start, end);
}

function decodeSlow(b: Uint8Array, start: number, end: number): string {
  let out = '';
  let i = start;
  while (i < end) {
    const c = b[i]!;
    if (c < 0x80) {
      out += String.fromCharCode(c);
      i++;
      continue;
    }
    // The length of a valid sequence starting here (0: none), by the rules of RFC 3629 (no overlongs,
    // no surrogates, nothing above U+10FFFF).
    let n = 0;
    let cp = 0;
    if (c >= 0xc2 && c <= 0xdf) (n = 2), (cp = c & 0x1f);
    else if (c >= 0xe0 && c <= 0xef) (n = 3), (cp = c & 0x0f);
    else if (c >= 0xf0 && c <= 0xf4) (n = 4), (cp = c & 0x07);
    if (n > 0 && i + n <= end) {
      let ok = true;
      for (let k = 1; k < n; k++) {
        const cc = b[i + k]!;
        if ((cc & 0xc0) !== 0x80) {
          ok = false;
          break;
        }
        cp = (cp << 6) | (cc & 0x3f);
      }
      if (ok && ((n === 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (n === 4 && (cp < 0x10000 || cp > 0x10ffff)))) ok = false;
      if (ok) {
        out += String.fromCodePoint(cp);
        i += n;
        continue;
      }
    }
    out += String.fromCharCode(0xdc00 + c);
    i++;
  }
  return out;
}

/** The bytes of a name (see decodeName): escapes back to their bytes, everything else UTF-8. */
export function encodeName(s: string): Buffer {
  if (isPlainName(s)) return Buffer.from(s, 'utf8');
  const parts: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const cp = s.codePointAt(i)!;
    if (cp >= 0xdc80 && cp <= 0xdcff) {
      parts.push(cp - 0xdc00);
      continue;
    }
    if (cp > 0xffff) i++;
    for (const byte of Buffer.from(String.fromCodePoint(cp), 'utf8')) parts.push(byte);
  }
  return Buffer.from(parts);
}

/** Bytes of a name once encoded (see encodeName). */
export function encodedLength(s: string): number {
  return isPlainName(s) ? Buffer.byteLength(s, 'utf8') : encodeName(s).length;
}

/** What to give a file-system call for a path: the string itself, or its bytes when it holds escapes. */
export function fsPath(s: string): string | Buffer {
  return isPlainName(s) ? s : encodeName(s);
}

/** A name from a string that holds one byte per character (latin1: tar headers read as bytes). */
export function nameFromLatin1(s: string): string {
  // ASCII (the usual case) is the same string either way.
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return decodeName(Buffer.from(s, 'latin1'));
  return s;
}

/**
 * A string from the user's tree (a name, a Dockerfile line) or a message quoting one, as text and markdown
 * show it: C0 and C1 controls, DEL, the line and paragraph separators and the escaped bytes of a name that
 * is not UTF-8 become C escapes (`\n`, `\t`, `\x1b`, `\xff`), so that it can neither forge a line nor
 * drive the terminal. Everything else is shown as it is.
 */
export function escapeControls(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u{dc80}-\u{dcff}]/gu, (ch) => {
    const c = ch.charCodeAt(0);
    if (ch === '\n') return '\\n';
    if (ch === '\t') return '\\t';
    if (ch === '\r') return '\\r';
    if (c >= 0xdc80 && c <= 0xdcff) return `\\x${(c - 0xdc00).toString(16)}`;
    if (c === 0x2028 || c === 0x2029) return `\\u${c.toString(16)}`;
    return `\\x${c.toString(16).padStart(2, '0')}`;
  });
}
