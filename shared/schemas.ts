/**
 * Declared Arrow schemas: the tables of the contract (docs/contract.md) and the shuffle datasets between
 * map and reduce. Never inferred: inference turns strings into dictionaries and drops all-null columns.
 */
import * as arrow from 'apache-arrow';
import type { TableName } from './config.ts';
import type { ShuffleName } from './keys.ts';

/** Column kinds the pipeline uses. Rows hold plain JS values: numbers (int64 too), strings, null. */
export type ColumnKind = 'utf8' | 'int32' | 'int64' | 'float64' | 'timestamp';

/** A declared column. */
export interface Column {
  name: string;
  kind: ColumnKind;
  /** Text with few distinct values (a level, a user agent, a source key): a dictionary in the shuffle and state. */
  repeated?: boolean;
  /**
   * Values all or nearly all different (a key, a play's time): the Parquet writer skips its dictionary for them,
   * which it would fill only to fall back to plain values (songplays: writing 9% faster, the file 5% smaller).
   */
  distinct?: boolean;
}

const col = (name: string, kind: ColumnKind): Column => ({ name, kind });
const repeated = (name: string): Column => ({ name, kind: 'utf8', repeated: true });
const distinct = (name: string, kind: ColumnKind): Column => ({ name, kind, distinct: true });

/** The tables' columns, in order (partition columns included: the writer moves them into the path). */
export const TABLE_COLUMNS: Record<TableName, readonly Column[]> = {
  songplays: [
    distinct('songplay_id', 'utf8'),
    distinct('start_time', 'timestamp'),
    repeated('user_id'),
    repeated('level'),
    repeated('song_id'),
    repeated('artist_id'),
    col('session_id', 'int64'),
    repeated('location'),
    repeated('user_agent'),
  ],
  users: [
    distinct('user_id', 'utf8'),
    col('first_name', 'utf8'),
    col('last_name', 'utf8'),
    repeated('gender'),
    repeated('level'),
  ],
  songs: [
    distinct('song_id', 'utf8'),
    col('title', 'utf8'),
    col('artist_id', 'utf8'),
    col('year', 'int32'),
    col('duration', 'float64'),
  ],
  artists: [
    distinct('artist_id', 'utf8'),
    col('name', 'utf8'),
    col('location', 'utf8'),
    col('latitude', 'float64'),
    col('longitude', 'float64'),
  ],
  time: [
    distinct('start_time', 'timestamp'),
    col('hour', 'int32'),
    col('day', 'int32'),
    col('week', 'int32'),
    col('month', 'int32'),
    col('year', 'int32'),
    col('weekday', 'int32'),
  ],
};

/** Provenance carried through the shuffle so precedence can be decided without arrival order. */
const provenance = [col('missing', 'int32'), repeated('src'), col('line', 'int32')];

/** A NextSong event on its way to songplays: song and artist are the join key's repaired, trimmed names. */
const PLAY_COLUMNS: readonly Column[] = [
  col('songplay_id', 'utf8'),
  col('start_time', 'timestamp'),
  repeated('user_id'),
  repeated('level'),
  col('song', 'utf8'),
  col('artist', 'utf8'),
  col('length', 'float64'),
  col('session_id', 'int64'),
  repeated('location'),
  repeated('user_agent'),
];

/** The shuffle datasets' columns. */
export const SHUFFLE_COLUMNS: Record<ShuffleName, readonly Column[]> = {
  songs: [
    col('song_id', 'utf8'),
    col('title', 'utf8'),
    col('artist_id', 'utf8'),
    col('year', 'int32'),
    col('duration', 'float64'),
    col('artist_name', 'utf8'),
    ...provenance,
  ],
  artists: [...TABLE_COLUMNS.artists, ...provenance],
  users: [...TABLE_COLUMNS.users, col('ts', 'timestamp'), ...provenance],
  events: [...PLAY_COLUMNS, ...provenance],
  plays: PLAY_COLUMNS,
  songkeys: [
    col('song_id', 'utf8'),
    col('artist_id', 'utf8'),
    col('title', 'utf8'),
    col('artist_name', 'utf8'),
    col('duration', 'float64'),
  ],
  'dim-songs': TABLE_COLUMNS.songs,
  'dim-artists': TABLE_COLUMNS.artists,
  'dim-users': TABLE_COLUMNS.users,
  // The time table's reducer works out the other columns from the start time.
  'dim-time': [col('start_time', 'timestamp')],
};

/** The digests' format: 1 held a text hash of each row (a sha1 of its JSON), 2 holds a 64-bit fingerprint. */
export const DIGEST_FORMAT = 2;

/**
 * A table's digest: each row's key and a 64-bit fingerprint of the whole row (for rows added, updated and removed),
 * and for songplays the references the quality gate checks against the dimensions. `hash` is format 1's row hash,
 * written only while the published state's digests are of format 1, so that the diff against them stays exact.
 */
export const DIGEST_COLUMNS: readonly Column[] = [
  col('key', 'utf8'),
  col('row_hi', 'int32'),
  col('row_lo', 'int32'),
  col('hash', 'utf8'),
  col('start_time', 'utf8'),
  repeated('user_id'),
  repeated('song_id'),
  repeated('artist_id'),
];

/** The Arrow type of a column kind (timestamps are ms since the epoch, UTC: Parquet isAdjustedToUTC=true). */
export function arrowType(kind: ColumnKind): arrow.DataType {
  switch (kind) {
    case 'utf8':
      return new arrow.Utf8();
    case 'int32':
      return new arrow.Int32();
    case 'int64':
      return new arrow.Int64();
    case 'float64':
      return new arrow.Float64();
    case 'timestamp':
      return new arrow.Timestamp(arrow.TimeUnit.MILLISECOND, 'UTC');
  }
}

/** An Arrow schema for declared columns. */
export function arrowSchema(columns: readonly Column[]): arrow.Schema {
  return new arrow.Schema(columns.map((c) => new arrow.Field(c.name, arrowType(c.kind), true)));
}
