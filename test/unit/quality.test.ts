/** The quality gate's checks on digests: each kind of violation fails its own check, with counts. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Row } from '../../shared/columnar.ts';
import { type Digest, qualityChecks, type RunReport } from '../../shared/commit.ts';
import { DEFAULT_SETTINGS, type TableName } from '../../shared/config.ts';
import type { RunContext } from '../../shared/plan.ts';

const run = { settings: DEFAULT_SETTINGS, target: '/lake' } as unknown as RunContext;
const counts = (read: number, rejected: number) => ({
  objects: 1,
  bytes: 1,
  read,
  loaded: read - rejected,
  rejected,
  rejectRate: read === 0 ? 0 : rejected / read,
});
const report = (logRejected = 0) =>
  ({ sources: { song_data: counts(10, 0), log_data: counts(100, logRejected) } }) as unknown as RunReport;

const digest = (
  key: string | null,
  refs: Partial<Record<'start_time' | 'user_id' | 'song_id' | 'artist_id', string>> = {},
): Row => ({
  key,
  hash: 'h',
  start_time: refs.start_time ?? null,
  user_id: refs.user_id ?? null,
  song_id: refs.song_id ?? null,
  artist_id: refs.artist_id ?? null,
});

function clean(): Record<TableName, Row[]> {
  return {
    songplays: [
      digest('p1', { start_time: '1000', user_id: 'u1', song_id: 's1', artist_id: 'a1' }),
      digest('p2', { start_time: '2000', user_id: 'u1' }), // unmatched: null song and artist pass
    ],
    users: [digest('u1')],
    songs: [digest('s1')],
    artists: [digest('a1')],
    time: [digest('1000'), digest('2000')],
  };
}

/** Digest rows as the columns Commit reads. */
const columns = (digests: Record<TableName, Row[]>): Record<TableName, Digest> =>
  Object.fromEntries(
    Object.entries(digests).map(([t, rows]) => [
      t,
      Object.fromEntries(
        ['key', 'hash', 'start_time', 'user_id', 'song_id', 'artist_id'].map((f) => [
          f,
          rows.map((r) => (r[f] ?? null) as string | null),
        ]),
      ),
    ]),
  ) as Record<TableName, Digest>;

const failed = (digests: Record<TableName, Row[]>, r = report()) =>
  qualityChecks(run, r, columns(digests))
    .filter((c) => !c.passed)
    .map((c) => `${c.name}: ${c.detail}`);

describe('qualityChecks', () => {
  test('a consistent version passes all eleven checks', () => {
    const checks = qualityChecks(run, report(), columns(clean()));
    assert.equal(checks.length, 11);
    assert.deepEqual(failed(clean()), []);
  });

  test('null and duplicate keys fail the table’s key check', () => {
    const d = clean();
    d.users.push(digest(null), digest('u1'));
    assert.deepEqual(failed(d), ['users: unique non-null keys: 3 rows, 1 null keys, 1 duplicate keys']);
  });

  test('every dangling reference of songplays fails its own check', () => {
    const d = clean();
    d.songplays.push(digest('p3', { start_time: '3000', user_id: 'u9', song_id: 's9', artist_id: 'a9' }));
    assert.deepEqual(failed(d), [
      'songplays.start_time in time: 3 non-null references, 1 missing',
      'songplays.user_id in users: 3 non-null references, 1 missing',
      'songplays.song_id in songs: 2 non-null references, 1 missing',
      'songplays.artist_id in artists: 2 non-null references, 1 missing',
    ]);
  });

  test('a reject rate above the limit fails, at the limit passes', () => {
    assert.deepEqual(failed(clean(), report(5)), []);
    assert.match(
      failed(clean(), report(6))[0] ?? '',
      /^log_data: reject rate: 6 of 100 records rejected \(6\.00%, limit 5\.00%\)/,
    );
  });
});
