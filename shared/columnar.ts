/** Rows ⇄ Arrow tables with declared schemas, Arrow IPC for the shuffle, and Parquet for the tables. */
import { Buffer } from 'node:buffer';
import * as arrow from 'apache-arrow';
import { Compression, readParquet, Table as WasmTable, WriterPropertiesBuilder, writeParquet } from 'parquet-wasm';
import { arrowSchema, type Column } from './schemas.ts';

/** A row: column name to plain value. */
export type Row = Record<string, string | number | null>;

/**
 * Builds an Arrow table from rows, typed by the declared columns. Writes the column buffers directly: Arrow's
 * generic builders (vectorFromArray) encode each string on its own and cost seconds per million rows.
 */
export function toArrow(columns: readonly Column[], rows: readonly Row[]): arrow.Table {
  const schema = arrowSchema(columns);
  if (rows.length === 0) return new arrow.Table(schema);
  const children = columns.map((c, i) => buildColumn(c, (schema.fields[i] as arrow.Field).type, rows));
  const data = arrow.makeData({ type: new arrow.Struct(schema.fields), length: rows.length, nullCount: 0, children });
  return new arrow.Table(schema, new arrow.RecordBatch(schema, data));
}

/** Rows whose strings are written with one UTF-8 encode when they are all ASCII, which is most of the data. */
const ENCODE_BLOCK = 256;

/** One column's Arrow data: values, offsets (utf8) and a validity bitmap when any value is null. */
function buildColumn(column: Column, type: arrow.DataType, rows: readonly Row[]): arrow.Data {
  const n = rows.length;
  const name = column.name;
  const validity = new Uint8Array((n + 7) >> 3);
  let nullCount = 0;
  if (column.kind === 'utf8') {
    const offsets = new Int32Array(n + 1);
    const texts: string[] = new Array(ENCODE_BLOCK);
    let bytes = Buffer.allocUnsafe(Math.max(1024, n * 16));
    let at = 0;
    for (let from = 0; from < n; from += ENCODE_BLOCK) {
      const to = Math.min(n, from + ENCODE_BLOCK);
      let joined = '';
      for (let i = from; i < to; i++) {
        const v = (rows[i] as Row)[name];
        const text = v === null || v === undefined ? '' : String(v);
        if (v === null || v === undefined) nullCount++;
        else validity[i >> 3] = (validity[i >> 3] as number) | (1 << (i & 7));
        texts[i - from] = text;
        joined += text;
      }
      // A UTF-16 unit takes at most 3 bytes of UTF-8.
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
    return arrow.makeData({
      type: type as arrow.Utf8,
      length: n,
      nullCount,
      nullBitmap: nullCount > 0 ? validity : undefined,
      valueOffsets: offsets,
      data: new Uint8Array(bytes.buffer, bytes.byteOffset, at),
    });
  }
  const wide = column.kind === 'int64' || column.kind === 'timestamp';
  const values = wide ? new BigInt64Array(n) : column.kind === 'int32' ? new Int32Array(n) : new Float64Array(n);
  // int64 as two 32-bit halves (little-endian): a BigInt per value would cost an allocation each.
  const halves = wide ? new Int32Array(values.buffer) : undefined;
  for (let i = 0; i < n; i++) {
    const v = (rows[i] as Row)[name];
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

type RowMaker = (columns: (string | number | null)[][], i: number) => Row;
const rowMakers = new Map<string, RowMaker>();

/**
 * A function building one row as an object literal of the given column names: every row gets the same shape at
 * once, where adding properties one by one by name costs a keyed store each (half of decoding, measured).
 */
function rowMaker(names: readonly string[]): RowMaker {
  const signature = JSON.stringify(names);
  let make = rowMakers.get(signature);
  if (!make) {
    // Names are quoted with JSON.stringify, so any name is a plain property key in the generated literal, except
    // __proto__, which a literal would take as the prototype: no declared column is named so.
    if (names.includes('__proto__')) throw new Error('a column named __proto__ cannot be read into rows');
    const fields = names.map((n, j) => `${JSON.stringify(n)}: c[${j}][i]`).join(', ');
    make = new Function('c', 'i', `return { ${fields} };`) as RowMaker;
    rowMakers.set(signature, make);
  }
  return make;
}

/**
 * The columns of one Arrow IPC stream as plain arrays, without building a row object per row. `ownStrings`: the
 * columns whose every string is its own copy, for strings kept long (a slice of a decoded block keeps the whole
 * block alive).
 */
export function decodeIpcColumns(
  bytes: Uint8Array,
  options: { ownStrings?: readonly string[] } = {},
): Record<string, (string | number | null)[]> {
  const table = arrow.tableFromIPC(bytes);
  const out: Record<string, (string | number | null)[]> = {};
  table.schema.fields.forEach((f, j) => {
    const own = options.ownStrings?.includes(f.name) ?? false;
    const parts = table.batches.map((b) => readColumn(b.getChildAt(j)?.data[0] as arrow.Data, own));
    out[f.name] = parts.length === 1 ? (parts[0] as (string | number | null)[]) : parts.flat();
  });
  return out;
}

/** Strings decoded in blocks: one decode per block of ASCII text, which is most of the data. */
const DECODE_BLOCK = 256;

/** A column's values as plain JS values (null where the validity bitmap says so). */
function readColumn(data: arrow.Data, ownStrings = false): (string | number | null)[] {
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
  if (arrow.DataType.isUtf8(data.type)) {
    const offsets = data.valueOffsets as Int32Array;
    const bytes = Buffer.from(data.values.buffer, data.values.byteOffset, data.values.byteLength);
    for (let from = 0; from < n; from += DECODE_BLOCK) {
      const to = Math.min(n, from + DECODE_BLOCK);
      const start = offsets[data.offset + from] as number;
      const end = offsets[data.offset + to] as number;
      const block = bytes.toString('utf8', start, end);
      // Valid UTF-8 decodes to as many UTF-16 units as bytes only when every byte is ASCII: then slice by offsets.
      const ascii = block.length === end - start;
      for (let i = from; i < to; i++) {
        if (!valid(i)) {
          out.push(null);
          continue;
        }
        const a = offsets[data.offset + i] as number;
        const b = offsets[data.offset + i + 1] as number;
        if (!ascii) out.push(bytes.toString('utf8', a, b));
        else out.push(ownStrings ? bytes.toString('latin1', a, b) : block.slice(a - start, b - start));
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
  for (let i = 0; i < n; i++) {
    const v = values[data.offset + i] as number | bigint;
    out.push(valid(i) ? (typeof v === 'bigint' ? Number(v) : v) : null);
  }
  return out;
}

/** Arrow IPC stream bytes: the shuffle's wire format. */
export const encodeIpc = (columns: readonly Column[], rows: readonly Row[]): Uint8Array =>
  arrow.tableToIPC(toArrow(columns, rows), 'stream');

/** Rows of one Arrow IPC stream. */
export const decodeIpc = (bytes: Uint8Array): Row[] => fromArrow(arrow.tableFromIPC(bytes));

/** Snappy Parquet of the rows, written by parquet-wasm from the declared Arrow schema. */
export function encodeParquet(columns: readonly Column[], rows: readonly Row[]): Uint8Array {
  const ipc = arrow.tableToIPC(toArrow(columns, rows), 'stream');
  const properties = new WriterPropertiesBuilder().setCompression(Compression.SNAPPY).build();
  return writeParquet(WasmTable.fromIPCStream(ipc), properties);
}

/** Rows of a Parquet file (compaction reads the tables' own files back). */
export const decodeParquet = (bytes: Uint8Array): Row[] =>
  fromArrow(arrow.tableFromIPC(readParquet(bytes).intoIPCStream()));
