// Unit tests of shared/transform.ts: the shuffle hash, precedence, dedupe, sort order, sortedDistinct and the songplays join
// (docs/contract.md, "Precedence", "The join").
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as arrow from 'apache-arrow';
import type { Row } from '../../shared/columnar.ts';
import { TABLE_COLUMNS } from '../../shared/schemas.ts';
import {
  bucketOf,
  byClass,
  byLatest,
  byPrecedence,
  compareColumns,
  DURATION_TOLERANCE,
  dedupeRows,
  groupsByValue,
  joinBuckets,
  joinShuffleKey,
  matchSongs,
  partitionBucket,
  sortedDistinct,
  sortOrder,
} from '../../shared/transform.ts';
import { mulberry32 } from '../support/chunks.ts';

/** Fisher–Yates shuffle with a seeded PRNG; returns a new array. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const random = mulberry32(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

const byKey =
  (key: string) =>
  (a: Row, b: Row): number =>
    String(a[key]) < String(b[key]) ? -1 : String(a[key]) > String(b[key]) ? 1 : 0;

describe('bucketOf', () => {
  test('is 32-bit FNV-1a: the published test vectors with 2^32 buckets', () => {
    assert.equal(bucketOf('', 2 ** 32), 0x811c9dc5);
    assert.equal(bucketOf('a', 2 ** 32), 0xe40c292c);
    assert.equal(bucketOf('foobar', 2 ** 32), 0xbf9cf968);
  });

  test('stable known buckets', () => {
    // Values computed once with an independent BigInt FNV-1a over UTF-16 code units.
    assert.equal(bucketOf('', 16), 5);
    assert.equal(bucketOf('a', 16), 12);
    assert.equal(bucketOf('SOUPIRU12A6D4FA1E1', 4), 2);
    assert.equal(bucketOf('SOUPIRU12A6D4FA1E1', 16), 14);
    assert.equal(bucketOf('ARJIE2Y1187B994AB7', 4), 0);
    assert.equal(bucketOf('ARJIE2Y1187B994AB7', 16), 4);
    assert.equal(bucketOf('8', 4), 3);
    assert.equal(bucketOf('Zoë', 2 ** 32), 0x7907a397);
    assert.equal(bucketOf('🎵', 2 ** 32), 0x442e75ca);
  });

  test('is in [0, buckets) and an integer for every key', () => {
    // Prepare
    const keys = Array.from({ length: 10_000 }, (_, i) => `key-${i}-${'é'.repeat(i % 5)}`);

    // Act / Assess
    for (const buckets of [1, 3, 16, 1024]) {
      const outside = keys.filter((k) => {
        const b = bucketOf(k, buckets);
        return !Number.isInteger(b) || b < 0 || b >= buckets;
      });
      assert.deepEqual(outside, [], `buckets = ${buckets}`);
    }
    assert.equal(bucketOf('anything', 1), 0);
  });

  test('spreads 10,000 keys over 16 buckets, each within ±30% of the mean', () => {
    // Prepare: song-id-like keys
    const random = mulberry32(16);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
    const keys = new Set<string>();
    while (keys.size < 10_000) {
      let id = 'SO';
      for (let i = 0; i < 16; i++) id += alphabet[Math.floor(random() * alphabet.length)];
      keys.add(id);
    }

    // Act
    const counts = new Array<number>(16).fill(0);
    for (const k of keys) counts[bucketOf(k, 16)] = (counts[bucketOf(k, 16)] ?? 0) + 1;

    // Assess
    const mean = 10_000 / 16;
    assert.equal(
      counts.reduce((a, b) => a + b, 0),
      10_000,
    );
    for (const [bucket, n] of counts.entries()) {
      assert.ok(n >= mean * 0.7 && n <= mean * 1.3, `bucket ${bucket} holds ${n} keys (mean ${mean})`);
    }
  });

  test('sequential keys (user ids) also spread within ±30%', () => {
    const counts = new Array<number>(16).fill(0);
    for (let i = 0; i < 10_000; i++) {
      const b = bucketOf(String(i), 16);
      counts[b] = (counts[b] ?? 0) + 1;
    }
    for (const [bucket, n] of counts.entries()) {
      assert.ok(n >= 625 * 0.7 && n <= 625 * 1.3, `bucket ${bucket} holds ${n} keys`);
    }
  });
});

describe('partitionBucket', () => {
  const monthBucket = (year: number, month: number, buckets: number, offset = 4): number =>
    partitionBucket(offset, ['year', 'month'], [year, month], buckets);

  test('12 consecutive months go to 12 different reducers of 12, across the turn of a year', () => {
    const months = [[2018, 11], [2018, 12], ...Array.from({ length: 10 }, (_, i) => [2019, i + 1])] as const;
    const buckets = months.map(([y, m]) => monthBucket(y, m, 12));
    assert.equal(new Set(buckets).size, 12);
    // Next to each other: November to December, December to January.
    assert.equal(buckets[1], ((buckets[0] as number) + 1) % 12);
    assert.equal(buckets[2], ((buckets[1] as number) + 1) % 12);
  });

  test('the unpartitioned tables go to their own offsets', () => {
    assert.deepEqual(
      [1, 2, 3].map((offset) => partitionBucket(offset, [], [], 4)),
      [1, 2, 3],
    );
    assert.equal(partitionBucket(5, [], [], 4), 1);
  });

  test('text, null and negative values stay within the buckets, and one partition always goes to one bucket', () => {
    for (const buckets of [1, 4, 7, 1024]) {
      for (const values of [['paid'], [null], [-3], [2019, -1], [1.5]] as (string | number | null)[][]) {
        const path = JSON.stringify(values);
        const b = partitionBucket(2, ['level'], values, buckets);
        assert.ok(b >= 0 && b < buckets && Number.isInteger(b), `${path} over ${buckets}: ${b}`);
        assert.equal(partitionBucket(2, ['level'], values, buckets), b);
      }
    }
    // Text hashes: two values apart.
    assert.notEqual(partitionBucket(1, ['level'], ['free'], 1024), partitionBucket(1, ['level'], ['paid'], 1024));
  });
});

describe('byPrecedence', () => {
  test('fewest missing values first, whatever the source and line', () => {
    // Prepare
    const complete: Row = { missing: 0, src: 'song_data/Z/z.json', line: 9 };
    const partial: Row = { missing: 1, src: 'song_data/A/a.json', line: 1 };

    // Act / Assess
    assert.ok(byPrecedence(complete, partial) < 0);
    assert.ok(byPrecedence(partial, complete) > 0);
  });

  test('then the smallest source key (plain code-unit order), whatever the line', () => {
    const a: Row = { missing: 2, src: 'log_data/2018/11/2018-11-01-events.json', line: 500 };
    const b: Row = { missing: 2, src: 'log_data/2018/11/2018-11-02-events.json', line: 1 };
    assert.ok(byPrecedence(a, b) < 0);
    assert.ok(byPrecedence(b, a) > 0);
    // Uppercase sorts before lowercase in code-unit order (no locale collation).
    assert.ok(byPrecedence({ missing: 0, src: 'Z', line: 1 }, { missing: 0, src: 'a', line: 1 }) < 0);
  });

  test('then the smallest line', () => {
    const a: Row = { missing: 1, src: 'k', line: 2 };
    const b: Row = { missing: 1, src: 'k', line: 10 };
    assert.ok(byPrecedence(a, b) < 0);
    assert.ok(byPrecedence(b, a) > 0);
    assert.equal(byPrecedence(a, { ...a }), 0);
  });

  test('sorts rows in precedence order', () => {
    // Prepare
    const expected: Row[] = [
      { id: 1, missing: 0, src: 'b', line: 3 },
      { id: 2, missing: 1, src: 'a', line: 7 },
      { id: 3, missing: 1, src: 'a', line: 8 },
      { id: 4, missing: 1, src: 'b', line: 1 },
      { id: 5, missing: 3, src: 'a', line: 1 },
    ];

    // Act
    const sorted = shuffled(expected, 3).sort(byPrecedence);

    // Assess
    assert.deepEqual(
      sorted.map((r) => r.id),
      [1, 2, 3, 4, 5],
    );
  });
});

describe('byLatest', () => {
  test('the latest ts first, even with more missing values', () => {
    const newer: Row = { ts: 2000, missing: 4, src: 'z', line: 9 };
    const older: Row = { ts: 1000, missing: 0, src: 'a', line: 1 };
    assert.ok(byLatest(newer, older) < 0);
    assert.ok(byLatest(older, newer) > 0);
  });

  test('equal ts: precedence decides (missing, then src, then line)', () => {
    const base: Row = { ts: 1000, missing: 1, src: 'k', line: 5 };
    assert.ok(byLatest({ ...base, missing: 0 }, base) < 0);
    assert.ok(byLatest({ ...base, src: 'j' }, base) < 0);
    assert.ok(byLatest({ ...base, line: 4 }, base) < 0);
    assert.ok(byLatest(base, { ...base, line: 4 }) > 0);
    assert.equal(byLatest(base, { ...base }), 0);
  });
});

/** dedupeRows over row objects: the rows kept and the winners. */
function dedupeBySource(rows: readonly Row[], key: string, compare: (a: Row, b: Row) => number) {
  const at = (i: number) => rows[i] as Row;
  const { kept, winners } = dedupeRows(
    rows.length,
    groupsByValue(rows.length, (i) => at(i)[key]),
    (i) => at(i).src,
    (i, j) => compare(at(i), at(j)),
  );
  return { kept: Array.from(kept, at), winners: Array.from(winners, at) };
}

describe('compareColumns', () => {
  test('compares row numbers of columns as the comparator compares the rows they make', () => {
    // Prepare: 200 seeded-random rows as columns, and as rows
    const random = mulberry32(5);
    const rows: Row[] = Array.from({ length: 200 }, () => ({
      ts: 1000 * Math.floor(random() * 3),
      missing: Math.floor(random() * 2),
      src: `log_data/${Math.floor(random() * 3)}`,
      line: Math.floor(random() * 4),
    }));
    const columns = Object.fromEntries(['ts', 'missing', 'src', 'line'].map((c) => [c, rows.map((r) => r[c] ?? null)]));

    // Act
    const order = compareColumns(byLatest, columns);

    // Assess: the same sign for every pair, and each sign occurs
    const signs = new Set<number>();
    for (let i = 0; i < 200; i++) {
      for (let j = 0; j < 200; j++) {
        const sign = Math.sign(order(i, j));
        assert.equal(sign, Math.sign(byLatest(rows[i] as Row, rows[j] as Row)), `rows ${i} and ${j}`);
        signs.add(sign);
      }
    }
    assert.deepEqual([...signs].sort(), [-1, 0, 1]);
  });
});

describe('dedupeRows', () => {
  /** 2,000 seeded-random rows over 100 keys and 5 sources (src and line unique per row). */
  const randomRows = (seed: number): Row[] => {
    const random = mulberry32(seed);
    return Array.from({ length: 2000 }, (_, i) => ({
      k: `K${Math.floor(random() * 100)}`,
      missing: Math.floor(random() * 4),
      src: `src/${Math.floor(random() * 5)}`,
      line: i + 1,
    }));
  };
  const dedupe = (rows: Row[], key: string, compare: (a: Row, b: Row) => number) =>
    dedupeBySource(rows, key, compare).winners;

  // Several candidates per key; the winners are worked out by hand below.
  const songs: Row[] = [
    { song_id: 'S1', title: 'a', missing: 2, src: 'song_data/A/1.json', line: 1 },
    { song_id: 'S1', title: 'b', missing: 1, src: 'song_data/B/1.json', line: 1 },
    { song_id: 'S1', title: 'c', missing: 1, src: 'song_data/A/9.json', line: 3 }, // winner: fewest, then src
    { song_id: 'S1', title: 'd', missing: 1, src: 'song_data/A/9.json', line: 4 },
    { song_id: 'S2', title: 'e', missing: 0, src: 'song_data/C/1.json', line: 2 },
    { song_id: 'S2', title: 'f', missing: 0, src: 'song_data/C/1.json', line: 1 }, // winner: same src, line 1
    { song_id: 'S3', title: 'g', missing: 5, src: 'song_data/Z/1.json', line: 1 }, // only candidate
  ];
  const users: Row[] = [
    { user_id: '8', level: 'free', ts: 1000, missing: 0, src: 'log_data/a', line: 1 },
    { user_id: '8', level: 'paid', ts: 3000, missing: 2, src: 'log_data/b', line: 7 }, // winner: latest
    { user_id: '8', level: 'free', ts: 2000, missing: 0, src: 'log_data/a', line: 2 },
    { user_id: '9', level: 'free', ts: 5000, missing: 1, src: 'log_data/a', line: 3 },
    { user_id: '9', level: 'paid', ts: 5000, missing: 0, src: 'log_data/b', line: 1 }, // winner: tie, fewer missing
  ];

  test('keeps the precedence winner of every key', () => {
    // Act
    const winners = dedupe(songs, 'song_id', byPrecedence).sort(byKey('song_id'));

    // Assess
    assert.deepEqual(
      winners.map((r) => [r.song_id, r.title]),
      [
        ['S1', 'c'],
        ['S2', 'f'],
        ['S3', 'g'],
      ],
    );
  });

  test('keeps the latest user event, precedence breaking ties', () => {
    const winners = dedupe(users, 'user_id', byLatest).sort(byKey('user_id'));
    assert.deepEqual(
      winners.map((r) => [r.user_id, r.level, r.ts]),
      [
        ['8', 'paid', 3000],
        ['9', 'paid', 5000],
      ],
    );
  });

  test('does not depend on input order', () => {
    // Prepare
    const expectedSongs = dedupe(songs, 'song_id', byPrecedence).sort(byKey('song_id'));
    const expectedUsers = dedupe(users, 'user_id', byLatest).sort(byKey('user_id'));

    // Act / Assess: 50 shuffles each, and the reversed order
    for (let seed = 1; seed <= 50; seed++) {
      assert.deepEqual(dedupe(shuffled(songs, seed), 'song_id', byPrecedence).sort(byKey('song_id')), expectedSongs);
      assert.deepEqual(dedupe(shuffled(users, seed), 'user_id', byLatest).sort(byKey('user_id')), expectedUsers);
    }
    assert.deepEqual(dedupe([...songs].reverse(), 'song_id', byPrecedence).sort(byKey('song_id')), expectedSongs);
  });

  test('on a larger random input, equals a sort-based reference under any order', () => {
    // Prepare: 2,000 rows over 100 keys with random provenance (unique src+line per row)
    const rows = randomRows(99);
    const reference = new Map<string, Row>();
    for (const row of [...rows].sort(byPrecedence))
      if (!reference.has(row.k as string)) reference.set(row.k as string, row);
    const expected = [...reference.values()].sort(byKey('k'));

    // Act
    const results = [1, 2, 3].map((seed) => dedupe(shuffled(rows, seed), 'k', byPrecedence).sort(byKey('k')));

    // Assess
    assert.equal(expected.length, 100);
    for (const result of results) assert.deepEqual(result, expected);
  });

  test('keeps the best row of every (key, source object), and the winners are the best of those', () => {
    // Prepare: 2,000 rows over 100 keys and 5 sources, several per (key, source)
    const rows = randomRows(7);
    const reference = new Map<string, Row>();
    for (const row of [...rows].sort(byPrecedence)) {
      const pair = `${row.k}|${row.src}`;
      if (!reference.has(pair)) reference.set(pair, row);
    }
    const byPair = (a: Row, b: Row) => byKey('k')(a, b) || byKey('src')(a, b);

    // Act
    const { kept, winners } = dedupeBySource(shuffled(rows, 4), 'k', byPrecedence);

    // Assess
    assert.ok(reference.size > 400 && reference.size < 2000, `${reference.size} pairs`);
    assert.deepEqual([...kept].sort(byPair), [...reference.values()].sort(byPair));
    assert.equal(winners.length, 100);
    for (const w of winners) assert.ok(kept.filter((r) => r.k === w.k).every((r) => byPrecedence(w, r) <= 0));
  });
});

describe('sortedDistinct', () => {
  test('each distinct start time once, ascending, negative ones included', () => {
    // Prepare
    const values = [1000, 2000, 1000, 3000, 2000, 0, -5, 1541105830796, -5];

    // Act
    const out = sortedDistinct(values);

    // Assess
    assert.ok(out instanceof Float64Array);
    assert.deepEqual([...out], [-5, 0, 1000, 2000, 3000, 1541105830796]);
  });

  test('matches a Set of 20,000 seeded-random values, many repeated', () => {
    // Prepare
    const random = mulberry32(3);
    const values = Array.from({ length: 20_000 }, () => Math.floor((random() - 0.5) * 8000) * 1_000_003);

    // Act
    const out = sortedDistinct(values);

    // Assess
    const want = [...new Set(values)].sort((a, b) => a - b);
    assert.ok(want.length > 5000 && want.length < 8001, `${want.length} distinct`);
    assert.deepEqual([...out], want);
  });

  test('an empty input gives none; a value that is not a number is an error, not dropped', () => {
    assert.equal(sortedDistinct([]).length, 0);
    assert.throws(() => sortedDistinct([1, null, 2]), /a start time that is not a number: null/);
  });
});

describe('matchSongs', () => {
  const SONGPLAY_COLUMNS = TABLE_COLUMNS.songplays.map((c) => c.name);

  /** Songplays rows of plays as the facts reducer writes them: the plays' columns and each one's match. */
  const joinSongplays = (plays: readonly Row[], songs: readonly Row[]): Row[] => {
    const column = (name: string) => plays.map((p) => p[name] ?? null);
    // The names as the reducer gives them: plain Arrow text, made here by Arrow's own builder.
    const text = (name: string) =>
      arrow.vectorFromArray(column(name) as (string | null)[], new arrow.Utf8()).data[0] as arrow.Data;
    const matched = matchSongs(text('song'), text('artist'), column('length'), songs);
    return plays.map((p, i) =>
      Object.fromEntries(
        SONGPLAY_COLUMNS.map((c) => [
          c,
          c === 'song_id' || c === 'artist_id' ? (matched[c][i] ?? null) : (p[c] ?? null),
        ]),
      ),
    );
  };

  const song = (song_id: string, duration: number, over: Partial<Row> = {}): Row => ({
    song_id,
    artist_id: `AR-${song_id}`,
    title: 'You Gotta Be',
    artist_name: "Des'ree",
    duration,
    ...over,
  });

  const play = (songplay_id: string, length: number | null, over: Partial<Row> = {}): Row => ({
    songplay_id,
    start_time: 1541106106796,
    user_id: '8',
    level: 'free',
    song: 'You Gotta Be',
    artist: "Des'ree",
    length,
    session_id: 139,
    location: 'Phoenix-Mesa-Scottsdale, AZ',
    user_agent: 'Mozilla/5.0',
    ...over,
  });

  const matchOf = (rows: Row[]): (string | number | null | undefined)[][] =>
    rows.map((r) => [r.songplay_id, r.song_id, r.artist_id]);

  test('an exact match gives the song and its artist', () => {
    // Prepare
    const songs = [song('SOA', 246.30812)];
    const plays = [play('p1', 246.30812)];

    // Act
    const out = joinSongplays(plays, songs);

    // Assess
    assert.deepEqual(out, [
      {
        songplay_id: 'p1',
        start_time: 1541106106796,
        user_id: '8',
        level: 'free',
        song_id: 'SOA',
        artist_id: 'AR-SOA',
        session_id: 139,
        location: 'Phoenix-Mesa-Scottsdale, AZ',
        user_agent: 'Mozilla/5.0',
      },
    ]);
  });

  test('a duration difference of 0.0099 s matches, 0.01 s does not', () => {
    // Prepare
    assert.equal(DURATION_TOLERANCE, 0.01);
    const songs = [song('SOA', 100)];
    const plays = [play('above', 100.0099), play('below', 99.9901), play('over', 100.01), play('under', 99.99)];

    // Act
    const out = joinSongplays(plays, songs);

    // Assess
    assert.deepEqual(matchOf(out), [
      ['above', 'SOA', 'AR-SOA'],
      ['below', 'SOA', 'AR-SOA'],
      ['over', null, null],
      ['under', null, null],
    ]);
  });

  test('the closest duration wins, in any song order', () => {
    // Prepare
    const songs = [song('SOA', 100.005), song('SOB', 100.001), song('SOC', 99.996)];

    // Act
    const results = [songs, [...songs].reverse(), shuffled(songs, 5)].map((s) => joinSongplays([play('p1', 100)], s));

    // Assess
    for (const out of results) assert.deepEqual(matchOf(out), [['p1', 'SOB', 'AR-SOB']]);
  });

  test('equal distance: the smallest song_id wins, in any song order', () => {
    // Prepare: same duration, and equal distances on both sides (exact binary fractions)
    const same = [song('SOB', 100.002), song('SOA', 100.002), song('SOC', 100.002)];
    const sides = [song('SOY', 100 + 2 ** -8), song('SOX', 100 - 2 ** -8)];

    // Act / Assess
    for (const songs of [same, [...same].reverse()]) {
      assert.deepEqual(matchOf(joinSongplays([play('p1', 100)], songs)), [['p1', 'SOA', 'AR-SOA']]);
    }
    for (const songs of [sides, [...sides].reverse()]) {
      assert.deepEqual(matchOf(joinSongplays([play('p1', 100)], songs)), [['p1', 'SOX', 'AR-SOX']]);
    }
  });

  test('names must be equal: another title, artist or case does not match', () => {
    // Prepare
    const songs = [song('SOA', 200)];
    const plays = [
      play('title', 200, { song: 'You Gotta Be (Remix)' }),
      play('artist', 200, { artist: 'Desree' }),
      play('case', 200, { song: 'you gotta be' }),
      play('ok', 200),
    ];

    // Act
    const out = joinSongplays(plays, songs);

    // Assess
    assert.deepEqual(matchOf(out), [
      ['title', null, null],
      ['artist', null, null],
      ['case', null, null],
      ['ok', 'SOA', 'AR-SOA'],
    ]);
  });

  test('names are compared whole: split differently, non-ASCII, or a prefix of another', () => {
    // Prepare: two songs whose title and artist joined are the same text, a non-ASCII pair, and a title that is a
    // prefix of another's
    const songs = [
      song('SOAB', 200, { title: 'ab', artist_name: 'c' }),
      song('SOA', 200, { title: 'a', artist_name: 'bc' }),
      song('SOZ', 200, { title: 'Moi… Lolita', artist_name: 'Alizée' }),
      song('SOZ2', 200, { title: 'Moi… Lolita (remix)', artist_name: 'Alizée' }),
    ];
    const plays = [
      play('ab/c', 200, { song: 'ab', artist: 'c' }),
      play('a/bc', 200, { song: 'a', artist: 'bc' }),
      play('abc/', 200, { song: 'abc', artist: '' }),
      play('accent', 200, { song: 'Moi… Lolita', artist: 'Alizée' }),
      play('no accent', 200, { song: 'Moi… Lolita', artist: 'Alizee' }),
      play('remix', 200, { song: 'Moi… Lolita (remix)', artist: 'Alizée' }),
    ];

    // Act
    const out = joinSongplays(plays, songs);

    // Assess
    assert.deepEqual(matchOf(out), [
      ['ab/c', 'SOAB', 'AR-SOAB'],
      ['a/bc', 'SOA', 'AR-SOA'],
      ['abc/', null, null],
      ['accent', 'SOZ', 'AR-SOZ'],
      ['no accent', null, null],
      ['remix', 'SOZ2', 'AR-SOZ2'],
    ]);
  });

  test('a null song, artist or length never matches', () => {
    // Prepare
    const songs = [song('SOA', 200)];
    const plays = [
      play('no-song', 200, { song: null }),
      play('no-artist', 200, { artist: null }),
      play('no-length', null),
    ];

    // Act
    const out = joinSongplays(plays, songs);

    // Assess
    assert.deepEqual(matchOf(out), [
      ['no-song', null, null],
      ['no-artist', null, null],
      ['no-length', null, null],
    ]);
  });

  test('unmatched plays keep every other column and null song_id / artist_id', () => {
    // Prepare
    const plays = [play('p1', 10, { user_id: null, level: 'paid', session_id: 2 ** 40, location: null })];

    // Act
    const out = joinSongplays(plays, []);

    // Assess
    assert.deepEqual(out, [
      {
        songplay_id: 'p1',
        start_time: 1541106106796,
        user_id: null,
        level: 'paid',
        song_id: null,
        artist_id: null,
        session_id: 2 ** 40,
        location: null,
        user_agent: 'Mozilla/5.0',
      },
    ]);
  });

  test('output rows have exactly the songplays columns, in order, one per play', () => {
    // Prepare: plays carry the join fields and more; a matched and an unmatched play
    const plays = [play('p1', 200, { missing: 0, src: 'x', line: 1 }), play('p2', 1)];

    // Act
    const out = joinSongplays(plays, [song('SOA', 200)]);

    // Assess
    assert.equal(out.length, 2);
    for (const row of out) assert.deepEqual(Object.keys(row), SONGPLAY_COLUMNS);
    assert.deepEqual(SONGPLAY_COLUMNS, [
      'songplay_id',
      'start_time',
      'user_id',
      'level',
      'song_id',
      'artist_id',
      'session_id',
      'location',
      'user_agent',
    ]);
  });

  test('plays of several songs are matched independently and keep their order', () => {
    // Prepare
    const songs = [
      song('SO1', 180, { title: 'Intro', artist_name: 'Zoë' }),
      song('SO2', 240, { title: 'Outro', artist_name: 'Zoë' }),
      song('SO3', 240, { title: 'Intro', artist_name: 'Beyoncé', artist_id: 'ARB' }),
    ];
    const plays = [
      play('p1', 240, { song: 'Intro', artist: 'Beyoncé' }),
      play('p2', 180, { song: 'Intro', artist: 'Zoë' }),
      play('p3', 180, { song: 'Outro', artist: 'Zoë' }),
      play('p4', 240, { song: 'Outro', artist: 'Zoë' }),
    ];

    // Act
    const out = joinSongplays(plays, songs);

    // Assess
    assert.deepEqual(matchOf(out), [
      ['p1', 'SO3', 'ARB'],
      ['p2', 'SO1', 'AR-SO1'],
      ['p3', null, null],
      ['p4', 'SO2', 'AR-SO2'],
    ]);
  });
});

describe('joinShuffleKey', () => {
  test('joins both names with a NUL separator so ("ab","c") and ("a","bc") differ', () => {
    assert.equal(joinShuffleKey('You Gotta Be', "Des'ree"), "You Gotta Be\u0000Des'ree");
    assert.notEqual(joinShuffleKey('ab', 'c'), joinShuffleKey('a', 'bc'));
  });
});

describe('byClass', () => {
  test('positions grouped by class, in order within each, empty classes included', () => {
    const { starts, members } = byClass([2, 0, 2, 3, 0, 2], 4);
    assert.deepEqual([...starts], [0, 2, 2, 5, 6]);
    assert.deepEqual([...members], [1, 4, 0, 2, 5, 3]);
  });
});

describe('joinBuckets', () => {
  /** Seeded names: ASCII mostly, some with accents, CJK or an emoji, some empty, some null. */
  function names(n: number, seed: number): (string | null)[] {
    const random = mulberry32(seed);
    const pieces = ['a', 'Z', ' ', "'", '0', 'é', '東', '🎵', '\u0001', '~'];
    return Array.from({ length: n }, () => {
      if (random() < 0.1) return null;
      const length = Math.floor(random() * 30);
      return Array.from({ length }, () => pieces[Math.floor(random() * (random() < 0.9 ? 6 : 10))]).join('');
    });
  }
  const expected = (titles: (string | null)[], artists: (string | null)[], buckets: number): number[] =>
    titles.map((t, i) => {
      const a = artists[i];
      return t === null || a === null || a === undefined ? -1 : bucketOf(joinShuffleKey(t, a), buckets);
    });
  const utf8 = (values: (string | null)[]) => arrow.vectorFromArray(values, new arrow.Utf8()).data[0] as arrow.Data;

  test("the bucket of each row's join key as bucketOf gives it, -1 where a name is null, ASCII or not", () => {
    for (const buckets of [1, 4, 12, 7919]) {
      // Prepare
      const [titles, artists] = [names(3000, buckets), names(3000, buckets + 1)];

      // Act
      const routes = joinBuckets(utf8(titles), utf8(artists), buckets);

      // Assess
      assert.deepEqual([...routes], expected(titles, artists, buckets));
    }
  });

  test('dictionary and sliced columns are read through their indices and offset', () => {
    // Prepare: the artists as a dictionary, the titles as the second half of a longer column
    const [titles, artists] = [names(2000, 5), names(1000, 6)];
    const dictionary = arrow.vectorFromArray(artists, new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32()));
    const sliced = (utf8(titles) as arrow.Data).slice(1000, 1000);

    // Act
    const routes = joinBuckets(sliced, dictionary.data[0] as arrow.Data, 12);

    // Assess
    assert.deepEqual([...routes], expected(titles.slice(1000), artists, 12));
  });
});

describe('sortOrder', () => {
  /** Rows in the order sortOrder gives for their values of the columns. */
  const orderRows = (rows: readonly Row[], columns: readonly string[]): Row[] =>
    Array.from(
      sortOrder(
        rows.length,
        columns.map((c) => rows.map((r) => r[c])),
      ),
      (i) => rows[i] as Row,
    );

  const ids = (rows: Row[]) => rows.map((r) => r.id);

  test('ties of every column are broken by the order given last, before arrival', () => {
    // Prepare: times with ties, and an order of the rows by a text the columns do not hold (descending)
    const times = [30, 10, 30, 10, 30];
    const texts = ['b', 'x', 'c', 'x', 'a'];

    // Act
    const order = sortOrder(times.length, [times], (i, j) =>
      (texts[j] as string) < (texts[i] as string) ? -1 : texts[i] === texts[j] ? 0 : 1,
    );

    // Assess: 10s first (their texts tie: arrival), then the 30s by text descending
    assert.deepEqual([...order], [1, 3, 2, 0, 4]);
  });

  test('numbers: by the first column, ties by the next, then by arrival; the input is left as it was', () => {
    // Prepare
    const rows: Row[] = [
      { id: 1, t: 30, k: 'b' },
      { id: 2, t: 10, k: 'z' },
      { id: 3, t: 30, k: 'a' },
      { id: 4, t: -5, k: 'q' },
      { id: 5, t: 30, k: 'a' },
      { id: 6, t: 10, k: null },
    ];

    // Act
    const ordered = orderRows(rows, ['t', 'k']);

    // Assess
    assert.deepEqual(ids(ordered), [4, 2, 6, 3, 5, 1]);
    assert.deepEqual(ids(rows), [1, 2, 3, 4, 5, 6]);
  });

  test('texts by code units, nulls last; a column of numbers with a null orders as mixed values do', () => {
    // Prepare
    const texts: Row[] = [
      { id: 1, k: 'b' },
      { id: 2, k: null },
      { id: 3, k: 'B' },
      { id: 4, k: 'é' },
      { id: 5, k: 'a' },
    ];
    const mixed: Row[] = [
      { id: 1, k: 3 },
      { id: 2, k: null },
      { id: 3, k: 1 },
      { id: 4, k: 2 },
    ];

    // Act, Assess
    assert.deepEqual(ids(orderRows(texts, ['k'])), [3, 5, 1, 4, 2]);
    assert.deepEqual(ids(orderRows(mixed, ['k'])), [3, 4, 1, 2]);
  });

  test('agrees with a plain comparator sort on 5,000 seeded-random rows with many ties', () => {
    // Prepare
    const random = mulberry32(5);
    const rows: Row[] = Array.from({ length: 5000 }, (_, id) => ({
      id,
      t: Math.floor(random() * 300) * 1000,
      s: Math.floor(random() * 50).toString(16),
    }));
    const text = (a: Row, b: Row) =>
      (a.s as string) < (b.s as string) ? -1 : (a.s as string) > (b.s as string) ? 1 : 0;
    const byNumber = [...rows].sort(
      (a, b) => (a.t as number) - (b.t as number) || text(a, b) || (a.id as number) - (b.id as number),
    );
    const byText = [...rows].sort((a, b) => text(a, b) || (a.id as number) - (b.id as number));

    // Act, Assess
    assert.deepEqual(ids(orderRows(rows, ['t', 's'])), ids(byNumber));
    assert.deepEqual(ids(orderRows(rows, ['s'])), ids(byText));
  });
});
