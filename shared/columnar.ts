/**
 * Rows ⇄ Arrow tables with declared schemas, Arrow IPC for the shuffle, and Parquet for the tables; ArrowRows keeps
 * a reducer's input as Arrow buffers, reads out only the columns asked for, and copies picked rows as bytes.
 */
import { Buffer } from 'node:buffer';
import * as arrow from 'apache-arrow';
import { Compression, readParquet, Table as WasmTable, WriterPropertiesBuilder, writeParquet } from 'parquet-wasm';
import {
  entryText,
  FingerprintTable,
  fingerprintColumn,
  sameRange,
  type TextBuffers,
  textBuffers,
  textEntry,
} from './fingerprints.ts';
import { arrowSchema, arrowType, type Column } from './schemas.ts';
import { type Groups, groupsByValue } from './transform.ts';

/** A row: column name to plain value. */
export type Row = Record<string, string | number | null>;

/**
 * Builds an Arrow table from rows, typed by the declared columns. Writes the column buffers directly: Arrow's
 * generic builders (vectorFromArray) encode each string on its own and cost seconds per million rows.
 * `dictionary`: the text columns declared `repeated` (a user agent, a source key, a level) are dictionary-encoded,
 * each distinct string stored once; for the shuffle and the state, which only this code reads. The tables' Parquet
 * keeps plain strings.
 */
export function toArrow(columns: readonly Column[], rows: readonly Row[], options: { dictionary?: boolean } = {}) {
  return arrowOfColumns(columns, readColumns(columns, rows), rows.length, options);
}

/**
 * A column given to the encoders: its values in row order, or Arrow data already encoded (a column copied from the
 * input's buffers), used as it is when it has the column's declared type.
 */
export type ColumnValues = ArrayLike<Value> | arrow.Data;

/** A column's values in row order, decoded when it is given as Arrow data. */
export const valuesOf = (column: ColumnValues): ArrayLike<Value> =>
  column instanceof arrow.Data ? readColumn(column) : column;

/** An Arrow table from columns (each column's values, in row order), as toArrow builds it from rows. */
function arrowOfColumns(
  columns: readonly Column[],
  given: readonly ColumnValues[],
  length: number,
  options: { dictionary?: boolean },
) {
  const declared = arrowSchema(columns);
  if (length === 0) return new arrow.Table(declared);
  const children = columns.map((c, i) => {
    const type = (declared.fields[i] as arrow.Field).type;
    const column = given[i] as ColumnValues;
    if (column instanceof arrow.Data && arrow.util.compareTypes(column.type, type)) return column;
    const values = valuesOf(column);
    if (c.repeated && options.dictionary) {
      const encoded = dictionaryColumn(values);
      if (encoded) return encoded;
    }
    return buildColumn(c, type, values);
  });
  return tableOf(columns, children, length);
}

/** A table of the columns' finished data, each field typed as its data is (a dictionary or the declared type). */
function tableOf(columns: readonly Column[], children: arrow.Data[], length: number): arrow.Table {
  const schema = new arrow.Schema(
    columns.map((c, i) => new arrow.Field(c.name, (children[i] as arrow.Data).type, true)),
  );
  const data = arrow.makeData({ type: new arrow.Struct(schema.fields), length, nullCount: 0, children });
  return new arrow.Table(schema, new arrow.RecordBatch(schema, data));
}

/** A value of a row or a column. */
export type Value = string | number | null | undefined;

/** The columns' values out of rows: one array per column, in row order. */
export const readColumns = (columns: readonly Column[], rows: readonly Row[]): Value[][] =>
  columnReader(columns.map((c) => c.name))(rows);

type ColumnReader = (rows: readonly Row[]) => Value[][];
const columnReaders = new Map<string, ColumnReader>();

/**
 * A function taking the given columns' values out of rows, each as an array: a generated loop reads each column by
 * its name, where reading `row[name]` with the name in a variable, over rows of many shapes, cost a lookup per
 * value (encoding events 27% faster without it).
 */
function columnReader(names: readonly string[]): ColumnReader {
  return generated(columnReaders, names, () => {
    const arrays = names.map((_, j) => `const c${j} = new Array(n);`).join(' ');
    const loads = names.map((name, j) => `c${j}[i] = r[${JSON.stringify(name)}];`).join(' ');
    const result = names.map((_, j) => `c${j}`).join(', ');
    return new Function(
      'rows',
      `const n = rows.length; ${arrays} for (let i = 0; i < n; i++) { const r = rows[i]; ${loads} } return [${result}];`,
    ) as ColumnReader;
  });
}

/**
 * A function generated for a list of column names, made once per list. The names are quoted with JSON.stringify,
 * so any name is a plain property key in the generated code, except __proto__, which an object literal would take
 * as the prototype and a read would find on it: no declared column is named so.
 */
function generated<F>(cache: Map<string, F>, names: readonly string[], make: () => F): F {
  const signature = JSON.stringify(names);
  let made = cache.get(signature);
  if (!made) {
    if (names.includes('__proto__')) throw new Error('a column named __proto__ cannot be read or written by name');
    made = make();
    cache.set(signature, made);
  }
  return made;
}

/** Rows whose strings are written with one UTF-8 encode when they are all ASCII, which is most of the data. */
const ENCODE_BLOCK = 256;

/** One column's Arrow data: values, offsets (utf8) and a validity bitmap when any value is null. */
function buildColumn(column: Column, type: arrow.DataType, input: ArrayLike<Value>): arrow.Data {
  const n = input.length;
  if (column.kind === 'utf8') return utf8Data(type as arrow.Utf8, input);
  const validity = new Uint8Array((n + 7) >> 3);
  let nullCount = 0;
  const wide = column.kind === 'int64' || column.kind === 'timestamp';
  const values = wide ? new BigInt64Array(n) : column.kind === 'int32' ? new Int32Array(n) : new Float64Array(n);
  // int64 as two 32-bit halves (little-endian): a BigInt per value would cost an allocation each.
  const halves = wide ? new Int32Array(values.buffer) : undefined;
  for (let i = 0; i < n; i++) {
    const v = input[i];
    if (v === null || v === undefined) {
      nullCount++;
      continue;
    }
    if (halves) {
      const high = Math.floor((v as number) / 4294967296);
      halves[2 * i] = (v as number) - high * 4294967296;
      halves[2 * i + 1] = high;
    } else (values as Int32Array | Float64Array)[i] = v as number;
    validity[i >> 3] = (validity[i >> 3] as number) | (1 << (i & 7));
  }
  return arrow.makeData({
    type: type as arrow.Int32,
    length: n,
    nullCount,
    nullBitmap: nullCount > 0 ? validity : undefined,
    data: values as Int32Array,
  });
}

/** Utf8 data of a column's values (a number as String() writes it). */
function utf8Data(type: arrow.Utf8, items: ArrayLike<Value>): arrow.Data<arrow.Utf8> {
  const n = items.length;
  let first = 0;
  while (first < n && (items[first] === null || items[first] === undefined)) first++;
  if (typeof items[first] === 'number') {
    const numbers = numberTextData(type, items);
    if (numbers) return numbers;
  }
  const validity = new Uint8Array((n + 7) >> 3);
  let nullCount = 0;
  const offsets = new Int32Array(n + 1);
  const texts: string[] = new Array(ENCODE_BLOCK);
  let bytes: Buffer | undefined;
  let at = 0;
  for (let from = 0; from < n; from += ENCODE_BLOCK) {
    const to = Math.min(n, from + ENCODE_BLOCK);
    let joined = '';
    for (let i = from; i < to; i++) {
      const v = items[i];
      const text = v === null || v === undefined ? '' : typeof v === 'string' ? v : String(v);
      if (v === null || v === undefined) nullCount++;
      else validity[i >> 3] = (validity[i >> 3] as number) | (1 << (i & 7));
      texts[i - from] = text;
      joined += text;
    }
    // Sized from the first block (a UTF-16 unit takes at most 3 bytes of UTF-8), so a column of long strings is
    // not copied again and again as it grows.
    bytes ??= Buffer.allocUnsafe(Math.max(1024, Math.ceil((joined.length * 1.25 * n) / (to - from))));
    if (at + joined.length * 3 > bytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(bytes.length * 2, at + joined.length * 3));
      bytes.copy(grown, 0, 0, at);
      bytes = grown;
    }
    const ascii = bytes.write(joined, at, 'utf8') === joined.length;
    for (let i = from; i < to; i++) {
      const text = texts[i - from] as string;
      at += ascii ? text.length : bytes.write(text, at, 'utf8');
      offsets[i + 1] = at;
    }
  }
  return textData(type, nullCount, validity, offsets, bytes ? bytes.subarray(0, at) : new Uint8Array(0));
}

/** Digits of a number below 10^k, by k. */
const DIGITS_BELOW = Array.from({ length: 17 }, (_, k) => 10 ** k);

/**
 * Utf8 data of numbers as String() writes them, or undefined when a value is neither a number nor null: a safe
 * integer (a timestamp as a digest's reference) is written as digits, with no string made (3.2 M start times:
 * String() and the encode were a twentieth of the facts reducers' time).
 */
function numberTextData(type: arrow.Utf8, items: ArrayLike<Value>): arrow.Data<arrow.Utf8> | undefined {
  const n = items.length;
  const validity = new Uint8Array((n + 7) >> 3);
  let nullCount = 0;
  const offsets = new Int32Array(n + 1);
  // 17 bytes hold a safe integer with its sign; String() of any other number is at most 24 characters.
  let bytes = Buffer.allocUnsafe(Math.max(1024, n * 14));
  let at = 0;
  for (let i = 0; i < n; i++) {
    const v = items[i];
    if (v === null || v === undefined) {
      nullCount++;
      offsets[i + 1] = at;
      continue;
    }
    if (typeof v !== 'number') return undefined;
    if (at + 24 > bytes.length) {
      const grown = Buffer.allocUnsafe(bytes.length * 2);
      bytes.copy(grown, 0, 0, at);
      bytes = grown;
    }
    if (Number.isSafeInteger(v)) {
      let rest = v;
      if (rest < 0) {
        bytes[at++] = 0x2d; // '-'
        rest = -rest;
      }
      let digits = 1;
      while (digits < 16 && rest >= (DIGITS_BELOW[digits] as number)) digits++;
      for (let k = at + digits - 1; k >= at; k--) {
        const q = Math.floor(rest / 10);
        bytes[k] = 0x30 + (rest - q * 10);
        rest = q;
      }
      at += digits;
    } else at += bytes.write(String(v), at, 'latin1'); // String() of a number is ASCII
    offsets[i + 1] = at;
    validity[i >> 3] = (validity[i >> 3] as number) | (1 << (i & 7));
  }
  return textData(type, nullCount, validity, offsets, bytes.subarray(0, at));
}

/** Utf8 data of written offsets and bytes, with the validity bitmap when any value is null. */
function textData(
  type: arrow.Utf8,
  nullCount: number,
  validity: Uint8Array,
  valueOffsets: Int32Array,
  bytes: Uint8Array,
): arrow.Data<arrow.Utf8> {
  const nullBitmap = nullCount > 0 ? validity : undefined;
  const data = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return arrow.makeData({ type, length: valueOffsets.length - 1, nullCount, nullBitmap, valueOffsets, data });
}

/** Slots of dictionaryColumn's guesses (a power of two). */
const GUESS_SLOTS = 4096;

/** dictionaryColumn's guess of a text's slot: from all of a short text, from 8 characters of a long one. */
function guessSlot(text: string): number {
  const length = text.length;
  let h = length;
  if (length <= 8) for (let i = 0; i < length; i++) h = Math.imul(h, 31) + text.charCodeAt(i);
  else for (let k = 0; k < 8; k++) h = Math.imul(h, 31) + text.charCodeAt(((length - 1) * k) >> 3);
  return (h ^ (h >>> 15)) & (GUESS_SLOTS - 1);
}

/**
 * A text column as a dictionary (Int32 indices into its distinct strings), or undefined when it has too many
 * distinct values for that to pay: more than a quarter of the rows.
 */
function dictionaryColumn(values: ArrayLike<Value>): arrow.Data | undefined {
  const n = values.length;
  const limit = n >> 2;
  const ids = new Map<string, number>();
  const distinct: string[] = [];
  const indices = new Int32Array(n);
  const validity = new Uint8Array((n + 7) >> 3);
  let nullCount = 0;
  // A Map lookup hashes the whole string, once per string object: most values here come fresh from JSON.parse, so
  // it was 200 ns a value (a user agent is 100 characters). A guess from the length and a few characters, checked
  // by comparing the texts, finds most values first (encoding events 18% faster).
  const guesses = new Int32Array(GUESS_SLOTS).fill(-1);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v === null || v === undefined) {
      nullCount++;
      continue;
    }
    const text = typeof v === 'string' ? v : String(v);
    const slot = guessSlot(text);
    const guess = guesses[slot] as number;
    let id = guess >= 0 && distinct[guess] === text ? guess : ids.get(text);
    if (id === undefined) {
      if (distinct.length === limit) return undefined;
      id = distinct.length;
      ids.set(text, id);
      distinct.push(text);
    }
    guesses[slot] = id;
    indices[i] = id;
    // Mostly distinct (an id, a hash): found out early, before a big map is built for nothing.
    if (i === 1023 && distinct.length > 512) return undefined;
    validity[i >> 3] = (validity[i >> 3] as number) | (1 << (i & 7));
  }
  // All null: plain text says so as well, and with no dictionary.
  if (distinct.length === 0) return undefined;
  const type = new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32());
  return arrow.makeData({
    type,
    length: n,
    nullCount,
    nullBitmap: nullCount > 0 ? validity : undefined,
    data: indices,
    dictionary: arrow.makeVector(utf8Data(new arrow.Utf8(), distinct)),
  });
}

/**
 * Rows encoded as they come, into one growing buffer per column, then written as encodeIpc would write them all at
 * once (the same buffers, byte for byte). A map shard holds hundreds of thousands of plays: kept as row objects until
 * the end, they and their strings outlived young collections and were copied into the old space (110 log shards at
 * large: scavenges 1.58 → 0.74 s per 40 shards, CPU 24.8–25.7 → 22.4–23.0 s).
 */
export class ColumnsBuilder {
  private readonly builders: ColumnBuilder[];
  private readonly appendRow: RowAppender;
  /** Rows appended. */
  length = 0;

  constructor(private readonly columns: readonly Column[]) {
    this.builders = columns.map((c) =>
      c.repeated ? new DictionaryBuilder() : c.kind === 'utf8' ? new TextBuilder() : new NumberBuilder(),
    );
    this.appendRow = rowAppender(columns.map((c) => c.name));
  }

  append(row: Row): void {
    this.appendRow(this.builders, row);
    this.length++;
  }

  /** The rows' Arrow IPC stream, with the buffers encodeIpc(columns, rows) writes. */
  encodeIpc(): Uint8Array {
    const declared = arrowSchema(this.columns);
    const table =
      this.length === 0
        ? new arrow.Table(declared)
        : tableOf(
            this.columns,
            this.columns.map((c, i) =>
              (this.builders[i] as ColumnBuilder).finish(c, (declared.fields[i] as arrow.Field).type),
            ),
            this.length,
          );
    return arrow.tableToIPC(table, 'stream');
  }
}

/** One column's values as they come; finished into the Arrow data the batch encoders make of the same values. */
interface ColumnBuilder {
  append(value: Value): void;
  finish(column: Column, type: arrow.DataType): arrow.Data;
}

type RowAppender = (builders: readonly ColumnBuilder[], row: Row) => void;
const rowAppenders = new Map<string, RowAppender>();

/** A function appending a row's values to the columns' builders, each read by its name (as columnReader). */
function rowAppender(names: readonly string[]): RowAppender {
  return generated(rowAppenders, names, () => {
    const appends = names.map((name, j) => `b[${j}].append(r[${JSON.stringify(name)}]);`).join(' ');
    return new Function('b', 'r', appends) as RowAppender;
  });
}

/** Values a column builder first makes room for; it doubles from there. */
const FIRST_CAPACITY = 256;

/** A typed array twice as long, starting with `array`'s values (the rest zero). */
function doubled<T extends Uint8Array | Int32Array | Float64Array>(array: T): T {
  const next = new (array.constructor as new (length: number) => T)(array.length * 2);
  next.set(array);
  return next;
}

const isValid = (validity: Uint8Array, i: number): boolean => (((validity[i >> 3] as number) >> (i & 7)) & 1) === 1;

/** The first n values' validity bitmap, exactly as long as the batch encoders make it. */
const bitmapOf = (validity: Uint8Array, n: number): Uint8Array => validity.subarray(0, (n + 7) >> 3);

/** A number column (int32, int64, float64 or timestamp), as buildColumn encodes it. */
class NumberBuilder implements ColumnBuilder {
  private values = new Float64Array(FIRST_CAPACITY);
  private validity: Uint8Array = new Uint8Array(FIRST_CAPACITY >> 3);
  private nulls = 0;
  private length = 0;

  append(value: Value): void {
    const i = this.length++;
    if (i === this.values.length) {
      this.values = doubled(this.values);
      this.validity = doubled(this.validity);
    }
    if (value === null || value === undefined) this.nulls++;
    else {
      this.values[i] = value as number;
      this.validity[i >> 3] = (this.validity[i >> 3] as number) | (1 << (i & 7));
    }
  }

  finish(column: Column, type: arrow.DataType): arrow.Data {
    const values = this.values.subarray(0, this.length);
    if (this.nulls === 0) return buildColumn(column, type, values);
    return buildColumn(
      column,
      type,
      Array.from(values, (v, i) => (isValid(this.validity, i) ? v : null)),
    );
  }
}

/** A plain text column, as utf8Data encodes it: a number as String() writes it. */
class TextBuilder implements ColumnBuilder {
  private bytes = Buffer.allocUnsafe(FIRST_CAPACITY * 16);
  private offsets = new Int32Array(FIRST_CAPACITY + 1);
  private validity: Uint8Array = new Uint8Array(FIRST_CAPACITY >> 3);
  private nulls = 0;
  private at = 0;
  private length = 0;
  /** The texts since the last flush, and them joined: one UTF-8 write a block when they are all ASCII. */
  private readonly block: string[] = [];
  private pending = '';

  append(value: Value): void {
    const i = this.length++;
    if (i === this.validity.length << 3) {
      const offsets = new Int32Array(2 * i + 1);
      offsets.set(this.offsets);
      this.offsets = offsets;
      this.validity = doubled(this.validity);
    }
    let text = '';
    if (value === null || value === undefined) this.nulls++;
    else {
      text = typeof value === 'string' ? value : String(value);
      this.validity[i >> 3] = (this.validity[i >> 3] as number) | (1 << (i & 7));
    }
    this.block.push(text);
    this.pending += text;
    if (this.block.length === ENCODE_BLOCK) this.flush();
  }

  private flush(): void {
    const joined = this.pending;
    if (this.at + joined.length * 3 > this.bytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.at + joined.length * 3));
      this.bytes.copy(grown, 0, 0, this.at);
      this.bytes = grown;
    }
    const ascii = this.bytes.write(joined, this.at, 'utf8') === joined.length;
    let i = this.length - this.block.length;
    for (const text of this.block) {
      this.at += ascii ? text.length : this.bytes.write(text, this.at, 'utf8');
      this.offsets[++i] = this.at;
    }
    this.block.length = 0;
    this.pending = '';
  }

  finish(_column: Column, type: arrow.DataType): arrow.Data {
    this.flush();
    const n = this.length;
    const bytes = this.bytes.subarray(0, this.at);
    return textData(type as arrow.Utf8, this.nulls, bitmapOf(this.validity, n), this.offsets.subarray(0, n + 1), bytes);
  }
}

/**
 * A repeated text column as dictionaryColumn encodes it, or as plain text where dictionaryColumn gives up: more
 * than 512 distinct among the first 1,024 values (from then on the values go to plain text directly), or more
 * distinct values than a quarter of the rows in the end.
 */
class DictionaryBuilder implements ColumnBuilder {
  private ids = new Map<string, number>();
  private distinct: string[] = [];
  private indices = new Int32Array(FIRST_CAPACITY);
  private validity: Uint8Array = new Uint8Array(FIRST_CAPACITY >> 3);
  private nulls = 0;
  private length = 0;
  private readonly guesses = new Int32Array(GUESS_SLOTS).fill(-1);
  private plain: TextBuilder | undefined;

  append(value: Value): void {
    if (this.plain) {
      this.plain.append(value);
      return;
    }
    const i = this.length++;
    if (i === this.indices.length) {
      this.indices = doubled(this.indices);
      this.validity = doubled(this.validity);
    }
    if (value === null || value === undefined) {
      this.nulls++;
      return;
    }
    const text = typeof value === 'string' ? value : String(value);
    const slot = guessSlot(text);
    const guess = this.guesses[slot] as number;
    let id = guess >= 0 && this.distinct[guess] === text ? guess : this.ids.get(text);
    if (id === undefined) {
      id = this.distinct.length;
      this.ids.set(text, id);
      this.distinct.push(text);
    }
    this.guesses[slot] = id;
    this.indices[i] = id;
    this.validity[i >> 3] = (this.validity[i >> 3] as number) | (1 << (i & 7));
    if (i === 1023 && this.distinct.length > 512) this.plain = this.asText();
  }

  /** The values so far as plain text; the dictionary is let go of. */
  private asText(): TextBuilder {
    const text = new TextBuilder();
    for (let i = 0; i < this.length; i++)
      text.append(isValid(this.validity, i) ? this.distinct[this.indices[i] as number] : null);
    this.ids = new Map();
    this.distinct = [];
    return text;
  }

  finish(column: Column, type: arrow.DataType): arrow.Data {
    if (this.plain) return this.plain.finish(column, type);
    const n = this.length;
    // dictionaryColumn's other two refusals: all null, or more distinct values than a quarter of the rows.
    if (this.distinct.length === 0 || this.distinct.length > n >> 2) return this.asText().finish(column, type);
    return arrow.makeData({
      type: new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32()),
      length: n,
      nullCount: this.nulls,
      nullBitmap: this.nulls > 0 ? bitmapOf(this.validity, n) : undefined,
      data: this.indices.subarray(0, n),
      dictionary: arrow.makeVector(utf8Data(new arrow.Utf8(), this.distinct)),
    });
  }
}

/**
 * Arrays end to end (the only one as it is): into an array made at its length, where push() and flat() cost 4 and 6
 * times as much (3 M values of 110 parts: 350–520 and 580–750 against 80–110 ms).
 */
export function joined<T>(parts: readonly (readonly T[])[]): T[] {
  if (parts.length === 1) return parts[0] as T[];
  const out: T[] = new Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) for (let i = 0; i < part.length; i++) out[at++] = part[i] as T;
  return out;
}

/** Reads an Arrow table back into rows (int64 and timestamps as numbers), straight from the column buffers. */
export function fromArrow(table: arrow.Table): Row[] {
  const names = table.schema.fields.map((f) => f.name);
  const makeRow = rowMaker(names);
  const rows: Row[] = [];
  for (const batch of table.batches) {
    const columns = names.map((_, j) => readColumn(batch.getChildAt(j)?.data[0] as arrow.Data));
    for (let i = 0; i < batch.numRows; i++) rows.push(makeRow(columns, i));
  }
  return rows;
}

/** An Arrow table's columns by name (all, or the named ones), as plain values in row order: no row objects. */
export function columnsOf(table: arrow.Table, names?: readonly string[]): Map<string, (string | number | null)[]> {
  const out = new Map<string, (string | number | null)[]>();
  table.schema.fields.forEach((field, j) => {
    if (names && !names.includes(field.name)) return;
    const parts = table.batches.map((batch) => readColumn(batch.getChildAt(j)?.data[0] as arrow.Data));
    out.set(field.name, joined(parts));
  });
  return out;
}

type RowMaker = (columns: (string | number | null)[][], i: number) => Row;
const rowMakers = new Map<string, RowMaker>();

/**
 * A function building one row as an object literal of the given column names: every row gets the same shape at
 * once, where adding properties one by one by name costs a keyed store each (half of decoding, measured).
 */
function rowMaker(names: readonly string[]): RowMaker {
  return generated(rowMakers, names, () => {
    const fields = names.map((n, j) => `${JSON.stringify(n)}: c[${j}][i]`).join(', ');
    return new Function('c', 'i', `return { ${fields} };`) as RowMaker;
  });
}

/** Strings decoded in blocks: one decode per block of ASCII text, which is most of the data. */
const DECODE_BLOCK = 256;

/**
 * A column's values as plain JS values (null where the validity bitmap says so). Arrow's slice() cuts the value and
 * offset buffers and keeps the validity bitmap whole: `offset` counts in the bitmap only.
 */
export function readColumn(data: arrow.Data): (string | number | null)[] {
  const n = data.length;
  // Filled by push, in order: an array made with new Array(n) stays "holey", and V8 then takes slow paths in
  // concat, flat and spreads over it.
  const out: (string | number | null)[] = [];
  const bitmap = data.nullCount > 0 ? data.nullBitmap : undefined;
  const valid = (i: number): boolean => {
    if (!bitmap) return true;
    const bit = data.offset + i;
    return ((bitmap[bit >> 3] as number) & (1 << (bit & 7))) !== 0;
  };
  if (arrow.DataType.isDictionary(data.type) && arrow.DataType.isUtf8(data.type.dictionary)) {
    // Each distinct string decoded once, and shared by the rows that hold it.
    const dictionary = data.dictionary as arrow.Vector;
    const strings = dictionary.data.flatMap((chunk) => readColumn(chunk));
    const indices = data.values as Int32Array;
    for (let i = 0; i < n; i++) out.push(valid(i) ? (strings[indices[i] as number] as string) : null);
    return out;
  }
  if (arrow.DataType.isUtf8(data.type)) {
    const offsets = data.valueOffsets as Int32Array;
    const bytes = Buffer.from(data.values.buffer, data.values.byteOffset, data.values.byteLength);
    for (let from = 0; from < n; from += DECODE_BLOCK) {
      const to = Math.min(n, from + DECODE_BLOCK);
      const start = offsets[from] as number;
      const end = offsets[to] as number;
      const block = bytes.toString('utf8', start, end);
      // Valid UTF-8 decodes to as many UTF-16 units as bytes only when every byte is ASCII: then slice by offsets.
      const ascii = block.length === end - start;
      for (let i = from; i < to; i++) {
        if (!valid(i)) {
          out.push(null);
          continue;
        }
        const a = offsets[i] as number;
        const b = offsets[i + 1] as number;
        if (!ascii) out.push(bytes.toString('utf8', a, b));
        else out.push(block.slice(a - start, b - start));
      }
    }
    return out;
  }
  const t = data.type;
  if (!(arrow.DataType.isInt(t) || arrow.DataType.isFloat(t) || arrow.DataType.isTimestamp(t))) {
    // Any other encoding (dictionaries, large strings from another writer): Arrow's own getters.
    const generic = [...arrow.makeVector(data)] as unknown[];
    return generic.map((v) => (typeof v === 'bigint' ? Number(v) : ((v ?? null) as string | number | null)));
  }
  const values = data.values as ArrayLike<number | bigint>;
  if (values instanceof BigInt64Array) {
    // int64 and timestamps as two 32-bit halves: a BigInt read per value cost its allocation (timestamps read
    // 12% faster). The sum is the exact value rounded once, as Number(bigint) rounds it.
    const halves = new Int32Array(values.buffer, values.byteOffset, values.length * 2);
    for (let i = 0; i < n; i++) {
      const at = 2 * i;
      out.push(valid(i) ? (halves[at + 1] as number) * 4294967296 + ((halves[at] as number) >>> 0) : null);
    }
    return out;
  }
  for (let i = 0; i < n; i++) {
    const v = values[i] as number | bigint;
    out.push(valid(i) ? (typeof v === 'bigint' ? Number(v) : v) : null);
  }
  return out;
}

/** Arrow IPC stream bytes: the shuffle's and the state's format (text with few distinct values as dictionaries). */
export const encodeIpc = (columns: readonly Column[], rows: readonly Row[]): Uint8Array =>
  arrow.tableToIPC(toArrow(columns, rows, { dictionary: true }), 'stream');

/** Arrow IPC stream bytes from column arrays (each column's values, in row order), as encodeIpc writes rows. */
export const encodeIpcColumns = (
  columns: readonly Column[],
  values: readonly ColumnValues[],
  length: number,
): Uint8Array => arrow.tableToIPC(arrowOfColumns(columns, values, length, { dictionary: true }), 'stream');

/** Rows of one Arrow IPC stream. */
export const decodeIpc = (bytes: Uint8Array): Row[] => fromArrow(arrow.tableFromIPC(bytes));

/** Columns of one Arrow IPC stream by name: all, or the named ones (columnsOf). */
export const decodeIpcColumns = (bytes: Uint8Array, names?: readonly string[]) =>
  columnsOf(arrow.tableFromIPC(bytes), names);

/** Snappy Parquet of the rows, written by parquet-wasm from the declared Arrow schema. */
export const encodeParquet = (columns: readonly Column[], rows: readonly Row[]): Uint8Array =>
  encodeParquetColumns(columns, readColumns(columns, rows), rows.length);

/** Snappy Parquet of column arrays (each column's values, in row order), as encodeParquet writes rows. */
export function encodeParquetColumns(
  columns: readonly Column[],
  values: readonly ColumnValues[],
  length: number,
): Uint8Array {
  const ipc = arrow.tableToIPC(arrowOfColumns(columns, values, length, {}), 'stream');
  let properties = new WriterPropertiesBuilder().setCompression(Compression.SNAPPY);
  for (const c of columns) if (c.distinct) properties = properties.setColumnDictionaryEnabled(c.name, false);
  return writeParquet(WasmTable.fromIPCStream(ipc), properties.build());
}

/** Rows of a Parquet file (compaction reads the tables' own files back). */
export const decodeParquet = (bytes: Uint8Array): Row[] =>
  fromArrow(arrow.tableFromIPC(readParquet(bytes).intoIPCStream()));

/**
 * Rows of Arrow IPC streams (a bucket's slices), kept as their Arrow buffers: a column's values are read out only
 * where the caller needs them, and picked rows are copied into a new IPC stream byte by byte, never passing
 * through JS values or a UTF-8 encode. Row numbers run across the streams in order.
 */
export class ArrowRows {
  readonly length: number;
  /** The streams' record batches, and the first row number of each. */
  private readonly batches: arrow.RecordBatch[];
  private readonly starts: Int32Array;
  /** The batch of each row. */
  private readonly chunkOf: Int32Array;
  /** Each stream's row count. */
  private readonly streams: number[];
  /** The columns decoded by values(), by name. */
  private readonly decoded = new Map<string, (string | number | null)[]>();

  constructor(bodies: readonly Uint8Array[]) {
    const tables = bodies.map((body) => arrow.tableFromIPC(body));
    this.streams = tables.map((t) => t.numRows);
    this.batches = tables.flatMap((t) => t.batches);
    this.starts = new Int32Array(this.batches.length + 1);
    this.batches.forEach((b, k) => {
      this.starts[k + 1] = (this.starts[k] as number) + b.numRows;
    });
    this.length = this.starts[this.batches.length] as number;
    this.chunkOf = new Int32Array(this.length);
    for (let k = 0; k < this.batches.length; k++) this.chunkOf.fill(k, this.starts[k], this.starts[k + 1]);
  }

  /** The number of rows of the k-th stream given. */
  streamRows(k: number): number {
    return this.streams[k] ?? 0;
  }

  /**
   * A column's values in row order, as decodeIpc's rows hold them (null where a stream lacks the column). Decoded
   * once and kept: the caller shares the array and must not change it.
   */
  values(name: string): (string | number | null)[] {
    let out = this.decoded.get(name);
    if (out) return out;
    const parts = this.batches.map((batch) => {
      const data = columnData(batch, name);
      return data ? readColumn(data) : Array.from({ length: batch.numRows }, () => null);
    });
    out = joined(parts);
    this.decoded.set(name, out);
    return out;
  }

  /**
   * A column's values at the given row numbers, in their order. A column not decoded yet is copied in that order as
   * bytes, then decoded in one pass: gathering decoded values instead chased a pointer per value (twice as slow).
   */
  valuesAt(column: Column, picks: ArrayLike<number>): (string | number | null)[] {
    const decoded = this.decoded.get(column.name);
    if (decoded) return pick(decoded, picks);
    return readColumn(this.gather(column, arrowType(column.kind), this.locate(picks)));
  }

  /**
   * An order of rows by a text column, as compareValues orders its values (nulls last, texts by UTF-16 code units),
   * read from the bytes: ASCII bytes order as their code units do; two texts of which one is not ASCII are decoded.
   * For a sort's ties, where the column would be decoded only to break a few.
   */
  compareText(name: string): (r: number, s: number) => number {
    const texts = this.batches.map((b) => {
      const data = columnData(b, name);
      const text = data && textBuffers(data);
      if (text === undefined) throw new Error(`compareText takes a text column, not ${data?.type}`);
      return text;
    });
    return (r, s) => {
      const [i, j] = [this.entryOf(texts, r), this.entryOf(texts, s)];
      if (i < 0 || j < 0) return i < 0 ? (j < 0 ? 0 : 1) : -1;
      const [a, b] = [texts[this.chunkOf[r] as number] as TextBuffers, texts[this.chunkOf[s] as number] as TextBuffers];
      const [x, xEnd] = [a.offsets[i] as number, a.offsets[i + 1] as number];
      const [y, yEnd] = [b.offsets[j] as number, b.offsets[j + 1] as number];
      for (let k = 0; x + k < xEnd && y + k < yEnd; k++) {
        const [c, d] = [a.bytes[x + k] as number, b.bytes[y + k] as number];
        if (c > 0x7f || d > 0x7f) {
          const [u, v] = [entryText(a, i), entryText(b, j)];
          return u < v ? -1 : u > v ? 1 : 0;
        }
        if (c !== d) return c - d;
      }
      // One is a prefix of the other (a byte beyond ASCII after it is still a longer text).
      return xEnd - x - (yEnd - y);
    };
  }

  /** Row r's entry in its batch's text buffers (`texts`, by batch), or -1 for a null or a batch without them. */
  private entryOf(texts: readonly (TextBuffers | null | undefined)[], r: number): number {
    const k = this.chunkOf[r] as number;
    const text = texts[k];
    return text ? textEntry(text, r - (this.starts[k] as number)) : -1;
  }

  /**
   * A column's values at the given row numbers, in their order, as Arrow data of its declared type (text declared
   * repeated as a dictionary), copied as bytes: for a column the caller passes on to an encoder without reading it.
   */
  dataAt(column: Column, picks: ArrayLike<number>): arrow.Data {
    return this.gather(column, arrowType(column.kind), this.locate(picks));
  }

  /**
   * The given rows grouped by a text column (nulls one group; Groups, by position in `rows`), from the column's
   * bytes: a 64-bit fingerprint finds a row's group and its bytes are compared with the group's first row's
   * (groups whose fingerprints collide are chained), so no value is decoded and no string hashed. A column of
   * another type is grouped by its values.
   */
  groups(name: string, rows: Int32Array): Groups {
    const chunks = this.batches.map((b) => columnData(b, name));
    const texts = chunks.map((d) => (d ? textBuffers(d) : null));
    if (texts.some((t, k) => t === undefined && chunks[k])) {
      const values = this.values(name);
      return groupsByValue(rows.length, (p) => values[rows[p] as number]);
    }
    const prints = chunks.map((d) => (d ? fingerprintColumn([d]) : undefined));
    // Two rows' texts (not null here), compared as bytes.
    const same = (r: number, s: number): boolean => {
      const [a, b] = [texts[this.chunkOf[r] as number] as TextBuffers, texts[this.chunkOf[s] as number] as TextBuffers];
      const [i, j] = [this.entryOf(texts, r), this.entryOf(texts, s)];
      const [ao, bo] = [a.offsets, b.offsets];
      return sameRange(a.bytes, ao[i] as number, ao[i + 1] as number, b.bytes, bo[j] as number, bo[j + 1] as number);
    };
    const table = new FingerprintTable(rows.length, true);
    const groupOf = new Int32Array(rows.length);
    // Each group's first row, and the group chained before it on the same fingerprint (-1: none).
    const first: number[] = [];
    const chained: number[] = [];
    let nulls = -1;
    for (let p = 0; p < rows.length; p++) {
      const r = rows[p] as number;
      const k = this.chunkOf[r] as number;
      const i = r - (this.starts[k] as number);
      const print = prints[k];
      if (!print || print.nulls[i] === 1) {
        if (nulls < 0) {
          nulls = first.length;
          first.push(r);
          chained.push(-1);
        }
        groupOf[p] = nulls;
        continue;
      }
      const slot = table.add(print.hi[i] as number, print.lo[i] as number);
      let g = table.added ? -1 : (table.valueHi[slot] as number);
      while (g >= 0 && !same(r, first[g] as number)) g = chained[g] as number;
      if (g < 0) {
        g = first.length;
        first.push(r);
        chained.push(table.added ? -1 : (table.valueHi[slot] as number));
        table.valueHi[slot] = g;
      }
      groupOf[p] = g;
    }
    return { groupOf, count: first.length };
  }

  /** The picked rows as row objects of the given columns (null where a stream lacks one). */
  rows(columns: readonly Column[], picks: Int32Array): Row[] {
    const names = columns.map((c) => c.name);
    const values = names.map((name) => this.values(name));
    const make = rowMaker(names);
    return Array.from(picks, (i) => make(values, i));
  }

  /** Arrow IPC stream bytes of the picked rows (row numbers, in output order), with the given columns. */
  encodeIpc(columns: readonly Column[], picks: Int32Array): Uint8Array {
    const n = picks.length;
    const declared = arrowSchema(columns);
    if (n === 0) return arrow.tableToIPC(new arrow.Table(declared), 'stream');
    const picked = this.locate(picks);
    const children = columns.map((c, j) => this.gather(c, (declared.fields[j] as arrow.Field).type, picked));
    return arrow.tableToIPC(tableOf(columns, children, n), 'stream');
  }

  /** Each pick's batch and row in it. */
  private locate(picks: ArrayLike<number>): { chunk: Int32Array; row: Int32Array } {
    const n = picks.length;
    const picked = { chunk: new Int32Array(n), row: new Int32Array(n) };
    for (let p = 0; p < n; p++) {
      const r = picks[p] as number;
      const k = this.chunkOf[r] as number;
      picked.chunk[p] = k;
      picked.row[p] = r - (this.starts[k] as number);
    }
    return picked;
  }

  /** The picked rows of one column as Arrow data of its declared type (a dictionary for repeated text). */
  private gather(column: Column, type: arrow.DataType, picked: { chunk: Int32Array; row: Int32Array }): arrow.Data {
    const chunks = this.batches.map((b) => columnData(b, column.name));
    const copied = gatherBytes(column, type, chunks, picked);
    if (copied) return copied;
    // Any other layout (another writer's types): through JS values, as encodeIpc would build them.
    const decoded = chunks.map((data) => (data ? readColumn(data) : null));
    const values = Array.from(picked.chunk, (k, p) => decoded[k]?.[picked.row[p] as number] ?? null);
    return (column.repeated ? dictionaryColumn(values) : undefined) ?? buildColumn(column, type, values);
  }
}

/** A batch's column by name, or null when its stream has no such column. */
const columnData = (batch: arrow.RecordBatch, name: string): arrow.Data | null =>
  (batch.getChild(name)?.data[0] as arrow.Data | undefined) ?? null;

/** A column's values at the given row numbers, in their order. */
export function pick<T>(values: ArrayLike<T>, picks: ArrayLike<number>): T[] {
  // Made at its length: a push per value cost 4 times as much (see joined).
  const out: T[] = new Array(picks.length);
  for (let p = 0; p < picks.length; p++) out[p] = values[picks[p] as number] as T;
  return out;
}

/**
 * The picked rows of one column, copied from its batches' buffers; undefined when a batch lays it out other than
 * this code writes (then the caller goes through JS values). A dictionary column stays one when every batch has
 * one, under the batches' dictionaries merged; texts mixed with dictionaries become plain texts.
 */
/** Runs of bytes up to this long are copied by gatherBytes' own loop. */
const SHORT_COPY = 64;

function gatherBytes(
  column: Column,
  type: arrow.DataType,
  chunks: readonly (arrow.Data | null)[],
  picked: { chunk: Int32Array; row: Int32Array },
): arrow.Data | undefined {
  const { chunk } = picked;
  const n = chunk.length;
  // Each pick's position in its batch's buffers, or -1 for a null.
  const at = new Int32Array(n);
  const validity = new Uint8Array((n + 7) >> 3);
  let nullCount = 0;
  const bitmaps = chunks.map((d) => (d && d.nullCount > 0 ? d.nullBitmap : undefined));
  const offsets = chunks.map((d) => (d ? d.offset : -1));
  for (let p = 0; p < n; p++) {
    const k = chunk[p] as number;
    const offset = offsets[k] as number;
    const i = picked.row[p] as number;
    const bit = offset + i;
    const bitmap = bitmaps[k];
    if (offset < 0 || (bitmap && ((bitmap[bit >> 3] as number) & (1 << (bit & 7))) === 0)) {
      at[p] = -1;
      nullCount++;
    } else {
      at[p] = i;
      validity[p >> 3] = (validity[p >> 3] as number) | (1 << (p & 7));
    }
  }
  const nullBitmap = nullCount > 0 ? validity : undefined;
  if (column.kind !== 'utf8') {
    const width = column.kind === 'int32' ? 1 : 2;
    const words: Int32Array[] = [];
    for (const d of chunks) {
      const v = d?.values as (ArrayBufferView & { BYTES_PER_ELEMENT: number }) | undefined;
      const numeric =
        d && (arrow.DataType.isInt(d.type) || arrow.DataType.isFloat(d.type) || arrow.DataType.isTimestamp(d.type));
      if (d && !(numeric && ArrayBuffer.isView(v) && v.BYTES_PER_ELEMENT * d.stride === width * 4)) return undefined;
      words.push(v ? new Int32Array(v.buffer, v.byteOffset, v.byteLength >> 2) : new Int32Array(0));
    }
    const values =
      column.kind === 'int32'
        ? new Int32Array(n)
        : column.kind === 'float64'
          ? new Float64Array(n)
          : new BigInt64Array(n);
    // Copied as 32-bit words: a float copied as a float may have its NaN bits rewritten.
    const out = new Int32Array(values.buffer);
    for (let p = 0; p < n; p++) {
      const i = at[p] as number;
      if (i < 0) continue;
      const src = words[chunk[p] as number] as Int32Array;
      out[p * width] = src[i * width] as number;
      if (width === 2) out[p * width + 1] = src[i * width + 1] as number;
    }
    return arrow.makeData({ type: type as arrow.Int32, length: n, nullCount, nullBitmap, data: values as Int32Array });
  }
  // Texts: each batch's offsets and bytes; a dictionary batch's picks become entries of its dictionary.
  const ends: Int32Array[] = [];
  const bytes: Uint8Array[] = [];
  // A dictionary batch's indices.
  const indices: (Int32Array | null)[] = [];
  for (const d of chunks) {
    let text = d;
    if (d && arrow.DataType.isDictionary(d.type)) {
      const parts = (d.dictionary as arrow.Vector | undefined)?.data;
      if (parts?.length !== 1 || !(d.values instanceof Int32Array)) return undefined;
      text = parts[0] as arrow.Data;
      if (text.nullCount > 0) return undefined;
    }
    if (text && !(arrow.DataType.isUtf8(text.type) && text.valueOffsets instanceof Int32Array)) return undefined;
    ends.push((text?.valueOffsets as Int32Array | undefined) ?? new Int32Array(1));
    bytes.push((text?.values as Uint8Array | undefined) ?? new Uint8Array(0));
    indices.push(text !== d && d ? (d.values as Int32Array) : null);
  }
  for (let p = 0; p < n; p++) {
    const ix = indices[chunk[p] as number];
    const i = at[p] as number;
    if (ix && i >= 0) at[p] = ix[i] as number;
  }
  const present = chunks.filter((d) => d).length;
  if (column.repeated && present > 0 && indices.filter((x) => x).length === present) {
    return arrow.makeData({
      type: new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32()),
      length: n,
      nullCount,
      nullBitmap,
      ...mergedDictionary(ends, bytes, chunk, at),
    });
  }
  const valueOffsets = new Int32Array(n + 1);
  let size = 0;
  for (let p = 0; p < n; p++) {
    const e = at[p] as number;
    if (e >= 0) {
      const o = ends[chunk[p] as number] as Int32Array;
      size += (o[e + 1] as number) - (o[e] as number);
    }
    valueOffsets[p + 1] = size;
  }
  const out = new Uint8Array(size);
  for (let p = 0; p < n; ) {
    const e = at[p] as number;
    if (e < 0) {
      p++;
      continue;
    }
    // A run of consecutive rows of one batch (a state's rows are mostly kept in order) is one copy.
    const k = chunk[p] as number;
    let q = p + 1;
    while (q < n && chunk[q] === k && at[q] === (at[q - 1] as number) + 1) q++;
    const o = ends[k] as Int32Array;
    const src = bytes[k] as Uint8Array;
    const from = o[e] as number;
    const to = o[(at[q - 1] as number) + 1] as number;
    // A short run byte by byte: set() makes a view per call, which cost more than the copy (large, dimensions and
    // facts: 10.5 M and 12.3 M runs of 2 and 1 rows).
    if (to - from <= SHORT_COPY)
      for (let b = from, o = valueOffsets[p] as number; b < to; b++, o++) out[o] = src[b] as number;
    else out.set(src.subarray(from, to), valueOffsets[p] as number);
    p = q;
  }
  return arrow.makeData({ type: type as arrow.Utf8, length: n, nullCount, nullBitmap, valueOffsets, data: out });
}

/** One dictionary of the batches' dictionaries, each batch's entries numbered in it when first picked. */
function mergedDictionary(
  ends: readonly Int32Array[],
  bytes: readonly Uint8Array[],
  chunk: Int32Array,
  at: Int32Array,
) {
  const ids = new Map<string, number>();
  const texts: string[] = [];
  const numbers = ends.map((o) => new Int32Array(o.length).fill(-1));
  const indices = new Int32Array(chunk.length);
  for (let p = 0; p < chunk.length; p++) {
    const e = at[p] as number;
    if (e < 0) continue;
    const k = chunk[p] as number;
    const known = numbers[k] as Int32Array;
    let id = known[e] as number;
    if (id < 0) {
      const o = ends[k] as Int32Array;
      const b = bytes[k] as Uint8Array;
      const text = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8', o[e], o[e + 1]);
      id = ids.get(text) ?? texts.push(text) - 1;
      ids.set(text, id);
      known[e] = id;
    }
    indices[p] = id;
  }
  return { data: indices, dictionary: arrow.makeVector(utf8Data(new arrow.Utf8(), texts)) };
}
