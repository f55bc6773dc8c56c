// Unit tests of shared/keys.ts: every object key is deterministic and Hive partition paths follow the contract
// (docs/contract.md, "Tables": a null partition value is __HIVE_DEFAULT_PARTITION__).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  HIVE_NULL,
  manifestKey,
  newRunId,
  partitionOf,
  partitionPath,
  rejectsKey,
  SHUFFLES,
  shuffleBucketPrefix,
  shuffleKey,
  tableFileKey,
} from '../../shared/keys.ts';

const RUN = '20181101T210146Z-0a1b2c';

describe('partitionOf', () => {
  test("a table file's partition path, '' when the table is unpartitioned", () => {
    assert.equal(partitionOf('songplays', 'songplays/year=2018/month=11/part-r-b0000.parquet'), 'year=2018/month=11/');
    assert.equal(partitionOf('users', 'users/part-r-b0000.parquet'), '');
  });
});

describe('partitionPath', () => {
  test('writes column=value/ for each partition column, in order', () => {
    assert.equal(partitionPath(['year', 'month'], [2018, 11]), 'year=2018/month=11/');
    assert.equal(partitionPath(['month', 'year'], [11, 2018]), 'month=11/year=2018/');
    assert.equal(partitionPath(['level', 'gender'], ['paid', 'F']), 'level=paid/gender=F/');
    assert.equal(
      partitionPath(['year', 'artist_id'], [2018, 'ARJIE2Y1187B994AB7']),
      'year=2018/artist_id=ARJIE2Y1187B994AB7/',
    );
  });

  test('an unpartitioned table has an empty path', () => {
    assert.equal(partitionPath([], []), '');
  });

  test('null and the empty string are __HIVE_DEFAULT_PARTITION__', () => {
    // Act
    const nullYear = partitionPath(['year'], [null]);
    const emptyLevel = partitionPath(['level', 'gender'], ['', 'M']);
    const both = partitionPath(['year', 'month'], [null, null]);

    // Assess
    assert.equal(HIVE_NULL, '__HIVE_DEFAULT_PARTITION__');
    assert.equal(nullYear, 'year=__HIVE_DEFAULT_PARTITION__/');
    assert.equal(emptyLevel, 'level=__HIVE_DEFAULT_PARTITION__/gender=M/');
    assert.equal(both, 'year=__HIVE_DEFAULT_PARTITION__/month=__HIVE_DEFAULT_PARTITION__/');
  });

  test('zero is a value, not a missing one', () => {
    assert.equal(partitionPath(['year'], [0]), 'year=0/');
  });

  test('escapes "/" and "=" so a value stays one path segment', () => {
    // Act
    const path = partitionPath(['artist_id'], ['AR/12=3']);

    // Assess
    assert.equal(path, 'artist_id=AR%2F12%3D3/');
    assert.equal(path.split('/').length, 2);
    assert.equal(decodeURIComponent(path.slice('artist_id='.length, -1)), 'AR/12=3');
  });

  test('escapes non-ASCII and "%" reversibly', () => {
    const path = partitionPath(['artist_id'], ['Zoë 100%']);
    assert.equal(path, 'artist_id=Zo%C3%AB%20100%25/');
    assert.equal(decodeURIComponent(path.slice('artist_id='.length, -1)), 'Zoë 100%');
  });
});

describe('object keys', () => {
  test('tableFileKey: table/partition/part-<run>-b<bucket, 4 digits>.parquet', () => {
    assert.equal(
      tableFileKey('songplays', 'year=2018/month=11/', RUN, 3),
      `songplays/year=2018/month=11/part-${RUN}-b0003.parquet`,
    );
    assert.equal(tableFileKey('users', '', RUN, 12), `users/part-${RUN}-b0012.parquet`);
    assert.equal(
      tableFileKey('time', 'year=2018/month=11/', RUN, 1023),
      `time/year=2018/month=11/part-${RUN}-b1023.parquet`,
    );
  });

  test('tableFileKey is deterministic and distinct per bucket, run and partition', () => {
    // Act
    const keys = [
      tableFileKey('songs', 'year=2018/', RUN, 0),
      tableFileKey('songs', 'year=2018/', RUN, 1),
      tableFileKey('songs', 'year=2017/', RUN, 0),
      tableFileKey('songs', 'year=2018/', `${RUN}x`, 0),
      tableFileKey('artists', '', RUN, 0),
    ];

    // Assess
    assert.equal(tableFileKey('songs', 'year=2018/', RUN, 0), keys[0]);
    assert.equal(new Set(keys).size, keys.length);
  });

  test('shuffleKey lives in the bucket folder of its dataset under the run scratch area', () => {
    // Act
    const key = shuffleKey(RUN, 'songs', 7, 'song_data-000001');

    // Assess
    assert.equal(key, `_scratch/${RUN}/shuffle/songs/b0007/song_data-000001.arrow`);
    assert.equal(shuffleBucketPrefix(RUN, 'songs', 7), `_scratch/${RUN}/shuffle/songs/b0007/`);
    assert.ok(key.startsWith(shuffleBucketPrefix(RUN, 'songs', 7)));
    assert.equal(shuffleKey(RUN, 'songs', 7, 'song_data-000001'), key);
  });

  test('shuffleKey differs for every dataset, bucket and producer', () => {
    const keys = SHUFFLES.flatMap((name) =>
      [0, 1, 15].flatMap((bucket) => ['log_data-000000', 'r3'].map((p) => shuffleKey(RUN, name, bucket, p))),
    );
    assert.equal(keys.length, SHUFFLES.length * 3 * 2);
    assert.equal(new Set(keys).size, keys.length);
  });

  test('rejectsKey appends .jsonl to the source key under _rejects/', () => {
    assert.equal(
      rejectsKey('log_data/2018/11/2018-11-01-events.json'),
      '_rejects/log_data/2018/11/2018-11-01-events.json.jsonl',
    );
    assert.equal(
      rejectsKey('song_data/A/B/C/TRABCEI128F424C983.json'),
      '_rejects/song_data/A/B/C/TRABCEI128F424C983.json.jsonl',
    );
  });

  test('manifestKey is the run scratch area manifest', () => {
    assert.equal(manifestKey(RUN), `_scratch/${RUN}/manifest.json`);
    assert.notEqual(manifestKey(RUN), manifestKey(`${RUN}0`));
  });
});

describe('newRunId', () => {
  const at = new Date(Date.UTC(2018, 10, 1, 21, 1, 46, 796));

  test('is the UTC time to the second, then 6 hex digits of the random value', () => {
    assert.equal(
      newRunId(at, () => 0),
      '20181101T210146Z-000000',
    );
    assert.equal(
      newRunId(at, () => 0.5),
      '20181101T210146Z-7fffff',
    );
    assert.equal(
      newRunId(at, () => 0.9999999999),
      '20181101T210146Z-fffffe',
    );
    assert.equal(
      newRunId(new Date(Date.UTC(2018, 10, 1, 21, 1, 46, 0)), () => 0.1),
      '20181101T210146Z-199999',
    );
  });

  test('is deterministic for an injected date and random source', () => {
    assert.equal(
      newRunId(at, () => 0.25),
      newRunId(new Date(at.getTime()), () => 0.25),
    );
  });

  test('the default arguments give the same format', () => {
    assert.match(newRunId(), /^\d{8}T\d{6}Z-[0-9a-f]{6}$/);
  });

  test('sorts in time order whatever the random suffix', () => {
    // Prepare: 200 increasing instants (at least one second apart, across days, months and years)
    const start = Date.UTC(2018, 11, 30, 23, 59, 0);
    const instants = Array.from({ length: 200 }, (_, i) => start + i * i * 997_000 + i * 1000);
    let n = 0;
    const random = (): number => {
      n = (n * 7919 + 104_729) % 1_000_003;
      return n / 1_000_003;
    };

    // Act
    const ids = instants.map((ms) => newRunId(new Date(ms), random));

    // Assess
    assert.ok(ids.every((id) => /^\d{8}T\d{6}Z-[0-9a-f]{6}$/.test(id)));
    assert.deepEqual([...ids].sort(), ids);
    assert.equal(new Set(ids).size, ids.length);
    assert.ok(ids.some((id) => id.startsWith('2019')));
  });
});
