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
import {
  decodeIpc,
  encodeIpc,
  encodeIpcColumns,
  encodeParquet,
  type Row,
  readColumns,
  type Value,
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
import { DIGEST_COLUMNS, DIGEST_FORMAT, SHUFFLE_COLUMNS, TABLE_COLUMNS } from './schemas.ts';
import { type ReadCounts, readBucket, Shuffle } from './shuffle.ts';
import { noUsage, type ObjectStore, openStore, type StoreUsage } from './store.ts';
import { monthCalendar, timeParts } from './time.ts';
import {
  byLatest,
  byPrecedence,
  dedupeBySource,
  distinct,
  joinShuffleKey,
  joinSongplays,
  orderRows,
  partitionBucket,
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
  const write = (table: TableName, rows: Row[]): void => {
    if (rows.length === 0) return;
    const files = writeTable(store, run, table, bucket, rows, started);
    stats.tables[table] = { rows: rows.length, files };
    const digest = encodeDigest(table, rows, legacy);
    started(store.put(stateDigestKey(run.runId, table, bucket), digest));
    stats.stateBytes += digest.length;
  };
  let reread: Set<string> | undefined;
  /**
   * This run's rows of a dataset merged with the lake's state: the state's rows from objects this run read again
   * are dropped (a changed object replaces its old records), then the best row per (key, object) is kept: the new
   * state, the same rows a full run over every loaded object would reduce. Returns the best of those per key.
   */
  const merged = async (name: StateDataset, key: string, compare: (a: Row, b: Row) => number): Promise<Row[]> => {
    let rows = await input(name);
    if (run.baseline) {
      reread ??= await readInputKeys(store, run.runId);
      const old = await readState(store, run.baseline, name, bucket, counts);
      stats.rowsIn += old.length;
      rows = old.filter((r) => !(reread as Set<string>).has(r.src as string)).concat(rows);
    }
    const { kept, winners } = dedupeBySource(rows, key, compare);
    if (kept.length > 0) {
      const body = encodeIpc(SHUFFLE_COLUMNS[name], kept);
      started(store.put(stateRecordsKey(run.runId, name, bucket), body));
      stats.stateBytes += body.length;
    }
    return winners;
  };

  if (phase === 'dimensions') {
    const next = new Shuffle(run.settings.buckets);
    const finished = (table: DimensionTable, rows: Row[]): void => {
      const columns = run.settings.partitions[table];
      const offset = TABLES.indexOf(table);
      const calendar = monthCalendar();
      for (const row of rows) {
        const values = partitionValues(table, columns, row, calendar);
        next.addTo(`dim-${table}`, partitionBucket(offset, columns, values, run.settings.buckets), row);
      }
    };
    const songs = await merged('songs', 'song_id', byPrecedence);
    finished('songs', songs);
    finished('artists', await merged('artists', 'artist_id', byPrecedence));
    finished('users', await merged('users', 'user_id', byLatest));
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
    const plays = await merged('events', 'songplay_id', byPrecedence);
    // The time table is the plays' distinct start times (plays with one id share their ts): distinct here, and
    // again in the facts phase, where the rows of one partition from every bucket meet.
    finished(
      'time',
      distinct(plays, 'start_time').map((r) => ({ ...timeParts(r.start_time as number) })),
    );
    for (const p of plays) {
      // Plays that cannot match spread by id instead of piling into one bucket.
      const key =
        p.song !== null && p.artist !== null
          ? joinShuffleKey(p.song as string, p.artist as string)
          : (p.songplay_id as string);
      next.add('plays', key, p);
    }
    stats.shuffleBytes = await next.write(store, run.runId, `r${bucket}`);
    stats.rowsOut = Object.values(next.rowCounts()).reduce((n, c) => n + c, 0);
  } else {
    const songkeys = await input('songkeys');
    const songplays = joinSongplays(await input('plays'), songkeys);
    write('songplays', songplays);
    const users = await input('dim-users');
    write('users', users);
    for (const table of ['songs', 'artists'] as const) write(table, await input(`dim-${table}`));
    write('time', distinct(await input('dim-time'), 'start_time'));
    stats.insights = bucketInsights(songplays, songkeys, users);
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

/** One bucket of a state dataset (empty when that version holds none). */
async function readState(
  store: ObjectStore,
  version: string,
  name: StateDataset,
  bucket: number,
  counts: ReadCounts,
): Promise<Row[]> {
  const key = stateRecordsKey(version, name, bucket);
  if (!(await store.head(key))) return [];
  const body = await store.get(key);
  counts.objects++;
  counts.bytes += body.length;
  return decodeIpc(body);
}

/** The source keys this run reads: their earlier records give way to the new ones. */
async function readInputKeys(store: ObjectStore, runId: string): Promise<Set<string>> {
  const objects = JSON.parse(Buffer.from(await store.get(runInputsKey(runId))).toString('utf8')) as InputObject[];
  return new Set(objects.map((o) => o.key));
}

/** A digest's reference: the value as text, or null. */
const ref = (v: Value): string | null => (v === null || v === undefined ? null : String(v));

/**
 * A table's digest (shared/schemas.ts DIGEST_COLUMNS) of written rows: their keys, their fingerprints, format 1's
 * row hashes when `legacy`, and (songplays) what they reference.
 */
function encodeDigest(table: TableName, rows: readonly Row[], legacy: boolean): Uint8Array {
  const columns = TABLE_COLUMNS[table];
  const values = readColumns(columns, rows);
  const n = rows.length;
  const { hi, lo } = fingerprintRows(values, n);
  const column = (name: string) => values[columns.findIndex((c) => c.name === name)] as Value[];
  const texts = (v: Value[]) => v.map(ref);
  const none: null[] = new Array(n).fill(null);
  const plays = table === 'songplays';
  return encodeIpcColumns(
    DIGEST_COLUMNS,
    [
      texts(values[0] as Value[]),
      hi,
      lo,
      legacy ? rows.map((_, i) => legacyHash(values, i)) : none,
      plays ? texts(column('start_time')) : none,
      plays ? texts(column('user_id')) : none,
      plays ? texts(column('song_id')) : none,
      plays ? texts(column('artist_id')) : none,
    ],
    n,
  );
}

/** Format 1's hash of a row: the first 16 hex digits of the sha1 of its values' JSON. */
function legacyHash(values: readonly Value[][], i: number): string {
  return oneShotHash('sha1', JSON.stringify(values.map((v) => v[i] ?? null))).slice(0, 16);
}

/** Values of a table's partition columns for one row (songplays derive year and month from start_time). */
function partitionValues(
  table: TableName,
  columns: readonly string[],
  row: Row,
  calendar: (ms: number) => { year: number; month: number },
): (string | number | null)[] {
  // A loop, not map(): this runs per row, and a closure per call costs (tsx names every one).
  const out: (string | number | null)[] = [];
  for (const c of columns) {
    if (table === 'songplays' && (c === 'year' || c === 'month')) out.push(calendar(row.start_time as number)[c]);
    else out.push(row[c] ?? null);
  }
  return out;
}

/** Whether two rows' partition values are the same, value by value. */
function sameValues(a: readonly unknown[], b: readonly unknown[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Row order in a table's files: songplays by time, ties by id (pages and row groups then hold narrow time ranges,
 * which readers skip for a time filter); the others by key. */
const FILE_ORDER: Partial<Record<TableName, readonly string[]>> = { songplays: ['start_time', 'songplay_id'] };

/** Encodes one Parquet file per partition (partition columns moved into the path; rows in FILE_ORDER) and starts
 * its write, handed to `started`. */
function writeTable(
  store: ObjectStore,
  run: RunContext,
  table: TableName,
  bucket: number,
  rows: Row[],
  started: (put: Promise<void>) => void,
): TableFile[] {
  const partitionColumns = run.settings.partitions[table];
  const fileColumns = TABLE_COLUMNS[table].filter((c) => !partitionColumns.includes(c.name));
  const key = (TABLE_COLUMNS[table][0] as { name: string }).name;
  // Rows are grouped in order, so each group keeps it; a row with its predecessor's partition values (most rows,
  // once in time order) skips building the path.
  const groups = new Map<string, Row[]>();
  const calendar = monthCalendar();
  let last: { values: (string | number | null)[]; group: Row[] } | undefined;
  for (const row of orderRows(rows, FILE_ORDER[table] ?? [key])) {
    const values = partitionValues(table, partitionColumns, row, calendar);
    if (!last || !sameValues(values, last.values)) {
      const path = partitionPath(partitionColumns, values);
      const group = groups.get(path) ?? [];
      if (group.length === 0) groups.set(path, group);
      last = { values, group };
    }
    last.group.push(row);
  }
  const files: TableFile[] = [];
  for (const [path, group] of [...groups].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const body = encodeParquet(fileColumns, group);
    const fileKey = tableFileKey(table, path, run.runId, bucket);
    started(store.put(fileKey, body));
    files.push({ key: fileKey, rows: group.length, bytes: body.length });
  }
  return files;
}
