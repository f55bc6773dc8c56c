/** The reducers' pure transforms: hashing, precedence, dedupe, and the songplays join. */
import type * as arrow from 'apache-arrow';
import type { Row, Value } from './columnar.ts';
import {
  entryText,
  FingerprintTable,
  fingerprintPair,
  PAIR,
  sameRange,
  type TextBuffers,
  textBuffers,
  textEntry,
} from './fingerprints.ts';
import { partitionPath } from './keys.ts';

/** FNV-1a's offset basis and prime (32 bits). */
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a over UTF-16 code units: a stable bucket for a key on every machine and run. */
export function bucketOf(key: string, buckets: number): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME);
  }
  return (h >>> 0) % buckets;
}

/** The ranges of the integer partition columns (time's), from the smallest value: a month is 1 to 12. */
const PARTITION_RANGES: Record<string, { from: number; size: number }> = {
  month: { from: 1, size: 12 },
  day: { from: 1, size: 31 },
  week: { from: 1, size: 53 },
  weekday: { from: 1, size: 7 },
  hour: { from: 0, size: 24 },
};

/**
 * The reducer that writes one partition of a dimension table (one file per partition, so one reducer each).
 * Integer partitions are numbered in order (year, then month within the year), so consecutive months go to
 * consecutive reducers: hashing their paths put 3 of 12 months, and the unpartitioned tables, on one reducer of
 * 12. Other values hash. Each table starts at its own offset, so the unpartitioned ones go to different reducers.
 */
export function partitionBucket(
  offset: number,
  columns: readonly string[],
  values: readonly (string | number | null)[],
  buckets: number,
): number {
  let n = 0;
  for (let i = 0; i < columns.length; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
      return (offset + bucketOf(partitionPath(columns, values), buckets)) % buckets;
    }
    const range = PARTITION_RANGES[columns[i] as string];
    n = range ? n * range.size + (v - range.from) : v;
  }
  return (((offset + n) % buckets) + buckets) % buckets;
}

/** The join's shuffle key: both names, joined by a separator no name holds. */
export const joinShuffleKey = (title: string, artist: string): string => `${title}\u0000${artist}`;

/**
 * bucketOf(joinShuffleKey(title, artist)) of each row of two text columns, or -1 where either is null: hashed from
 * the texts' UTF-8 bytes, which are the code units bucketOf hashes when they are ASCII (a text with other bytes is
 * decoded). The dimension reducers route every play so, instead of decoding two strings a play (large, 12 buckets on
 * one thread: 14.2–18.5 → 12.0–16.0 s).
 */
export function joinBuckets(titles: arrow.Data, artists: arrow.Data, buckets: number): Int32Array {
  const out = new Int32Array(titles.length);
  const [a, b] = [textOf(titles), textOf(artists)];
  for (let i = 0; i < out.length; i++) {
    const x = textEntry(a, i);
    const y = textEntry(b, i);
    if (x < 0 || y < 0) {
      out[i] = -1;
      continue;
    }
    let h = hashAscii(a, x, FNV_OFFSET);
    if (h !== NOT_ASCII) h = hashAscii(b, y, Math.imul(h, FNV_PRIME)); // the NUL between: h ^ 0 is h
    out[i] =
      h === NOT_ASCII ? bucketOf(joinShuffleKey(entryText(a, x), entryText(b, y)), buckets) : (h >>> 0) % buckets;
  }
  return out;
}

/** hashAscii's answer for a text with a byte beyond ASCII (not an Int32: FNV's state always is one). */
const NOT_ASCII = 0.5;

/** FNV-1a continued over a text entry's bytes, or NOT_ASCII when one is not ASCII. */
function hashAscii(text: TextBuffers, entry: number, seed: number): number {
  let h = seed;
  const end = text.offsets[entry + 1] as number;
  for (let k = text.offsets[entry] as number; k < end; k++) {
    const byte = text.bytes[k] as number;
    if (byte > 0x7f) return NOT_ASCII;
    h = Math.imul(h ^ byte, FNV_PRIME);
  }
  return h;
}

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Precedence between records of one key (DESIGN.md): fewest missing values, then the smallest source key,
 * then the smallest line. Independent of arrival order, so incremental loads equal a full load.
 */
export function byPrecedence(a: Row, b: Row): number {
  return (
    (a.missing as number) - (b.missing as number) ||
    compareText(a.src as string, b.src as string) ||
    (a.line as number) - (b.line as number)
  );
}

/** The columns byPrecedence reads (byLatest reads ts as well). */
export const PRECEDENCE_COLUMNS: readonly string[] = ['missing', 'src', 'line'];

/**
 * A comparator of rows (byPrecedence, byLatest) between row numbers i and j of columns, given by name: the
 * columns it reads. It makes two small rows per call: it is called only where rows share a key.
 */
export function compareColumns(
  compare: (a: Row, b: Row) => number,
  columns: Record<string, ArrayLike<Value>>,
): (i: number, j: number) => number {
  const names = Object.keys(columns);
  const rowAt = (i: number): Row => {
    const row: Row = {};
    for (const name of names) row[name] = (columns[name] as ArrayLike<Value>)[i] ?? null;
    return row;
  };
  return (i, j) => compare(rowAt(i), rowAt(j));
}

/** Users: the latest event by ts wins; precedence breaks ties. */
export const byLatest = (a: Row, b: Row): number => (b.ts as number) - (a.ts as number) || byPrecedence(a, b);

/** Rows grouped by key: each row's group, numbered from 0 in the order of the groups' first rows. */
export interface Groups {
  groupOf: Int32Array;
  count: number;
}

/** Rows 0 to n - 1 grouped by the value `keyOf` gives (a Map of the values). */
export function groupsByValue(n: number, keyOf: (i: number) => unknown): Groups {
  const ids = new Map<unknown, number>();
  const groupOf = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const k = keyOf(i);
    let g = ids.get(k);
    if (g === undefined) {
      g = ids.size;
      ids.set(k, g);
    }
    groupOf[i] = g;
  }
  return { groupOf, count: ids.size };
}

/**
 * The best row per (key, source object), which the state keeps, and of those the best per key, which the tables
 * get, in one pass, over row numbers 0 to n - 1 of columns: their key's group (Groups), their source, and a
 * comparator. A group is almost always one row. Returns the row numbers kept and the winners, each in the order of
 * their groups.
 */
export function dedupeRows(
  n: number,
  groups: Groups,
  srcOf: (i: number) => unknown,
  compare: (i: number, j: number) => number,
): { kept: Int32Array; winners: Int32Array } {
  const { groupOf, count } = groups;
  const { starts, members } = byClass(groupOf.subarray(0, n), count);
  // At most every row is kept: filled in place, not pushed (a push per row cost a fifth of the dedupe).
  const kept = new Int32Array(n);
  let keptCount = 0;
  const winners = new Int32Array(count);
  for (let g = 0; g < count; g++) {
    const from = starts[g] as number;
    const to = starts[g + 1] as number;
    if (to - from === 1) {
      kept[keptCount++] = members[from] as number;
      winners[g] = members[from] as number;
      continue;
    }
    const bySource = new Map<unknown, number>();
    for (let m = from; m < to; m++) {
      const i = members[m] as number;
      const current = bySource.get(srcOf(i));
      if (current === undefined || compare(i, current) < 0) bySource.set(srcOf(i), i);
    }
    let best = -1;
    for (const i of bySource.values()) {
      kept[keptCount++] = i;
      if (best < 0 || compare(i, best) < 0) best = i;
    }
    winners[g] = best;
  }
  return { kept: kept.slice(0, keptCount), winners };
}

/**
 * Positions grouped by their class (0 to count - 1), each class's in order, by counting: class c's positions are
 * members[starts[c], starts[c + 1]).
 */
export function byClass(classOf: ArrayLike<number>, count: number): { starts: Int32Array; members: Int32Array } {
  const starts = new Int32Array(count + 1);
  for (let i = 0; i < classOf.length; i++) {
    const c = (classOf[i] as number) + 1;
    starts[c] = (starts[c] as number) + 1;
  }
  for (let c = 0; c < count; c++) starts[c + 1] = (starts[c + 1] as number) + (starts[c] as number);
  const members = new Int32Array(classOf.length);
  const filled = starts.slice(0, count);
  for (let i = 0; i < classOf.length; i++) {
    const c = classOf[i] as number;
    members[filled[c] as number] = i;
    filled[c] = (filled[c] as number) + 1;
  }
  return { starts, members };
}

/** Order of two column values: numbers before texts, nulls last; texts by UTF-16 code units. */
function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return compareText(String(a), String(b));
}

/**
 * The order of rows given as columns (each an array of the rows' values), the first deciding and the next ones
 * breaking ties (nulls last), then `then` (an order of row numbers), then row number: row numbers in order. An
 * index is sorted by the first column's values (as numbers in a typed array when they all are): a comparator over
 * row objects cost 4 times as much on 260,000 rows.
 */
export function sortOrder(
  n: number,
  columns: readonly ArrayLike<unknown>[],
  then?: (i: number, j: number) => number,
): Uint32Array {
  const [first, ...rest] = columns;
  const index = new Uint32Array(n);
  for (let i = 0; i < n; i++) index[i] = i;
  if (first === undefined || n < 2) return index;
  const ties = (i: number, j: number): number => {
    for (const c of rest) {
      const d = compareValues(c[i], c[j]);
      if (d !== 0) return d;
    }
    return then?.(i, j) || i - j;
  };
  let numeric = true;
  for (let i = 0; i < n && numeric; i++) numeric = typeof first[i] === 'number';
  if (numeric) {
    const keys = new Float64Array(n);
    for (let i = 0; i < n; i++) keys[i] = first[i] as number;
    index.sort((i, j) => (keys[i] as number) - (keys[j] as number) || ties(i, j));
  } else index.sort((i, j) => compareValues(first[i], first[j]) || ties(i, j));
  return index;
}

/** The distinct timestamps among the values, ascending (the time table's start times). */
export function sortedDistinct(values: ArrayLike<unknown>): Float64Array {
  const n = values.length;
  const sorted = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (typeof v !== 'number') throw new TypeError(`a start time that is not a number: ${String(v)}`);
    sorted[i] = v;
  }
  sorted.sort();
  let m = 0;
  for (let i = 0; i < n; i++) if (m === 0 || sorted[i] !== sorted[m - 1]) sorted[m++] = sorted[i] as number;
  return sorted.slice(0, m);
}

/** The largest duration difference that still counts as the same recording (seconds). */
export const DURATION_TOLERANCE = 0.01;

/**
 * Matches plays to songs on (title, artist name) and a duration within the tolerance; the closest duration
 * wins, then the smallest song_id. The plays are given as their song and artist columns as Arrow text and their
 * lengths; returns each play's song_id and artist_id, null where it matched no song. The plays'
 * names are never decoded: they are looked up by a fingerprint of their bytes, and a candidate's names compared
 * byte by byte (as strings per play, they were a tenth of the facts reducers' time).
 */
export function matchSongs(
  song: arrow.Data,
  artist: arrow.Data,
  length: ArrayLike<Value>,
  songs: readonly Row[],
): { song_id: (string | null)[]; artist_id: (string | null)[] } {
  // Each distinct (title, artist name): its bytes and its songs, in flat arrays (a play's lookup followed a chain of
  // objects, a cache miss at each step); names whose fingerprints collide are chained.
  const index = new FingerprintTable(songs.length, true);
  const nameBytes: Uint8Array[] = [];
  const next: number[] = [];
  const nameOf = new Int32Array(songs.length);
  songs.forEach((s, k) => {
    const title = Buffer.from(s.title as string, 'utf8');
    const name = Buffer.from(s.artist_name as string, 'utf8');
    fingerprintPair(title, 0, title.length, name, 0, name.length);
    const slot = index.add(PAIR.hi, PAIR.lo);
    let at = index.added ? -1 : (index.valueHi[slot] as number);
    while (at >= 0 && !(sameBytes(nameBytes[2 * at], title) && sameBytes(nameBytes[2 * at + 1], name))) {
      at = next[at] as number;
    }
    if (at < 0) {
      at = next.length;
      nameBytes.push(title, name);
      next.push(index.added ? -1 : (index.valueHi[slot] as number));
      index.valueHi[slot] = at;
    }
    nameOf[k] = at;
  });
  // The names' bytes end to end (title, then artist), and each name's songs in song order: [first[e], first[e + 1]).
  const ends = new Int32Array(nameBytes.length + 1);
  nameBytes.forEach((b, j) => {
    ends[j + 1] = (ends[j] as number) + b.length;
  });
  const bytes = new Uint8Array(ends[nameBytes.length] as number);
  nameBytes.forEach((b, j) => {
    bytes.set(b, ends[j]);
  });
  const { starts: first, members } = byClass(nameOf, next.length);
  const bySong = Array.from(members, (k) => songs[k] as Row);
  const durations = Float64Array.from(bySong, (s) => s.duration as number);

  const titles = textOf(song);
  const artists = textOf(artist);
  const n = song.length;
  const out = { song_id: new Array<string | null>(n), artist_id: new Array<string | null>(n) };
  for (let i = 0; i < n; i++) {
    let best = -1;
    let bestDiff = Number.POSITIVE_INFINITY;
    const played = length[i];
    const t = textEntry(titles, i);
    const a = textEntry(artists, i);
    if (played != null && t >= 0 && a >= 0) {
      const [t0, t1] = [titles.offsets[t] as number, titles.offsets[t + 1] as number];
      const [a0, a1] = [artists.offsets[a] as number, artists.offsets[a + 1] as number];
      fingerprintPair(titles.bytes, t0, t1, artists.bytes, a0, a1);
      const slot = index.find(PAIR.hi, PAIR.lo);
      for (let at = slot < 0 ? -1 : (index.valueHi[slot] as number); at >= 0; at = next[at] as number) {
        const [n0, n1, n2] = [ends[2 * at] as number, ends[2 * at + 1] as number, ends[2 * at + 2] as number];
        if (!sameRange(bytes, n0, n1, titles.bytes, t0, t1) || !sameRange(bytes, n1, n2, artists.bytes, a0, a1))
          continue;
        for (let k = first[at] as number; k < (first[at + 1] as number); k++) {
          const diff = Math.abs((played as number) - (durations[k] as number));
          if (diff >= DURATION_TOLERANCE) continue;
          if (
            diff < bestDiff ||
            (diff === bestDiff && ((bySong[k] as Row).song_id as string) < ((bySong[best] as Row).song_id as string))
          ) {
            best = k;
            bestDiff = diff;
          }
        }
        break;
      }
    }
    const matched = best < 0 ? undefined : (bySong[best] as Row);
    out.song_id[i] = matched ? (matched.song_id as string) : null;
    out.artist_id[i] = matched ? (matched.artist_id as string) : null;
  }
  return out;
}

/** A text column's buffers, for matchSongs and joinBuckets. */
function textOf(data: arrow.Data): TextBuffers {
  const text = textBuffers(data);
  if (!text) throw new Error(`the join takes text columns, not ${data.type}`);
  return text;
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && sameRange(a, 0, a.length, b, 0, b.length);
}
