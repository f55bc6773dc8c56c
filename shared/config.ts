/**
 * Run settings: read once, typed, validated, with defaults. The execution input carries them (so a run is
 * reproducible from its input alone); a missing or bad setting is a ConfigError naming the setting.
 */
import { resolve as resolvePath, sep } from 'node:path';
import { z } from 'zod';
import { ConfigError } from './errors.ts';

/** The five tables of the star schema. */
export const TABLES = ['songplays', 'users', 'songs', 'artists', 'time'] as const;
export type TableName = (typeof TABLES)[number];

/** Columns each table may be partitioned by (songplays' year/month are derived from start_time). */
export const PARTITIONABLE: Record<TableName, readonly string[]> = {
  songplays: ['year', 'month'],
  time: ['year', 'month'],
  songs: ['year', 'artist_id'],
  users: ['level', 'gender'],
  artists: [],
};

/**
 * The default partition layout. Songs are not partitioned by default: a small dimension split by year is dozens of
 * tiny files, and the songs of unknown year (most of the public sample's) would sit in the null partition, which
 * Athena's partition projection never reads. `--partition songs=year,artist_id` gives the classic Udacity layout.
 */
export const DEFAULT_PARTITIONS: Record<TableName, string[]> = {
  songplays: ['year', 'month'],
  time: ['year', 'month'],
  songs: [],
  users: [],
  artists: [],
};

const partitionsSchema = z
  .object({
    songplays: z.array(z.string()),
    users: z.array(z.string()),
    songs: z.array(z.string()),
    artists: z.array(z.string()),
    time: z.array(z.string()),
  })
  .partial()
  .strict();

/** The most buckets a run may have (the settings' limit). */
export const MAX_BUCKETS = 1024;

const settingsSchema = z
  .object({
    buckets: z.number().int().min(1).max(MAX_BUCKETS),
    shardBytes: z
      .number()
      .int()
      .min(1024)
      .max(2 ** 31),
    shardFiles: z.number().int().min(1).max(100_000),
    shardsPerBatch: z.number().int().min(1).max(1000),
    readConcurrency: z.number().int().min(1).max(1024),
    rejectLimit: z.number().min(0).max(1),
    toleratedShardFailures: z.number().min(0).max(1),
    maxRecordBytes: z
      .number()
      .int()
      .min(1024)
      .max(2 ** 30),
    partitions: partitionsSchema,
  })
  .partial()
  .strict();

/** Settings a run uses; every field has a documented default. */
export interface Settings {
  /** Reduce buckets: the shuffle's hash partitions, one reducer each. */
  buckets: number;
  /** A shard closes when it reaches this many input bytes … */
  shardBytes: number;
  /** … or this many input files. */
  shardFiles: number;
  /** Shards handed to one map invocation (the Distributed Map's ItemBatcher). */
  shardsPerBatch: number;
  /** GETs in flight per map worker: hides small-file latency. */
  readConcurrency: number;
  /** The run fails when a source's rejected / read exceeds this. */
  rejectLimit: number;
  /**
   * Share of map shards that may fail (after their retries) without failing the run: their objects become
   * file-level rejects, stay out of the ledger and are read again by the next run. 0: any failed shard fails the run.
   */
  toleratedShardFailures: number;
  /** A record larger than this is rejected without being held whole. */
  maxRecordBytes: number;
  /** Partition columns per table. */
  partitions: Record<TableName, string[]>;
}

/**
 * Input bytes per reduce bucket a new state aims at when `buckets` is not given: a reducer peaks near 4.5× its
 * share of the input plus 130 MB (measured: 310 MB for 40 MB), so 128 MiB keeps one well under a 1,769 MB Lambda.
 */
export const BUCKET_INPUT_BYTES = 128 * 1024 * 1024;
/** The default target size of a compacted table file: large enough for Athena and DuckDB to read efficiently. */
export const DEFAULT_FILE_BYTES = 128 * 1024 * 1024;

/** Defaults, chosen for the public data's shape (many ~250-byte song files, ~300 KB daily logs). */
export const DEFAULT_SETTINGS: Settings = {
  buckets: 4,
  shardBytes: 16 * 1024 * 1024,
  shardFiles: 2000,
  shardsPerBatch: 1,
  readConcurrency: 64,
  rejectLimit: 0.05,
  toleratedShardFailures: 0,
  maxRecordBytes: 16 * 1024 * 1024,
  partitions: DEFAULT_PARTITIONS,
};

/** How a run chooses its input: only what is new or changed since the lake's ledger (default), or everything. */
export const RUN_MODES = ['incremental', 'full'] as const;
export type RunMode = (typeof RUN_MODES)[number];

/**
 * The execution input: where to read, where to write, optional settings; `mode` and, for S3-event runs, the
 * `keys` that arrived (relative to the source, under song_data/ or log_data/).
 */
export const runInputSchema = z
  .object({
    source: z.string().min(1),
    target: z.string().min(1),
    mode: z.enum(RUN_MODES).optional(),
    keys: z
      .array(
        z
          .string()
          .min(1)
          .regex(/^(song_data|log_data)\/[^\0]*[^/]$/, 'must be an object key under song_data/ or log_data/')
          .refine((k) => !k.split('/').includes('..'), 'must not contain ".."'),
      )
      .max(100_000)
      .optional(),
    settings: settingsSchema.optional(),
  })
  .strict();
export type RunInput = z.infer<typeof runInputSchema>;

/** Validates raw settings and merges them over the defaults. */
export function resolveSettings(raw: unknown): Settings {
  const parsed = settingsSchema.safeParse(raw ?? {});
  if (!parsed.success) throw new ConfigError(`bad settings: ${formatIssues(parsed.error)}`);
  const partitions: Record<TableName, string[]> = { ...DEFAULT_PARTITIONS };
  for (const table of TABLES) {
    partitions[table] = [...(parsed.data.partitions?.[table] ?? DEFAULT_PARTITIONS[table])];
    if (new Set(partitions[table]).size !== partitions[table].length) {
      throw new ConfigError(`bad settings: partitions.${table} repeats a column`);
    }
    for (const column of partitions[table]) {
      if (!PARTITIONABLE[table].includes(column)) {
        const allowed = PARTITIONABLE[table].join(', ') || 'none';
        throw new ConfigError(`bad settings: ${table} cannot be partitioned by "${column}" (allowed: ${allowed})`);
      }
    }
  }
  const { partitions: _ignored, ...rest } = parsed.data;
  return { ...DEFAULT_SETTINGS, ...(stripUndefined(rest) as Partial<Settings>), partitions };
}

/** Validates an execution input. */
export function parseRunInput(raw: unknown): RunInput {
  const parsed = runInputSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`bad execution input: ${formatIssues(parsed.error)}`);
  checkLocations(parsed.data.source, parsed.data.target);
  return parsed.data;
}

/**
 * Where runs may read and write, when the deployment says so: SPARKIFY_ALLOWED_SOURCES and
 * SPARKIFY_ALLOWED_TARGETS, comma-separated roots (`s3://bucket`, `s3://bucket/prefix`, or directories). A source
 * or target outside them is refused before any work starts; unset, any location is allowed (a local run).
 */
export function checkLocations(source: string, target: string, env: NodeJS.ProcessEnv = process.env): void {
  for (const [what, location, variable] of [
    ['source', source, 'SPARKIFY_ALLOWED_SOURCES'],
    ['target', target, 'SPARKIFY_ALLOWED_TARGETS'],
  ] as const) {
    const roots = (env[variable] ?? '')
      .split(',')
      .map((r) => r.trim())
      .filter((r) => r !== '');
    if (roots.length === 0) continue;
    if (!roots.some((root) => within(location, root))) {
      throw new ConfigError(`${what} ${location} is not allowed here: runs may use ${roots.join(', ')} (${variable})`);
    }
  }
}

/** Whether a location is a root or inside it: S3 by bucket and whole key segments, directories by resolved path. */
export function within(location: string, root: string): boolean {
  const s3 = (uri: string): string[] | undefined =>
    uri.startsWith('s3://')
      ? uri
          .slice('s3://'.length)
          .split('/')
          .filter((p) => p !== '')
      : undefined;
  const [l, r] = [s3(location), s3(root)];
  if (l && r) return r.length > 0 && r.every((part, i) => l[i] === part) && !l.includes('..');
  if (l || r || /^[a-z][a-z0-9+.-]*:\/\//i.test(location)) return false;
  const [path, base] = [resolvePath(location.replace(/^file:\/\//, '')), resolvePath(root.replace(/^file:\/\//, ''))];
  return path === base || path.startsWith(base.endsWith(sep) ? base : base + sep);
}

/** Validates a handler event against a schema, naming the handler in the error. */
export function parseEvent<T>(schema: z.ZodType<T>, raw: unknown, handler: string): T {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`bad ${handler} event: ${formatIssues(parsed.error)}`);
  return parsed.data;
}

function formatIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
