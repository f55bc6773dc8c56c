/** The real public sample end to end through the state machine, read back by DuckDB. */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { describeTable, duck, parquetTypes, readLake, readTable } from '../support/lake.ts';
import { computeExpected, type ExpectedTables } from '../support/oracle.ts';
import { PUBLIC_SAMPLE, runEtl, tempDir } from '../support/run.ts';

describe('public sample end to end', () => {
  const tmp = tempDir('public');
  let lake: Awaited<ReturnType<typeof readLake>>;
  let run: Awaited<ReturnType<typeof runEtl>>;
  let db: Awaited<ReturnType<typeof duck>>;
  let expected: ExpectedTables;

  before(async () => {
    run = await runEtl(PUBLIC_SAMPLE, tmp.dir);
    db = await duck();
    lake = await readLake(db, tmp.dir);
    expected = computeExpected(PUBLIC_SAMPLE);
  });
  after(() => tmp.remove());

  test('has the published row counts and no rejects', () => {
    assert.deepEqual(Object.fromEntries(Object.entries(lake).map(([t, rows]) => [t, rows.length])), {
      songplays: 6820,
      users: 97,
      songs: 71,
      artists: 69,
      time: 6813,
    });
    assert.deepEqual(run.result.rows, { songplays: 6820, users: 97, songs: 71, artists: 69, time: 6813 });
    assert.equal(run.result.rejects, 0);
    assert.deepEqual(readdirSync(tmp.dir).includes('_rejects'), false);
  });

  test('the report counts the storage calls S3 would bill and estimates the AWS cost from them', () => {
    const { storage, cost, stages } = run.report;
    assert.ok(storage.map.get >= 101, `map reads every input object: ${storage.map.get} GETs`);
    assert.ok(storage.facts.put >= 5, `facts writes every table: ${storage.facts.put} PUTs`);
    assert.deepEqual(storage.total, {
      get: storage.plan.get + storage.map.get + storage.dimensions.get + storage.facts.get + storage.commit.get,
      put: storage.plan.put + storage.map.put + storage.dimensions.put + storage.facts.put + storage.commit.put,
      list: storage.plan.list + storage.map.list + storage.dimensions.list + storage.facts.list + storage.commit.list,
      delete:
        storage.plan.delete +
        storage.map.delete +
        storage.dimensions.delete +
        storage.facts.delete +
        storage.commit.delete,
      retries: 0,
    });
    assert.equal(cost.s3Get, storage.total.get);
    assert.equal(cost.s3PutOrList, storage.total.put + storage.total.list);
    assert.equal(
      cost.stateTransitions,
      6 + stages.map.invocations + stages.dimensions.invocations + stages.facts.invocations,
    );
    assert.ok(cost.lambdaGbSeconds > 0 && cost.usd.total > 0 && cost.usd.total < 0.01, `$${cost.usd.total}`);
  });

  test('matches exactly one play: "Setanta matins" by Elena, user 15', () => {
    const matched = lake.songplays.filter((p) => p.song_id !== null);
    assert.equal(matched.length, 1);
    assert.equal(matched[0]?.song_id, 'SOZCTXZ12AB0182364');
    assert.equal(matched[0]?.artist_id, 'AR5KOSW1187FB35FF4');
    assert.equal(matched[0]?.user_id, '15');
    const song = lake.songs.find((s) => s.song_id === 'SOZCTXZ12AB0182364');
    assert.equal(song?.title, 'Setanta matins');
    assert.equal(lake.artists.find((a) => a.artist_id === 'AR5KOSW1187FB35FF4')?.name, 'Elena');
  });

  test('every table equals the independently computed one', () => {
    for (const table of ['songplays', 'users', 'songs', 'artists', 'time'] as const) {
      assert.deepEqual(lake[table], expected[table], table);
    }
  });

  test('the report counts read = loaded + rejected per source', () => {
    assert.deepEqual(
      { read: run.report.sources.log_data.read, loaded: run.report.sources.log_data.loaded },
      { read: 8056, loaded: 8056 },
    );
    assert.deepEqual(
      { read: run.report.sources.song_data.read, loaded: run.report.sources.song_data.loaded },
      { read: 71, loaded: 71 },
    );
    assert.equal(run.report.status, 'succeeded');
    assert.equal(run.report.tables.songplays.rows, 6820);
  });

  test('types and layout follow the contract', async () => {
    assert.deepEqual(await describeTable(db, tmp.dir, 'songplays'), {
      songplay_id: 'VARCHAR',
      start_time: 'TIMESTAMP WITH TIME ZONE',
      user_id: 'VARCHAR',
      level: 'VARCHAR',
      song_id: 'VARCHAR',
      artist_id: 'VARCHAR',
      session_id: 'BIGINT',
      location: 'VARCHAR',
      user_agent: 'VARCHAR',
      month: 'BIGINT',
      year: 'BIGINT',
    });
    const partitions = readdirSync(join(tmp.dir, 'songplays'));
    assert.deepEqual(partitions, ['year=2018']);
    assert.deepEqual(readdirSync(join(tmp.dir, 'songplays', 'year=2018')), ['month=11']);
    const file = readdirSync(join(tmp.dir, 'songplays', 'year=2018', 'month=11'))[0] as string;
    const types = await parquetTypes(db, join(tmp.dir, 'songplays', 'year=2018', 'month=11', file));
    assert.match(types.start_time ?? '', /^INT64 TimestampType\(isAdjustedToUTC=1, unit=TimeUnit\(MILLIS/);
    assert.match(types.session_id ?? '', /^INT64/);
    assert.equal('year' in types, false, 'partition columns live in the path only');
    const timeFile = join(tmp.dir, 'time', 'year=2018', 'month=11');
    const timeTypes = await parquetTypes(db, join(timeFile, readdirSync(timeFile)[0] as string));
    assert.match(timeTypes.hour ?? '', /^INT32/);
    assert.match(timeTypes.weekday ?? '', /^INT32/);
    // user_id stays a string as in the source, and songs of unknown year are kept with a null year.
    assert.ok(lake.users.every((u) => typeof u.user_id === 'string'));
    assert.equal(lake.songs.filter((s) => s.year === null).length, 43);
  });

  test('the classic layout (songs by year and artist_id) gives the same songs, unknown years in the null partition', async () => {
    const classic = tempDir('classic');
    try {
      await runEtl(PUBLIC_SAMPLE, classic.dir, { partitions: { songs: ['year', 'artist_id'] } });
      const songs = await readTable(db, classic.dir, 'songs');
      assert.deepEqual(songs, expected.songs);
      const years = readdirSync(join(classic.dir, 'songs'));
      assert.ok(years.includes('year=__HIVE_DEFAULT_PARTITION__'), 'null years in the Hive null partition');
      assert.ok(years.includes('year=2004'), 'known years as partitions');
      const artists = readdirSync(join(classic.dir, 'songs', 'year=2004'));
      assert.ok(
        artists.every((a) => /^artist_id=AR[0-9A-Z]+$/.test(a)),
        `artist partitions: ${artists.join(', ')}`,
      );
      const file = readdirSync(join(classic.dir, 'songs', 'year=2004', artists[0] as string))[0] as string;
      const types = await parquetTypes(db, join(classic.dir, 'songs', 'year=2004', artists[0] as string, file));
      assert.deepEqual(Object.keys(types), ['song_id', 'title', 'duration']);
    } finally {
      classic.remove();
    }
  });

  test('users partitioned by gender and level (partitions that key order does not keep together), time by month alone and songplays unpartitioned give the same tables', async () => {
    const other = tempDir('gender-level');
    try {
      // Act
      const result = await runEtl(PUBLIC_SAMPLE, other.dir, {
        buckets: 3,
        partitions: { users: ['gender', 'level'], time: ['month'], songplays: [] },
      });

      // Assess: the same rows; one file per partition, and each file holds the rows of its partition only
      assert.deepEqual(await readTable(db, other.dir, 'users'), expected.users);
      assert.deepEqual(await readTable(db, other.dir, 'time'), expected.time);
      assert.deepEqual(await readTable(db, other.dir, 'songplays'), expected.songplays);
      const files = (readdirSync(join(other.dir, 'users'), { recursive: true }) as string[]).filter((f) =>
        f.endsWith('.parquet'),
      );
      const partitions = files.map((f) => f.slice(0, f.lastIndexOf('/'))).sort();
      const wanted = new Set(expected.users.map((u) => `gender=${u.gender}/level=${u.level}`));
      assert.ok(wanted.size >= 4, `${wanted.size} partitions`);
      assert.deepEqual(partitions, [...wanted].sort());
      assert.equal(result.report.tables.users.files, files.length);
      assert.deepEqual(readdirSync(join(other.dir, 'time')), ['month=11']);
      const songplayFiles = readdirSync(join(other.dir, 'songplays')).filter((f) => f.endsWith('.parquet'));
      assert.ok(songplayFiles.length >= 1 && songplayFiles.length <= 3, `${songplayFiles.length} songplays files`);
    } finally {
      other.remove();
    }
  });

  test('leaves no scratch behind and a manifest naming exactly the files of each table', () => {
    assert.deepEqual(readdirSync(tmp.dir).sort(), [
      '_manifests',
      '_runs',
      '_state',
      'artists',
      'songplays',
      'songs',
      'time',
      'users',
    ]);
    assert.equal(
      run.report.tables.songs.files,
      (readdirSync(join(tmp.dir, 'songs'), { recursive: true }) as string[]).filter((f) => f.endsWith('.parquet'))
        .length,
    );
  });
});
