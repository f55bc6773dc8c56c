// Seeded generator of eventsim-like Sparkify input in the public layouts: song_data/A/B/C/TR….json and
// log_data/YYYY/MM/YYYY-MM-DD-events.json, with the quirks of the real data (see the constants below).
import { Buffer } from 'node:buffer';
import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Where to write, how many distinct songs and log events, the PRNG seed (42) and how many bad records (0). */
export interface GenerateOptions {
  out: string;
  songs: number;
  events: number;
  seed?: number;
  badRecords?: number;
}

/** What was written: files and good records per source, NextSong events, bad records and total bytes. */
export interface GenerateSummary {
  songFiles: number;
  songRecords: number;
  logFiles: number;
  events: number;
  nextSongEvents: number;
  badRecords: number;
  bytes: number;
}

const DAY_MS = 86_400_000;
const START_MS = Date.UTC(2018, 10, 1);
const WRITE_CONCURRENCY = 64;
const FLUSH_CHARS = 1 << 20;

// Song-side rates.
const MULTI_RECORD_FILE_RATE = 0.05;
const DUPLICATE_RATE = 0.01;
const CONFLICT_RATE = 0.01;
const NON_ASCII_NAME_RATE = 0.035;
// Log-side rates: the NextSong mix (exact match, title-only near miss, length near miss, unknown song).
const MATCH_RATE = 0.6;
const TITLE_ONLY_RATE = 0.04;
const LENGTH_OFF_RATE = 0.04;
const DOUBLE_ENCODE_RATE = 0.7;
const SESSION_END_RATE = 0.05;
const LOGOUT_RATE = 0.012;
const GUEST_SESSION_RATE = 0.08;
const SHARED_TS_RATE = 0.01;

type Rng = () => number;

/** mulberry32: tiny, fast and good enough for test data; the same seed gives the same stream everywhere. */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Independent streams per part, so that e.g. badRecords or events never change the song files. */
function stream(seed: number, part: number): Rng {
  let h = Math.imul((seed ^ Math.imul(part, 0x9e3779b9)) >>> 0, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return mulberry32(h ^ (h >>> 16));
}

const int = (rng: Rng, n: number): number => Math.floor(rng() * n);
const pick = <T>(rng: Rng, items: readonly T[]): T => items[int(rng, items.length)] as T;

function shuffle<T>(rng: Rng, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = int(rng, i + 1);
    const tmp = items[i] as T;
    items[i] = items[j] as T;
    items[j] = tmp;
  }
  return items;
}

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const ALNUM = `${UPPER}0123456789`;

function randomChars(rng: Rng, alphabet: string, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[int(rng, alphabet.length)];
  return s;
}

/** An id from `make` that is not yet in `used` (and is then added to it). */
function freshId(used: Set<string>, make: () => string): string {
  for (;;) {
    const id = make();
    if (!used.has(id)) {
      used.add(id);
      return id;
    }
  }
}

// The real set's track ids are TRA… (mostly) and TRB…, then letters; that keeps the A/B/C folders few and full.
const trackId = (rng: Rng): string =>
  `TR${rng() < 0.7 ? 'A' : 'B'}${randomChars(rng, UPPER, 4)}${randomChars(rng, ALNUM, 11)}`;

/** A number with exactly five decimals in its shortest form (last digit never 0), as in the sample. */
function fiveDecimals(x: number): number {
  let k = Math.round(x * 1e5);
  if (k % 10 === 0) k += 1;
  return k / 1e5;
}

// ---------------------------------------------------------------------------------------------------------------
// Text

const isAscii = (s: string): boolean => !/[\u0080-\uffff]/.test(s);

/** UTF-8 bytes read as Latin-1, twice: how the real logs spell "é" ("\u00c3\u0083\u00c2\u00a9"). */
function doubleEncode(s: string): string {
  const once = (x: string): string => Buffer.from(x, 'utf8').toString('latin1');
  return once(once(s));
}

const escapeNonAscii = (json: string): string =>
  json.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** JSON string as eventsim writes it: non-ASCII as \u escapes and "/" as "\/". */
const logJson = (s: string): string => escapeNonAscii(JSON.stringify(s)).replaceAll('/', '\\/');

/** A name with its log spellings cached: millions of event lines reuse a few thousand names. */
interface Name {
  s: string;
  wide: boolean;
  json: string;
  doubled: string;
}

function name(s: string): Name {
  const json = logJson(s);
  const wide = !isAscii(s);
  return { s, wide, json, doubled: wide ? logJson(doubleEncode(s)) : json };
}

// biome-ignore format: a word list reads better packed
const WORDS = [
  'Love', 'Night', 'Heart', 'Fire', 'Dream', 'Rain', 'City', 'Blue', 'Girl', 'Time', 'Dance', 'Light', 'Road',
  'Home', 'Summer', 'Baby', 'Soul', 'Rock', 'World', 'Sky', 'Moon', 'Star', 'River', 'Shadow', 'Ghost', 'Gold',
  'Silver', 'Wild', 'Sweet', 'Lonely', 'Broken', 'Electric', 'Midnight', 'Sunday', 'Morning', 'Paradise',
  'Thunder', 'Angel', 'Devil', 'Memory', 'Echo', 'Highway', 'Ocean', 'Desert', 'Winter', 'Mirror', 'Secret',
  'Stranger', 'Freedom', 'Crazy', 'Happy', 'Little', 'Young', 'Forever', 'Tonight', 'Yesterday', 'Sugar', 'Honey',
  'Velvet', 'Crystal', 'Magic', 'Radio', 'Rhythm', 'Groove', 'Jungle', 'Island', 'Machine', 'Garden', 'Window',
  'Letter', 'Promise', 'Whisper', 'Storm', 'Tiger', 'Butterfly', 'Diamond', 'Train', 'Fever', 'Cowboy', 'Neon',
];
// biome-ignore format: a word list reads better packed
const WIDE_WORDS = [
  'Café', 'Déjà Vu', 'Mañana', 'Señorita', 'Über', 'Noël', 'Été', 'Canción', 'Niño', 'Corazón', 'Fräulein',
  'Brüder', 'Ça Va', 'Naïve', 'Résumé', 'Jalapeño', 'Smörgåsbord', 'Øresund', 'Łódź', 'Tschüss', 'Moi…', 'Ærø',
];
// biome-ignore format: a word list reads better packed
const FEMALE_NAMES = [
  'Kaylee', 'Jacqueline', 'Lily', 'Chloe', 'Tegan', 'Aleena', 'Kate', 'Layla', 'Avery', 'Sara', 'Cienna', 'Ava',
  'Anabelle', 'Emily', 'Harper', 'Molly', 'Stefany', 'Kinsley', 'Sienna', 'Jizelle', 'Madison', 'Lucero',
];
// biome-ignore format: a word list reads better packed
const MALE_NAMES = [
  'Walter', 'Jacob', 'Ryan', 'Mohammad', 'Jayden', 'Rylan', 'Matthew', 'Wyatt', 'Dustin', 'Brayden', 'Theodore',
  'Isaac', 'Joseph', 'Elijah', 'Kevin', 'Aiden', 'Liam', 'Sean', 'Colm', 'Samuel', 'Jordan', 'Evan',
];
const WIDE_FEMALE_NAMES = ['Zoë', 'Renée', 'Chloé', 'Inés', 'Zoë'];
const WIDE_MALE_NAMES = ['José', 'Noël', 'Andrés', 'Björn', 'Łukasz', 'Søren'];
const FIRST_NAMES = [...FEMALE_NAMES, ...MALE_NAMES];
const WIDE_FIRST_NAMES = [...WIDE_FEMALE_NAMES, ...WIDE_MALE_NAMES];
// biome-ignore format: a word list reads better packed
const LAST_NAMES = [
  'Frye', 'Summers', 'Klein', 'Lynch', 'Koch', 'Cuevas', 'Levine', 'Solomon', 'Smith', 'Harrell', 'Rodriguez',
  'Griffin', 'Graves', 'Hill', 'Williams', 'Johnson', 'Jones', 'Cruz', 'Owens', 'Beck', 'Hogan', 'Reed', 'Tucker',
  'Marshall', 'Lopez', 'Shaw', 'Ramos', 'Stone', 'Hayes', 'Perkins', 'Fields', 'Warren', 'Bishop', 'Wolfe',
];
const WIDE_LAST_NAMES = ['Müller', 'Peña', 'Núñez', 'García', 'Sørensen', 'Dvořák', 'Ångström', 'Gonçalves'];
// US metro areas as eventsim spells them; a few real ones carry non-ASCII letters.
// biome-ignore format: a word list reads better packed
const METROS = [
  'San Francisco-Oakland-Hayward, CA', 'Phoenix-Mesa-Scottsdale, AZ', 'Atlanta-Sandy Springs-Roswell, GA',
  'Chicago-Naperville-Elgin, IL-IN-WI', 'Dallas-Fort Worth-Arlington, TX', 'Detroit-Warren-Dearborn, MI',
  'Houston-The Woodlands-Sugar Land, TX', 'Los Angeles-Long Beach-Anaheim, CA', 'Lubbock, TX', 'Eugene, OR',
  'Miami-Fort Lauderdale-West Palm Beach, FL', 'Minneapolis-St. Paul-Bloomington, MN-WI', 'Salt Lake City, UT',
  'Nashville-Davidson--Murfreesboro--Franklin, TN', 'New York-Newark-Jersey City, NY-NJ-PA', 'Richmond, VA',
  'Philadelphia-Camden-Wilmington, PA-NJ-DE-MD', 'Portland-Vancouver-Hillsboro, OR-WA', 'Red Bluff, CA',
  'Tampa-St. Petersburg-Clearwater, FL', 'Seattle-Tacoma-Bellevue, WA', 'Boston-Cambridge-Newton, MA-NH',
];
const WIDE_METROS = ['Cañon City, CO', 'Española, NM', 'Mayagüez, PR'];
// biome-ignore format: a word list reads better packed
const ARTIST_PLACES = [
  'California - LA', 'Memphis, TN', 'London, England', 'Nashville, TN.', 'New York, NY', 'Chicago, IL', 'Detroit, MI',
  'Seattle, WA', 'Paris, France', 'Berlin, Germany', 'Kingston, Jamaica', 'Toronto, Ontario, Canada', 'Texas',
  'Manchester, England', 'Atlanta, GA', 'Stockholm, Sweden', 'Reykjavík, Iceland', 'São Paulo, Brazil',
  'Montréal, Québec', 'Zürich, Switzerland', 'Malmö, Sweden', 'México, D.F.',
];
// Artists that must exist (when there are at least five), with titles of their own.
const FIXED_ARTISTS: readonly [string, readonly string[]][] = [
  ['Alizée', ['Moi… Lolita', "J'en ai marre !", "L'Alizé", 'Gourmandises', 'Mademoiselle Juliette']],
  ['Zoë', ['Sunshine On My Window', 'Holy Moly', 'Short Song']],
  ['Björk', ['Jóga', 'Hyperballad', 'Army Of Me', 'Isobel', 'Bachelorette']],
  ['Mötley Crüe', ['Kickstart My Heart', 'Dr. Feelgood', 'Girls, Girls, Girls', 'Home Sweet Home']],
  ['Sigur Rós', ['Hoppípolla', 'Svefn-g-englar', 'Glósóli', 'Starálfur']],
];
const USER_AGENTS = [
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_4) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/36.0.1985.143 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_4) AppleWebKit/537.78.2 (KHTML, like Gecko) Version/7.0.6 Safari/537.78.2',
  'Mozilla/5.0 (Windows NT 5.1; rv:31.0) Gecko/20100101 Firefox/31.0',
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Ubuntu Chromium/36.0.1985.125 Chrome/36.0.1985.125 Safari/537.36',
  'Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/35.0.1916.153 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10.9; rv:31.0) Gecko/20100101 Firefox/31.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 7_1_2 like Mac OS X) AppleWebKit/537.51.2 (KHTML, like Gecko) Version/7.0 Mobile/11D257 Safari/9537.53',
  'Mozilla/5.0 (Windows NT 6.3; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/36.0.1985.143 Safari/537.36',
];

function word(rng: Rng, wide: boolean): string {
  return wide ? pick(rng, WIDE_WORDS) : pick(rng, WORDS);
}

function makeTitle(rng: Rng): string {
  const wide = rng() < NON_ASCII_NAME_RATE;
  const w = (): string => word(rng, false);
  const first = word(rng, wide);
  switch (int(rng, 9)) {
    case 0:
      return first;
    case 1:
      return `${first} ${w()}`;
    case 2:
      return `The ${first} ${w()}`;
    case 3:
      return `${first} Of ${w()}`;
    case 4:
      return `${first} In The ${w()}`;
    case 5:
      return `Don't Stop The ${first}`;
    case 6:
      return `${first} ${w()} (${pick(rng, ['Live', 'Remix', 'Album Version', 'Demo'])})`;
    case 7:
      return `"${first}"`;
    default:
      return `${first} / ${w()}`;
  }
}

function makeArtistName(rng: Rng): string {
  const wide = rng() < NON_ASCII_NAME_RATE;
  const first = (): string => (wide ? pick(rng, WIDE_FIRST_NAMES) : pick(rng, FIRST_NAMES));
  const last = (): string => (wide ? pick(rng, WIDE_LAST_NAMES) : pick(rng, LAST_NAMES));
  switch (int(rng, 8)) {
    case 0:
      return `The ${word(rng, wide)} ${pick(rng, WORDS)}s`;
    case 1:
    case 2:
      return `${first()} ${last()}`;
    case 3:
      return `${word(rng, wide)} ${pick(rng, WORDS)}`;
    case 4:
      return `${first()} ${last()} & The ${pick(rng, WORDS)}s`;
    case 5:
      return `DJ ${first()}`;
    case 6:
      return `${last()} Featuring ${pick(rng, FIRST_NAMES)} ${pick(rng, LAST_NAMES)}`;
    default:
      return `${first()} ${last()} / ${pick(rng, LAST_NAMES)} Trio`;
  }
}

/** A name not yet in `used`; after a few collisions a number suffix guarantees progress. */
function uniqueName(rng: Rng, used: Set<string>, make: (rng: Rng) => string): string {
  let candidate = make(rng);
  for (let i = 2; used.has(candidate); i++) candidate = i < 8 ? make(rng) : `${make(rng)} ${i}`;
  used.add(candidate);
  return candidate;
}

// ---------------------------------------------------------------------------------------------------------------
// Songs

interface Artist {
  id: string;
  name: Name;
  location: string;
  latitude: number | null;
  longitude: number | null;
}

interface Song {
  id: string;
  title: Name;
  artist: Artist;
  duration: number;
  year: number;
}

// biome-ignore format: one key list, in the sample's order
const SAMPLE_KEYS = [
  'num_songs', 'artist_id', 'artist_latitude', 'artist_longitude', 'artist_location', 'artist_name', 'song_id',
  'title', 'duration', 'year',
] as const;
type SongKey = (typeof SAMPLE_KEYS)[number];
const SORTED_KEYS: readonly SongKey[] = [...SAMPLE_KEYS].sort();
type SongRecord = { [K in SongKey]?: string | number | null };

interface SongFile {
  key: string;
  records: SongRecord[];
  minified: boolean;
  escaped: boolean;
  // Extra (bad) lines appended after the records, or the whole raw content of a bad file.
  extra: string[];
  raw: string | null;
}

function makeArtist(rng: Rng, ids: Set<string>, artistName: string): Artist {
  const located = rng() < 0.6;
  const withCoordinates = rng() < (located ? 0.6 : 0.1);
  return {
    id: freshId(ids, () => `AR${randomChars(rng, ALNUM, 16)}`),
    name: name(artistName),
    location: located ? pick(rng, ARTIST_PLACES) : '',
    latitude: withCoordinates ? fiveDecimals(-40 + rng() * 105) : null,
    longitude: withCoordinates ? fiveDecimals(-125 + rng() * 160) : null,
  };
}

function makeSong(rng: Rng, ids: Set<string>, artist: Artist, title: string): Song {
  const tail = rng() < 0.1 ? rng() * 400 : 0;
  return {
    id: freshId(ids, () => `SO${randomChars(rng, ALNUM, 16)}`),
    title: name(title),
    artist,
    duration: fiveDecimals(30 + rng() * 330 + tail),
    year: rng() < 0.5 ? 0 : 1955 + int(rng, 56),
  };
}

function songRecord(s: Song): SongRecord {
  return {
    num_songs: 1,
    artist_id: s.artist.id,
    artist_latitude: s.artist.latitude,
    artist_longitude: s.artist.longitude,
    artist_location: s.artist.location,
    artist_name: s.artist.name.s,
    song_id: s.id,
    title: s.title.s,
    duration: s.duration,
    year: s.year,
  };
}

/** One record on one line: the sample's `json.dumps` spacing and key order, or minified with sorted keys. */
function formatSong(record: SongRecord, minified: boolean, escaped: boolean): string {
  const parts: string[] = [];
  for (const key of minified ? SORTED_KEYS : SAMPLE_KEYS) {
    const v = record[key];
    if (v === undefined) continue;
    const json = typeof v === 'string' ? (escaped ? escapeNonAscii(JSON.stringify(v)) : JSON.stringify(v)) : String(v);
    parts.push(minified ? `"${key}":${json}` : `"${key}": ${json}`);
  }
  return minified ? `{${parts.join(',')}}` : `{${parts.join(', ')}}`;
}

const songKey = (track: string): string => `song_data/${track[2]}/${track[3]}/${track[4]}/${track}.json`;

function songFileContent(f: SongFile): string {
  if (f.raw !== null) return f.raw;
  return [...f.records.map((r) => formatSong(r, f.minified, f.escaped)), ...f.extra].join('\n');
}

interface Catalog {
  songs: Song[];
  artistNames: Set<string>;
  songIds: Set<string>;
  artistIds: Set<string>;
  trackIds: Set<string>;
  files: SongFile[];
  records: number;
}

/** The song catalog and the plan of its files (formatted only when written). */
function planSongs(rng: Rng, count: number): Catalog {
  const artistIds = new Set<string>();
  const songIds = new Set<string>();
  const trackIds = new Set<string>();
  const artistNames = new Set<string>();
  const songs: Song[] = [];
  for (let a = 0; songs.length < count; a++) {
    const fixed = FIXED_ARTISTS[a];
    const artistName = fixed ? fixed[0] : uniqueName(rng, artistNames, makeArtistName);
    artistNames.add(artistName);
    const artist = makeArtist(rng, artistIds, artistName);
    // 1–5 songs per artist, mostly few (the fixed ones 1–2, lest they flood small catalogs with non-ASCII);
    // titles unique per artist, so a near miss can never match by accident.
    const n = Math.min(count - songs.length, 1 + Math.floor(fixed ? rng() * 2 : rng() * rng() * 5));
    const titles = new Set<string>();
    for (let i = 0; i < n; i++) {
      const title = fixed?.[1][i] ?? uniqueName(rng, titles, makeTitle);
      titles.add(title);
      songs.push(makeSong(rng, songIds, artist, title));
    }
  }

  const files: SongFile[] = [];
  const addFile = (records: SongRecord[]): void => {
    const track = freshId(trackIds, () => trackId(rng));
    files.push({ key: songKey(track), records, minified: rng() < 0.5, escaped: rng() < 0.5, extra: [], raw: null });
  };
  const order = shuffle(
    rng,
    songs.map((_, i) => i),
  );
  for (let i = 0; i < order.length; ) {
    const size =
      order.length - i >= 2 && rng() < MULTI_RECORD_FILE_RATE ? Math.min(order.length - i, 2 + int(rng, 2)) : 1;
    addFile(order.slice(i, i + size).map((j) => songRecord(songs[j] as Song)));
    i += size;
  }
  let records = songs.length;

  // Duplicates (identical) and conflicts (same song_id, other values) in files of their own; distinct songs.
  const others = shuffle(
    rng,
    songs.map((_, i) => i),
  );
  const duplicates = count === 0 ? 0 : Math.max(1, Math.round(count * DUPLICATE_RATE));
  const conflicts = count < 2 ? 0 : Math.max(1, Math.round(count * CONFLICT_RATE));
  for (let i = 0; i < duplicates; i++) addFile([songRecord(songs[others[i] as number] as Song)]);
  for (let i = 0; i < conflicts; i++) {
    const record = songRecord(songs[others[duplicates + i] as number] as Song);
    switch (i % 3) {
      case 0:
        // Unknown year gains one (this record then wins on completeness); a known year changes (key order decides).
        record.year = record.year === 0 ? 1960 + int(rng, 50) : (record.year as number) + 1 + int(rng, 5);
        break;
      case 1:
        record.title = '';
        record.artist_location = '';
        record.artist_latitude = null;
        record.artist_longitude = null;
        break;
      default:
        record.artist_name = '';
        record.year = 0;
    }
    addFile([record]);
  }
  records += duplicates + conflicts;
  return { songs, artistNames, songIds, artistIds, trackIds, files, records };
}

// ---------------------------------------------------------------------------------------------------------------
// Bad records

// Cycle of bad kinds; every seventh one is followed by an empty song file, which holds no record.
const BAD_KINDS = [
  'log-not-json',
  'log-ts-string',
  'log-array',
  'log-no-page',
  'song-truncated',
  'song-no-song-id',
  'song-duration-string',
] as const;
type BadKind = (typeof BAD_KINDS)[number];

const badKind = (i: number): BadKind => BAD_KINDS[i % BAD_KINDS.length] as BadKind;

/** A song record that belongs to nothing else: fresh ids and names, from the bad-record stream. */
function strayRecord(rng: Rng, catalog: Catalog): SongRecord {
  const artist = makeArtist(rng, catalog.artistIds, makeArtistName(rng));
  return songRecord(makeSong(rng, catalog.songIds, artist, makeTitle(rng)));
}

/** Adds the song-side bad records to the plan; returns how many bad records that is. */
function planBadSongs(rng: Rng, catalog: Catalog, badRecords: number): number {
  const goodFiles = catalog.files.length;
  let count = 0;
  const newFile = (raw: string): void => {
    const track = freshId(catalog.trackIds, () => trackId(rng));
    catalog.files.push({ key: songKey(track), records: [], minified: false, escaped: false, extra: [], raw });
  };
  for (let i = 0; i < badRecords; i++) {
    const kind = badKind(i);
    const minified = rng() < 0.5;
    if (kind === 'song-truncated') {
      const full = formatSong(strayRecord(rng, catalog), minified, true);
      newFile(full.slice(0, 10 + int(rng, full.length - 12)));
      count++;
    } else if (kind === 'song-no-song-id' || kind === 'song-duration-string') {
      const record = strayRecord(rng, catalog);
      if (kind === 'song-no-song-id') delete record.song_id;
      else record.duration = String(record.duration);
      const line = formatSong(record, minified, true);
      // Appended to a good file as one more JSON line; with no good file, alone in a file of its own.
      const target = goodFiles > 0 ? catalog.files[int(rng, goodFiles)] : undefined;
      if (target) target.extra.push(line);
      else newFile(line);
      count++;
    }
    if (i % BAD_KINDS.length === BAD_KINDS.length - 1) newFile('');
  }
  return count;
}

// ---------------------------------------------------------------------------------------------------------------
// Logs

interface User {
  id: string;
  first: string;
  last: string;
  gender: string;
  location: string;
  registration: string;
  userAgent: string;
  level: 'free' | 'paid';
  upgradeAt: number;
  upgraded: boolean;
  active: boolean;
}

interface Session {
  id: number;
  user: User;
  item: number;
  loggedIn: boolean;
  queue: string[];
  endAfterQueue: boolean;
}

interface Track {
  title: Name;
  artist: Name;
  length: string;
}

const PAGES: Record<string, { method: string; status: number }> = {
  NextSong: { method: 'PUT', status: 200 },
  Home: { method: 'GET', status: 200 },
  Login: { method: 'PUT', status: 307 },
  Logout: { method: 'PUT', status: 307 },
  Settings: { method: 'GET', status: 200 },
  'Save Settings': { method: 'PUT', status: 307 },
  About: { method: 'GET', status: 200 },
  Help: { method: 'GET', status: 200 },
  Upgrade: { method: 'GET', status: 200 },
  'Submit Upgrade': { method: 'PUT', status: 307 },
  Downgrade: { method: 'GET', status: 200 },
  'Submit Downgrade': { method: 'PUT', status: 307 },
  Error: { method: 'GET', status: 404 },
};

function makeUsers(rng: Rng, count: number, periodMs: number): { users: User[]; cumulative: number[] } {
  const users: User[] = [];
  const cumulative: number[] = [];
  let total = 0;
  for (let i = 0; i < count; i++) {
    // Every 8th user has non-ASCII text (always the first name), every 16th double-encoded in all their events:
    // a fixed stride, so that even small runs have both kinds.
    const wide = i % 8 === 1;
    const female = rng() < 0.5;
    const gender = female ? 'F' : 'M';
    const firstNames = wide ? (female ? WIDE_FEMALE_NAMES : WIDE_MALE_NAMES) : female ? FEMALE_NAMES : MALE_NAMES;
    let first = pick(rng, firstNames);
    let last = pick(rng, wide && rng() < 0.5 ? WIDE_LAST_NAMES : LAST_NAMES);
    let location = pick(rng, wide && rng() < 0.3 ? WIDE_METROS : METROS);
    if (i % 16 === 9) {
      first = doubleEncode(first);
      last = doubleEncode(last);
      location = doubleEncode(location);
    }
    const ua = pick(rng, USER_AGENTS);
    const paid = rng() < 0.25;
    // eventsim's CSV round trip left quotes around the user agents that contain a comma.
    const quotedUa = ua.includes(',') ? `"${ua}"` : ua;
    users.push({
      id: String(i + 2),
      first: logJson(first),
      last: logJson(last),
      gender: `"${gender}"`,
      location: logJson(location),
      registration: `${START_MS - 86_400_000 - int(rng, 150 * DAY_MS)}.0`,
      userAgent: logJson(quotedUa),
      level: paid ? 'paid' : 'free',
      upgradeAt: !paid && rng() < 0.3 ? START_MS + rng() * periodMs * 0.9 : Number.POSITIVE_INFINITY,
      upgraded: false,
      active: false,
    });
    // Heavy-tailed activity: a few users produce most events.
    total += 1 / (0.03 + rng());
    cumulative.push(total);
  }
  return { users, cumulative };
}

function eventLine(s: Session, page: string, ts: number, track: Track | null, doubled: boolean): string {
  const { method, status } = PAGES[page] as { method: string; status: number };
  const u = s.user;
  if (!s.loggedIn) {
    return `{"artist":null,"auth":"Logged Out","firstName":null,"gender":null,"itemInSession":${s.item},"lastName":null,"length":null,"level":"${u.level}","location":null,"method":"${method}","page":"${page}","registration":null,"sessionId":${s.id},"song":null,"status":${status},"ts":${ts},"userAgent":null,"userId":""}`;
  }
  const artist = track ? (doubled ? track.artist.doubled : track.artist.json) : 'null';
  const song = track ? (doubled ? track.title.doubled : track.title.json) : 'null';
  const length = track ? track.length : 'null';
  return `{"artist":${artist},"auth":"Logged In","firstName":${u.first},"gender":${u.gender},"itemInSession":${s.item},"lastName":${u.last},"length":${length},"level":"${u.level}","location":${u.location},"method":"${method}","page":"${page}","registration":${u.registration},"sessionId":${s.id},"song":${song},"status":${status},"ts":${ts},"userAgent":${u.userAgent},"userId":"${u.id}"}`;
}

/** Events per day: at least one each, the rest by a weekly rhythm with noise. */
function dayCounts(rng: Rng, events: number, days: number): number[] {
  const weights = Array.from({ length: days }, (_, d) => (1 + 0.3 * Math.sin((2 * Math.PI * d) / 7)) * (0.6 + rng()));
  const total = weights.reduce((a, b) => a + b, 0);
  const spare = events - days;
  const counts: number[] = [];
  let cumulative = 0;
  let assigned = 0;
  for (const w of weights) {
    cumulative += w;
    const upTo = Math.round((spare * cumulative) / total);
    counts.push(1 + upTo - assigned);
    assigned = upTo;
  }
  return counts;
}

function dayKey(dayStart: number): string {
  const iso = new Date(dayStart).toISOString();
  return `log_data/${iso.slice(0, 4)}/${iso.slice(5, 7)}/${iso.slice(0, 10)}-events.json`;
}

/** Streams one file with large writes; every line but the first starts with "\n", so no final newline. */
class LineWriter {
  private chunk = '';
  private lines = 0;
  bytes = 0;
  private constructor(private readonly handle: FileHandle) {}

  static async open(file: string): Promise<LineWriter> {
    return new LineWriter(await open(file, 'w'));
  }

  /** Returns a promise only when the buffer was flushed, so the hot loop awaits rarely. */
  add(line: string): Promise<void> | undefined {
    this.chunk += this.lines++ === 0 ? line : `\n${line}`;
    return this.chunk.length >= FLUSH_CHARS ? this.flush() : undefined;
  }

  async flush(): Promise<void> {
    if (this.chunk === '') return;
    const data = Buffer.from(this.chunk, 'utf8');
    this.chunk = '';
    this.bytes += data.length;
    await this.handle.write(data);
  }

  async close(): Promise<void> {
    await this.flush();
    await this.handle.close();
  }
}

/** A NextSong track: a catalog song, a near miss of one, or a song that exists nowhere. */
function chooseTrack(rng: Rng, catalog: Song[], popular: number[], unknown: Track[], strangers: Name[]): Track {
  const r = rng();
  if (catalog.length > 0 && r < MATCH_RATE + TITLE_ONLY_RATE + LENGTH_OFF_RATE) {
    // Popularity is skewed: low ranks are played far more often.
    const s = catalog[popular[Math.floor(catalog.length * rng() ** 1.6)] as number] as Song;
    if (r < MATCH_RATE) return { title: s.title, artist: s.artist.name, length: String(s.duration) };
    if (r < MATCH_RATE + TITLE_ONLY_RATE) {
      // Same title by an artist that has no song at all.
      return { title: s.title, artist: pick(rng, strangers), length: String(s.duration) };
    }
    // At least 1.5 s off, so that rounding to five decimals can never bring it under 1 s.
    const delta = 1.5 + rng() * 28.5;
    const length = s.duration > delta + 10 && rng() < 0.5 ? s.duration - delta : s.duration + delta;
    return { title: s.title, artist: s.artist.name, length: String(fiveDecimals(length)) };
  }
  return unknown[Math.floor(unknown.length * rng() ** 1.6)] as Track;
}

interface LogPlan {
  days: number;
  users: number;
}

function logPlan(events: number, logBad: number): LogPlan {
  // About 4,000 events a day for big sets (so 320,000 events cross into 2019), at least the 30 days of Nov 2018.
  const days =
    events === 0 ? (logBad > 0 ? 1 : 0) : Math.min(365, Math.max(Math.min(30, events), Math.ceil(events / 4000)));
  return { days, users: Math.min(5000, Math.max(20, Math.floor(events / 80))) };
}

async function writeLogs(
  out: string,
  rng: Rng,
  badRng: Rng,
  catalog: Catalog,
  events: number,
  badRecords: number,
): Promise<{ logFiles: number; nextSongEvents: number; badRecords: number; bytes: number }> {
  const badIndexes: number[] = [];
  for (let i = 0; i < badRecords; i++) if (badKind(i).startsWith('log-')) badIndexes.push(i);
  const plan = logPlan(events, badIndexes.length);
  const counts = dayCounts(rng, events, plan.days);
  const { users, cumulative } = makeUsers(rng, plan.users, plan.days * DAY_MS);
  const totalWeight = cumulative[cumulative.length - 1] ?? 0;

  // Songs nobody has, by artists nobody has; their own artists also serve the title-only near misses.
  const strangers: Name[] = [];
  const strangerNames = new Set(catalog.artistNames);
  for (let i = 0; i < Math.max(25, Math.ceil(catalog.songs.length / 6)); i++) {
    strangers.push(name(uniqueName(rng, strangerNames, makeArtistName)));
  }
  const unknown: Track[] = [];
  for (let i = 0; i < Math.max(50, Math.ceil(catalog.songs.length / 3)); i++) {
    const length = String(fiveDecimals(30 + rng() * 330));
    unknown.push({ title: name(makeTitle(rng)), artist: pick(rng, strangers), length });
  }
  const popular = shuffle(
    rng,
    catalog.songs.map((_, i) => i),
  );

  // Bad log lines: spread over the days, each after a random good event of its day.
  const badByDay = new Map<number, { after: number; kind: BadKind }[]>();
  badIndexes.forEach((i, j) => {
    const day = Math.floor((j * plan.days) / badIndexes.length);
    const list = badByDay.get(day) ?? [];
    list.push({ after: 1 + int(badRng, counts[day] ?? 0), kind: badKind(i) });
    badByDay.set(day, list);
  });
  for (const list of badByDay.values()) list.sort((a, b) => a.after - b.after);

  // Sessions never outnumber two thirds of the users, so an idle user always exists.
  const pickUser = (): User => {
    for (let attempt = 0; attempt < 8; attempt++) {
      const x = rng() * totalWeight;
      let lo = 0;
      let hi = cumulative.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((cumulative[mid] as number) < x) lo = mid + 1;
        else hi = mid;
      }
      const u = users[lo] as User;
      if (!u.active) return u;
    }
    const idle = users.find((u) => !u.active);
    if (!idle) throw new Error('no idle user');
    return idle;
  };

  let nextSessionId = 1;
  let nextSongEvents = 0;
  let bytes = 0;
  let badWritten = 0;
  const madeDirs = new Set<string>();
  for (let day = 0; day < plan.days; day++) {
    const dayStart = START_MS + day * DAY_MS;
    const key = dayKey(dayStart);
    const file = path.join(out, key);
    const dir = path.dirname(file);
    if (!madeDirs.has(dir)) {
      await mkdir(dir, { recursive: true });
      madeDirs.add(dir);
    }
    const writer = await LineWriter.open(file);
    const n = events === 0 ? 0 : (counts[day] as number);
    const bad = badByDay.get(day) ?? [];
    let badAt = 0;
    // Concurrent sessions, so that users' events interleave within the day.
    const target = Math.max(2, Math.min(Math.floor(users.length / 3), Math.round(n / 200)));
    const pool: Session[] = [];
    let ts = dayStart;
    for (let i = 0; i < n; i++) {
      // Stratified over the day: increasing, inside the day, and now and then equal to the previous one.
      if (i === 0 || rng() >= SHARED_TS_RATE) ts = dayStart + Math.floor(((i + rng()) * DAY_MS) / n);
      if (pool.length < target || (pool.length < 2 * target && rng() < 0.02)) {
        const user = pickUser();
        user.active = true;
        const guest = rng() < GUEST_SESSION_RATE;
        const queue = guest ? ['Home', ...(rng() < 0.3 ? [pick(rng, ['About', 'Help'])] : []), 'Login'] : [];
        pool.push({ id: nextSessionId++, user, item: 0, loggedIn: !guest, queue, endAfterQueue: false });
      }
      const slot = int(rng, pool.length);
      const s = pool[slot] as Session;
      const page = s.queue.shift() ?? choosePage(rng, s, ts);
      let line: string;
      if (page === 'NextSong') {
        const track = chooseTrack(rng, catalog.songs, popular, unknown, strangers);
        const doubled = (track.title.wide || track.artist.wide) && rng() < DOUBLE_ENCODE_RATE;
        line = eventLine(s, page, ts, track, doubled);
        nextSongEvents++;
      } else {
        line = eventLine(s, page, ts, null, false);
      }
      const flushed = writer.add(line);
      if (flushed) await flushed;
      s.item++;
      if (page === 'Logout') {
        s.loggedIn = false;
        s.queue = ['Home', ...(rng() < 0.3 ? [pick(rng, ['About', 'Help'])] : [])];
        if (rng() < 0.7) s.queue.push('Login');
        else s.endAfterQueue = true;
      } else if (page === 'Login') s.loggedIn = true;
      else if (page === 'Submit Upgrade') s.user.level = 'paid';
      else if (page === 'Submit Downgrade') s.user.level = 'free';
      const done = s.queue.length === 0 && (s.endAfterQueue || (s.loggedIn && rng() < SESSION_END_RATE));
      if (done) {
        s.user.active = false;
        pool[slot] = pool[pool.length - 1] as Session;
        pool.pop();
      }
      while (badAt < bad.length && (bad[badAt] as { after: number }).after === i + 1) {
        await writer.add(badLogLine(badRng, (bad[badAt++] as { kind: BadKind }).kind, users, catalog, ts));
        badWritten++;
      }
    }
    // With no good events at all, the bad lines still need a file.
    while (badAt < bad.length) {
      await writer.add(badLogLine(badRng, (bad[badAt++] as { kind: BadKind }).kind, users, catalog, dayStart));
      badWritten++;
    }
    for (const s of pool) s.user.active = false;
    await writer.close();
    bytes += writer.bytes;
  }
  return { logFiles: plan.days, nextSongEvents, badRecords: badWritten, bytes };
}

/** The next page of a logged-in session that has nothing queued. */
function choosePage(rng: Rng, s: Session, ts: number): string {
  const u = s.user;
  if (s.item === 0 && rng() < 0.5) return 'Home';
  if (u.level === 'free' && !u.upgraded && ts >= u.upgradeAt) {
    u.upgraded = true;
    s.queue.push('Submit Upgrade');
    return 'Upgrade';
  }
  const r = rng();
  if (r < 0.82) return 'NextSong';
  if (r < 0.9) return 'Home';
  if (r < 0.9 + LOGOUT_RATE) return 'Logout';
  if (r < 0.925) {
    if (rng() < 0.2) s.queue.push('Save Settings');
    return 'Settings';
  }
  if (r < 0.935) return 'Help';
  if (r < 0.942) return 'About';
  if (r < 0.944) return 'Error';
  if (r < 0.956) {
    if (u.level === 'free') return 'Upgrade';
    if (rng() < 0.05) s.queue.push('Submit Downgrade');
    return 'Downgrade';
  }
  return 'NextSong';
}

function badLogLine(rng: Rng, kind: BadKind, users: User[], catalog: Catalog, ts: number): string {
  const session: Session = {
    id: 1 + int(rng, 1000),
    user: pick(rng, users),
    item: int(rng, 50),
    loggedIn: true,
    queue: [],
    endAfterQueue: false,
  };
  const song = catalog.songs.length > 0 ? pick(rng, catalog.songs) : undefined;
  const track: Track = song
    ? { title: song.title, artist: song.artist.name, length: String(song.duration) }
    : { title: name(makeTitle(rng)), artist: name(makeArtistName(rng)), length: String(fiveDecimals(200)) };
  const line = eventLine(session, 'NextSong', ts, track, false);
  switch (kind) {
    case 'log-not-json':
      // A strict prefix of an object is never valid JSON.
      return line.slice(0, 20 + int(rng, line.length - 40));
    case 'log-ts-string':
      return line.replace(`"ts":${ts},`, `"ts":"${ts}",`);
    case 'log-array':
      return `[${line}]`;
    default:
      return line.replace('"page":"NextSong",', '');
  }
}

// ---------------------------------------------------------------------------------------------------------------

/** Run `fn` over `items` with at most `limit` calls in flight. */
async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function checkCount(label: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${label} must be a non-negative integer, got ${String(value)}`);
  }
  return value;
}

/** Write seeded, eventsim-like song_data and log_data under `out` (existing files are overwritten, none removed). */
export async function generate(options: GenerateOptions): Promise<GenerateSummary> {
  const songs = checkCount('songs', options.songs);
  const events = checkCount('events', options.events);
  const badRecords = checkCount('badRecords', options.badRecords ?? 0);
  const seed = options.seed ?? 42;
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, got ${String(seed)}`);
  if (typeof options.out !== 'string' || options.out === '') throw new RangeError('out must be a directory path');

  const catalog = planSongs(stream(seed, 1), songs);
  const badRng = stream(seed, 3);
  const songBad = planBadSongs(badRng, catalog, badRecords);

  const dirs = [...new Set(catalog.files.map((f) => path.dirname(path.join(options.out, f.key))))];
  await eachLimited(dirs, WRITE_CONCURRENCY, async (dir) => {
    await mkdir(dir, { recursive: true });
  });
  let bytes = 0;
  await eachLimited(catalog.files, WRITE_CONCURRENCY, async (f) => {
    const data = Buffer.from(songFileContent(f), 'utf8');
    bytes += data.length;
    await writeFile(path.join(options.out, f.key), data);
  });

  const logs = await writeLogs(options.out, stream(seed, 2), badRng, catalog, events, badRecords);
  return {
    songFiles: catalog.files.length,
    songRecords: catalog.records,
    logFiles: logs.logFiles,
    events,
    nextSongEvents: logs.nextSongEvents,
    badRecords: songBad + logs.badRecords,
    bytes: bytes + logs.bytes,
  };
}
