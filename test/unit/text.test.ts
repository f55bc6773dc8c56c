// Unit tests of shared/text.ts: the double-encoded UTF-8 repair and the userAgent quote rule
// (docs/contract.md, "Text repair").
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeLatin1AsUtf8, repairText, unquote } from '../../shared/text.ts';

/** Encodes a string as UTF-8 and reads the bytes back as Latin-1, `times` times: mojibake made on purpose. */
function mojibake(s: string, times: number): string {
  let out = s;
  for (let i = 0; i < times; i++) out = Buffer.from(out, 'utf8').toString('latin1');
  return out;
}

describe('repairText', () => {
  test('the mojibake helper builds the strings the contract talks about', () => {
    // Prepare / Act
    const once = mojibake('Alizée', 1);
    const twice = mojibake('Alizée', 2);

    // Assess
    assert.equal(once, 'AlizÃ©e');
    assert.equal(twice, 'Aliz\u00c3\u0083\u00c2\u00a9e');
  });

  test('repairs text encoded twice', () => {
    // Prepare
    const input = 'Aliz\u00c3\u0083\u00c2\u00a9e';

    // Act
    const repaired = repairText(input);

    // Assess
    assert.equal(repaired, 'Alizée');
  });

  test('repairs text encoded once', () => {
    assert.equal(repairText('AlizÃ©e'), 'Alizée');
    assert.equal(repairText('S\u00c3\u00a3o Paulo'), 'São Paulo');
    assert.equal(repairText(mojibake('Beyoncé', 1)), 'Beyoncé');
  });

  test('repairs three rounds of encoding', () => {
    // Prepare
    const input = mojibake('Les Blés', 3);
    assert.notEqual(input, 'Les Blés');

    // Act / Assess
    assert.equal(repairText(input), 'Les Blés');
  });

  test('takes at most 3 rounds: a fourth layer stays', () => {
    // Prepare
    const input = mojibake('é', 4);

    // Act
    const repaired = repairText(input);

    // Assess: three layers removed, one left
    assert.equal(repaired, mojibake('é', 1));
    assert.equal(repaired, 'Ã©');
  });

  test('repairs 3- and 4-byte UTF-8 sequences', () => {
    assert.equal(repairText(mojibake('東京', 1)), '東京');
    assert.equal(repairText(mojibake('🎵 Café', 2)), '🎵 Café');
  });

  test('keeps a repaired U+FEFF as content', () => {
    // EF BB BF read as Latin-1 is "ï»¿"; its decoding is U+FEFF, which must not be dropped as a BOM.
    assert.equal(repairText('\u00ef\u00bb\u00bfabc'), '\ufeffabc');
  });

  test('leaves correct Latin-1 text alone: "Zoë" stays "Zoë"', () => {
    assert.equal(repairText('Zoë'), 'Zoë');
    assert.equal(repairText('Café'), 'Café');
    assert.equal(repairText('Señor Ñandú'), 'Señor Ñandú');
  });

  test('stops at the first correct round: once-encoded "Zoë" becomes "Zoë", not less', () => {
    assert.equal(repairText(mojibake('Zoë', 1)), 'Zoë');
    assert.equal(repairText(mojibake('Zoë', 2)), 'Zoë');
  });

  test('leaves ASCII and the empty string alone', () => {
    assert.equal(repairText('Plain ASCII text, 123 !"#'), 'Plain ASCII text, 123 !"#');
    assert.equal(repairText(''), '');
  });

  test('leaves a string with a character above U+00FF alone', () => {
    // "Ã©" alone would be repaired, but "€" (U+20AC) proves the string is not Latin-1 mojibake.
    assert.equal(repairText('AlizÃ©e €'), 'AlizÃ©e €');
    assert.equal(repairText('Ã©\u0100'), 'Ã©\u0100');
    assert.equal(repairText('東京 Ã©'), '東京 Ã©');
  });

  test('leaves text whose Latin-1 bytes are not valid UTF-8 alone', () => {
    assert.equal(repairText('Ã('), 'Ã('); // C3 28: lead byte followed by a non-continuation byte
    assert.equal(repairText('Ã'), 'Ã'); // truncated sequence
    assert.equal(repairText('\u00c0\u00af'), '\u00c0\u00af'); // C0 AF: overlong encoding of "/"
    assert.equal(repairText('Ã©Ã'), 'Ã©Ã'); // one good sequence, then a truncated one: no partial repair
  });
});

describe('decodeLatin1AsUtf8', () => {
  const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  /** What TextDecoder makes of the same bytes: the decoder the hand-written one replaces. */
  const reference = (bytes: number[]): string | undefined => {
    try {
      return strict.decode(Uint8Array.from(bytes));
    } catch {
      return undefined;
    }
  };
  const check = (bytes: number[]): void => {
    const text = String.fromCharCode(...bytes);
    assert.equal(decodeLatin1AsUtf8(text), reference(bytes), `bytes ${bytes.map((b) => b.toString(16)).join(' ')}`);
  };

  test('agrees with TextDecoder on every one- and two-byte sequence', () => {
    for (let a = 0; a < 256; a++) {
      check([a]);
      for (let b = 0; b < 256; b++) check([a, b]);
    }
  });

  test('agrees with TextDecoder on every three-byte sequence that starts a multi-byte character', () => {
    // Lead bytes 0xC0-0xFF with every second byte, and third bytes on both sides of the continuation range.
    const thirds = [0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc3, 0xe0, 0xf0, 0xff];
    for (let a = 0xc0; a < 256; a++) for (let b = 0; b < 256; b++) for (const c of thirds) check([a, b, c]);
  });

  test('agrees with TextDecoder on random sequences rich in multi-byte characters', () => {
    // A fixed-seed generator: the same cases on every run.
    let seed = 42;
    const next = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const interesting = [
      0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5,
    ];
    for (let i = 0; i < 20_000; i++) {
      const length = 1 + next(8);
      check(
        Array.from({ length }, () => (next(2) === 0 ? (interesting[next(interesting.length)] as number) : next(256))),
      );
    }
  });

  test('decodes supplementary characters to surrogate pairs and long text in full', () => {
    assert.equal(decodeLatin1AsUtf8(Buffer.from('🎵 Beyoncé', 'utf8').toString('latin1')), '🎵 Beyoncé');
    const long = 'é'.repeat(50_000);
    assert.equal(decodeLatin1AsUtf8(Buffer.from(long, 'utf8').toString('latin1')), long);
  });
});

describe('unquote', () => {
  test('removes one pair of surrounding double quotes', () => {
    // Prepare
    const userAgent = '"Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36"';

    // Act
    const out = unquote(userAgent);

    // Assess
    assert.equal(out, 'Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36');
  });

  test('removes only one pair', () => {
    assert.equal(unquote('""x""'), '"x"');
    assert.equal(unquote('""'), '');
  });

  test('leaves unpaired or inner quotes alone', () => {
    assert.equal(unquote('"'), '"');
    assert.equal(unquote('"abc'), '"abc');
    assert.equal(unquote('abc"'), 'abc"');
    assert.equal(unquote('a"b"c'), 'a"b"c');
    assert.equal(unquote('Mozilla/5.0'), 'Mozilla/5.0');
    assert.equal(unquote(''), '');
  });
});
