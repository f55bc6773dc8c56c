/**
 * The map worker: reads its shards' objects with bounded in-flight reads, validates every record, records
 * rejects, and writes the shuffle: each dataset hash-partitioned on its own reduce key.
 */

import { threadId } from 'node:worker_threads';
import type { Row } from './columnar.ts';
import { forEachLimited } from './concurrency.ts';
import { type CaughtFailure, failureError, failureMessage } from './errors.ts';
import { ingestBatches } from './ingest.ts';
import {
  failedShardKey,
  mapStatsKey,
  rejectsKey,
  type ShuffleName,
  type SourceName,
  shuffleKey,
  workerId,
} from './keys.ts';
import type { RunContext, Shard } from './plan.ts';
import { Shuffle } from './shuffle.ts';
import { addUsage, openStore, type StoreUsage } from './store.ts';
import { byLatest } from './transform.ts';
import {
  artistMissing,
  joinKey,
  type LogEvent,
  playMissing,
  type SongRecord,
  songMissing,
  songplayId,
  userMissing,
} from './validate.ts';

/** Counts for one source within a shard: read = loaded + rejected. */
export interface SourceCounts {
  objects: number;
  bytes: number;
  read: number;
  loaded: number;
  rejected: number;
}

/** What a map worker leaves behind for Commit, per shard. */
export interface MapStats {
  shardId: string;
  worker: string;
  source: SourceName;
  counts: SourceCounts;
  rejectReasons: Record<string, number>;
  /** The first few rejects of each reason, for the reports. */
  rejectExamples: Record<string, RejectExample[]>;
  /** Input objects with at least one reject (Commit removes stale rejects files of the others). */
  rejectedKeys: string[];
  rows: Partial<Record<ShuffleName, number>>;
  shuffleBytes: number;
  /** Storage requests and retries of this shard (the stats object itself not counted). */
  storage: StoreUsage;
  startedAt: string;
  finishedAt: string;
}

/** A reject as the reports show it. */
export interface RejectExample {
  key: string;
  line: number;
  raw: string;
}

/** Examples kept per reject reason. */
export const EXAMPLES_PER_REASON = 3;

/** The map worker's whole input: one ItemBatcher batch. */
export interface MapBatch {
  BatchInput: { run: RunContext };
  Items: Shard[];
}

/** Processes every shard of a batch; returns only counts (the state payload stays small). */
export async function mapBatch(batch: MapBatch): Promise<{ shards: number; read: number; rejected: number }> {
  let read = 0;
  let rejected = 0;
  for (const shard of batch.Items) {
    const stats = await mapShard(batch.BatchInput.run, shard);
    read += stats.counts.read;
    rejected += stats.counts.rejected;
  }
  return { shards: batch.Items.length, read, rejected };
}

/** A map shard that failed after its retries. */
export interface FailedShard {
  shardId: string;
  source: SourceName;
  keys: string[];
  error: string;
}

/** The datasets the map stage writes (the later ones are the reducers'). */
const MAP_OUTPUTS: readonly ShuffleName[] = ['songs', 'artists', 'users', 'events'];

/**
 * A batch whose map failed after its retries (the state machine's Catch). Whatever its attempts wrote to the shuffle
 * goes, and the shards are recorded for Commit. With no failures tolerated, the original error fails the run.
 */
export async function recordFailedBatch(batch: MapBatch, failure: CaughtFailure) {
  const run = batch.BatchInput.run;
  const target = openStore(run.target);
  const message = failureMessage(failure);
  for (const shard of batch.Items) {
    const slices = MAP_OUTPUTS.flatMap((name) =>
      Array.from({ length: run.settings.buckets }, (_, b) => shuffleKey(run.runId, name, b, shard.shardId)),
    );
    await target.delete([...slices, mapStatsKey(run.runId, shard.shardId)]);
    if (run.settings.toleratedShardFailures > 0) {
      const record: FailedShard = { ...shard, error: `${failure.Error}: ${message}` };
      await target.put(failedShardKey(run.runId, shard.shardId), JSON.stringify(record));
    }
  }
  if (run.settings.toleratedShardFailures === 0) throw failureError(failure);
  return { shards: batch.Items.length, failed: batch.Items.length };
}

/** One reject line (docs/contract.md). */
interface RejectLine {
  source: SourceName;
  key: string;
  line: number;
  reason: string;
  raw: string;
}

/** Processes one shard. */
export async function mapShard(run: RunContext, shard: Shard): Promise<MapStats> {
  const startedAt = new Date().toISOString();
  const source = openStore(run.source);
  const target = openStore(run.target);
  const { buckets, maxRecordBytes, readConcurrency } = run.settings;
  const out = new Shuffle(buckets);
  const counts: SourceCounts = { objects: 0, bytes: 0, read: 0, loaded: 0, rejected: 0 };
  const rejectReasons: Record<string, number> = {};
  const rejectExamples: Record<string, RejectExample[]> = {};
  const rejectedKeys: string[] = [];

  await forEachLimited(shard.keys, readConcurrency, async (key) => {
    const rejects: RejectLine[] = [];
    // The object's best user row per user: the reducers keep exactly that per (user, object) anyway, and an
    // object has one row per event but few users (medium: 320,000 rows, 16,731 pairs).
    const users = new Map<string, Row>();
    let bytes = 0;
    const open = async function* () {
      bytes = 0; // a second read of the same object counts once
      for await (const chunk of source.stream(key)) {
        bytes += chunk.length;
        yield chunk;
      }
    };
    for await (const batch of ingestBatches(shard.source, open, maxRecordBytes)) {
      for (const record of batch) {
        counts.read++;
        if (record.ok) {
          counts.loaded++;
          if (shard.source === 'song_data') addSong(out, record.row as SongRecord, key, record.line);
          else addEvent(out, users, record.row as LogEvent, key, record.line);
          continue;
        }
        counts.rejected++;
        rejectReasons[record.reason] = (rejectReasons[record.reason] ?? 0) + 1;
        const examples = rejectExamples[record.reason] ?? [];
        if (examples.length < EXAMPLES_PER_REASON)
          examples.push({ key, line: record.line, raw: record.raw.slice(0, 200) });
        rejectExamples[record.reason] = examples;
        rejects.push({ source: shard.source, key, line: record.line, reason: record.reason, raw: record.raw });
      }
    }
    for (const [userId, row] of users) out.add('users', userId, row);
    counts.objects++;
    counts.bytes += bytes;
    if (rejects.length > 0) {
      rejectedKeys.push(key);
      await target.put(rejectsKey(key), `${rejects.map((r) => JSON.stringify(r)).join('\n')}\n`);
    }
  });

  const shuffleBytes = await out.write(target, run.runId, shard.shardId);
  const stats: MapStats = {
    shardId: shard.shardId,
    worker: workerId(process.pid, threadId),
    source: shard.source,
    counts,
    rejectReasons,
    rejectExamples,
    rejectedKeys: rejectedKeys.sort(),
    rows: out.rowCounts(),
    shuffleBytes,
    storage: addUsage(source.usage, target.usage),
    startedAt,
    finishedAt: new Date().toISOString(),
  };
  await target.put(mapStatsKey(run.runId, shard.shardId), JSON.stringify(stats));
  return stats;
}

/** Adds a song record's rows to the shuffle. */
function addSong(out: Shuffle, s: SongRecord, key: string, line: number): void {
  out.add('songs', s.song_id, {
    song_id: s.song_id,
    title: s.title,
    artist_id: s.artist_id,
    year: s.year,
    duration: s.duration,
    artist_name: s.artist_name,
    missing: songMissing(s),
    src: key,
    line,
  });
  out.add('artists', s.artist_id, {
    artist_id: s.artist_id,
    name: s.artist_name,
    location: s.artist_location,
    latitude: s.artist_latitude,
    longitude: s.artist_longitude,
    missing: artistMissing(s),
    src: key,
    line,
  });
}

/** Adds an event's play to the shuffle, and its user row to the object's users when it wins there. */
function addEvent(out: Shuffle, users: Map<string, Row>, e: LogEvent, key: string, line: number): void {
  if (e.userId !== null) {
    const user: Row = {
      user_id: e.userId,
      first_name: e.firstName,
      last_name: e.lastName,
      gender: e.gender,
      level: e.level,
      ts: e.ts,
      missing: userMissing(e),
      src: key,
      line,
    };
    const current = users.get(e.userId);
    if (current === undefined || byLatest(user, current) < 0) users.set(e.userId, user);
  }
  if (e.page !== 'NextSong') return;
  const id = songplayId(e);
  const names = joinKey(e.song, e.artist);
  out.add('events', id, {
    songplay_id: id,
    start_time: e.ts,
    user_id: e.userId,
    level: e.level,
    song: names ? names.title : null,
    artist: names ? names.artist : null,
    length: e.length,
    session_id: e.sessionId,
    location: e.location,
    user_agent: e.userAgent,
    missing: playMissing(e),
    src: key,
    line,
  });
}
