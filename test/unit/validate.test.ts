// Unit tests of shared/validate.ts: reject rules and normalisation of log events and song records
// (docs/contract.md, "Rejects", "Reading input", "Text repair", "Tables").
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  type Checked,
  checkLogEvent,
  checkSongRecord,
  countMissing,
  joinKey,
  type LogEvent,
  type SongRecord,
  songMissing,
  songplayId,
} from '../../shared/validate.ts';

/** A log event as the public dataset has it. */
const EVENT = {
  artist: "Des'ree",
  auth: 'Logged In',
  firstName: 'Kaylee',
  gender: 'F',
  itemInSession: 1,
  lastName: 'Summers',
  length: 246.30812,
  level: 'free',
  location: 'Phoenix-Mesa-Scottsdale, AZ',
  method: 'PUT',
  page: 'NextSong',
  registration: 1540344794796.0,
  sessionId: 139,
  song: 'You Gotta Be',
  status: 200,
  ts: 1541106106796,
  userAgent:
    '"Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/35.0.1916.153 Safari/537.36"',
  userId: '8',
};

/** The normalised form of EVENT. */
const EVENT_ROW: LogEvent = {
  ts: 1541106106796,
  page: 'NextSong',
  userId: '8',
  firstName: 'Kaylee',
  lastName: 'Summers',
  gender: 'F',
  level: 'free',
  location: 'Phoenix-Mesa-Scottsdale, AZ',
  userAgent:
    'Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/35.0.1916.153 Safari/537.36',
  song: 'You Gotta Be',
  artist: "Des'ree",
  length: 246.30812,
  sessionId: 139,
  itemInSession: 1,
};

/** A song record as the public dataset has it. */
const SONG = {
  num_songs: 1,
  artist_id: 'ARJIE2Y1187B994AB7',
  artist_latitude: 35.14968,
  artist_longitude: -90.04892,
  artist_location: 'Memphis, TN',
  artist_name: 'Line Renaud',
  song_id: 'SOUPIRU12A6D4FA1E1',
  title: 'Der Kleine Dompfaff',
  duration: 152.92036,
  year: 1998,
};

const SONG_ROW: SongRecord = {
  song_id: 'SOUPIRU12A6D4FA1E1',
  title: 'Der Kleine Dompfaff',
  artist_id: 'ARJIE2Y1187B994AB7',
  year: 1998,
  duration: 152.92036,
  artist_name: 'Line Renaud',
  artist_location: 'Memphis, TN',
  artist_latitude: 35.14968,
  artist_longitude: -90.04892,
};

/** Returns the row of an accepted record, failing the test otherwise. */
function rowOf<T>(checked: Checked<T>): T {
  assert.ok(checked.ok, `expected the record to load, got ${JSON.stringify(checked)}`);
  return checked.row;
}

describe('checkLogEvent: rejects', () => {
  test('a value that is not an object is "not a JSON object"', () => {
    for (const value of ['x', 1, true, null, [], [EVENT], undefined]) {
      assert.deepEqual(checkLogEvent(value), { ok: false, reason: 'not a JSON object' }, JSON.stringify(value));
    }
  });

  test('ts missing, of another type, or not finite is "ts is not a finite number"', () => {
    // Prepare
    const { ts: _ts, ...withoutTs } = EVENT;
    const cases: unknown[] = [
      withoutTs,
      { ...EVENT, ts: '1541106106796' },
      { ...EVENT, ts: null },
      { ...EVENT, ts: true },
      { ...EVENT, ts: [1541106106796] },
      { ...EVENT, ts: Number.POSITIVE_INFINITY },
      { ...EVENT, ts: Number.NEGATIVE_INFINITY },
      { ...EVENT, ts: Number.NaN },
    ];

    // Act / Assess
    for (const value of cases) {
      assert.deepEqual(checkLogEvent(value), { ok: false, reason: 'ts is not a finite number' }, JSON.stringify(value));
    }
  });

  test('ts beyond the JS date range (±8.64e15 ms) is "ts is not a finite number"; the range ends load', () => {
    // Act
    const over = checkLogEvent({ ...EVENT, ts: 8.64e15 + 1 });
    const under = checkLogEvent({ ...EVENT, ts: -8.64e15 - 1 });
    const huge = checkLogEvent({ ...EVENT, ts: 1e300 });
    const max = checkLogEvent({ ...EVENT, ts: 8.64e15 });
    const min = checkLogEvent({ ...EVENT, ts: -8.64e15 });

    // Assess
    assert.deepEqual(over, { ok: false, reason: 'ts is not a finite number' });
    assert.deepEqual(under, { ok: false, reason: 'ts is not a finite number' });
    assert.deepEqual(huge, { ok: false, reason: 'ts is not a finite number' });
    assert.equal(rowOf(max).ts, 8.64e15);
    assert.equal(rowOf(min).ts, -8.64e15);
  });

  test('page missing or not a string is "page is not a string"', () => {
    // Prepare
    const { page: _page, ...withoutPage } = EVENT;
    const cases: unknown[] = [withoutPage, { ...EVENT, page: 5 }, { ...EVENT, page: null }, { ...EVENT, page: ['x'] }];

    // Act / Assess
    for (const value of cases) {
      assert.deepEqual(checkLogEvent(value), { ok: false, reason: 'page is not a string' }, JSON.stringify(value));
    }
  });

  test('a bad ts is reported before a bad page', () => {
    assert.deepEqual(checkLogEvent({ ts: 'x', page: 1 }), { ok: false, reason: 'ts is not a finite number' });
  });
});

describe('checkLogEvent: normalisation', () => {
  test('a dataset event loads with every field typed and the userAgent unquoted', () => {
    // Act
    const checked = checkLogEvent(EVENT);

    // Assess
    assert.deepEqual(checked, { ok: true, row: EVENT_ROW });
  });

  test('only ts and page are required', () => {
    assert.deepEqual(rowOf(checkLogEvent({ ts: 1000, page: 'Home' })), {
      ts: 1000,
      page: 'Home',
      userId: null,
      firstName: null,
      lastName: null,
      gender: null,
      level: null,
      location: null,
      userAgent: null,
      song: null,
      artist: null,
      length: null,
      sessionId: null,
      itemInSession: null,
    });
  });

  test('the empty string is stored as null', () => {
    // Prepare
    const value = {
      ...EVENT,
      userId: '',
      firstName: '',
      lastName: '',
      gender: '',
      level: '',
      location: '',
      userAgent: '',
      song: '',
      artist: '',
    };

    // Act
    const row = rowOf(checkLogEvent(value));

    // Assess
    assert.deepEqual(row, {
      ...EVENT_ROW,
      userId: null,
      firstName: null,
      lastName: null,
      gender: null,
      level: null,
      location: null,
      userAgent: null,
      song: null,
      artist: null,
    });
  });

  test('fields of the wrong type are stored as null and the record loads', () => {
    // Prepare
    const value = {
      ...EVENT,
      userId: 8,
      firstName: 5,
      lastName: ['Summers'],
      gender: true,
      level: null,
      location: {},
      userAgent: [],
      song: 1,
      artist: false,
      length: '246.30812',
      sessionId: '139',
      itemInSession: null,
    };

    // Act
    const row = rowOf(checkLogEvent(value));

    // Assess
    assert.deepEqual(row, {
      ts: EVENT_ROW.ts,
      page: 'NextSong',
      userId: null,
      firstName: null,
      lastName: null,
      gender: null,
      level: null,
      location: null,
      userAgent: null,
      song: null,
      artist: null,
      length: null,
      sessionId: null,
      itemInSession: null,
    });
  });

  test('a non-finite length is stored as null', () => {
    assert.equal(rowOf(checkLogEvent({ ...EVENT, length: Number.POSITIVE_INFINITY })).length, null);
    assert.equal(rowOf(checkLogEvent({ ...EVENT, length: Number.NaN })).length, null);
    assert.equal(rowOf(checkLogEvent({ ...EVENT, length: 0 })).length, 0);
  });

  test('sessionId and itemInSession that are not integers are stored as null', () => {
    // Act
    const fractional = rowOf(checkLogEvent({ ...EVENT, sessionId: 139.5, itemInSession: 0.25 }));
    const integral = rowOf(checkLogEvent({ ...EVENT, sessionId: 0, itemInSession: -3 }));

    // Assess
    assert.equal(fractional.sessionId, null);
    assert.equal(fractional.itemInSession, null);
    assert.equal(integral.sessionId, 0);
    assert.equal(integral.itemInSession, -3);
  });

  test('a fractional ts is truncated to an integer', () => {
    assert.equal(rowOf(checkLogEvent({ ...EVENT, ts: 1541106106796.9 })).ts, 1541106106796);
    assert.equal(rowOf(checkLogEvent({ ...EVENT, ts: 1541106106796.1 })).ts, 1541106106796);
    assert.equal(rowOf(checkLogEvent({ ...EVENT, ts: -1.5 })).ts, -1);
  });

  test('a ts truncated to zero is +0, not -0', () => {
    const ts = rowOf(checkLogEvent({ ...EVENT, ts: -0.4 })).ts;
    assert.ok(Object.is(ts, 0), `ts is ${Object.is(ts, -0) ? '-0' : ts}`);
  });

  test('one pair of surrounding quotes is removed from userAgent', () => {
    assert.equal(rowOf(checkLogEvent({ ...EVENT, userAgent: '"Mozilla/5.0"' })).userAgent, 'Mozilla/5.0');
    assert.equal(rowOf(checkLogEvent({ ...EVENT, userAgent: 'Mozilla/5.0' })).userAgent, 'Mozilla/5.0');
    assert.equal(rowOf(checkLogEvent({ ...EVENT, userAgent: '""Mozilla""' })).userAgent, '"Mozilla"');
    // Nothing left inside the quotes: the empty string is missing.
    assert.equal(rowOf(checkLogEvent({ ...EVENT, userAgent: '""' })).userAgent, null);
  });

  test('double-encoded firstName, lastName, location, song and artist are repaired', () => {
    // Prepare
    const value = {
      ...EVENT,
      firstName: 'Aliz\u00c3\u0083\u00c2\u00a9e',
      lastName: 'M\u00c3\u00bcller',
      location: 'S\u00c3\u00a3o Paulo',
      song: 'Caf\u00c3\u0083\u00c2\u00a9 del Mar',
      artist: 'Beyonc\u00c3\u00a9',
    };

    // Act
    const row = rowOf(checkLogEvent(value));

    // Assess
    assert.equal(row.firstName, 'Alizée');
    assert.equal(row.lastName, 'Müller');
    assert.equal(row.location, 'São Paulo');
    assert.equal(row.song, 'Café del Mar');
    assert.equal(row.artist, 'Beyoncé');
  });

  test('correct text is not changed by the repair ("Zoë" stays "Zoë")', () => {
    const row = rowOf(checkLogEvent({ ...EVENT, firstName: 'Zoë', song: '東京' }));
    assert.equal(row.firstName, 'Zoë');
    assert.equal(row.song, '東京');
  });

  test('song and artist are not trimmed by validation (the join key trims them)', () => {
    const row = rowOf(checkLogEvent({ ...EVENT, song: ' You Gotta Be ', artist: "Des'ree " }));
    assert.equal(row.song, ' You Gotta Be ');
    assert.equal(row.artist, "Des'ree ");
  });
});

describe('checkSongRecord: rejects, in order', () => {
  test('a value that is not an object is "not a JSON object"', () => {
    for (const value of ['x', 1, true, null, [], [SONG], undefined]) {
      assert.deepEqual(checkSongRecord(value), { ok: false, reason: 'not a JSON object' }, JSON.stringify(value));
    }
  });

  test('song_id missing, empty or not a string is "song_id is missing or empty"', () => {
    const { song_id: _id, ...withoutId } = SONG;
    for (const value of [withoutId, { ...SONG, song_id: '' }, { ...SONG, song_id: 5 }, { ...SONG, song_id: null }]) {
      assert.deepEqual(checkSongRecord(value), { ok: false, reason: 'song_id is missing or empty' });
    }
  });

  test('artist_id missing, empty or not a string is "artist_id is missing or empty"', () => {
    const { artist_id: _id, ...withoutId } = SONG;
    for (const value of [withoutId, { ...SONG, artist_id: '' }, { ...SONG, artist_id: 7 }]) {
      assert.deepEqual(checkSongRecord(value), { ok: false, reason: 'artist_id is missing or empty' });
    }
  });

  test('title missing or not a string is "title is not a string"', () => {
    const { title: _title, ...withoutTitle } = SONG;
    for (const value of [withoutTitle, { ...SONG, title: 5 }, { ...SONG, title: null }]) {
      assert.deepEqual(checkSongRecord(value), { ok: false, reason: 'title is not a string' });
    }
  });

  test('duration missing, not a number or not finite is "duration is not a finite number"', () => {
    const { duration: _d, ...withoutDuration } = SONG;
    const cases: unknown[] = [
      withoutDuration,
      { ...SONG, duration: '152.92036' },
      { ...SONG, duration: null },
      { ...SONG, duration: Number.POSITIVE_INFINITY },
      { ...SONG, duration: Number.NaN },
    ];
    for (const value of cases) {
      assert.deepEqual(checkSongRecord(value), { ok: false, reason: 'duration is not a finite number' });
    }
  });

  test('the first failing rule gives the reason', () => {
    // Prepare: every rule broken, then fixed one by one
    const allBad = { song_id: '', artist_id: '', title: 1, duration: 'x' };

    // Act / Assess
    assert.deepEqual(checkSongRecord(allBad), { ok: false, reason: 'song_id is missing or empty' });
    assert.deepEqual(checkSongRecord({ ...allBad, song_id: 'S' }), {
      ok: false,
      reason: 'artist_id is missing or empty',
    });
    assert.deepEqual(checkSongRecord({ ...allBad, song_id: 'S', artist_id: 'A' }), {
      ok: false,
      reason: 'title is not a string',
    });
    assert.deepEqual(checkSongRecord({ ...allBad, song_id: 'S', artist_id: 'A', title: 'T' }), {
      ok: false,
      reason: 'duration is not a finite number',
    });
    assert.equal(checkSongRecord({ song_id: 'S', artist_id: 'A', title: 'T', duration: 1 }).ok, true);
  });
});

describe('checkSongRecord: normalisation', () => {
  test('a dataset song record loads with its table fields', () => {
    assert.deepEqual(checkSongRecord(SONG), { ok: true, row: SONG_ROW });
  });

  test('the dataset shape with unknowns: year 0, empty location, null coordinates', () => {
    // Prepare
    const value = { ...SONG, year: 0, artist_location: '', artist_latitude: null, artist_longitude: null };

    // Act
    const row = rowOf(checkSongRecord(value));

    // Assess
    assert.deepEqual(row, {
      ...SONG_ROW,
      year: null,
      artist_location: null,
      artist_latitude: null,
      artist_longitude: null,
    });
  });

  test('year that is not an integer, or outside int32, is stored as null', () => {
    const yearOf = (year: unknown): number | null => rowOf(checkSongRecord({ ...SONG, year })).year;
    assert.equal(yearOf(0), null);
    assert.equal(yearOf(1998.5), null);
    assert.equal(yearOf('1998'), null);
    assert.equal(yearOf(null), null);
    assert.equal(yearOf(2 ** 31), null);
    assert.equal(yearOf(2 ** 31 - 1), 2 ** 31 - 1);
    assert.equal(yearOf(2018), 2018);
  });

  test('latitude and longitude that are not finite numbers are stored as null', () => {
    // Act
    const strings = rowOf(checkSongRecord({ ...SONG, artist_latitude: '35.14968', artist_longitude: '-90.04892' }));
    const zeros = rowOf(checkSongRecord({ ...SONG, artist_latitude: 0, artist_longitude: 0 }));

    // Assess
    assert.equal(strings.artist_latitude, null);
    assert.equal(strings.artist_longitude, null);
    assert.equal(zeros.artist_latitude, 0);
    assert.equal(zeros.artist_longitude, 0);
  });

  test('an empty title loads and is stored as null', () => {
    assert.equal(rowOf(checkSongRecord({ ...SONG, title: '' })).title, null);
  });

  test('artist_name and artist_location of the wrong type are stored as null', () => {
    const row = rowOf(checkSongRecord({ ...SONG, artist_name: 5, artist_location: ['Memphis'] }));
    assert.equal(row.artist_name, null);
    assert.equal(row.artist_location, null);
  });

  test('double-encoded title, artist_name and artist_location are repaired', () => {
    // Prepare
    const value = {
      ...SONG,
      title: 'Les Bl\u00c3\u0083\u00c2\u00a9s',
      artist_name: 'Aliz\u00c3\u00a9e',
      artist_location: 'Montr\u00c3\u00a9al, Qu\u00c3\u00a9bec',
    };

    // Act
    const row = rowOf(checkSongRecord(value));

    // Assess
    assert.deepEqual(row, {
      ...SONG_ROW,
      title: 'Les Blés',
      artist_name: 'Alizée',
      artist_location: 'Montréal, Québec',
    });
  });
});

describe('songplayId', () => {
  const sha = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 32);

  test('is the first 32 hex chars of sha256("ts|userId|sessionId|itemInSession")', () => {
    // Prepare
    const event = { ts: 1541106106796, userId: '8', sessionId: 139, itemInSession: 1 };

    // Act
    const id = songplayId(event);

    // Assess
    assert.equal(id, sha('1541106106796|8|139|1'));
    assert.match(id, /^[0-9a-f]{32}$/);
  });

  test('writes missing values as empty text', () => {
    assert.equal(songplayId({ ts: 1000, userId: null, sessionId: null, itemInSession: null }), sha('1000|||'));
    assert.equal(songplayId({ ts: 1000, userId: '26', sessionId: null, itemInSession: 0 }), sha('1000|26||0'));
    assert.equal(songplayId({ ts: 0, userId: null, sessionId: 5, itemInSession: null }), sha('0||5|'));
  });

  test('is deterministic and tells different events apart', () => {
    // Prepare
    const a = { ts: 1541106106796, userId: '8', sessionId: 139, itemInSession: 1 };

    // Act
    const first = songplayId(a);
    const again = songplayId({ ...a });
    const others = [
      songplayId({ ...a, ts: 1541106106797 }),
      songplayId({ ...a, userId: '9' }),
      songplayId({ ...a, sessionId: 140 }),
      songplayId({ ...a, itemInSession: 2 }),
      songplayId({ ...a, userId: null }),
    ];

    // Assess
    assert.equal(again, first);
    assert.equal(new Set([first, ...others]).size, 6);
  });

  test('the id of a normalised event equals the id of the same event spelled out', () => {
    const row = rowOf(checkLogEvent(EVENT));
    assert.equal(songplayId(row), sha('1541106106796|8|139|1'));
  });
});

describe('joinKey', () => {
  test('trims both names', () => {
    assert.deepEqual(joinKey('  You Gotta Be ', "Des'ree\t"), { title: 'You Gotta Be', artist: "Des'ree" });
    assert.deepEqual(joinKey('Zoë', 'Beyoncé'), { title: 'Zoë', artist: 'Beyoncé' });
  });

  test('is null when either name is null', () => {
    assert.equal(joinKey(null, "Des'ree"), null);
    assert.equal(joinKey('You Gotta Be', null), null);
    assert.equal(joinKey(null, null), null);
  });
});

describe('countMissing', () => {
  test('counts the nulls among the values', () => {
    assert.equal(countMissing(), 0);
    assert.equal(countMissing('a', 1, 0, false), 0);
    assert.equal(countMissing(null, 'a', null, 0, null), 3);
    assert.equal(countMissing(null, null, null, null), 4);
  });

  test('counts the song fields of a normalised record as the precedence rule does', () => {
    const s = rowOf(checkSongRecord({ ...SONG, year: 0, artist_location: '', artist_latitude: null }));
    const missing = songMissing(s);
    assert.equal(missing, 3);
  });
});
