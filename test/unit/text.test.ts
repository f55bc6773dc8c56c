// Unit tests of shared/text.ts: the double-encoded UTF-8 repair and the userAgent quote rule
// (docs/contract.md, "Text repair").
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { repairText, unquote } from '../../shared/text.ts';

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
