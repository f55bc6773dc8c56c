// Checks the oracle itself: against the published figures of the public sample, and against a small handmade
// input whose expected tables are written out by hand below.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { computeExpected, type ExpectedTables, repairText } from '../support/oracle.ts';

const SAMPLE_DIR = fileURLToPath(new URL('../fixtures/sparkify-sample', import.meta.url));

/** The contract's songplay_id, spelled out independently of the oracle. */
function id(ts: number, userId: string, sessionId: string, itemInSession: string): string {
  return createHash('sha256').update(`${ts}|${userId}|${sessionId}|${itemInSession}`).digest('hex').slice(0, 32);
}

/** Encode a string as UTF-8 and read the bytes back as Latin-1, i.e. produce mojibake `times` times. */
function mojibake(s: string, times: number): string {
  let out = s;
  for (let i = 0; i < times; i++) out = Buffer.from(out, 'utf8').toString('latin1');
  return out;
}

function writeTree(root: string, files: Record<string, string | Uint8Array>): void {
  for (const [relative, content] of Object.entries(files)) {
    const path = join(root, relative);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
  }
}

const jsonLines = (records: unknown[], eol = '\n'): string => records.map((r) => JSON.stringify(r)).join(eol);

describe('repairText', () => {
  test('repairs twice-encoded text in as many rounds as needed', () => {
    assert.equal(repairText('Aliz\u00c3\u0083\u00c2\u00a9e'), 'Alizée');
    assert.equal(repairText('AlizÃ©e'), 'Alizée');
    assert.equal(repairText(mojibake('Les Blés', 3)), 'Les Blés');
  });

  test('stops after 3 rounds', () => {
    assert.equal(repairText(mojibake('é', 4)), mojibake('é', 1));
  });

  test('leaves correct text alone', () => {
    assert.equal(repairText('Zoë'), 'Zoë');
    assert.equal(repairText('Plain ASCII text'), 'Plain ASCII text');
    assert.equal(repairText(''), '');
    // A character above U+00FF means the string is not Latin-1 mojibake.
    assert.equal(repairText('AlizÃ©e €'), 'AlizÃ©e €');
  });
});

describe('computeExpected on the public sample', () => {
  let t: ExpectedTables;
  before(() => {
    t = computeExpected(SAMPLE_DIR);
  });

  test('published figures', () => {
    assert.equal(t.songplays.length, 6820);
    assert.equal(t.users.length, 97);
    assert.equal(t.songs.length, 71);
    assert.equal(t.artists.length, 69);
    assert.equal(t.time.length, 6813);
    assert.deepEqual(t.rejects, []);
    assert.deepEqual(t.read, { song_data: 71, log_data: 8056 });
  });

  test('exactly one play matches a song: "Setanta matins" by Elena', () => {
    const matched = t.songplays.filter((p) => p.song_id !== null || p.artist_id !== null);
    assert.equal(matched.length, 1);
    const [play] = matched;
    assert.equal(play?.song_id, 'SOZCTXZ12AB0182364');
    assert.equal(play?.artist_id, 'AR5KOSW1187FB35FF4');
    assert.equal(play?.user_id, '15');
    const song = t.songs.find((s) => s.song_id === 'SOZCTXZ12AB0182364');
    assert.equal(song?.title, 'Setanta matins');
    assert.equal(song?.artist_id, 'AR5KOSW1187FB35FF4');
    assert.equal(t.artists.find((a) => a.artist_id === 'AR5KOSW1187FB35FF4')?.name, 'Elena');
  });

  test('songplay ids are unique and sorted, and every start_time has a time row', () => {
    const ids = t.songplays.map((p) => p.songplay_id);
    assert.equal(new Set(ids).size, ids.length);
    assert.deepEqual(ids, [...ids].sort());
    assert.ok(ids.every((i) => /^[0-9a-f]{32}$/.test(i)));
    const times = new Set(t.time.map((r) => r.start_time));
    assert.ok(t.songplays.every((p) => times.has(p.start_time)));
  });

  test('user_agent loses its surrounding quotes', () => {
    assert.ok(t.songplays.every((p) => p.user_agent === null || !p.user_agent.startsWith('"')));
  });

  test('time row of 1541106106796 = 2018-11-01T21:01:46.796Z (a Thursday in ISO week 44)', () => {
    assert.deepEqual(
      t.time.find((r) => r.start_time === 1541106106796),
      { start_time: 1541106106796, hour: 21, day: 1, week: 44, month: 11, year: 2018, weekday: 4 },
    );
  });
});

describe('computeExpected on a handmade input', () => {
  let root: string;
  let t: ExpectedTables;

  const song = (fields: Record<string, unknown>) => ({
    num_songs: 1,
    artist_latitude: 1.5,
    artist_longitude: 2.5,
    artist_location: 'Somewhere',
    year: 2000,
    ...fields,
  });
  const songLines = [
    // Same key as A/songs.json's loser but no missing fields: wins despite the larger source key.
    song({
      song_id: 'SOCONFLICT',
      title: 'Conflict Winner',
      artist_id: 'ARC',
      artist_name: 'Conflict Artist',
      year: 2001,
      duration: 11,
      artist_latitude: 3,
      artist_longitude: 4,
    }),
    song({
      song_id: 'SOTWINB',
      title: 'Twin',
      artist_id: 'ARTWIN',
      artist_name: 'Twins',
      artist_location: 'Twin Falls',
      duration: 100.008,
    }),
    // Wrong types in optional fields: stored as null, the record still loads.
    song({
      song_id: 'SOWRONG',
      title: 'Wrong Types',
      artist_id: 'ARWRONG',
      artist_name: 'Wrong',
      year: '1990',
      artist_latitude: '12.5',
      duration: 200,
    }),
    song({ song_id: 'SODUP', title: 'Duplicate', artist_id: 'ARDUP', artist_name: 'Dup', duration: 50 }),
    song({
      song_id: 'SODUP',
      title: 'Duplicate (later line)',
      artist_id: 'ARDUP',
      artist_name: 'Dup',
      artist_location: 'Later',
      duration: 50,
    }),
    {
      song_id: 'SOCAFE',
      title: mojibake('Café au lait', 1),
      artist_id: 'ARCAFE',
      artist_name: mojibake('Les Blés', 1),
      artist_location: null,
      year: 0,
      duration: 180.5,
    },
    song({ song_id: 'SOTIE', title: 'Tie B', artist_id: 'ARTIE', artist_name: 'Tie', duration: 5 }),
  ];

  const logLines01 = [
    /* 1 */ {
      ts: 1541106106796,
      userId: '7',
      sessionId: 1,
      itemInSession: 0,
      page: 'NextSong',
      song: 'Twin',
      artist: 'Twins',
      length: 100.006,
      level: 'free',
      firstName: 'Ann',
      lastName: 'Old',
      gender: 'F',
      location: mojibake('Zürich', 1),
      userAgent: '"UA/1.0"',
    },
    /* 2 */ 'this is not json',
    /* 3 */ { ts: '1541106106796', userId: '7', page: 'NextSong' },
    /* 4 */ '',
    /* 5 */ {
      ts: 1541106200000,
      userId: '7',
      page: 'Home',
      level: 'paid',
      firstName: 'Ann',
      lastName: 'New',
      gender: 'F',
    },
    /* 6 */ { ts: 1541106250000, userId: '7', song: 'Twin' },
    /* 7 */ [1, 2],
    /* 8 */ {
      ts: 1541106300000,
      userId: '',
      sessionId: 2,
      itemInSession: '0',
      page: 'NextSong',
      song: 'Café au lait',
      artist: ' Les Blés ',
      length: 180.5,
      level: 'free',
    },
    /* 9 */ {
      ts: 1541107000000,
      userId: '9',
      page: 'Logout',
      firstName: mojibake('Renée', 2),
      lastName: 'Tie',
      gender: 'M',
      level: 'paid',
    },
  ];

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'oracle-test-'));
    writeTree(root, {
      'song_data/A/truncated.json': '{"num_songs": 1, "artist_id": "ARTRUNC", "song_id": "SOTRUNC", "title": "Cut Sh',
      'song_data/A/empty.json': '',
      // Missing song_id and duration: song_id is checked first.
      'song_data/A/no_id.json': '{"artist_id": "ARNOID", "title": "No Id"}\n',
      'song_data/A/songs.json': JSON.stringify(
        [
          song({
            song_id: 'SOCONFLICT',
            title: 'Conflict Loser',
            artist_id: 'ARC',
            artist_name: 'Conflict Artist',
            artist_location: '',
            year: 1999,
            duration: 10,
          }),
          song({
            song_id: 'SOTWINA',
            title: 'Twin',
            artist_id: 'ARTWIN',
            artist_name: 'Twins',
            artist_location: 'Twin Peaks',
            duration: 100,
          }),
          song({ song_id: 'SOTIE', title: 'Tie A', artist_id: 'ARTIE', artist_name: 'Tie', duration: 5 }),
        ],
        null,
        2,
      ),
      // BOM, CRLF and a blank line, no final newline.
      'song_data/B/more.jsonl': `\ufeff${jsonLines(songLines.slice(0, 3), '\r\n')}\r\n\r\n${jsonLines(songLines.slice(3), '\r\n')}`,
      // Smaller key than the winner but more missing fields: loses the songplay id; also a user tie on ts.
      'log_data/2018/11/2018-11-00-dup.json': `${jsonLines([
        { ts: 1541106106796, userId: '7', sessionId: 1, itemInSession: 0, page: 'NextSong', level: 'paid' },
        { ts: 1541107000000, userId: '9', page: 'Home', firstName: 'Bo', lastName: 'Tie', level: 'free' },
        { ts: 1541000000000, userId: '9', page: 'Home', firstName: 'Bo', lastName: 'Early', gender: 'M', level: 'x' },
      ])}\n`,
      'log_data/2018/11/2018-11-01-events.json': `\ufeff${logLines01
        .map((l) => (typeof l === 'string' ? l : JSON.stringify(l)))
        .join('\r\n')}`,
      'log_data/2018/11/array.json': JSON.stringify([
        {
          ts: 1541200000000.7,
          userId: '12',
          sessionId: 3,
          itemInSession: 4,
          page: 'NextSong',
          song: 'Twin',
          artist: 'Twins',
          length: 100.5,
          level: 'paid',
          firstName: 'Cy',
          lastName: 'Array',
          userAgent: 'plain UA',
        },
        5,
      ]),
    });
    t = computeExpected(root);
  });

  after(() => {
    rmSync(root, { recursive: true, force: true });
  });

  test('rejects, with exact reasons, sorted by key then line', () => {
    assert.deepEqual(t.rejects, [
      { source: 'log_data', key: 'log_data/2018/11/2018-11-01-events.json', line: 2, reason: 'invalid JSON' },
      {
        source: 'log_data',
        key: 'log_data/2018/11/2018-11-01-events.json',
        line: 3,
        reason: 'ts is not a finite number',
      },
      { source: 'log_data', key: 'log_data/2018/11/2018-11-01-events.json', line: 6, reason: 'page is not a string' },
      { source: 'log_data', key: 'log_data/2018/11/2018-11-01-events.json', line: 7, reason: 'not a JSON object' },
      { source: 'log_data', key: 'log_data/2018/11/array.json', line: 2, reason: 'not a JSON object' },
      { source: 'song_data', key: 'song_data/A/no_id.json', line: 1, reason: 'song_id is missing or empty' },
      { source: 'song_data', key: 'song_data/A/truncated.json', line: 1, reason: 'invalid JSON' },
    ]);
  });

  test('read counts every record, rejected or not, and no blank line or empty file', () => {
    // song_data: truncated 1 + no_id 1 + songs.json 3 + more.jsonl 7; log_data: 3 + 8 + 2.
    assert.deepEqual(t.read, { song_data: 12, log_data: 13 });
  });

  test('songs: precedence winners, repaired titles, year 0 and wrong types as null', () => {
    assert.deepEqual(t.songs, [
      { song_id: 'SOCAFE', title: 'Café au lait', artist_id: 'ARCAFE', year: null, duration: 180.5 },
      { song_id: 'SOCONFLICT', title: 'Conflict Winner', artist_id: 'ARC', year: 2001, duration: 11 },
      { song_id: 'SODUP', title: 'Duplicate', artist_id: 'ARDUP', year: 2000, duration: 50 },
      { song_id: 'SOTIE', title: 'Tie A', artist_id: 'ARTIE', year: 2000, duration: 5 },
      { song_id: 'SOTWINA', title: 'Twin', artist_id: 'ARTWIN', year: 2000, duration: 100 },
      { song_id: 'SOTWINB', title: 'Twin', artist_id: 'ARTWIN', year: 2000, duration: 100.008 },
      { song_id: 'SOWRONG', title: 'Wrong Types', artist_id: 'ARWRONG', year: null, duration: 200 },
    ]);
  });

  test('artists: precedence winners over all song records', () => {
    assert.deepEqual(t.artists, [
      { artist_id: 'ARC', name: 'Conflict Artist', location: 'Somewhere', latitude: 3, longitude: 4 },
      { artist_id: 'ARCAFE', name: 'Les Blés', location: null, latitude: null, longitude: null },
      { artist_id: 'ARDUP', name: 'Dup', location: 'Somewhere', latitude: 1.5, longitude: 2.5 },
      { artist_id: 'ARTIE', name: 'Tie', location: 'Somewhere', latitude: 1.5, longitude: 2.5 },
      { artist_id: 'ARTWIN', name: 'Twins', location: 'Twin Peaks', latitude: 1.5, longitude: 2.5 },
      { artist_id: 'ARWRONG', name: 'Wrong', location: 'Somewhere', latitude: null, longitude: 2.5 },
    ]);
  });

  test('users: latest event by ts, ties by precedence, names repaired, empty userId left out', () => {
    assert.deepEqual(t.users, [
      { user_id: '12', first_name: 'Cy', last_name: 'Array', gender: null, level: 'paid' },
      { user_id: '7', first_name: 'Ann', last_name: 'New', gender: 'F', level: 'paid' },
      { user_id: '9', first_name: 'Renée', last_name: 'Tie', gender: 'M', level: 'paid' },
    ]);
  });

  test('songplays: deduplicated by id, joined on the closest duration', () => {
    const expected = [
      {
        songplay_id: id(1541106106796, '7', '1', '0'),
        start_time: 1541106106796,
        user_id: '7',
        level: 'free',
        song_id: 'SOTWINB', // |100.006 - 100.008| beats |100.006 - 100|
        artist_id: 'ARTWIN',
        session_id: 1,
        location: 'Zürich',
        user_agent: 'UA/1.0',
      },
      {
        songplay_id: id(1541106300000, '', '2', ''),
        start_time: 1541106300000,
        user_id: null,
        level: 'free',
        song_id: 'SOCAFE', // matched on repaired, trimmed title and artist name
        artist_id: 'ARCAFE',
        session_id: 2,
        location: null,
        user_agent: null,
      },
      {
        songplay_id: id(1541200000000, '12', '3', '4'),
        start_time: 1541200000000, // ts truncated to an integer
        user_id: '12',
        level: 'paid',
        song_id: null, // |100.5 - 100.008| is not below 0.01
        artist_id: null,
        session_id: 3,
        location: null,
        user_agent: 'plain UA',
      },
    ].sort((a, b) => (a.songplay_id < b.songplay_id ? -1 : 1));
    assert.deepEqual(t.songplays, expected);
  });

  test('time: one row per distinct start_time, UTC and ISO week/weekday', () => {
    assert.deepEqual(t.time, [
      { start_time: 1541106106796, hour: 21, day: 1, week: 44, month: 11, year: 2018, weekday: 4 },
      { start_time: 1541106300000, hour: 21, day: 1, week: 44, month: 11, year: 2018, weekday: 4 },
      { start_time: 1541200000000, hour: 23, day: 2, week: 44, month: 11, year: 2018, weekday: 5 },
    ]);
  });
});

describe('computeExpected: byte limit, invalid UTF-8 and calendar edges', () => {
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'oracle-test-'));
  });
  after(() => {
    rmSync(root, { recursive: true, force: true });
  });

  test('records over maxRecordBytes and lines with invalid UTF-8 are rejected', () => {
    const short = JSON.stringify({ ts: 1546214400000, userId: '1', page: 'NextSong' });
    const long = JSON.stringify({ ts: 1546214400000, userId: '2', page: 'NextSong', pad: 'x'.repeat(300) });
    const badUtf8 = Buffer.concat([
      Buffer.from('{"ts": 1546214400000, "userId": "3", "page": "NextSong", "song": "'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}'),
    ]);
    writeTree(root, {
      'log_data/events.json': Buffer.concat([Buffer.from(`${short}\n${long}\n`), badUtf8, Buffer.from('\n')]),
      'song_data/big.json': JSON.stringify({ song_id: 'SOBIG', artist_id: 'AR', title: 'x'.repeat(300), duration: 1 }),
    });
    const t = computeExpected(root, { maxRecordBytes: 200 });
    assert.deepEqual(t.rejects, [
      { source: 'log_data', key: 'log_data/events.json', line: 2, reason: 'record exceeds 200 bytes' },
      { source: 'log_data', key: 'log_data/events.json', line: 3, reason: 'invalid UTF-8' },
      { source: 'song_data', key: 'song_data/big.json', line: 1, reason: 'record exceeds 200 bytes' },
    ]);
    assert.deepEqual(t.read, { song_data: 1, log_data: 3 });
    assert.deepEqual(t.songs, []);
    // 2018-12-31 is a Monday in ISO week 1 of 2019; the calendar year stays 2018.
    assert.deepEqual(t.time, [
      { start_time: 1546214400000, hour: 0, day: 31, week: 1, month: 12, year: 2018, weekday: 1 },
    ]);

    // Without the option the default 16 MiB limit applies and the long lines load.
    const relaxed = computeExpected(root);
    assert.deepEqual(
      relaxed.rejects.map((r) => r.reason),
      ['invalid UTF-8'],
    );
    assert.equal(relaxed.songs.length, 1);
  });

  test('ts outside the JS date range is rejected; the range ends are accepted', () => {
    writeTree(root, {
      // 1e400 is valid JSON that parses to Infinity.
      'log_data/events.json': `${jsonLines([
        { ts: 8.64e15, page: 'NextSong' },
        { ts: 8.64e15 + 1, page: 'NextSong' },
        { ts: -8.64e15, page: 'NextSong' },
      ])}\n{"ts": 1e400, "page": "NextSong"}\n`,
      'song_data/big.json': '',
    });
    const t = computeExpected(root);
    assert.deepEqual(
      t.rejects.map((r) => [r.line, r.reason]),
      [
        [2, 'ts is not a finite number'],
        [4, 'ts is not a finite number'],
      ],
    );
    assert.deepEqual(t.time[1], {
      start_time: 8.64e15,
      hour: 0,
      day: 13,
      week: 37,
      month: 9,
      year: 275760,
      weekday: 6,
    });
  });
});
