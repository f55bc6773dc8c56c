// Unit tests of shared/config.ts: settings defaults, overrides and validation; a bad setting is a ConfigError
// whose message names the setting (docs/contract.md: rejectLimit 0.05, maxRecordBytes 16 MiB, default partitions).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  checkLocations,
  DEFAULT_PARTITIONS,
  DEFAULT_SETTINGS,
  parseRunInput,
  resolveSettings,
  type Settings,
} from '../../shared/config.ts';
import { ConfigError } from '../../shared/errors.ts';
import { runContextSchema } from '../../shared/events.ts';

const CONTRACT_DEFAULTS: Settings = {
  buckets: 4,
  shardBytes: 16 * 1024 * 1024,
  shardFiles: 2000,
  shardsPerBatch: 1,
  readConcurrency: 64,
  rejectLimit: 0.05,
  toleratedShardFailures: 0,
  maxRecordBytes: 16 * 1024 * 1024,
  partitions: {
    songplays: ['year', 'month'],
    users: [],
    songs: [],
    artists: [],
    time: ['year', 'month'],
  },
};

/** Asserts that `fn` throws a ConfigError whose message matches every pattern. */
function assertConfigError(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.equal(error.name, 'ConfigError');
    for (const pattern of patterns) assert.match(error.message, pattern);
    return true;
  });
}

describe('resolveSettings: defaults', () => {
  test('no settings give the documented defaults', () => {
    // Act
    const fromUndefined = resolveSettings(undefined);
    const fromEmpty = resolveSettings({});
    const fromNull = resolveSettings(null);

    // Assess
    assert.deepEqual(fromUndefined, CONTRACT_DEFAULTS);
    assert.deepEqual(fromEmpty, CONTRACT_DEFAULTS);
    assert.deepEqual(fromNull, CONTRACT_DEFAULTS);
    assert.deepEqual(DEFAULT_SETTINGS, CONTRACT_DEFAULTS);
  });
});

describe('resolveSettings: overrides', () => {
  test('given settings replace their defaults, the others keep theirs', () => {
    // Act
    const settings = resolveSettings({ buckets: 16, maxRecordBytes: 1024, readConcurrency: 8 });

    // Assess
    assert.deepEqual(settings, { ...CONTRACT_DEFAULTS, buckets: 16, maxRecordBytes: 1024, readConcurrency: 8 });
  });

  test('zero is a value: rejectLimit 0 is kept, not replaced by the default', () => {
    assert.equal(resolveSettings({ rejectLimit: 0 }).rejectLimit, 0);
    assert.equal(resolveSettings({ rejectLimit: 1 }).rejectLimit, 1);
  });

  test('every setting can be overridden at its bounds', () => {
    // Prepare
    const raw = {
      buckets: 1024,
      shardBytes: 1024,
      shardFiles: 1,
      shardsPerBatch: 1000,
      readConcurrency: 1,
      rejectLimit: 0.5,
      toleratedShardFailures: 1,
      maxRecordBytes: 2 ** 30,
    };

    // Act
    const settings = resolveSettings(raw);

    // Assess
    assert.deepEqual(settings, { ...raw, partitions: CONTRACT_DEFAULTS.partitions });
  });

  test('partitions are overridden per table; the other tables keep their defaults', () => {
    // Act
    const classic = resolveSettings({ partitions: { songs: ['year', 'artist_id'] } });
    const mixed = resolveSettings({ partitions: { users: ['level'], songplays: [], time: ['year'] } });

    // Assess
    assert.deepEqual(classic.partitions, { ...CONTRACT_DEFAULTS.partitions, songs: ['year', 'artist_id'] });
    assert.deepEqual(mixed.partitions, {
      songplays: [],
      users: ['level'],
      songs: [],
      artists: [],
      time: ['year'],
    });
  });

  test('resolving settings does not change the defaults', () => {
    // Prepare
    const before = JSON.stringify({ DEFAULT_SETTINGS, DEFAULT_PARTITIONS });

    // Act
    resolveSettings({ buckets: 9, partitions: { songs: ['artist_id'], users: ['gender'] } });

    // Assess
    assert.equal(JSON.stringify({ DEFAULT_SETTINGS, DEFAULT_PARTITIONS }), before);
    assert.deepEqual(resolveSettings({}).partitions.songs, []);
  });
});

describe('resolveSettings: bad values throw a ConfigError naming the setting', () => {
  test('buckets out of range or not an integer', () => {
    assertConfigError(() => resolveSettings({ buckets: 0 }), /^bad settings: /, /buckets/);
    assertConfigError(() => resolveSettings({ buckets: 1025 }), /buckets/);
    assertConfigError(() => resolveSettings({ buckets: 1.5 }), /buckets/);
    assertConfigError(() => resolveSettings({ buckets: '4' }), /buckets/);
  });

  test('toleratedShardFailures outside [0, 1]', () => {
    assertConfigError(() => resolveSettings({ toleratedShardFailures: 2 }), /toleratedShardFailures/);
    assertConfigError(() => resolveSettings({ toleratedShardFailures: -1 }), /toleratedShardFailures/);
  });

  test('rejectLimit outside [0, 1]', () => {
    assertConfigError(() => resolveSettings({ rejectLimit: 1.5 }), /rejectLimit/);
    assertConfigError(() => resolveSettings({ rejectLimit: -0.1 }), /rejectLimit/);
  });

  test('maxRecordBytes, shardBytes, shardFiles, shardsPerBatch, readConcurrency out of range', () => {
    assertConfigError(() => resolveSettings({ maxRecordBytes: 1000 }), /maxRecordBytes/);
    assertConfigError(() => resolveSettings({ maxRecordBytes: 2 ** 30 + 1 }), /maxRecordBytes/);
    assertConfigError(() => resolveSettings({ shardBytes: 1023 }), /shardBytes/);
    assertConfigError(() => resolveSettings({ shardFiles: 0 }), /shardFiles/);
    assertConfigError(() => resolveSettings({ shardsPerBatch: 1001 }), /shardsPerBatch/);
    assertConfigError(() => resolveSettings({ readConcurrency: 0 }), /readConcurrency/);
  });

  test('a column a table cannot be partitioned by names the table and the column', () => {
    assertConfigError(
      () => resolveSettings({ partitions: { songs: ['foo'] } }),
      /^bad settings: /,
      /songs/,
      /"foo"/,
      /year, artist_id/,
    );
    assertConfigError(() => resolveSettings({ partitions: { artists: ['year'] } }), /artists/, /"year"/, /none/);
    assertConfigError(() => resolveSettings({ partitions: { users: ['user_id'] } }), /users/, /"user_id"/);
  });

  test('partitions of the wrong shape or for an unknown table', () => {
    assertConfigError(() => resolveSettings({ partitions: { songs: 'year' } }), /partitions\.songs/);
    assertConfigError(() => resolveSettings({ partitions: { plays: ['year'] } }), /partitions/, /plays/);
  });

  test('an unknown setting key is named', () => {
    assertConfigError(() => resolveSettings({ bucketz: 4 }), /bucketz/);
  });

  test('settings that are not an object', () => {
    assertConfigError(() => resolveSettings('buckets=4'), /^bad settings: /);
    assertConfigError(() => resolveSettings([4]), /^bad settings: /);
  });
});

describe('parseRunInput', () => {
  test('a valid input is returned as given', () => {
    // Prepare
    const raw = { source: 's3://udacity-dend/', target: 's3://lake/', settings: { buckets: 8 } };

    // Act
    const input = parseRunInput(raw);

    // Assess
    assert.deepEqual(input, raw);
    assert.deepEqual(parseRunInput({ source: './in', target: './out' }), { source: './in', target: './out' });
  });

  test('a missing or empty target is a ConfigError naming target', () => {
    assertConfigError(() => parseRunInput({ source: 's3://udacity-dend/' }), /^bad execution input: /, /target/);
    assertConfigError(() => parseRunInput({ source: 's3://udacity-dend/', target: '' }), /target/);
  });

  test('a missing source, an unknown key, bad settings or a non-object are ConfigErrors', () => {
    assertConfigError(() => parseRunInput({ target: './out' }), /source/);
    assertConfigError(() => parseRunInput({ source: 'a', target: 'b', extra: 1 }), /extra/);
    assertConfigError(() => parseRunInput({ source: 'a', target: 'b', settings: { buckets: 0 } }), /buckets/);
    assertConfigError(() => parseRunInput(null), /^bad execution input: /);
  });
});

describe('checkLocations (SPARKIFY_ALLOWED_SOURCES / SPARKIFY_ALLOWED_TARGETS)', () => {
  const env = { SPARKIFY_ALLOWED_SOURCES: 's3://raw', SPARKIFY_ALLOWED_TARGETS: 's3://lake/star, /srv/lakes' };

  test('inside the allowed roots: accepted', () => {
    for (const [source, target] of [
      ['s3://raw', 's3://lake/star'],
      ['s3://raw/', 's3://lake/star/'],
      ['s3://raw/sparkify/2018', 's3://lake/star/dev'],
      ['s3://raw', '/srv/lakes/one'],
    ] as const) {
      assert.doesNotThrow(() => checkLocations(source, target, env), `${source} → ${target}`);
    }
  });

  test('anything else is refused before work starts, naming the setting and what is allowed', () => {
    const refused: [string, string, RegExp][] = [
      [
        's3://raw-evil',
        's3://lake/star',
        /^source s3:\/\/raw-evil is not allowed here: runs may use s3:\/\/raw \(SPARKIFY_ALLOWED_SOURCES\)$/,
      ],
      ['s3://raw', 's3://lake', /^target s3:\/\/lake is not allowed here/],
      ['s3://raw', 's3://lake/starry', /^target s3:\/\/lake\/starry is not allowed/],
      ['s3://raw', 's3://lake/star/../../other', /^target .* is not allowed/],
      ['s3://raw', '/srv/lakes/../etc', /^target \/srv\/lakes\/\.\.\/etc is not allowed/],
      ['s3://raw', '/srv/lakes-other', /^target \/srv\/lakes-other is not allowed/],
      ['/tmp/raw', 's3://lake/star', /^source \/tmp\/raw is not allowed/],
      ['https://raw', 's3://lake/star', /^source https:\/\/raw is not allowed/],
    ];
    for (const [source, target, message] of refused) {
      assert.throws(
        () => checkLocations(source, target, env),
        (e: Error) => e instanceof ConfigError && message.test(e.message),
        `${source} → ${target}`,
      );
    }
  });

  test('unset (a local run): any location', () => {
    assert.doesNotThrow(() => checkLocations('/anywhere', 's3://any/where', {}));
  });

  test('the workers check the run they are given too', () => {
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      const run = {
        runId: 'r-1',
        source: 's3://elsewhere',
        target: 's3://lake/star',
        mode: 'incremental',
        baseline: null,
        publishedDigest: null,
        settings: {},
        startedAt: '',
      };
      const parsed = runContextSchema.safeParse(run);
      assert.equal(parsed.success, false);
      assert.match(JSON.stringify(parsed.error?.issues), /source s3:\/\/elsewhere is not allowed here/);
      assert.equal(runContextSchema.safeParse({ ...run, source: 's3://raw/x' }).success, true);
    } finally {
      for (const k of Object.keys(env)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });

  test('keys given by an S3 event stay under the source prefixes', () => {
    for (const key of ['log_data/../_manifests/songs.json', 'other/x.json', 'log_data/2018/', '/log_data/x.json']) {
      assert.throws(
        () => parseRunInput({ source: 's3://raw', target: 's3://lake', keys: [key] }),
        (e: Error) => e instanceof ConfigError && /bad execution input: keys\.0/.test(e.message),
        key,
      );
    }
  });
});
