/** Reads a lake back with DuckDB (an independent Parquet reader), in the oracle's row shapes. */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { ExpectedTables } from './oracle.ts';

type TableName = 'songplays' | 'users' | 'songs' | 'artists' | 'time';

const KEY: Record<TableName, string> = {
  songplays: 'songplay_id',
  users: 'user_id',
  songs: 'song_id',
  artists: 'artist_id',
  time: 'start_time',
};

// Columns as the contract names them; timestamps as epoch ms, integers as JS numbers.
const SELECT: Record<TableName, string> = {
  songplays: `songplay_id, epoch_ms(start_time)::DOUBLE AS start_time, user_id, level, song_id, artist_id,
    session_id::DOUBLE AS session_id, location, user_agent`,
  users: 'user_id, first_name, last_name, gender, level',
  songs: 'song_id, title, artist_id, year::INTEGER AS year, duration',
  artists: 'artist_id, name, location, latitude, longitude',
  time: `epoch_ms(start_time)::DOUBLE AS start_time, hour, day, week, month::INTEGER AS month,
    year::INTEGER AS year, weekday`,
};

/** A DuckDB connection for one test file. */
export async function duck() {
  const instance = await DuckDBInstance.create(':memory:');
  return instance.connect();
}

type Connection = Awaited<ReturnType<typeof duck>>;

const glob = (lake: string, table: string): string => `${lake.replace(/'/g, "''")}/${table}/**/*.parquet`;

/** One table's rows, sorted by its key. */
export async function readTable<T extends TableName>(
  db: Connection,
  lake: string,
  table: T,
): Promise<ExpectedTables[T]> {
  // A table with no rows has no files (e.g. songplays before any log file is loaded); DuckDB refuses an empty glob.
  const files = existsSync(join(lake, table)) ? readdirSync(join(lake, table), { recursive: true }) : [];
  if (!files.some((f) => String(f).endsWith('.parquet'))) return [] as unknown as ExpectedTables[T];
  const reader = await db.runAndReadAll(
    `SELECT ${SELECT[table]} FROM read_parquet('${glob(lake, table)}', hive_partitioning = true) ORDER BY ${KEY[table]}`,
  );
  return reader.getRowObjectsJS() as unknown as ExpectedTables[T];
}

/** Every table of a lake. */
export async function readLake(db: Connection, lake: string): Promise<Omit<ExpectedTables, 'rejects' | 'read'>> {
  return {
    songplays: await readTable(db, lake, 'songplays'),
    users: await readTable(db, lake, 'users'),
    songs: await readTable(db, lake, 'songs'),
    artists: await readTable(db, lake, 'artists'),
    time: await readTable(db, lake, 'time'),
  };
}

/** Column name → DuckDB type, partition columns included. */
export async function describeTable(db: Connection, lake: string, table: TableName): Promise<Record<string, string>> {
  const reader = await db.runAndReadAll(
    `DESCRIBE SELECT * FROM read_parquet('${glob(lake, table)}', hive_partitioning = true)`,
  );
  return Object.fromEntries(reader.getRowObjectsJS().map((r) => [String(r.column_name), String(r.column_type)]));
}

/** Parquet physical and logical types of one table's file columns (from one of its files). */
export async function parquetTypes(db: Connection, file: string): Promise<Record<string, string>> {
  const reader = await db.runAndReadAll(
    `SELECT name, type, logical_type FROM parquet_schema('${file.replace(/'/g, "''")}') WHERE type IS NOT NULL`,
  );
  return Object.fromEntries(reader.getRowObjectsJS().map((r) => [String(r.name), `${r.type} ${r.logical_type}`]));
}
