/**
 * The reducers. Each owns one bucket of every shuffle dataset. Two phases, because the song precedence winner
 * must be known before the join (the same winner serves the songs table and the join):
 * - `dimensions`: dedupe songs, artists, users, songplays; distinct times; re-shuffle the song winners and the
 *   unique plays on the join key, and the finished dimension rows on their partition.
 * - `facts`: join the plays with the songs of their join key and write songplays; write the dimension tables,
 *   one reducer per partition, so a dimension partition is one file however many buckets there are.
 */

import { hash as oneShotHash } from 'node:crypto';
import { threadId } from 'node:worker_threads';
import * as arrow from 'apache-arrow';
import {
  ArrowRows,
  type ColumnValues,
  encodeIpcColumns,
  encodeParquetColumns,
  pick,
  type Row,
  readColumns,
  type Value,
  valuesOf,
} from './columnar.ts';
import { TABLES, type TableName } from './config.ts';
import { fingerprintRows } from './fingerprints.ts';
import { bucketInsights, type Insights } from './insights.ts';
import {
  partitionPath,
  reduceStatsKey,
  runInputsKey,
  type ShuffleName,
  stateDigestKey,
  stateRecordsKey,
  tableFileKey,
  workerId,
} from './keys.ts';
import type { InputObject, RunContext } from './plan.ts';
import type { TableFile } from './publish.ts';
import { type Column, DIGEST_COLUMNS, DIGEST_FORMAT, SHUFFLE_COLUMNS, TABLE_COLUMNS } from './schemas.ts';
import { type ReadCounts, readBucket, readBucketBodies, readBucketColumn, Shuffle } from './shuffle.ts';
import { noUsage, type ObjectStore, openStore, type StoreUsage } from './store.ts';
import { monthCalendar, timeColumns } from './time.ts';
import {
  bucketOf,
  byClass,
  byLatest,
  byPrecedence,
  compareColumns,
  dedupeRows,
  joinBuckets,
  joinShuffleKey,
  matchSongs,
  PRECEDENCE_COLUMNS,
  partitionBucket,
  sortedDistinct,
  sortOrder,
} from './transform.ts';

/** The reduce phases, in order. */
export const REDUCE_PHASES = ['dimensions', 'facts'] as const;
export type ReducePhase = (typeof REDUCE_PHASES)[number];

type DimensionTable = 'songs' | 'artists' | 'users' | 'time';

/** What a reducer leaves behind for Commit. */
export interface ReduceStats {
  phase: ReducePhase;
  bucket: number;
  worker: string;
  objectsRead: number;
  bytesRead: number;
  rowsIn: number;
  /** Rows written: table rows, and rows passed on to the next phase. */
  rowsOut: number;
  tables: Partial<Record<TableName, { rows: number; files: TableFile[] }>>;
  shuffleBytes: number;
  /** Bytes of lake state written: the merged records (dimensions) or the tables' digests (facts). */
  stateBytes: number;
  /** Storage requests and retries of this invocation (the stats object itself not counted). */
  storage: StoreUsage;
  /** The facts phase's aggregates for the reports. */
  insights?: Insights;
  startedAt: string;
  finishedAt: string;
}

/** A reducer's input: one item of the reduce Map. */
export interface ReduceEvent {
  run: RunContext;
  phase: ReducePhase;
  bucket: number;
}

/** Reduces one bucket in one phase. */
export async function reduceBucket(event: ReduceEvent): Promise<{ bucket: number; rows: number }> {
  const { run, phase, bucket } = event;
  const startedAt = new Date().toISOString();
  const store = openStore(run.target);
  const stats: ReduceStats = {
    phase,
    bucket,
    worker: workerId(process.pid, threadId),
    objectsRead: 0,
    bytesRead: 0,
    rowsIn: 0,
    rowsOut: 0,
    tables: {},
    shuffleBytes: 0,
    stateBytes: 0,
    storage: noUsage(),
    startedAt,
    finishedAt: '',
  };
  const counts = { objects: 0, bytes: 0 };
  const input = async (name: ShuffleName): Promise<Row[]> => {
    const rows = await readBucket(store, run.runId, name, bucket, counts);
    stats.rowsIn += rows.length;
    stats.objectsRead = counts.objects;
    stats.bytesRead = counts.bytes;
    return rows;
  };
  // Writes go out while the reducer works on; all of them are awaited before its stats are written (a failed one
  // fails the invocation then: marked handled now, so it is not an unhandled rejection meanwhile).
  const writes: Promise<void>[] = [];
  const started = (put: Promise<void>): void => {
    put.catch(() => {});
    writes.push(put);
  };
  // Format 1's row hashes too while the published state's digests are of format 1, for Commit's diff against them.
  const legacy = run.publishedDigest !== null && run.publishedDigest !== DIGEST_FORMAT;
  /** Writes a table's files and digest from its columns (TABLE_COLUMNS order), rows already in file order. */
  const writeColumns = (table: TableName, values: readonly ColumnValues[], n: number): void => {
    if (n === 0) return;
    const files = writeTable(store, run, table, bucket, values, n, started);
    stats.tables[table] = { rows: n, files };
    const digest = encodeDigest(table, values, n, legacy);
    started(store.put(stateDigestKey(run.runId, table, bucket), digest));
    stats.stateBytes += digest.length;
  };
  /** Writes a dimension given as its columns (TABLE_COLUMNS order) with rows in any order: its files by key. */
  const writeUnordered = (table: TableName, values: readonly ArrayLike<Value>[], n: number): void => {
    const order = sortOrder(n, [columnOf(table, values, (TABLE_COLUMNS[table][0] as Column).name)]);
    writeColumns(
      table,
      values.map((v) => pick(v, order)),
      n,
    );
  };
  const write = (table: TableName, rows: Row[]): void =>
    writeUnordered(table, readColumns(TABLE_COLUMNS[table], rows), rows.length);
  let reread: Set<string> | undefined;
  /**
   * This run's rows of a dataset merged with the lake's state, on their Arrow buffers: the state's rows from
   * objects this run read again are dropped (a changed object replaces its old records), then the best row per
   * (key, object) is kept: the new state, the same rows a full run over every loaded object would reduce, copied
   * into its IPC as bytes. Returns the rows and the row numbers of the best of those per key. `compared`: the
   * columns `compare` reads.
   */
  const merged = async (
    name: StateDataset,
    key: string,
    compare: (a: Row, b: Row) => number,
    compared: readonly string[],
  ): Promise<{ rows: ArrowRows; picked: Int32Array }> => {
    const bodies = await readBucketBodies(store, run.runId, name, bucket, counts);
    const old = run.baseline ? await readStateBody(store, run.baseline, name, bucket, counts) : undefined;
    const rows = new ArrowRows(old ? [old, ...bodies] : bodies);
    stats.rowsIn += rows.length;
    const src = rows.values('src');
    // The state's rows are the first stream's.
    let live = Int32Array.from({ length: rows.length }, (_, i) => i);
    if (old) {
      reread ??= await readInputKeys(store, run.runId);
      const stale = reread;
      const oldRows = rows.streamRows(0);
      live = live.filter((i) => i >= oldRows || !stale.has(src[i] as string));
    }
    const order = compareColumns(compare, Object.fromEntries(compared.map((c) => [c, rows.values(c)])));
    const { kept, winners } = dedupeRows(
      live.length,
      rows.groups(key, live),
      (p) => src[live[p] as number],
      (p, q) => order(live[p] as number, live[q] as number),
    );
    if (kept.length > 0) {
      const body = rows.encodeIpc(
        SHUFFLE_COLUMNS[name],
        kept.map((p) => live[p] as number),
      );
      started(store.put(stateRecordsKey(run.runId, name, bucket), body));
      stats.stateBytes += body.length;
    }
    return { rows, picked: winners.map((p) => live[p] as number) };
  };
  /** merged()'s winners as row objects: for the dimensions other than time, far fewer rows than the events. */
  const mergedRows = async (
    name: StateDataset,
    key: string,
    compare: (a: Row, b: Row) => number,
    compared: readonly string[],
  ): Promise<Row[]> => {
    const { rows, picked } = await merged(name, key, compare, compared);
    return rows.rows(SHUFFLE_COLUMNS[name], picked);
  };

  if (phase === 'dimensions') {
    const next = new Shuffle(run.settings.buckets);
    /** Sends each row of a dimension (its columns: `values`) to the reducer that writes its partition. */
    const finished = (table: DimensionTable, values: readonly ArrayLike<Value>[], row: (i: number) => Row): void => {
      const columns = run.settings.partitions[table];
      const offset = TABLES.indexOf(table);
      const partitionOf = partitionReader(table, columns);
      const partition: (string | number | null)[] = [];
      const n = values[0]?.length ?? 0;
      for (let i = 0; i < n; i++) {
        const bucketOf = partitionBucket(offset, columns, partitionOf(values, i, partition), run.settings.buckets);
        next.addTo(`dim-${table}`, bucketOf, row(i));
      }
    };
    const finishedRows = (table: DimensionTable, rows: Row[]): void =>
      finished(table, readColumns(TABLE_COLUMNS[table], rows), (i) => rows[i] as Row);
    const songs = await mergedRows('songs', 'song_id', byPrecedence, PRECEDENCE_COLUMNS);
    finishedRows('songs', songs);
    finishedRows('artists', await mergedRows('artists', 'artist_id', byPrecedence, PRECEDENCE_COLUMNS));
    finishedRows('users', await mergedRows('users', 'user_id', byLatest, ['ts', ...PRECEDENCE_COLUMNS]));
    // Re-shuffle on the join key: the winners only, so the join sees the same song as the songs table.
    for (const s of songs) {
      if (s.title === null || s.artist_name === null) continue;
      const title = (s.title as string).trim();
      const artist = (s.artist_name as string).trim();
      next.add('songkeys', joinShuffleKey(title, artist), {
        song_id: s.song_id ?? null,
        artist_id: s.artist_id ?? null,
        title,
        artist_name: artist,
        duration: s.duration ?? null,
      });
    }
    // The events, the most rows by far, stay in their Arrow buffers: only the columns that decide the dedupe,
    // the time table and the join key are read out; the state's records and the plays are copied as bytes.
    const { rows, picked } = await merged('events', 'songplay_id', byPrecedence, PRECEDENCE_COLUMNS);
    // The time table is the plays' distinct start times (plays with one id share their ts): distinct here, and
    // again in the facts phase, where the times of one partition from every bucket meet. Only the start time
    // travels; its partition's reducer works out the other columns again from it.
    const times = sortedDistinct(pick(rows.values('start_time'), picked));
    const parts = timeColumns(times);
    finished(
      'time',
      TABLE_COLUMNS.time.map((c) => parts[c.name as keyof typeof parts]),
      (i) => ({ start_time: times[i] as number }),
    );
    // Each play to the bucket of its join key, hashed from the names' bytes (never decoded).
    const routes = joinBuckets(
      rows.dataAt(PLAY_COLUMN.song as Column, picked),
      rows.dataAt(PLAY_COLUMN.artist as Column, picked),
      run.settings.buckets,
    );
    // Plays that cannot match spread by id instead of piling into one bucket: their ids are read out, the others'
    // never are.
    const unmatchable = picked.filter((_, p) => (routes[p] as number) < 0);
    const ids = rows.valuesAt(PLAY_COLUMN.songplay_id as Column, unmatchable);
    let u = 0;
    routes.forEach((route, p) => {
      if (route < 0) routes[p] = bucketOf(ids[u++] as string, run.settings.buckets);
    });
    // Each bucket's plays in their order.
    const { starts, members } = byClass(routes, run.settings.buckets);
    const byBucket = members.map((p) => picked[p] as number);
    for (let b = 0; b < run.settings.buckets; b++) {
      const plays = byBucket.subarray(starts[b], starts[b + 1]);
      next.addEncoded('plays', b, plays.length, () => rows.encodeIpc(SHUFFLE_COLUMNS.plays, plays));
    }
    stats.shuffleBytes = await next.write(store, run.runId, `r${bucket}`);
    stats.rowsOut = Object.values(next.rowCounts()).reduce((n, c) => n + c, 0);
  } else {
    const songkeys = await input('songkeys');
    // The plays stay in their Arrow buffers and become columns, never row objects (there are as many as events).
    const plays = new ArrowRows(await readBucketBodies(store, run.runId, 'plays', bucket, counts));
    stats.rowsIn += plays.length;
    // In file order from the start, and the other columns read out in it: by time (pages and row groups then hold
    // narrow time ranges, which readers skip for a time filter), ties by id, compared as bytes (decoded for the
    // sort alone, the ids were 2.6 M strings at large).
    const order = sortOrder(plays.length, [plays.values('start_time')], plays.compareText('songplay_id'));
    // The sort's columns are decoded already: valuesAt reuses them.
    const inOrder = (name: string) => plays.valuesAt(PLAY_COLUMN[name] as Column, order);
    const matched = matchSongs(
      plays.dataAt(PLAY_COLUMN.song as Column, order),
      plays.dataAt(PLAY_COLUMN.artist as Column, order),
      inOrder('length'),
      songkeys,
    );
    // Columns only written on are copied as bytes in file order, as plain text, and never read out as values.
    const songplays = TABLE_COLUMNS.songplays.map(({ name }): ColumnValues => {
      if (name === 'song_id' || name === 'artist_id') return matched[name];
      return PASSED_ON.includes(name)
        ? plays.dataAt({ ...(PLAY_COLUMN[name] as Column), repeated: false }, order)
        : inOrder(name);
    });
    writeColumns('songplays', songplays, plays.length);
    const users = await input('dim-users');
    write('users', users);
    for (const table of ['songs', 'artists'] as const) write(table, await input(`dim-${table}`));
    const startTimes = await readBucketColumn(store, run.runId, 'dim-time', bucket, 'start_time', counts);
    stats.rowsIn += startTimes.length;
    const times = timeColumns(sortedDistinct(startTimes));
    writeColumns(
      'time',
      TABLE_COLUMNS.time.map((c) => times[c.name as keyof typeof times]),
      times.start_time.length,
    );
    stats.insights = bucketInsights(
      {
        start_time: valuesOf(columnOf('songplays', songplays, 'start_time')),
        level: valuesOf(columnOf('songplays', songplays, 'level')),
        song_id: matched.song_id,
      },
      songkeys,
      users,
    );
  }
  await Promise.all(writes);
  stats.rowsOut += Object.values(stats.tables).reduce((n, t) => n + t.rows, 0);
  stats.objectsRead = counts.objects;
  stats.bytesRead = counts.bytes;
  stats.storage = { ...store.usage };
  stats.finishedAt = new Date().toISOString();
  await store.put(reduceStatsKey(run.runId, phase, bucket), JSON.stringify(stats));
  return { bucket, rows: Object.values(stats.tables).reduce((n, t) => n + t.rows, 0) };
}

/** The datasets kept as lake state between runs. */
type StateDataset = 'songs' | 'artists' | 'users' | 'events';

/** One bucket of a state dataset as stored (Arrow IPC), or undefined when that version holds none. */
async function readStateBody(
  store: ObjectStore,
  version: string,
  name: StateDataset,
  bucket: number,
  counts: ReadCounts,
): Promise<Uint8Array | undefined> {
  const key = stateRecordsKey(version, name, bucket);
  if (!(await store.head(key))) return undefined;
  const body = await store.get(key);
  counts.objects++;
  counts.bytes += body.length;
  return body;
}

/** The source keys this run reads: their earlier records give way to the new ones. */
async function readInputKeys(store: ObjectStore, runId: string): Promise<Set<string>> {
  const objects = JSON.parse(Buffer.from(await store.get(runInputsKey(runId))).toString('utf8')) as InputObject[];
  return new Set(objects.map((o) => o.key));
}

/**
 * A table's digest (shared/schemas.ts DIGEST_COLUMNS) of written rows, given as its columns: their keys, their
 * fingerprints, format 1's row hashes when `legacy`, and (songplays) what they reference. Its text columns take
 * numbers as they are: the encoder writes their text.
 */
function encodeDigest(table: TableName, values: readonly ColumnValues[], n: number, legacy: boolean): Uint8Array {
  const { hi, lo } = fingerprintRows(values, n);
  const column = (name: string) => columnOf(table, values, name);
  const none: null[] = new Array(n).fill(null);
  const plays = table === 'songplays';
  return encodeIpcColumns(
    DIGEST_COLUMNS,
    [
      values[0] as ColumnValues,
      hi,
      lo,
      legacy ? legacyHashes(values.map(valuesOf), n) : none,
      plays ? column('start_time') : none,
      plays ? column('user_id') : none,
      plays ? column('song_id') : none,
      plays ? column('artist_id') : none,
    ],
    n,
  );
}

/** Format 1's hashes of rows: the first 16 hex digits of the sha1 of each row's values' JSON. */
function legacyHashes(values: readonly ArrayLike<Value>[], n: number): string[] {
  return Array.from({ length: n }, (_, i) =>
    oneShotHash('sha1', JSON.stringify(values.map((v) => v[i] ?? null))).slice(0, 16),
  );
}

/**
 * A function giving a row's values of a table's partition columns, from the table's columns (TABLE_COLUMNS order);
 * songplays derive year and month from start_time.
 */
function partitionReader(
  table: TableName,
  partitionColumns: readonly string[],
): (values: readonly ArrayLike<Value>[], i: number, out: (string | number | null)[]) => (string | number | null)[] {
  const all = TABLE_COLUMNS[table];
  const start = all.findIndex((c) => c.name === 'start_time');
  const derived = (c: string) => table === 'songplays' && (c === 'year' || c === 'month');
  const sources = partitionColumns.map((c) => (derived(c) ? -1 : all.findIndex((x) => x.name === c)));
  const calendar = monthCalendar();
  // Into `out`, which the caller reuses: this runs per row.
  return (values, i, out) => {
    for (let k = 0; k < sources.length; k++) {
      const j = sources[k] as number;
      out[k] =
        j >= 0
          ? ((values[j] as ArrayLike<Value>)[i] ?? null)
          : calendar((values[start] as ArrayLike<Value>)[i] as number)[partitionColumns[k] as 'year' | 'month'];
    }
    return out;
  };
}

/**
 * The songplays columns the facts reducer passes on to the writers as Arrow data, never read as values: not the
 * partitions' (start_time) nor the insights' (start_time, level). The sort compares songplay_id's bytes.
 */
const PASSED_ON = ['songplay_id', 'user_id', 'session_id', 'location', 'user_agent'];

/** The plays' columns by name. */
const PLAY_COLUMN = Object.fromEntries(SHUFFLE_COLUMNS.plays.map((c) => [c.name, c]));

/** A table's column by name, from its columns given in TABLE_COLUMNS order. */
function columnOf<T>(table: TableName, values: readonly T[], name: string): T {
  const j = TABLE_COLUMNS[table].findIndex((c) => c.name === name);
  if (j < 0) throw new Error(`${table} has no column ${name}`);
  return values[j] as T;
}

/** Whether two rows' partition values are the same, value by value. */
function sameValues(a: readonly unknown[], b: readonly unknown[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Encodes one Parquet file per partition (partition columns moved into the path) and starts its write, handed to
 * `started`. The table is given as its columns (TABLE_COLUMNS order), rows in file order; each file keeps it.
 */
function writeTable(
  store: ObjectStore,
  run: RunContext,
  table: TableName,
  bucket: number,
  values: readonly ColumnValues[],
  n: number,
  started: (put: Promise<void>) => void,
): TableFile[] {
  const partitionColumns = run.settings.partitions[table];
  const all = TABLE_COLUMNS[table];
  // The partition reader reads the partition columns (songplays' start_time for year and month): those as values,
  // the others are left as given (the cast: the reader never reads them).
  const read = (c: Column) => partitionColumns.includes(c.name) || (table === 'songplays' && c.name === 'start_time');
  const readable = values.map((v, j) => (read(all[j] as Column) ? valuesOf(v) : v)) as ArrayLike<Value>[];
  const inFile = all.flatMap((c, j) => (partitionColumns.includes(c.name) ? [] : [j]));
  const fileColumns = inFile.map((j) => all[j] as Column);
  const partitionOf = partitionReader(table, partitionColumns);
  // Each partition's row numbers, in order; a row with its predecessor's partition values (most rows, once in time
  // order) skips building the path.
  const groups = new Map<string, number[]>();
  // Two buffers for a row's partition values: this row's, and its predecessor's.
  let partition: (string | number | null)[] = [];
  let previous: (string | number | null)[] = [];
  let rows: number[] = [];
  for (let i = 0; i < n; i++) {
    partitionOf(readable, i, partition);
    if (i === 0 || !sameValues(partition, previous)) {
      const path = partitionPath(partitionColumns, partition);
      rows = groups.get(path) ?? [];
      if (rows.length === 0) groups.set(path, rows);
      [previous, partition] = [partition, previous];
    }
    rows.push(i);
  }
  const files: TableFile[] = [];
  for (const [path, rows] of [...groups].sort(([a], [b]) => (a < b ? -1 : 1))) {
    // A partition's rows are mostly one run of rows (songplays and time in time order): then a slice.
    const first = rows[0] as number;
    const contiguous = (rows[rows.length - 1] as number) - first + 1 === rows.length;
    const columns = inFile.map((j): ColumnValues => {
      const given = values[j] as ColumnValues;
      if (rows.length === n) return given;
      if (given instanceof arrow.Data) {
        // Only songplays are given so, and their partitions (year, month) are runs of rows in time order.
        if (!contiguous) throw new Error(`${table}: a partition of rows apart, in a column given as Arrow data`);
        return given.slice(first, rows.length);
      }
      const column = given as Value[] | Float64Array | Int32Array;
      return contiguous ? column.slice(first, first + rows.length) : rows.map((i) => column[i]);
    });
    const body = encodeParquetColumns(fileColumns, columns, rows.length);
    const fileKey = tableFileKey(table, path, run.runId, bucket);
    started(store.put(fileKey, body));
    files.push({ key: fileKey, rows: rows.length, bytes: body.length });
  }
  return files;
}
