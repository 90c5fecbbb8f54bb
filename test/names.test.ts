/** core/names.ts: names as bytes in strings (surrogateescape), and their escaping for text output. */
import { describe, expect, it } from 'vitest';
import { decodeName, encodeName, escapeControls, fsPath, isPlainName, nameFromLatin1 } from '../src/core/names.js';

/** A deterministic stream of byte strings, biased towards UTF-8 lead and continuation bytes. */
function* byteStrings(count: number): Generator<Buffer> {
  let x = 12345;
  const next = () => (x = (x * 1103515245 + 12345) >>> 0) >>> 8;
  const pool = [0x61, 0x2f, 0x80, 0xbf, 0xc2, 0xc3, 0xdf, 0xe0, 0xe2, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff, 0xa0, 0x9f, 0x00 + 0x7f];
  for (let i = 0; i < count; i++) {
    const n = 1 + (next() % 8);
    yield Buffer.from(Array.from({ length: n }, () => (next() % 3 === 0 ? next() % 256 : pool[next() % pool.length]!)));
  }
}

describe('decodeName / encodeName', () => {
  it('round-trips every byte string exactly, and valid UTF-8 decodes as the platform decodes it', () => {
    for (const b of byteStrings(20_000)) {
      const s = decodeName(b);
      expect(encodeName(s).equals(b), b.toString('hex')).toBe(true);
      const utf8 = b.toString('utf8');
      if (Buffer.from(utf8, 'utf8').equals(b)) expect(s).toBe(utf8);
    }
  });

  it('maps each undecodable byte to U+DC80+byte, as surrogateescape: truncated, overlong, surrogate and too-large sequences', () => {
    expect(decodeName(Buffer.from('78ff', 'hex'))).toBe('x\udcff');
    expect(decodeName(Buffer.from('e282', 'hex'))).toBe('\udce2\udc82'); // truncated
    expect(decodeName(Buffer.from('c0af', 'hex'))).toBe('\udcc0\udcaf'); // overlong '/'
    expect(decodeName(Buffer.from('eda080', 'hex'))).toBe('\udced\udca0\udc80'); // an encoded surrogate
    expect(decodeName(Buffer.from('f4908080', 'hex'))).toBe('\udcf4\udc90\udc80\udc80'); // above U+10FFFF
    expect(decodeName(Buffer.from('efbfbd', 'hex'))).toBe('\ufffd'); // a real U+FFFD stays one
    expect(decodeName(Buffer.from('f09f9280', 'hex'))).toBe('💀');
  });

  it('isPlainName / fsPath: plain names stay strings, escaped ones become their bytes', () => {
    expect(isPlainName('é/x')).toBe(true);
    expect(fsPath('é/x')).toBe('é/x');
    expect(fsPath('d\udcff/x')).toEqual(Buffer.from('64ff2f78', 'hex'));
    expect(nameFromLatin1('x\xfe')).toBe('x\udcfe');
    expect(nameFromLatin1(Buffer.from('é').toString('latin1'))).toBe('é');
  });
});

describe('escapeControls', () => {
  it('escapes C0/C1 controls, DEL, separators and escaped bytes; leaves the rest (astral characters included)', () => {
    expect(escapeControls('a\nb\tc\rd\x1b[31m\x7f\x85\u2028')).toBe('a\\nb\\tc\\rd\\x1b[31m\\x7f\\x85\\u2028');
    expect(escapeControls('x\udcff')).toBe('x\\xff');
    expect(escapeControls('💀 é "q" \\')).toBe('💀 é "q" \\');
  });
});
