// The tests' independent oracle: a second, deliberately plain implementation of docs/contract.md.
// It must not import from shared/, functions/ or cli/, so that a bug there cannot hide itself here.
import { createHash } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ExpectedTables {
  songplays: {
    songplay_id: string;
    start_time: number /* epoch ms */;
    user_id: string | null;
    level: string | null;
    song_id: string | null;
    artist_id: string | null;
    session_id: number | null;
    location: string | null;
    user_agent: string | null;
  }[];
  users: {
    user_id: string;
    first_name: string | null;
    last_name: string | null;
    gender: string | null;
    level: string | null;
  }[];
  songs: { song_id: string; title: string | null; artist_id: string; year: number | null; duration: number }[];
  artists: {
    artist_id: string;
    name: string | null;
    location: string | null;
    latitude: number | null;
    longitude: number | null;
  }[];
  time: { start_time: number; hour: number; day: number; week: number; month: number; year: number; weekday: number }[];
  rejects: { source: 'song_data' | 'log_data'; key: string; line: number; reason: string }[];
  read: { song_data: number; log_data: number };
}

type Source = 'song_data' | 'log_data';
type Reject = ExpectedTables['rejects'][number];
type JsonObject = Record<string, unknown>;

/** One record as read from a file, before validation. */
interface RawRecord {
  key: string;
  line: number;
  value: unknown;
}

/** A record that passed validation; `missing` feeds the precedence rule. */
interface Ranked {
  key: string;
  line: number;
  missing: number;
}

const DEFAULT_MAX_RECORD_BYTES = 16 * 1024 * 1024;
const MAX_DATE_MS = 8.64e15;
const DAY_MS = 86_400_000;

// ignoreBOM keeps a U+FEFF that is really part of the text; the file BOM is stripped by hand.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

// ---------------------------------------------------------------------------------------------------------------
// Text repair

/** Undo double (or triple) UTF-8 encoding, per the contract's "Text repair" rule. */
export function repairText(s: string): string {
  let current = s;
  for (let round = 0; round < 3; round++) {
    let allLatin1 = true;
    let hasHigh = false;
    for (let i = 0; i < current.length; i++) {
      const code = current.charCodeAt(i);
      if (code > 0xff) allLatin1 = false;
      if (code >= 0x80 && code <= 0xff) hasHigh = true;
    }
    if (!allLatin1 || !hasHigh) return current;
    const bytes = new Uint8Array(current.length);
    for (let i = 0; i < current.length; i++) bytes[i] = current.charCodeAt(i);
    try {
      current = utf8.decode(bytes);
    } catch {
      return current;
    }
  }
  return current;
}

// ---------------------------------------------------------------------------------------------------------------
// Field readers: a wrong type or an empty string reads as null.

function field(obj: JsonObject, name: string): unknown {
  // Own properties only, so a name like "constructor" is never read from Object.prototype.
  return Object.hasOwn(obj, name) ? obj[name] : undefined;
}

function str(obj: JsonObject, name: string): string | null {
  const v = field(obj, name);
  return typeof v === 'string' && v !== '' ? v : null;
}

function repairedStr(obj: JsonObject, name: string): string | null {
  const v = str(obj, name);
  return v === null ? null : repairText(v);
}

function finite(obj: JsonObject, name: string): number | null {
  const v = field(obj, name);
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function int64(obj: JsonObject, name: string): number | null {
  const v = field(obj, name);
  return typeof v === 'number' && Number.isSafeInteger(v) ? v : null;
}

function int32(obj: JsonObject, name: string): number | null {
  const v = field(obj, name);
  return typeof v === 'number' && Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31 ? v : null;
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function countMissing(values: unknown[]): number {
  return values.filter((v) => v === null).length;
}

/** Plain code-unit comparison, used for every key and id ordering. */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The contract's precedence: fewest missing, then smallest source key, then smallest line. */
function precedes(a: Ranked, b: Ranked): boolean {
  if (a.missing !== b.missing) return a.missing < b.missing;
  if (a.key !== b.key) return a.key < b.key;
  return a.line < b.line;
}

// ---------------------------------------------------------------------------------------------------------------
// Reading input

function listFiles(sourceDir: string, source: Source): string[] {
  const keys: string[] = [];
  const walk = (relative: string): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(join(sourceDir, relative), { withFileTypes: true });
    } catch {
      return; // A missing source folder simply holds no files.
    }
    for (const entry of entries) {
      const child = `${relative}/${entry.name}`;
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile()) keys.push(child);
    }
  };
  walk(source);
  return keys.sort(cmp);
}

function isBlank(text: string): boolean {
  return /^[ \t\r]*$/.test(text);
}

function isJsonWhitespace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;
}

/**
 * Split one file into records: parsed ones go to `records`, ones that cannot be parsed to `rejects`.
 * Returns how many records the file held (both kinds).
 */
function readFileRecords(
  sourceDir: string,
  source: Source,
  key: string,
  maxBytes: number,
  records: RawRecord[],
  rejects: Reject[],
): number {
  let bytes = new Uint8Array(readFileSync(join(sourceDir, key)));
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
  if (bytes.length === 0) return 0;

  let read = 0;
  const accept = (line: number, value: unknown): void => {
    read++;
    records.push({ key, line, value });
  };
  const reject = (line: number, reason: string): void => {
    read++;
    rejects.push({ source, key, line, reason });
  };

  // First reading: the whole file as one JSON document (object or array).
  let whole: unknown;
  let parsedWhole = false;
  try {
    whole = JSON.parse(utf8.decode(bytes));
    parsedWhole = isObject(whole) || Array.isArray(whole);
  } catch {
    parsedWhole = false;
  }
  if (parsedWhole) {
    // The document's size is measured without surrounding whitespace, so a one-line file measures like its line.
    let start = 0;
    let end = bytes.length;
    while (start < end && isJsonWhitespace(bytes[start])) start++;
    while (end > start && isJsonWhitespace(bytes[end - 1])) end--;
    if (end - start > maxBytes) {
      reject(1, `record exceeds ${maxBytes} bytes`);
    } else if (Array.isArray(whole)) {
      whole.forEach((element, i) => {
        accept(i + 1, element);
      });
    } else {
      accept(1, whole);
    }
    return read;
  }

  // Otherwise JSON lines: split on LF at byte level (safe in UTF-8), drop one trailing CR per line.
  let lineNumber = 0;
  let start = 0;
  while (start <= bytes.length) {
    let end = bytes.indexOf(0x0a, start);
    if (end === -1) end = bytes.length;
    lineNumber++;
    let lineEnd = end;
    if (lineEnd > start && bytes[lineEnd - 1] === 0x0d) lineEnd--;
    const lineBytes = bytes.subarray(start, lineEnd);
    start = end + 1;

    if (lineBytes.length > maxBytes) {
      reject(lineNumber, `record exceeds ${maxBytes} bytes`);
      continue;
    }
    let text: string;
    try {
      text = utf8.decode(lineBytes);
    } catch {
      reject(lineNumber, 'invalid UTF-8');
      continue;
    }
    if (isBlank(text)) continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      reject(lineNumber, 'invalid JSON');
      continue;
    }
    accept(lineNumber, value);
  }
  return read;
}

/** All parsed records of one source, and how many records it held in all. */
function readSource(
  sourceDir: string,
  source: Source,
  maxBytes: number,
  rejects: Reject[],
): { records: RawRecord[]; read: number } {
  const records: RawRecord[] = [];
  let read = 0;
  for (const key of listFiles(sourceDir, source)) {
    read += readFileRecords(sourceDir, source, key, maxBytes, records, rejects);
  }
  return { records, read };
}

// ---------------------------------------------------------------------------------------------------------------
// Validation

interface SongRecord extends Ranked {
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

interface LogRecord {
  key: string;
  line: number;
  ts: number;
  page: string;
  userId: string | null;
  sessionId: number | null;
  itemInSession: number | null;
  length: number | null;
  firstName: string | null;
  lastName: string | null;
  gender: string | null;
  level: string | null;
  location: string | null;
  userAgent: string | null;
  song: string | null;
  artist: string | null;
}

function validateSong(r: RawRecord): SongRecord | string {
  const v = r.value;
  if (!isObject(v)) return 'not a JSON object';
  const song_id = str(v, 'song_id');
  if (song_id === null) return 'song_id is missing or empty';
  const artist_id = str(v, 'artist_id');
  if (artist_id === null) return 'artist_id is missing or empty';
  // An empty title is still a string: the record loads with a null title.
  if (typeof v.title !== 'string') return 'title is not a string';
  const title = repairedStr(v, 'title');
  const duration = finite(v, 'duration');
  if (duration === null) return 'duration is not a finite number';
  const rawYear = int32(v, 'year');
  const song = {
    song_id,
    title,
    artist_id,
    year: rawYear === 0 ? null : rawYear, // 0 means unknown
    duration,
    artist_name: repairedStr(v, 'artist_name'),
    artist_location: repairedStr(v, 'artist_location'),
    artist_latitude: finite(v, 'artist_latitude'),
    artist_longitude: finite(v, 'artist_longitude'),
  };
  return {
    ...song,
    key: r.key,
    line: r.line,
    missing: countMissing([
      song.title,
      song.artist_id,
      song.year,
      song.duration,
      song.artist_name,
      song.artist_location,
      song.artist_latitude,
      song.artist_longitude,
    ]),
  };
}

function validateLog(r: RawRecord): LogRecord | string {
  const v = r.value;
  if (!isObject(v)) return 'not a JSON object';
  const rawTs = finite(v, 'ts');
  const ts = rawTs === null ? null : Math.trunc(rawTs) + 0; // + 0 turns -0 into 0
  if (ts === null || Math.abs(ts) > MAX_DATE_MS) return 'ts is not a finite number';
  if (typeof v.page !== 'string') return 'page is not a string';
  const page = v.page;
  return {
    key: r.key,
    line: r.line,
    ts,
    page,
    userId: str(v, 'userId'),
    sessionId: int64(v, 'sessionId'),
    itemInSession: int64(v, 'itemInSession'),
    length: finite(v, 'length'),
    firstName: repairedStr(v, 'firstName'),
    lastName: repairedStr(v, 'lastName'),
    gender: str(v, 'gender'),
    level: str(v, 'level'),
    location: repairedStr(v, 'location'),
    userAgent: emptyToNull(stripQuotes(str(v, 'userAgent'))),
    song: repairedStr(v, 'song'),
    artist: repairedStr(v, 'artist'),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Calendar (UTC, ISO-8601), written out by hand

function isLeapYear(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

/** 1-based day of the year of a UTC date. */
function dayOfYear(d: Date): number {
  const monthDays = [31, isLeapYear(d.getUTCFullYear()) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  let n = d.getUTCDate();
  for (let m = 0; m < d.getUTCMonth(); m++) n += monthDays[m] ?? 0;
  return n;
}

function timeRow(ms: number): ExpectedTables['time'][number] {
  const d = new Date(ms);
  const weekday = ((d.getUTCDay() + 6) % 7) + 1; // ISO: Monday 1 … Sunday 7
  // ISO week: the week belongs to the year of its Thursday, and week 1 holds that year's first Thursday.
  // The JS date range ends on a Saturday and starts on a Tuesday, so this Thursday is always a valid date.
  const thursday = new Date(ms + (4 - weekday) * DAY_MS);
  const week = Math.floor((dayOfYear(thursday) - 1) / 7) + 1;
  return {
    start_time: ms,
    hour: d.getUTCHours(),
    day: d.getUTCDate(),
    week,
    month: d.getUTCMonth() + 1,
    year: d.getUTCFullYear(),
    weekday,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The tables

function songplayId(e: LogRecord): string {
  const parts = [String(e.ts), e.userId ?? '', e.sessionId ?? '', e.itemInSession ?? ''];
  return createHash('sha256').update(parts.join('|'), 'utf8').digest('hex').slice(0, 32);
}

const emptyToNull = (s: string | null): string | null => (s === '' ? null : s);

function stripQuotes(s: string | null): string | null {
  if (s !== null && s.length >= 2 && s.startsWith('"') && s.endsWith('"')) return s.slice(1, -1);
  return s;
}

/** The song winner that matches a NextSong event, or null. */
function joinSong(e: LogRecord, songs: SongRecord[]): SongRecord | null {
  if (e.song === null || e.artist === null || e.length === null) return null;
  const length = e.length;
  const title = e.song.trim();
  const artist = e.artist.trim();
  let best: SongRecord | null = null;
  for (const s of songs) {
    if (s.artist_name === null || s.title === null) continue;
    if (s.title.trim() !== title || s.artist_name.trim() !== artist) continue;
    const diff = Math.abs(length - s.duration);
    if (!(diff < 0.01)) continue;
    if (best === null) {
      best = s;
      continue;
    }
    const bestDiff = Math.abs(length - best.duration);
    if (diff < bestDiff || (diff === bestDiff && s.song_id < best.song_id)) best = s;
  }
  return best;
}

function pickWinners<T extends Ranked>(items: T[], keyOf: (item: T) => string): Map<string, T> {
  const winners = new Map<string, T>();
  for (const item of items) {
    const k = keyOf(item);
    const current = winners.get(k);
    if (current === undefined || precedes(item, current)) winners.set(k, item);
  }
  return winners;
}

function sortedValues<T>(map: Map<string, T>): T[] {
  return [...map.keys()].sort(cmp).map((k) => map.get(k) as T);
}

export function computeExpected(sourceDir: string, options?: { maxRecordBytes?: number }): ExpectedTables {
  const maxBytes = options?.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  const rejects: Reject[] = [];

  // Songs and artists.
  const songIn = readSource(sourceDir, 'song_data', maxBytes, rejects);
  const songRecords: SongRecord[] = [];
  for (const r of songIn.records) {
    const result = validateSong(r);
    if (typeof result === 'string') rejects.push({ source: 'song_data', key: r.key, line: r.line, reason: result });
    else songRecords.push(result);
  }
  const songWinners = sortedValues(pickWinners(songRecords, (s) => s.song_id));
  const songs = songWinners.map((s) => ({
    song_id: s.song_id,
    title: s.title,
    artist_id: s.artist_id,
    year: s.year,
    duration: s.duration,
  }));

  const artistRanked = songRecords.map((s) => ({
    key: s.key,
    line: s.line,
    missing: countMissing([s.artist_name, s.artist_location, s.artist_latitude, s.artist_longitude]),
    song: s,
  }));
  const artists = sortedValues(pickWinners(artistRanked, (a) => a.song.artist_id)).map(({ song: s }) => ({
    artist_id: s.artist_id,
    name: s.artist_name,
    location: s.artist_location,
    latitude: s.artist_latitude,
    longitude: s.artist_longitude,
  }));

  // Events.
  const logIn = readSource(sourceDir, 'log_data', maxBytes, rejects);
  const events: LogRecord[] = [];
  for (const r of logIn.records) {
    const result = validateLog(r);
    if (typeof result === 'string') rejects.push({ source: 'log_data', key: r.key, line: r.line, reason: result });
    else events.push(result);
  }

  // Users: the latest event by ts, ties broken by precedence.
  const latestByUser = new Map<string, LogRecord & Ranked>();
  for (const e of events) {
    if (e.userId === null) continue;
    const ranked = { ...e, missing: countMissing([e.firstName, e.lastName, e.gender, e.level]) };
    const current = latestByUser.get(e.userId);
    if (current === undefined || ranked.ts > current.ts || (ranked.ts === current.ts && precedes(ranked, current))) {
      latestByUser.set(e.userId, ranked);
    }
  }
  const users = sortedValues(latestByUser).map((e) => ({
    user_id: e.userId as string,
    first_name: e.firstName,
    last_name: e.lastName,
    gender: e.gender,
    level: e.level,
  }));

  // Songplays: NextSong events, one per id by precedence, then joined to the song winners.
  const plays = events
    .filter((e) => e.page === 'NextSong')
    .map((e) => ({
      ...e,
      id: songplayId(e),
      missing: countMissing([e.userId, e.level, e.song, e.artist, e.length, e.sessionId, e.location, e.userAgent]),
    }));
  // Candidates by trimmed title only to keep the scan short; joinSong still checks every condition itself.
  const byTitle = new Map<string, SongRecord[]>();
  for (const song of songWinners) {
    const title = song.title?.trim() ?? '';
    byTitle.set(title, [...(byTitle.get(title) ?? []), song]);
  }
  const songplays = sortedValues(pickWinners(plays, (p) => p.id)).map((p) => {
    const match = joinSong(p, byTitle.get(p.song?.trim() ?? '') ?? []);
    return {
      songplay_id: p.id,
      start_time: p.ts,
      user_id: p.userId,
      level: p.level,
      song_id: match?.song_id ?? null,
      artist_id: match?.artist_id ?? null,
      session_id: p.sessionId,
      location: p.location,
      user_agent: p.userAgent,
    };
  });

  const startTimes = [...new Set(songplays.map((p) => p.start_time))].sort((a, b) => a - b);
  const time = startTimes.map(timeRow);

  rejects.sort((a, b) => cmp(a.key, b.key) || a.line - b.line);

  return {
    songplays,
    users,
    songs,
    artists,
    time,
    rejects,
    read: { song_data: songIn.read, log_data: logIn.read },
  };
}
