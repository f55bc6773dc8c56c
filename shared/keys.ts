/**
 * Every object key the pipeline reads or writes is built here, relative to a store's root. Names are
 * deterministic within a run, so a retried worker overwrites its own output instead of duplicating it.
 */
import type { TableName } from './config.ts';

/** The two input prefixes of the public layout. */
export const SOURCES = ['song_data', 'log_data'] as const;
export type SourceName = (typeof SOURCES)[number];

/**
 * Intermediate datasets, each hashed on its own key: the map stage writes the first five; the dimensions phase
 * writes the join's inputs (plays, songkeys) and the finished dimension rows (dim-*), hashed on their partition so
 * that one reducer writes each partition of a dimension table.
 */
export const SHUFFLES = [
  'songs',
  'artists',
  'users',
  'events',
  'times',
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

/** Prefix of all statistics of a run. */
export const statsPrefix = (runId: string, stage: 'map' | 'reduce'): string => `${scratchPrefix(runId)}stats/${stage}/`;

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

/** A reducer's Parquet file for one partition of one table. */
export const tableFileKey = (table: TableName, partition: string, runId: string, bucket: number): string =>
  `${tablePrefix(table)}${partition}part-${runId}-b${pad(bucket)}.parquet`;

/** The current pointer of a table: the manifest naming its files. */
export const tableManifestKey = (table: TableName): string => `_manifests/${table}.json`;

/** Rejects of one input object: rewritten whole each time the object is read, so never duplicated. */
export const rejectsKey = (sourceKey: string): string => `_rejects/${sourceKey}.jsonl`;

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
