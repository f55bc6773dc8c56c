/**
 * `sparkify query`: SQL over a local lake, one view per table, with DuckDB.
 * @example npm run query -- "SELECT level, count(*) FROM songplays GROUP BY level"
 * @example npm run query -- top-songs --csv
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { TABLES } from '../shared/config.ts';
import { tableManifestKey } from '../shared/keys.ts';
import { NAMED_QUERIES } from '../shared/queries.ts';
import { UsageError } from './usage.ts';

/** A query result: column names and rows of plain values. */
export interface QueryResult {
  columns: string[];
  rows: (string | number | boolean | null)[][];
}

const quote = (text: string): string => `'${text.replace(/'/g, "''")}'`;

/** Runs SQL over the lake's tables (each a view over the files its manifest names). */
export async function queryLake(lake: string, sql: string): Promise<QueryResult> {
  const root = resolve(lake);
  const db = await (await DuckDBInstance.create(':memory:')).connect();
  // Timestamps are UTC by contract; never let the machine's zone shift an hour.
  await db.run("SET TimeZone = 'UTC'");
  let views = 0;
  for (const table of TABLES) {
    const manifest = join(root, tableManifestKey(table));
    if (!existsSync(manifest)) continue;
    const files = (JSON.parse(readFileSync(manifest, 'utf8')) as { files: { key: string }[] }).files;
    if (files.length === 0) continue;
    const list = files.map((f) => quote(join(root, f.key))).join(', ');
    await db.run(
      `CREATE VIEW ${table} AS SELECT * FROM read_parquet([${list}], hive_partitioning = true, hive_types_autocast = true)`,
    );
    views++;
  }
  if (views === 0) throw new Error(`no tables in ${root}: run the ETL first (npm start -- --target ${lake})`);
  const reader = await db.runAndReadAll(sql);
  const columns = reader.columnNames();
  const rows = reader.getRowsJS().map((row) =>
    row.map((v) => {
      if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : String(v);
      if (v instanceof Date) return v.toISOString();
      if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
      return String(v);
    }),
  );
  return { columns, rows };
}

/** An aligned text table: numbers right-aligned, nulls shown as NULL. */
export function formatTable(result: QueryResult): string {
  const cells = result.rows.map((r) => r.map((v) => (v === null ? 'NULL' : String(v))));
  const widths = result.columns.map((c, i) => Math.max(c.length, ...cells.map((r) => (r[i] ?? '').length)));
  const numeric = result.columns.map((_, i) => result.rows.every((r) => r[i] === null || typeof r[i] === 'number'));
  const line = (values: string[]): string =>
    values
      .map((v, i) => (numeric[i] ? v.padStart(widths[i] ?? 0) : v.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const count = `(${result.rows.length} ${result.rows.length === 1 ? 'row' : 'rows'})`;
  return [line(result.columns), rule, ...cells.map(line), count].join('\n');
}

/** RFC 4180 CSV. */
export function formatCsv(result: QueryResult): string {
  const field = (v: unknown): string => {
    if (v === null) return '';
    const text = String(v);
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  return [result.columns.map(field).join(','), ...result.rows.map((r) => r.map(field).join(','))].join('\n');
}

/** One JSON object per row. */
export function formatJson(result: QueryResult): string {
  return JSON.stringify(
    result.rows.map((r) => Object.fromEntries(result.columns.map((c, i) => [c, r[i] ?? null]))),
    null,
    2,
  );
}

/** The `query` command; returns its output. */
export async function queryCommand(argv: string[]): Promise<string> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      lake: { type: 'string', default: 'lake' },
      list: { type: 'boolean', default: false },
      csv: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  if (values.list) {
    const width = Math.max(...NAMED_QUERIES.map((q) => q.name.length));
    return NAMED_QUERIES.map((q) => `${q.name.padEnd(width)}  ${q.description}`).join('\n');
  }
  const text = positionals.join(' ').trim();
  if (!text) throw new QueryUsageError('query needs SQL or a query name (see --list)');
  const named = NAMED_QUERIES.find((q) => q.name === text);
  const result = await queryLake(values.lake, named ? named.sql : text);
  if (values.csv) return formatCsv(result);
  if (values.json) return formatJson(result);
  return formatTable(result);
}

/** A bad query command line. */
export class QueryUsageError extends UsageError {
  override name = 'QueryUsageError';
}
