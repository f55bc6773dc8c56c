/**
 * 64-bit fingerprints of text, taken straight from Arrow's UTF-8 buffers, and a hash table of them in typed
 * arrays. Commit checks and diffs millions of digest keys: as JS strings in a Set they cost seconds to decode and
 * hash and about 100 bytes each (3.2 M songplays: 8.6 s and most of Commit's memory).
 */
import * as arrow from 'apache-arrow';

/** One column's fingerprints: two 32-bit halves per row, and `nulls[i] === 1` where the value is null. */
export interface Fingerprinted {
  length: number;
  hi: Int32Array;
  lo: Int32Array;
  nulls: Uint8Array;
}

// The last fingerprint computed (two numbers returned without an allocation per value).
let outHi = 0;
let outLo = 0;

/** Murmur3's finaliser: every input bit reaches every output bit. */
function mix(h: number): number {
  let x = h ^ (h >>> 16);
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  return x ^ (x >>> 16);
}

/** Two independent 32-bit hashes of bytes[start, end), into outHi and outLo. */
function hashBytes(bytes: Uint8Array, start: number, end: number): void {
  let a = 0x811c9dc5 ^ (end - start);
  let b = 0x9747b28c;
  for (let i = start; i < end; i++) {
    const c = bytes[i] as number;
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  outHi = mix(a);
  outLo = mix(b ^ (end - start));
}

/** The fingerprint of a string, the same as of its UTF-8 bytes in an Arrow column. */
export function fingerprintText(text: string): [number, number] {
  const bytes = Buffer.from(text, 'utf8');
  hashBytes(bytes, 0, bytes.length);
  return [outHi, outLo];
}

// A number's 64 bits, read as two 32-bit halves.
const numberBits = new Float64Array(1);
const numberHalves = new Int32Array(numberBits.buffer);

/**
 * 64-bit fingerprints of rows, given as column arrays (a row's values at one index): each value's kind and content
 * are mixed in, and a text's length ends it, so a changed value, a moved null or text split differently changes the
 * row's fingerprint. Texts are taken as UTF-16 code units, never encoded.
 */
export function fingerprintRows(
  columns: readonly ArrayLike<unknown>[],
  length: number,
): { hi: Int32Array; lo: Int32Array } {
  const hi = new Int32Array(length);
  const lo = new Int32Array(length);
  for (let i = 0; i < length; i++) {
    let a = 0x811c9dc5;
    let b = 0x9747b28c;
    for (let j = 0; j < columns.length; j++) {
      const v = (columns[j] as ArrayLike<unknown>)[i];
      if (typeof v === 'string') {
        for (let k = 0; k < v.length; k++) {
          const c = v.charCodeAt(k);
          a = Math.imul(a ^ c, 0x01000193);
          b = Math.imul(b ^ c, 0x5bd1e995);
          b ^= b >>> 15;
        }
        a = Math.imul(a ^ (v.length + 0x10000), 0x01000193);
        b = Math.imul(b ^ v.length, 0x5bd1e995);
      } else if (typeof v === 'number') {
        numberBits[0] = v;
        a = Math.imul(a ^ (numberHalves[0] as number), 0x01000193);
        b = Math.imul(b ^ (numberHalves[1] as number), 0x5bd1e995);
        a = Math.imul(a ^ 0x20000, 0x01000193);
        b ^= b >>> 15;
      } else {
        a = Math.imul(a ^ 0x30000, 0x01000193);
        b = Math.imul(b ^ 0x30000, 0x5bd1e995);
      }
    }
    hi[i] = mix(a);
    lo[i] = mix(b ^ mix(a));
  }
  return { hi, lo };
}

/** Fingerprints of a text column (plain UTF-8 or a dictionary of it), read from its buffers. */
export function fingerprintColumn(chunks: readonly arrow.Data[]): Fingerprinted {
  const length = chunks.reduce((n, d) => n + d.length, 0);
  const out: Fingerprinted = {
    length,
    hi: new Int32Array(length),
    lo: new Int32Array(length),
    nulls: new Uint8Array(length),
  };
  let at = 0;
  for (const data of chunks) {
    fill(data, out, at);
    at += data.length;
  }
  return out;
}

function fill(data: arrow.Data, out: Fingerprinted, at: number): void {
  const n = data.length;
  const bitmap = data.nullCount > 0 ? data.nullBitmap : undefined;
  const isNull = (i: number): boolean => {
    if (!bitmap) return false;
    const bit = data.offset + i;
    return ((bitmap[bit >> 3] as number) & (1 << (bit & 7))) === 0;
  };
  if (arrow.DataType.isDictionary(data.type)) {
    // Each distinct value hashed once.
    const dictionary = fingerprintColumn((data.dictionary as arrow.Vector).data);
    const indices = data.values as Int32Array;
    for (let i = 0; i < n; i++) {
      const j = indices[data.offset + i] as number;
      if (isNull(i) || dictionary.nulls[j] === 1) out.nulls[at + i] = 1;
      else {
        out.hi[at + i] = dictionary.hi[j] as number;
        out.lo[at + i] = dictionary.lo[j] as number;
      }
    }
    return;
  }
  if (!arrow.DataType.isUtf8(data.type)) throw new Error(`cannot fingerprint a ${data.type} column`);
  const offsets = data.valueOffsets as Int32Array;
  const bytes = data.values as Uint8Array;
  for (let i = 0; i < n; i++) {
    if (isNull(i)) {
      out.nulls[at + i] = 1;
      continue;
    }
    hashBytes(bytes, offsets[data.offset + i] as number, offsets[data.offset + i + 1] as number);
    out.hi[at + i] = outHi;
    out.lo[at + i] = outLo;
  }
}

/** A hash table of fingerprints (open addressing); with `values`, each has a 64-bit value and a mark too. */
export class FingerprintTable {
  size = 0;
  /** Whether the last add() put in a new fingerprint. */
  added = false;
  private mask: number;
  private used: Uint8Array;
  private hi: Int32Array;
  private lo: Int32Array;
  /** The values, by slot. */
  valueHi: Int32Array;
  valueLo: Int32Array;
  /** Marks, by slot (the diff marks the keys it has seen). */
  marked: Uint8Array;

  constructor(
    capacity = 1024,
    private readonly values = false,
  ) {
    let slots = 16;
    while (slots < capacity * 2) slots *= 2;
    this.mask = slots - 1;
    this.used = new Uint8Array(slots);
    this.hi = new Int32Array(slots);
    this.lo = new Int32Array(slots);
    const valueSlots = values ? slots : 0;
    this.valueHi = new Int32Array(valueSlots);
    this.valueLo = new Int32Array(valueSlots);
    this.marked = new Uint8Array(valueSlots);
  }

  /** The slot of a fingerprint, or -1 when it is not in the table. */
  find(hi: number, lo: number): number {
    for (let s = lo & this.mask; ; s = (s + 1) & this.mask) {
      if (this.used[s] === 0) return -1;
      if (this.hi[s] === hi && this.lo[s] === lo) return s;
    }
  }

  /** Adds a fingerprint; returns its slot, and whether it was new in `added`. */
  add(hi: number, lo: number): number {
    if ((this.size + 1) * 2 > this.mask + 1) this.grow();
    for (let s = lo & this.mask; ; s = (s + 1) & this.mask) {
      if (this.used[s] === 0) {
        this.used[s] = 1;
        this.hi[s] = hi;
        this.lo[s] = lo;
        this.size++;
        this.added = true;
        return s;
      }
      if (this.hi[s] === hi && this.lo[s] === lo) {
        this.added = false;
        return s;
      }
    }
  }

  private grow(): void {
    const old = { used: this.used, hi: this.hi, lo: this.lo, vh: this.valueHi, vl: this.valueLo, m: this.marked };
    const slots = (this.mask + 1) * 2;
    this.mask = slots - 1;
    this.used = new Uint8Array(slots);
    this.hi = new Int32Array(slots);
    this.lo = new Int32Array(slots);
    const valueSlots = this.values ? slots : 0;
    this.valueHi = new Int32Array(valueSlots);
    this.valueLo = new Int32Array(valueSlots);
    this.marked = new Uint8Array(valueSlots);
    this.size = 0;
    for (let s = 0; s < old.used.length; s++) {
      if (old.used[s] === 0) continue;
      const t = this.add(old.hi[s] as number, old.lo[s] as number);
      if (!this.values) continue;
      this.valueHi[t] = old.vh[s] as number;
      this.valueLo[t] = old.vl[s] as number;
      this.marked[t] = old.m[s] as number;
    }
  }
}
