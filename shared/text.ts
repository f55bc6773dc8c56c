/** Text repair for the logs' double-encoded UTF-8 (DESIGN.md), and the userAgent quote rule. */

// ignoreBOM: a repaired U+FEFF at the start is content, not a byte-order mark to drop.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

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
    const bytes = new Uint8Array(current.length);
    for (let i = 0; i < current.length; i++) bytes[i] = current.charCodeAt(i);
    try {
      current = strictUtf8.decode(bytes);
    } catch {
      return current;
    }
  }
  return current;
}

/** Removes one pair of literal surrounding double quotes (the logs' userAgent carries them). */
export function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
}
