/** Text repair for the logs' double-encoded UTF-8 (DESIGN.md), and the userAgent quote rule. */

/**
 * Undoes UTF-8 that was decoded as Latin-1 and re-encoded, up to three times. Only lossless steps are taken:
 * a string with a character above U+00FF, or whose Latin-1 bytes are not valid UTF-8, is already right.
 * @example repairText('Aliz\u00c3\u0083\u00c2\u00a9e') === 'Alizée'; repairText('Zoë') === 'Zoë'
 */
export function repairText(value: string): string {
  let current = value;
  for (let round = 0; round < 3; round++) {
    // Most text is ASCII: look before allocating anything.
    let high = false;
    for (let i = 0; i < current.length; i++) {
      const code = current.charCodeAt(i);
      if (code > 0xff) return current;
      if (code >= 0x80) high = true;
    }
    if (!high) return current;
    const decoded = decodeLatin1AsUtf8(current);
    if (decoded === undefined) return current;
    current = decoded;
  }
  return current;
}

let units = new Uint16Array(256);

/**
 * The string's character codes (all ≤ 0xFF) read as UTF-8 bytes, decoded strictly: the WHATWG decoder's rules
 * (no overlongs, surrogates or code points above U+10FFFF), undefined where it would fail. Written out because a
 * TextDecoder call per short name cost more than the decoding (0.5 s of a medium run's map stage); a unit test
 * checks it against TextDecoder.
 */
export function decodeLatin1AsUtf8(text: string): string | undefined {
  const n = text.length;
  if (units.length < n) units = new Uint16Array(n);
  let out = 0;
  let i = 0;
  while (i < n) {
    const b0 = text.charCodeAt(i);
    if (b0 < 0x80) {
      units[out++] = b0;
      i++;
      continue;
    }
    let need: number;
    let cp: number;
    let lower = 0x80;
    let upper = 0xbf;
    if (b0 >= 0xc2 && b0 <= 0xdf) {
      need = 1;
      cp = b0 & 0x1f;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
      need = 2;
      cp = b0 & 0x0f;
      if (b0 === 0xe0) lower = 0xa0;
      else if (b0 === 0xed) upper = 0x9f;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      need = 3;
      cp = b0 & 0x07;
      if (b0 === 0xf0) lower = 0x90;
      else if (b0 === 0xf4) upper = 0x8f;
    } else return undefined;
    if (i + need >= n) return undefined;
    for (let k = 1; k <= need; k++) {
      const b = text.charCodeAt(i + k);
      // Only the first continuation byte has the narrowed range.
      if (k === 1 ? b < lower || b > upper : b < 0x80 || b > 0xbf) return undefined;
      cp = (cp << 6) | (b & 0x3f);
    }
    i += need + 1;
    if (cp < 0x10000) units[out++] = cp;
    else {
      cp -= 0x10000;
      units[out++] = 0xd800 + (cp >> 10);
      units[out++] = 0xdc00 + (cp & 0x3ff);
    }
  }
  let decoded = '';
  // In slices: fromCharCode takes its arguments on the stack.
  for (let from = 0; from < out; from += 8192)
    decoded += String.fromCharCode.apply(null, units.subarray(from, Math.min(out, from + 8192)) as unknown as number[]);
  return decoded;
}

/** Removes one pair of literal surrounding double quotes (the logs' userAgent carries them). */
export function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
}
