/**
 * Validation and normalisation of one record (docs/contract.md): a record is rejected with a reason, or
 * becomes a typed row. Wrong-typed optional fields become null; the empty string counts as missing.
 */
import { hash } from 'node:crypto';
import { repairText, unquote } from './text.ts';

/** A valid log event, normalised. */
export interface LogEvent {
  ts: number;
  page: string;
  userId: string | null;
  firstName: string | null;
  lastName: string | null;
  gender: string | null;
  level: string | null;
  location: string | null;
  userAgent: string | null;
  song: string | null;
  artist: string | null;
  length: number | null;
  sessionId: number | null;
  itemInSession: number | null;
}

/** A valid song record, normalised (names repaired). */
export interface SongRecord {
  song_id: string;
  title: string | null;
  artist_id: string;
  year: number | null;
  duration: number;
  artist_name: string | null;
  artist_location: string | null;
  artist_latitude: number | null;
  artist_longitude: number | null;
}

/** A validation outcome. */
export type Checked<T> = { ok: true; row: T } | { ok: false; reason: string };

// JS dates end at ±8.64e15 ms: a ts beyond that cannot be a timestamp.
const MAX_TS = 8.64e15;

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const int = (v: unknown): number | null => (typeof v === 'number' && Number.isSafeInteger(v) ? v : null);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks one log record. */
export function checkLogEvent(value: unknown): Checked<LogEvent> {
  if (!isObject(value)) return { ok: false, reason: 'not a JSON object' };
  const ts = typeof value.ts === 'number' ? Math.trunc(value.ts) : Number.NaN;
  if (!Number.isFinite(ts) || Math.abs(ts) > MAX_TS) {
    return { ok: false, reason: 'ts is not a finite number' };
  }
  if (typeof value.page !== 'string') return { ok: false, reason: 'page is not a string' };
  const userAgent = str(value.userAgent);
  return {
    ok: true,
    row: {
      ts: ts + 0, // + 0 turns -0 into 0
      page: value.page,
      userId: str(value.userId),
      firstName: repaired(value.firstName),
      lastName: repaired(value.lastName),
      gender: str(value.gender),
      level: str(value.level),
      location: repaired(value.location),
      userAgent: userAgent === null ? null : str(unquote(userAgent)),
      song: repaired(value.song),
      artist: repaired(value.artist),
      length: num(value.length),
      sessionId: int(value.sessionId),
      itemInSession: int(value.itemInSession),
    },
  };
}

/** Checks one song record. */
export function checkSongRecord(value: unknown): Checked<SongRecord> {
  if (!isObject(value)) return { ok: false, reason: 'not a JSON object' };
  const songId = str(value.song_id);
  if (songId === null) return { ok: false, reason: 'song_id is missing or empty' };
  const artistId = str(value.artist_id);
  if (artistId === null) return { ok: false, reason: 'artist_id is missing or empty' };
  if (typeof value.title !== 'string') return { ok: false, reason: 'title is not a string' };
  const duration = num(value.duration);
  if (duration === null) return { ok: false, reason: 'duration is not a finite number' };
  const year = int(value.year);
  return {
    ok: true,
    row: {
      song_id: songId,
      title: repaired(value.title),
      artist_id: artistId,
      // 0 is the dataset's "unknown"; int32 is the column's range.
      year: year === null || year === 0 || year < -(2 ** 31) || year > 2 ** 31 - 1 ? null : year,
      duration,
      artist_name: repaired(value.artist_name),
      artist_location: repaired(value.artist_location),
      artist_latitude: num(value.artist_latitude),
      artist_longitude: num(value.artist_longitude),
    },
  };
}

function repaired(v: unknown): string | null {
  const s = str(v);
  return s === null ? null : repairText(s);
}

/** Deterministic id of a songplay: the same event gets the same id in every run. */
export function songplayId(e: Pick<LogEvent, 'ts' | 'userId' | 'sessionId' | 'itemInSession'>): string {
  const text = `${e.ts}|${e.userId ?? ''}|${e.sessionId ?? ''}|${e.itemInSession ?? ''}`;
  return hash('sha256', text).slice(0, 32);
}

/** The join key of an event or a song from its repaired names: trimmed, or null when either is missing. */
export function joinKey(title: string | null, artist: string | null): { title: string; artist: string } | null {
  if (title === null || artist === null) return null;
  return { title: title.trim(), artist: artist.trim() };
}

/** Number of nulls among the given values: the first precedence criterion. */
export const countMissing = (...values: unknown[]): number => values.filter((v) => v === null).length;

// The fields each precedence rule counts as missing (docs/contract.md, "Fields counted for missing").

/** Missing values of a song record, for the songs table's precedence. */
export const songMissing = (s: SongRecord): number =>
  countMissing(
    s.title,
    s.artist_id,
    s.year,
    s.duration,
    s.artist_name,
    s.artist_location,
    s.artist_latitude,
    s.artist_longitude,
  );

/** Missing values of a song record's artist fields, for the artists table's precedence. */
export const artistMissing = (s: SongRecord): number =>
  countMissing(s.artist_name, s.artist_location, s.artist_latitude, s.artist_longitude);

/** Missing values of an event's user fields, for the users table's tie-break. */
export const userMissing = (e: LogEvent): number => countMissing(e.firstName, e.lastName, e.gender, e.level);

/** Missing values of an event's songplay fields, for the songplays' precedence. */
export const playMissing = (e: LogEvent): number =>
  countMissing(e.userId, e.level, e.song, e.artist, e.length, e.sessionId, e.location, e.userAgent);
