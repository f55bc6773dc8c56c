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

// The two running hashes of hashInto, between its calls.
let runA = 0;
let runB = 0;

/** Feeds bytes[start, end) to the two running hashes. */
function hashInto(bytes: Uint8Array, start: number, end: number): void {
  let a = runA;
  let b = runB;
  for (let i = start; i < end; i++) {
    const c = bytes[i] as number;
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  runA = a;
  runB = b;
}

/** Two independent 32-bit hashes of bytes[start, end), into outHi and outLo. */
function hashBytes(bytes: Uint8Array, start: number, end: number): void {
  runA = 0x811c9dc5 ^ (end - start);
  runB = 0x9747b28c;
  hashInto(bytes, start, end);
  outHi = mix(runA);
  outLo = mix(runB ^ (end - start));
}

/** The last fingerprintPair(), read without an allocation per call. */
export const PAIR = { hi: 0, lo: 0 };

/**
 * A fingerprint of two texts' UTF-8 bytes, a[a0, a1) then b[b0, b1), into PAIR: the first text's length is mixed
 * in between, so that the bytes split differently give another fingerprint.
 */
export function fingerprintPair(a: Uint8Array, a0: number, a1: number, b: Uint8Array, b0: number, b1: number): void {
  runA = 0x811c9dc5 ^ (a1 - a0);
  runB = 0x9747b28c;
  hashInto(a, a0, a1);
  runA = Math.imul(runA ^ 0x100, 0x01000193);
  hashInto(b, b0, b1);
  PAIR.hi = mix(runA);
  PAIR.lo = mix(runB ^ (a1 - a0) ^ ((b1 - b0) << 16));
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

/** A column of rows to fingerprint: its values, or its Arrow data (text, a dictionary of text, or numbers). */
export type RowColumn = ArrayLike<unknown> | arrow.Data;

/**
 * 64-bit fingerprints of rows, given as their columns (a row's values at one index): each value's kind and content
 * are mixed in, and a text's length ends it, so a changed value, a moved null or text split differently changes the
 * row's fingerprint. Texts are taken as UTF-16 code units: a column given as Arrow data gives the fingerprints its
 * values would (its ASCII text hashed from its bytes, with no string made). Column by column, each row's state kept
 * in typed arrays between columns.
 */
export function fingerprintRows(columns: readonly RowColumn[], length: number): { hi: Int32Array; lo: Int32Array } {
  const a = new Int32Array(length).fill(0x811c9dc5);
  const b = new Int32Array(length).fill(0x9747b28c);
  for (const column of columns) {
    if (column instanceof arrow.Data) mixData(column, length, a, b);
    else mixValues(column, length, a, b);
  }
  const hi = new Int32Array(length);
  const lo = new Int32Array(length);
  for (let i = 0; i < length; i++) {
    const h = mix(a[i] as number);
    hi[i] = h;
    lo[i] = mix((b[i] as number) ^ h);
  }
  return { hi, lo };
}

// Kind marks mixed in after a value: a text's length + TEXT, a number's NUMBER, a null's NULL.
const TEXT = 0x10000;
const NUMBER = 0x20000;
const NULL = 0x30000;

/** Mixes a column of values into the rows' states. */
function mixValues(values: ArrayLike<unknown>, length: number, as: Int32Array, bs: Int32Array): void {
  for (let i = 0; i < length; i++) {
    const v = values[i];
    if (typeof v === 'string') mixText(v, i, as, bs);
    else if (typeof v === 'number') mixNumber(v, i, as, bs);
    else mixNull(i, as, bs);
  }
}

function mixText(v: string, i: number, as: Int32Array, bs: Int32Array): void {
  let a = as[i] as number;
  let b = bs[i] as number;
  for (let k = 0; k < v.length; k++) {
    const c = v.charCodeAt(k);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  as[i] = Math.imul(a ^ (v.length + TEXT), 0x01000193);
  bs[i] = Math.imul(b ^ v.length, 0x5bd1e995);
}

/** Mixes the text of bytes[start, end) in as its UTF-16 code units: ASCII straight from the bytes. */
function mixBytes(bytes: Uint8Array, start: number, end: number, i: number, as: Int32Array, bs: Int32Array): void {
  let a = as[i] as number;
  let b = bs[i] as number;
  for (let k = start; k < end; k++) {
    const c = bytes[k] as number;
    if (c >= 0x80) {
      mixText(Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('utf8'), i, as, bs);
      return;
    }
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  as[i] = Math.imul(a ^ (end - start + TEXT), 0x01000193);
  bs[i] = Math.imul(b ^ (end - start), 0x5bd1e995);
}

function mixNumber(v: number, i: number, as: Int32Array, bs: Int32Array): void {
  numberBits[0] = v;
  const a = Math.imul((as[i] as number) ^ (numberHalves[0] as number), 0x01000193);
  const b = Math.imul((bs[i] as number) ^ (numberHalves[1] as number), 0x5bd1e995);
  as[i] = Math.imul(a ^ NUMBER, 0x01000193);
  bs[i] = b ^ (b >>> 15);
}

function mixNull(i: number, as: Int32Array, bs: Int32Array): void {
  as[i] = Math.imul((as[i] as number) ^ NULL, 0x01000193);
  bs[i] = Math.imul((bs[i] as number) ^ NULL, 0x5bd1e995);
}

/**
 * Mixes a column given as Arrow data into the rows' states. Arrow's slice() cuts the value and offset buffers and
 * keeps the validity bitmap whole: `offset` counts in the bitmap only.
 */
function mixData(data: arrow.Data, length: number, as: Int32Array, bs: Int32Array): void {
  if (data.length !== length) throw new Error(`a column of ${data.length} rows among ${length}`);
  const text = textBuffers(data);
  if (text) {
    for (let i = 0; i < length; i++) {
      const j = textEntry(text, i);
      if (j < 0) mixNull(i, as, bs);
      else mixBytes(text.bytes, text.offsets[j] as number, text.offsets[j + 1] as number, i, as, bs);
    }
    return;
  }
  const bitmap = data.nullCount > 0 ? data.nullBitmap : undefined;
  const isNull = (i: number): boolean => {
    if (!bitmap) return false;
    const bit = data.offset + i;
    return ((bitmap[bit >> 3] as number) & (1 << (bit & 7))) === 0;
  };
  const t = data.type;
  const values = data.values as ArrayLike<number> | BigInt64Array;
  const numeric = arrow.DataType.isInt(t) || arrow.DataType.isFloat(t) || arrow.DataType.isTimestamp(t);
  if (!numeric) {
    mixValues(decode(data), length, as, bs);
    return;
  }
  if (values instanceof BigInt64Array) {
    // As two 32-bit halves, as the values are read (shared/columnar.ts readColumn).
    const halves = new Int32Array(values.buffer, values.byteOffset, values.length * 2);
    for (let i = 0; i < length; i++) {
      const at = 2 * i;
      if (isNull(i)) mixNull(i, as, bs);
      else mixNumber((halves[at + 1] as number) * 4294967296 + ((halves[at] as number) >>> 0), i, as, bs);
    }
    return;
  }
  if (values instanceof BigUint64Array) {
    mixValues(decode(data), length, as, bs);
    return;
  }
  for (let i = 0; i < length; i++) {
    if (isNull(i)) mixNull(i, as, bs);
    else mixNumber(values[i] as number, i, as, bs);
  }
}

/** Any other layout's values, through Arrow's getters (int64 as Number). */
function decode(data: arrow.Data): unknown[] {
  return [...arrow.makeVector(data)].map((v) => (typeof v === 'bigint' ? Number(v) : (v ?? null)));
}

/**
 * A text column's buffers: offsets and bytes, a dictionary's indices into them, and the validity bitmap (Arrow's
 * slice() cuts the other buffers and keeps the bitmap whole: `offset` counts in the bitmap only).
 */
export interface TextBuffers {
  offsets: Int32Array;
  bytes: Uint8Array;
  indices: Int32Array | undefined;
  bitmap: Uint8Array | undefined;
  offset: number;
}

/** A column's text buffers: plain UTF-8 or a dictionary of it (no null entry); undefined for any other layout. */
export function textBuffers(data: arrow.Data): TextBuffers | undefined {
  let text = data;
  let indices: Int32Array | undefined;
  if (arrow.DataType.isDictionary(data.type)) {
    const parts = (data.dictionary as arrow.Vector | undefined)?.data;
    if (parts?.length !== 1 || !(data.values instanceof Int32Array)) return undefined;
    text = parts[0] as arrow.Data;
    if (text.nullCount > 0) return undefined;
    indices = data.values;
  }
  if (!arrow.DataType.isUtf8(text.type) || !(text.valueOffsets instanceof Int32Array)) return undefined;
  const bitmap = data.nullCount > 0 ? data.nullBitmap : undefined;
  return { offsets: text.valueOffsets, bytes: text.values as Uint8Array, indices, bitmap, offset: data.offset };
}

/** The entry of row i in a text column's offsets, or -1 for a null. */
export function textEntry(text: TextBuffers, i: number): number {
  const bit = text.offset + i;
  if (text.bitmap && ((text.bitmap[bit >> 3] as number) & (1 << (bit & 7))) === 0) return -1;
  return text.indices ? (text.indices[i] as number) : i;
}

/** A text column's entry as a string. */
export function entryText(text: TextBuffers, entry: number): string {
  const { bytes, offsets } = text;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString(
    'utf8',
    offsets[entry] as number,
    offsets[entry + 1] as number,
  );
}

/** Whether a[from, to) and b[at, end) hold the same bytes. */
export function sameRange(a: Uint8Array, from: number, to: number, b: Uint8Array, at: number, end: number): boolean {
  if (to - from !== end - at) return false;
  for (let k = 0; k < to - from; k++) if (a[from + k] !== b[at + k]) return false;
  return true;
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
      const j = indices[i] as number;
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
    hashBytes(bytes, offsets[i] as number, offsets[i + 1] as number);
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
