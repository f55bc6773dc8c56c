/**
 * Every object key the pipeline reads or writes is built here, relative to a store's root. Names are
 * deterministic within a run, so a retried worker overwrites its own output instead of duplicating it.
 */
import type { TableName } from './config.ts';

/** The two input prefixes of the public layout. */
export const SOURCES = ['song_data', 'log_data'] as const;
export type SourceName = (typeof SOURCES)[number];

/**
 * Intermediate datasets, each hashed on its own key: the map stage writes the first four; the dimensions phase
 * writes the join's inputs (plays, songkeys) and the finished dimension rows (dim-*), hashed on their partition so
 * that one reducer writes each partition of a dimension table.
 */
export const SHUFFLES = [
  'songs',
  'artists',
  'users',
  'events',
  'plays',
  'songkeys',
  'dim-songs',
  'dim-artists',
  'dim-users',
  'dim-time',
] as const;
export type ShuffleName = (typeof SHUFFLES)[number];

/** The value Hive and DuckDB read as a null partition value. */
export const HIVE_NULL = '__HIVE_DEFAULT_PARTITION__';

const pad = (n: number, width = 4): string => String(n).padStart(width, '0');

/** Prefix listed for one source. */
export const sourcePrefix = (source: SourceName): string => `${source}/`;

/** A run's scratch area: everything under it is removed by Commit. */
export const scratchPrefix = (runId: string): string => `_scratch/${runId}/`;

/** The shard manifest Plan writes and the Distributed Map's ItemReader reads. */
export const manifestKey = (runId: string): string => `${scratchPrefix(runId)}manifest.json`;

/** Folder of one shuffle bucket: every map shard's slice for that bucket lives inside it. */
export const shuffleBucketPrefix = (runId: string, name: ShuffleName, bucket: number): string =>
  `${scratchPrefix(runId)}shuffle/${name}/b${pad(bucket)}/`;

/** One producer's slice of one shuffle bucket (Arrow IPC stream). */
export const shuffleKey = (runId: string, name: ShuffleName, bucket: number, producer: string): string =>
  `${shuffleBucketPrefix(runId, name, bucket)}${producer}.arrow`;

/** Per-shard statistics the map worker leaves for Commit. */
export const mapStatsKey = (runId: string, shardId: string): string =>
  `${scratchPrefix(runId)}stats/map/${shardId}.json`;

/** Per-bucket statistics a reducer leaves for Commit. */
export const reduceStatsKey = (runId: string, phase: string, bucket: number): string =>
  `${scratchPrefix(runId)}stats/reduce/${phase}-b${pad(bucket)}.json`;

/** A map shard that failed after its retries: its objects, and why (Commit makes them file-level rejects). */
export const failedShardKey = (runId: string, shardId: string): string =>
  `${scratchPrefix(runId)}stats/failed/${shardId}.json`;

/** Prefix of all statistics of a run. */
export const statsPrefix = (runId: string, stage: 'map' | 'reduce' | 'failed'): string =>
  `${scratchPrefix(runId)}stats/${stage}/`;

/** Plan's statistics. */
export const planStatsKey = (runId: string): string => `${scratchPrefix(runId)}stats/plan.json`;

/** Who ran a piece of work: process and thread, so the report can count the workers a stage used. */
export const workerId = (pid: number, threadId: number): string => `${pid}/${threadId}`;

/** Prefix of a table's data files. */
export const tablePrefix = (table: TableName): string => `${table}/`;

/** Hive partition path of one partition, e.g. `year=2018/month=11/` (empty for an unpartitioned table). */
export function partitionPath(columns: readonly string[], values: readonly (string | number | null)[]): string {
  return columns
    .map((c, i) => {
      const v = values[i];
      return `${c}=${v === null || v === undefined || v === '' ? HIVE_NULL : encodeURIComponent(String(v))}/`;
    })
    .join('');
}

/** The partition path of a table file's key (`year=2018/month=11/`, '' when unpartitioned). */
export const partitionOf = (table: TableName, key: string): string =>
  key.slice(tablePrefix(table).length, key.lastIndexOf('/') + 1);

/** A reducer's Parquet file for one partition of one table. */
export const tableFileKey = (table: TableName, partition: string, runId: string, bucket: number): string =>
  `${tablePrefix(table)}${partition}part-${runId}-b${pad(bucket)}.parquet`;

/** A compacted Parquet file: the n-th of one partition. */
export const compactedFileKey = (table: TableName, partition: string, runId: string, n: number): string =>
  `${tablePrefix(table)}${partition}part-${runId}-c${pad(n)}.parquet`;

/** Whether a table file was written by the given run (its own files are what a failed run removes). */
export const writtenBy = (key: string, runId: string): boolean => key.includes(`/part-${runId}-`);

/** The current pointer of a table: the manifest naming its files. */
export const tableManifestKey = (table: TableName): string => `_manifests/${table}.json`;

/** The lake's private state: one folder per published version (the run that wrote it). */
export const STATE_PREFIX = '_state/';

/** One state version. */
export const stateVersionPrefix = (runId: string): string => `${STATE_PREFIX}${runId}/`;

/**
 * One bucket of a state dataset: every record loaded so far, reduced to the best one per (key, source object),
 * which is all an incremental run needs to equal a full one and to retract an object that changed.
 */
export const stateRecordsKey = (runId: string, name: ShuffleName, bucket: number): string =>
  `${stateVersionPrefix(runId)}records/${name}/b${pad(bucket)}.arrow`;

/** A facts reducer's digest of the rows it wrote to one table: key, row hash and references, for Commit's checks. */
export const stateDigestKey = (runId: string, table: TableName, bucket: number): string =>
  `${stateVersionPrefix(runId)}digest/${table}/b${pad(bucket)}.arrow`;

/** Prefix of one table's digests in a state version. */
export const stateDigestPrefix = (runId: string, table: TableName): string =>
  `${stateVersionPrefix(runId)}digest/${table}/`;

/** The ledger of a state version: every input object loaded, with its ETag (JSON lines, in key order). */
export const ledgerKey = (runId: string): string => `${stateVersionPrefix(runId)}ledger.jsonl`;

/** The current pointer of the lake's state (which version, its bucket count). */
export const statePointerKey = '_manifests/_state.json';

/** The lease a run holds on the lake from Plan to Commit. */
export const leaseKey = '_control/lease.json';

/** The commit record: written before a publish flips any pointer, removed when the publish is complete. */
export const publishRecordKey = '_control/publish.json';

/** The objects a run read this time, for Commit's ledger. */
export const runInputsKey = (runId: string): string => `${scratchPrefix(runId)}inputs.json`;

/** The run's inputs as the report keeps them: one JSON line per object read. */
export const runInputsReportKey = (runId: string): string => `_runs/${runId}.inputs.jsonl`;

/** Where every rejects file lives. */
export const REJECTS_PREFIX = '_rejects/';
/** Rejects of one input object: rewritten whole each time the object is read, so never duplicated. */
export const rejectsKey = (sourceKey: string): string => `${REJECTS_PREFIX}${sourceKey}.jsonl`;

/** The run report. */
export const runReportKey = (runId: string): string => `_runs/${runId}.json`;

/** The run report as a page a person opens from disk. */
export const runPageKey = (runId: string): string => `_runs/${runId}.html`;

/** A sortable, unique run id: UTC time plus a random suffix. */
export function newRunId(now: Date = new Date(), random: () => number = Math.random): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const suffix = Math.floor(random() * 0xffffff)
    .toString(16)
    .padStart(6, '0');
  return `${stamp}-${suffix}`;
}

/** Shard ids sort in plan order. */
export const shardId = (source: SourceName, index: number): string => `${source}-${pad(index, 6)}`;
