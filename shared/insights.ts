/**
 * Small aggregates of a run for its reports (plays by hour, by level, top songs, users by level). Reducers compute
 * them per bucket and Commit merges them; top songs merge exactly because all plays of a song share a join-key
 * bucket.
 */
import type { Row, Value } from './columnar.ts';
import { hourOf } from './time.ts';

/** How many top songs a report shows. */
export const TOP_SONGS = 10;

/** The run's aggregates. */
export interface Insights {
  /** Plays per UTC hour of day, 0–23. */
  playsByHour: number[];
  playsByLevel: Record<string, number>;
  usersByLevel: Record<string, number>;
  matchedPlays: number;
  topSongs: { song_id: string; title: string; artist: string; plays: number }[];
}

/** Aggregates of nothing. */
export const emptyInsights = (): Insights => ({
  playsByHour: Array.from({ length: 24 }, () => 0),
  playsByLevel: {},
  usersByLevel: {},
  matchedPlays: 0,
  topSongs: [],
});

const bump = (counts: Record<string, number>, key: unknown): void => {
  const k = key === null || key === undefined ? '(unknown)' : String(key);
  counts[k] = (counts[k] ?? 0) + 1;
};

/** Aggregates of one bucket's songplays (the columns read, with the songs they matched) and users. */
export function bucketInsights(
  songplays: { start_time: ArrayLike<Value>; level: ArrayLike<Value>; song_id: ArrayLike<Value> },
  songs: readonly Row[],
  users: readonly Row[],
): Insights {
  const out = emptyInsights();
  const plays = new Map<string, number>();
  const { start_time, level, song_id } = songplays;
  for (let i = 0; i < start_time.length; i++) {
    (out.playsByHour[hourOf(start_time[i] as number)] as number)++;
    bump(out.playsByLevel, level[i]);
    const id = song_id[i];
    if (id != null) {
      out.matchedPlays++;
      plays.set(id as string, (plays.get(id as string) ?? 0) + 1);
    }
  }
  for (const u of users) bump(out.usersByLevel, u.level);
  const names = new Map(songs.map((s) => [s.song_id as string, s]));
  out.topSongs = [...plays]
    .map(([song_id, n]) => ({
      song_id,
      title: String(names.get(song_id)?.title ?? ''),
      artist: String(names.get(song_id)?.artist_name ?? ''),
      plays: n,
    }))
    .sort(byPlays)
    .slice(0, TOP_SONGS);
  return out;
}

const byPlays = (a: { plays: number; song_id: string }, b: { plays: number; song_id: string }): number =>
  b.plays - a.plays || (a.song_id < b.song_id ? -1 : 1);

/** Merges buckets' aggregates. */
export function mergeInsights(parts: readonly Insights[]): Insights {
  const out = emptyInsights();
  for (const part of parts) {
    part.playsByHour.forEach((n, h) => {
      out.playsByHour[h] = (out.playsByHour[h] ?? 0) + n;
    });
    for (const [k, n] of Object.entries(part.playsByLevel)) out.playsByLevel[k] = (out.playsByLevel[k] ?? 0) + n;
    for (const [k, n] of Object.entries(part.usersByLevel)) out.usersByLevel[k] = (out.usersByLevel[k] ?? 0) + n;
    out.matchedPlays += part.matchedPlays;
    out.topSongs.push(...part.topSongs);
  }
  out.topSongs = out.topSongs.sort(byPlays).slice(0, TOP_SONGS);
  return out;
}
