/** Rows ⇄ Arrow tables with declared schemas, Arrow IPC for the shuffle, and Parquet for the tables. */
import * as arrow from 'apache-arrow';
import { Compression, readParquet, Table as WasmTable, WriterPropertiesBuilder, writeParquet } from 'parquet-wasm';
import { arrowSchema, type Column } from './schemas.ts';

/** A row: column name to plain value. */
export type Row = Record<string, string | number | null>;

/** Builds an Arrow table from rows, typed by the declared columns. */
export function toArrow(columns: readonly Column[], rows: readonly Row[]): arrow.Table {
  const schema = arrowSchema(columns);
  if (rows.length === 0) return new arrow.Table(schema);
  const children = columns.map((c, i) => {
    const field = schema.fields[i] as arrow.Field;
    const values =
      c.kind === 'int64'
        ? rows.map((r) => (r[c.name] === null ? null : BigInt(r[c.name] as number)))
        : rows.map((r) => r[c.name] ?? null);
    const vector = arrow.vectorFromArray(values, field.type);
    return vector.data.length === 1 ? (vector.data[0] as arrow.Data) : concatData(vector);
  });
  const data = arrow.makeData({ type: new arrow.Struct(schema.fields), length: rows.length, nullCount: 0, children });
  return new arrow.Table(schema, new arrow.RecordBatch(schema, data));
}

function concatData(vector: arrow.Vector): arrow.Data {
  // vectorFromArray may chunk very long inputs; a record batch needs one chunk per column.
  return arrow.vectorFromArray([...vector], vector.type).data[0] as arrow.Data;
}

/** Reads an Arrow table back into rows (int64 and timestamps as numbers). */
export function fromArrow(table: arrow.Table): Row[] {
  const names = table.schema.fields.map((f) => f.name);
  const columns = names.map((n) => [...(table.getChild(n) ?? [])] as unknown[]);
  const rows: Row[] = new Array(table.numRows);
  for (let i = 0; i < table.numRows; i++) {
    const row: Row = {};
    for (let j = 0; j < names.length; j++) {
      const v = (columns[j] as unknown[])[i];
      row[names[j] as string] = typeof v === 'bigint' ? Number(v) : (v as string | number | null);
    }
    rows[i] = row;
  }
  return rows;
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
