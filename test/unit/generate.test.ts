// The generator's promises, checked on what it writes: layouts, counts, determinism, and every quirk it claims.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type GenerateSummary, generate } from '../../cli/generate.ts';

const SIZE = { songs: 300, events: 5000 } as const;
const SONG_FIELDS = [
  'num_songs',
  'artist_id',
  'artist_latitude',
  'artist_longitude',
  'artist_location',
  'artist_name',
  'song_id',
  'title',
  'duration',
  'year',
];
const LOG_FIELDS = [
  'artist',
  'auth',
  'firstName',
  'gender',
  'itemInSession',
  'lastName',
  'length',
  'level',
  'location',
  'method',
  'page',
  'registration',
  'sessionId',
  'song',
  'status',
  'ts',
  'userAgent',
  'userId',
];
const SONG_KEY = /^song_data\/([A-Z])\/([A-Z])\/([A-Z])\/(TR[A-Z0-9]{16})\.json$/;
const LOG_KEY = /^log_data\/(\d{4})\/(\d{2})\/((\d{4})-(\d{2})-\d{2})-events\.json$/;

type Json = Record<string, unknown>;
type Tree = Map<string, Buffer>;

/** One record as the contract reads it: a parsed value, or a line that is not JSON. */
interface Rec {
  line: number;
  text: string;
  ok: boolean;
  value: unknown;
}

async function readTree(root: string): Promise<Tree> {
  const files: Tree = new Map();
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else files.set(path.relative(root, full).split(path.sep).join('/'), await readFile(full));
    }
  };
  await walk(root);
  return new Map([...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function hashTree(tree: Tree, prefix = ''): string {
  const hash = createHash('sha256');
  for (const [key, data] of tree) if (key.startsWith(prefix)) hash.update(`${key}\0${data.length}\0`).update(data);
  return hash.digest('hex');
}

/** docs/contract.md "Reading input": one JSON document, else JSON lines. */
function recordsOf(data: Buffer): Rec[] {
  const text = data.toString('utf8');
  if (text === '') return [];
  try {
    const whole: unknown = JSON.parse(text);
    if (Array.isArray(whole)) return whole.map((value, i) => ({ line: i + 1, text, ok: true, value }));
    return [{ line: 1, text, ok: true, value: whole }];
  } catch {
    // JSON lines, below.
  }
  const out: Rec[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      out.push({ line: i + 1, text: line, ok: true, value: JSON.parse(line) });
    } catch {
      out.push({ line: i + 1, text: line, ok: false, value: undefined });
    }
  });
  return out;
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const nonEmpty = (v: unknown): boolean => typeof v === 'string' && v !== '';

/** The contract's reject rule for a record, or null when it loads. */
function rejectReason(source: 'song_data' | 'log_data', rec: Rec): string | null {
  if (!rec.ok) return 'invalid JSON';
  const v = rec.value;
  if (!isObject(v)) return 'not a JSON object';
  if (source === 'log_data') {
    if (typeof v.ts !== 'number' || !Number.isFinite(v.ts)) return 'ts';
    if (typeof v.page !== 'string') return 'page';
    return null;
  }
  if (!nonEmpty(v.song_id)) return 'song_id';
  if (!nonEmpty(v.artist_id)) return 'artist_id';
  if (typeof v.title !== 'string') return 'title';
  if (typeof v.duration !== 'number' || !Number.isFinite(v.duration)) return 'duration';
  return null;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The contract's text repair, written out again: undo double-encoded UTF-8 (at most 3 rounds). */
function repair(s: string): string {
  let current = s;
  for (let round = 0; round < 3; round++) {
    const codes = [...current].map((c) => c.codePointAt(0) ?? 0);
    if (codes.some((c) => c > 0xff) || !codes.some((c) => c >= 0x80)) return current;
    try {
      current = utf8.decode(Uint8Array.from(codes));
    } catch {
      return current;
    }
  }
  return current;
}

/** Mojibake as the real logs have it: UTF-8 bytes read as Latin-1, twice. */
const doubled = (s: string): string =>
  Buffer.from(Buffer.from(s, 'utf8').toString('latin1'), 'utf8').toString('latin1');

interface Loaded {
  tree: Tree;
  songs: { key: string; rec: Rec }[];
  events: Json[];
  rejects: { source: string; key: string; rec: Rec; reason: string }[];
}

function load(tree: Tree): Loaded {
  const songs: Loaded['songs'] = [];
  const events: Json[] = [];
  const rejects: Loaded['rejects'] = [];
  for (const [key, data] of tree) {
    const source = key.startsWith('song_data/') ? 'song_data' : 'log_data';
    for (const rec of recordsOf(data)) {
      const reason = rejectReason(source, rec);
      if (reason) rejects.push({ source, key, rec, reason });
      else if (source === 'song_data') songs.push({ key, rec });
      else events.push(rec.value as Json);
    }
  }
  return { tree, songs, events, rejects };
}

const share = (part: number, whole: number): number => part / whole;

function assertBetween(value: number, low: number, high: number, what: string): void {
  assert.ok(value >= low && value <= high, `${what}: ${value} not in [${low}, ${high}]`);
}

const dirs: string[] = [];
async function generateInto(options: Omit<Parameters<typeof generate>[0], 'out'>) {
  const out = await mkdtemp(path.join(tmpdir(), 'sparkify-generate-'));
  dirs.push(out);
  const summary = await generate({ out, ...options });
  return { out, summary, tree: await readTree(out) };
}

after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('generate', () => {
  let summary: GenerateSummary;
  let base: Loaded;

  before(async () => {
    const run = await generateInto({ ...SIZE, seed: 42 });
    summary = run.summary;
    base = load(run.tree);
  });

  test('writes the public key layouts: song_data/A/B/C/TR….json and one log file per day from 2018-11-01', () => {
    const days: string[] = [];
    for (const key of base.tree.keys()) {
      const song = SONG_KEY.exec(key);
      const log = LOG_KEY.exec(key);
      assert.ok(song || log, `unexpected key ${key}`);
      if (song) {
        const track = song[4] ?? '';
        assert.deepEqual(song.slice(1, 4), [track[2], track[3], track[4]], key);
      }
      if (log) {
        assert.equal(log[1], log[4], key);
        assert.equal(log[2], log[5], key);
        days.push(log[3] ?? '');
      }
    }
    const expected = Array.from({ length: summary.logFiles }, (_, d) =>
      new Date(Date.UTC(2018, 10, 1 + d)).toISOString().slice(0, 10),
    );
    assert.equal(summary.logFiles, 30);
    assert.deepEqual(days, expected);
    for (const [key, data] of base.tree) {
      assert.ok(data.length > 0, `${key} is empty`);
      assert.notEqual(data.at(-1), 0x0a, `${key} ends with a newline`);
    }
  });

  test('the summary equals the files, records, events, NextSong events and bytes on disk', () => {
    const keys = [...base.tree.keys()];
    assert.equal(summary.songFiles, keys.filter((k) => k.startsWith('song_data/')).length);
    assert.equal(summary.logFiles, keys.filter((k) => k.startsWith('log_data/')).length);
    assert.equal(summary.songRecords, base.songs.length);
    assert.equal(summary.events, SIZE.events);
    assert.equal(base.events.length, SIZE.events);
    assert.equal(summary.nextSongEvents, base.events.filter((e) => e.page === 'NextSong').length);
    assert.equal(summary.badRecords, 0);
    assert.deepEqual(base.rejects, []);
    assert.equal(
      summary.bytes,
      [...base.tree.values()].reduce((n, d) => n + d.length, 0),
    );
    assert.equal(new Set(base.songs.map((s) => (s.rec.value as Json).song_id)).size, SIZE.songs);
  });

  test('the same seed gives byte-identical files (seed defaults to 42); another seed gives other files', async () => {
    const again = await generateInto(SIZE);
    assert.deepEqual(again.summary, summary);
    assert.equal(hashTree(again.tree), hashTree(base.tree));
    const other = await generateInto({ ...SIZE, seed: 43 });
    assert.notEqual(hashTree(other.tree, 'song_data/'), hashTree(base.tree, 'song_data/'));
    assert.notEqual(hashTree(other.tree, 'log_data/'), hashTree(base.tree, 'log_data/'));
  });

  test('song records have exactly the public fields, in two file formats, some files holding JSON lines', () => {
    for (const { key, rec } of base.songs) {
      const r = rec.value as Json;
      assert.deepEqual(Object.keys(r).sort(), [...SONG_FIELDS].sort(), key);
      assert.equal(r.num_songs, 1);
      assert.match(String(r.artist_id), /^AR[A-Z0-9]{16}$/);
      assert.match(String(r.song_id), /^SO[A-Z0-9]{16}$/);
      assert.ok(Number.isInteger(r.year), key);
      assert.equal(typeof r.artist_location, 'string');
      for (const f of ['artist_latitude', 'artist_longitude'])
        assert.ok(r[f] === null || typeof r[f] === 'number', `${key} ${f}`);
      assert.match(String(r.duration), /^\d+\.\d{5}$/, key);
    }
    let sample = 0;
    let minified = 0;
    let multi = 0;
    for (const [key, data] of base.tree) {
      if (!key.startsWith('song_data/')) continue;
      const lines = data.toString('utf8').split('\n');
      if (lines.length > 1) multi++;
      for (const line of lines) {
        const keys = Object.keys(JSON.parse(line) as Json);
        if (line.startsWith('{"num_songs": 1, "artist_id": "')) {
          assert.deepEqual(keys, SONG_FIELDS, key);
          sample++;
        } else {
          assert.ok(line.startsWith('{"artist_id":"') && !line.includes('": '), key);
          assert.deepEqual(keys, [...SONG_FIELDS].sort(), key);
          minified++;
        }
      }
    }
    assertBetween(share(sample, sample + minified), 0.35, 0.65, 'sample-format share');
    assertBetween(share(multi, summary.songFiles), 0.02, 0.1, 'JSON-lines file share');
    const unknownYear = base.songs.filter((s) => (s.rec.value as Json).year === 0).length;
    assertBetween(share(unknownYear, base.songs.length), 0.35, 0.65, 'year-0 share');
  });

  test('artists have 1–5 songs and identical fields wherever they repeat; non-ASCII is written escaped and raw', () => {
    const bySong = new Map<unknown, Json[]>();
    for (const { rec } of base.songs) {
      const r = rec.value as Json;
      bySong.set(r.song_id, [...(bySong.get(r.song_id) ?? []), r]);
    }
    const artists = new Map<unknown, Set<string>>();
    const songsOf = new Map<unknown, Set<unknown>>();
    for (const group of bySong.values()) {
      const r = group[0] as Json;
      songsOf.set(r.artist_id, (songsOf.get(r.artist_id) ?? new Set()).add(r.song_id));
      // Songs with a second record may carry a conflicting (emptied) copy; the others show the artist as is.
      if (group.length > 1) continue;
      const fields = JSON.stringify([r.artist_name, r.artist_location, r.artist_latitude, r.artist_longitude]);
      artists.set(r.artist_id, (artists.get(r.artist_id) ?? new Set()).add(fields));
    }
    assert.ok(songsOf.size < SIZE.songs / 1.5, `${songsOf.size} artists for ${SIZE.songs} songs`);
    for (const [id, songs] of songsOf) assertBetween(songs.size, 1, 5, `songs of ${String(id)}`);
    assert.ok(
      [...songsOf.values()].some((s) => s.size >= 3),
      'an artist with 3+ songs',
    );
    for (const [id, variants] of artists) assert.equal(variants.size, 1, `artist ${String(id)} differs`);

    const names = new Set(base.songs.map((s) => (s.rec.value as Json).artist_name));
    for (const n of ['Alizée', 'Zoë', 'Björk', 'Mötley Crüe', 'Sigur Rós']) assert.ok(names.has(n), n);
    const titles = base.songs.map((s) => String((s.rec.value as Json).title));
    assert.ok(titles.filter((t) => /[^\x20-\x7e]/.test(t)).length >= 5, 'non-ASCII titles');
    const songFiles = [...base.tree].filter(([k]) => k.startsWith('song_data/')).map(([, d]) => d);
    assert.ok(
      songFiles.some((d) => d.includes('\\u00e9') || d.includes('\\u00f6')),
      'escaped non-ASCII',
    );
    assert.ok(
      songFiles.some((d) => d.some((b) => b >= 0x80)),
      'raw UTF-8',
    );
  });

  test('about 1% of song_ids have an identical duplicate and 1% a conflicting record, each in another file', () => {
    const bySong = new Map<unknown, { key: string; r: Json }[]>();
    for (const { key, rec } of base.songs) {
      const r = rec.value as Json;
      bySong.set(r.song_id, [...(bySong.get(r.song_id) ?? []), { key, r }]);
    }
    const groups = [...bySong.values()].filter((g) => g.length > 1);
    for (const g of groups) {
      assert.equal(g.length, 2);
      assert.notEqual(g[0]?.key, g[1]?.key);
    }
    const same = groups.filter((g) => JSON.stringify(g[0]?.r) === JSON.stringify(sortedLike(g[0]?.r, g[1]?.r)));
    const conflicting = groups.filter((g) => !same.includes(g));
    assertBetween(same.length, 1, 6, 'duplicated song_ids');
    assertBetween(conflicting.length, 1, 6, 'conflicting song_ids');
    assert.equal(summary.songRecords, SIZE.songs + same.length + conflicting.length);
    const diffs = conflicting.map(([a, b]) => SONG_FIELDS.filter((f) => a?.r[f] !== b?.r[f]));
    assert.ok(
      diffs.some((d) => d.length === 1 && d[0] === 'year'),
      'a conflict in the year only',
    );
    const emptied = conflicting.filter(([a, b]) =>
      SONG_FIELDS.some((f) => (a?.r[f] === '' || a?.r[f] === null) !== (b?.r[f] === '' || b?.r[f] === null)),
    );
    assert.ok(emptied.length > 0, 'a conflict with emptied fields');
    for (const [a, b] of conflicting) assert.equal(a?.r.duration, b?.r.duration);
  });

  test('log events: eventsim fields and pages, day-ordered ts, sessions, logged-out events, quoted agents', () => {
    const events = base.events;
    for (const e of events) assert.deepEqual(Object.keys(e), LOG_FIELDS);
    const next = events.filter((e) => e.page === 'NextSong');
    assertBetween(share(next.length, events.length), 0.75, 0.86, 'NextSong share');
    for (const e of next) {
      assert.deepEqual([e.method, e.status, e.auth], ['PUT', 200, 'Logged In']);
      assert.ok(
        typeof e.song === 'string' && typeof e.artist === 'string' && typeof e.length === 'number',
        `NextSong at ${e.ts}`,
      );
    }
    for (const e of events.filter((x) => x.page !== 'NextSong'))
      assert.deepEqual([e.song, e.artist, e.length], [null, null, null]);
    const pages = new Set(events.map((e) => e.page));
    for (const p of [
      'Home',
      'Login',
      'Logout',
      'Settings',
      'About',
      'Help',
      'Upgrade',
      'Downgrade',
      'Submit Upgrade',
    ]) {
      assert.ok(pages.has(p), p);
    }

    // ts inside the file's UTC day and never decreasing; some equal to the one before.
    let shared = 0;
    for (const [key, data] of base.tree) {
      const m = LOG_KEY.exec(key);
      if (!m) continue;
      const start = Date.parse(`${m[3]}T00:00:00Z`);
      let previous = start;
      for (const rec of recordsOf(data)) {
        const ts = (rec.value as Json).ts as number;
        assert.ok(ts >= previous && ts < start + 86_400_000, `${key}:${rec.line}`);
        if (ts === previous && rec.line > 1) shared++;
        previous = ts;
      }
    }
    assert.ok(shared > 0, 'events sharing a ts');

    // Sessions: itemInSession counts 0, 1, 2, … and one user per session.
    const sessions = new Map<unknown, { item: number; users: Set<unknown> }>();
    for (const e of events) {
      const s = sessions.get(e.sessionId) ?? { item: 0, users: new Set() };
      assert.equal(e.itemInSession, s.item, `session ${String(e.sessionId)}`);
      s.item++;
      if (e.userId !== '') s.users.add(e.userId);
      sessions.set(e.sessionId, s);
    }
    for (const s of sessions.values()) assert.ok(s.users.size <= 1, 'one user per session');
    assert.ok(
      [...sessions.values()].some((s) => s.item >= 10),
      'a session of 10+ events',
    );

    const out = events.filter((e) => e.auth === 'Logged Out');
    assertBetween(share(out.length, events.length), 0.015, 0.05, 'logged-out share');
    for (const e of out) {
      assert.equal(e.userId, '');
      for (const f of ['firstName', 'lastName', 'gender', 'location', 'registration', 'userAgent']) {
        assert.equal(e[f], null, f);
      }
      assert.ok(e.level === 'free' || e.level === 'paid', `level ${String(e.level)}`);
    }
    const ins = events.filter((e) => e.auth === 'Logged In');
    assert.equal(ins.length + out.length, events.length);
    for (const e of ins) assert.match(String(e.userId), /^\d+$/);
    const users = new Set(ins.map((e) => e.userId));
    assertBetween(users.size, 40, Math.floor(SIZE.events / 80), 'users');

    const agents = new Set(ins.map((e) => String(e.userAgent)));
    const quoted = [...agents].filter((a) => a.startsWith('"') && a.endsWith('"'));
    assert.ok(quoted.length > 0 && quoted.every((a) => a.includes(',')), 'quoted agents have a comma');
    assert.ok(
      [...agents].some((a) => !a.startsWith('"') && !a.includes(',')),
      'an unquoted agent',
    );
    const rawLogs = [...base.tree].filter(([k]) => k.startsWith('log_data/')).map(([, d]) => d.toString('utf8'));
    assert.ok(
      rawLogs.every((t) => t.includes('"userAgent":"\\"Mozilla\\/5.0 (')),
      'escaped quotes and slashes',
    );
    assert.ok(
      rawLogs.every((t) => /"registration":\d{13}\.0,/.test(t)),
      'registration as 1540919166796.0',
    );
  });

  test('some users upgrade from free to paid over time', () => {
    const levels = new Map<unknown, string[]>();
    for (const e of base.events) {
      if (e.userId === '') continue;
      const seen = levels.get(e.userId) ?? [];
      if (seen.at(-1) !== e.level) seen.push(String(e.level));
      levels.set(e.userId, seen);
    }
    const upgraded = [...levels.values()].filter((l) => l.join(',').includes('free,paid'));
    assert.ok(upgraded.length >= 2, `${upgraded.length} users upgraded`);
    assert.ok(
      [...levels.values()].some((l) => l.length === 1 && l[0] === 'paid'),
      'a user paid throughout',
    );
    assert.ok(
      [...levels.values()].some((l) => l.length === 1 && l[0] === 'free'),
      'a user free throughout',
    );
  });

  test('NextSong plays: ~60% match a song exactly, deliberate near misses, some values double-encoded', () => {
    const byTitle = new Map<string, { artist: string; duration: number }[]>();
    for (const { rec } of base.songs) {
      const r = rec.value as Json;
      const title = String(r.title);
      byTitle.set(title, [
        ...(byTitle.get(title) ?? []),
        { artist: String(r.artist_name), duration: r.duration as number },
      ]);
    }
    const next = base.events.filter((e) => e.page === 'NextSong');
    let exact = 0;
    let titleOnly = 0;
    let lengthOff = 0;
    let unknown = 0;
    let doubledPlays = 0;
    let plainNonAscii = 0;
    for (const e of next) {
      const song = repair(String(e.song));
      const artist = repair(String(e.artist));
      if (song !== e.song || artist !== e.artist) {
        doubledPlays++;
        assert.ok(e.song === doubled(song) || e.song === song, String(e.song));
        assert.ok(e.artist === doubled(artist) || e.artist === artist, String(e.artist));
      } else if (/[^\x20-\x7e]/.test(song + artist)) plainNonAscii++;
      const candidates = (byTitle.get(song) ?? []).filter((c) => c.artist === artist);
      if (candidates.some((c) => c.duration === e.length)) exact++;
      else if (candidates.length > 0) {
        const gap = Math.min(...candidates.map((c) => Math.abs(c.duration - (e.length as number))));
        assert.ok(gap >= 1, `length off by only ${gap}`);
        lengthOff++;
      } else if (byTitle.has(song)) titleOnly++;
      else unknown++;
    }
    assertBetween(share(exact, next.length), 0.5, 0.7, 'exact-match share');
    assertBetween(share(titleOnly, next.length), 0.01, 0.1, 'title-only share');
    assertBetween(share(lengthOff, next.length), 0.01, 0.1, 'length-off share');
    assertBetween(share(unknown, next.length), 0.2, 0.4, 'unknown-song share');
    assertBetween(share(doubledPlays, next.length), 0.02, 0.1, 'double-encoded share');
    assert.ok(plainNonAscii > 0, 'non-ASCII plays that are not double-encoded');
    const raw = [...base.tree].filter(([k]) => k.startsWith('log_data/')).map(([, d]) => d.toString('utf8'));
    assert.ok(
      raw.some((t) => /\\u00c3\\u0083\\u00c2\\u00[0-9a-f]{2}/.test(t)),
      'double-encoded as \\u escapes',
    );

    const people = base.events.filter((e) => e.userId !== '');
    const fields = ['firstName', 'lastName', 'location'];
    assert.ok(
      people.some((e) => fields.some((f) => repair(String(e[f])) !== e[f])),
      'double-encoded user text',
    );
    assert.ok(
      people.some((e) => fields.some((f) => /[^\x20-\x7e]/.test(String(e[f])) && repair(String(e[f])) === e[f])),
      'plain non-ASCII user text',
    );
  });

  test('bad records: N rejectable lines cycling through the kinds, empty song files, good data unchanged', async () => {
    const bad = await generateInto({ ...SIZE, seed: 42, badRecords: 16 });
    const loaded = load(bad.tree);
    assert.equal(bad.summary.badRecords, 16);
    assert.equal(loaded.rejects.length, 16);
    const kinds = (source: string, reason: string) =>
      loaded.rejects.filter((r) => r.source === source && r.reason === reason);
    // 16 = two full cycles of 7 kinds plus the first two kinds again.
    assert.equal(kinds('log_data', 'invalid JSON').length, 3);
    assert.equal(kinds('log_data', 'ts').length, 3);
    assert.ok(
      kinds('log_data', 'ts').every((r) => typeof (r.rec.value as Json).ts === 'string'),
      'ts strings',
    );
    assert.equal(kinds('log_data', 'not a JSON object').length, 2);
    assert.ok(
      kinds('log_data', 'not a JSON object').every((r) => Array.isArray(r.rec.value)),
      'arrays',
    );
    assert.equal(kinds('log_data', 'page').length, 2);
    assert.ok(
      kinds('log_data', 'page').every((r) => !('page' in (r.rec.value as Json))),
      'no page',
    );
    const truncated = kinds('song_data', 'invalid JSON');
    assert.equal(truncated.length, 2);
    for (const r of truncated) assert.equal(bad.tree.get(r.key)?.toString('utf8'), r.rec.text);
    assert.equal(kinds('song_data', 'song_id').length, 2);
    assert.equal(kinds('song_data', 'duration').length, 2);
    assert.ok(
      kinds('song_data', 'duration').every((r) => typeof (r.rec.value as Json).duration === 'string'),
      'string durations',
    );
    assert.equal(new Set(loaded.rejects.filter((r) => r.source === 'log_data').map((r) => r.key)).size > 1, true);
    const empty = [...bad.tree].filter(([, d]) => d.length === 0).map(([k]) => k);
    assert.equal(empty.length, 2);
    assert.ok(
      empty.every((k) => SONG_KEY.test(k)),
      'empty files are song files',
    );

    // The good data is the same as without bad records: drop the bad lines and files, get the same bytes.
    assert.deepEqual({ ...bad.summary, badRecords: 0, songFiles: 0, bytes: 0 }, { ...summary, songFiles: 0, bytes: 0 });
    assert.equal(bad.summary.songFiles, summary.songFiles + 4);
    for (const [key, data] of base.tree) {
      const badLines = new Set(loaded.rejects.filter((r) => r.key === key).map((r) => r.rec.line));
      const kept = (bad.tree.get(key)?.toString('utf8') ?? '').split('\n').filter((_, i) => !badLines.has(i + 1));
      assert.equal(kept.join('\n'), data.toString('utf8'), key);
    }
    for (const [key, data] of bad.tree) {
      assert.ok(data.length === 0 || data.at(-1) !== 0x0a, key);
      if (!base.tree.has(key)) assert.ok(data.length === 0 || truncated.some((r) => r.key === key), key);
    }
  });

  test('tiny sizes keep the rules: 3 songs, 10 events over 10 days, 7 bad records', async () => {
    const tiny = await generateInto({ songs: 3, events: 10, badRecords: 7, seed: 1 });
    const loaded = load(tiny.tree);
    assert.equal(tiny.summary.logFiles, 10);
    assert.equal(loaded.events.length, 10);
    assert.equal(loaded.rejects.length, 7);
    assert.equal(tiny.summary.badRecords, 7);
    assert.equal(new Set(loaded.songs.map((s) => (s.rec.value as Json).song_id)).size, 3);
    assert.equal([...tiny.tree.values()].filter((d) => d.length === 0).length, 1);
  });

  test('rejects invalid options', async () => {
    const out = path.join(tmpdir(), 'sparkify-generate-never-written');
    await assert.rejects(generate({ out, songs: -1, events: 10 }), RangeError);
    await assert.rejects(generate({ out, songs: 10, events: 1.5 }), RangeError);
    await assert.rejects(generate({ out, songs: 10, events: 10, seed: 0.5 }), RangeError);
    await assert.rejects(generate({ out, songs: 10, events: 10, badRecords: -2 }), RangeError);
  });
});

/** `b` with the keys in `a`'s order, so that the same record in either file format compares equal. */
function sortedLike(a: Json | undefined, b: Json | undefined): Json {
  return Object.fromEntries(Object.keys(a ?? {}).map((k) => [k, b?.[k]]));
}
