/**
 * `sparkify query` over real lakes: each named query's answer equals the one computed here from the oracle's
 * tables (independent of the SQL), on the public sample and on generated data with many matched plays.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { generate } from '../../cli/generate.ts';
import { formatCsv, formatTable, queryLake } from '../../cli/query.ts';
import { NAMED_QUERIES } from '../../shared/queries.ts';
import { computeExpected, type ExpectedTables } from '../support/oracle.ts';
import { PUBLIC_SAMPLE, runEtl, tempDir } from '../support/run.ts';

const ROOT = decodeURIComponent(new URL('../..', import.meta.url).pathname);
const sql = (name: string): string => NAMED_QUERIES.find((q) => q.name === name)?.sql ?? '';

/** Counts of a key over rows, as [key, count] sorted by count desc then key. */
function ranked<T>(rows: readonly T[], key: (r: T) => string | null): [string, number][] {
  const counts = new Map<string, number>();
  for (const r of rows) {
    const k = key(r);
    if (k !== null) counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
}

describe('named queries on the public sample', () => {
  const tmp = tempDir('query-public');
  let expected: ExpectedTables;
  before(async () => {
    await runEtl(PUBLIC_SAMPLE, tmp.dir);
    expected = computeExpected(PUBLIC_SAMPLE);
  });
  after(() => tmp.remove());

  test('free-vs-paid: plays and distinct users per level', async () => {
    const result = await queryLake(tmp.dir, sql('free-vs-paid'));
    const rows = ['free', 'paid'].map((level) => {
      const plays = expected.songplays.filter((p) => p.level === level);
      return [level, plays.length, new Set(plays.map((p) => p.user_id).filter((u) => u !== null)).size];
    });
    assert.deepEqual(result.columns, ['level', 'plays', 'users']);
    assert.deepEqual(result.rows, rows);
    assert.deepEqual(rows, [
      ['free', 1229, 82],
      ['paid', 5591, 22],
    ]);
  });

  test('plays-by-hour and busiest-weekdays use UTC hours and ISO weekdays', async () => {
    const hours = Array.from({ length: 24 }, (_, h) => [
      h,
      expected.songplays.filter((p) => new Date(p.start_time).getUTCHours() === h).length,
    ]);
    assert.deepEqual((await queryLake(tmp.dir, sql('plays-by-hour'))).rows, hours);
    const busiest = hours.reduce((a, b) => ((b[1] as number) > (a[1] as number) ? b : a));
    assert.deepEqual(busiest, [16, 542]);
    const weekdays = ranked(expected.songplays, (p) => String(((new Date(p.start_time).getUTCDay() + 6) % 7) + 1));
    assert.deepEqual(
      (await queryLake(tmp.dir, sql('busiest-weekdays'))).rows,
      weekdays.map(([d, n]) => [Number(d), n]),
    );
  });

  test('match-rate, top-locations, top-user-agents', async () => {
    assert.deepEqual((await queryLake(tmp.dir, sql('match-rate'))).rows, [[6820, 1, 0.01]]);
    const locations = ranked(expected.songplays, (p) => p.location).slice(0, 10);
    assert.deepEqual((await queryLake(tmp.dir, sql('top-locations'))).rows, locations);
    const agents = ranked(expected.songplays, (p) => p.user_agent).slice(0, 10);
    assert.deepEqual((await queryLake(tmp.dir, sql('top-user-agents'))).rows, agents);
  });
});

describe('named queries on generated data with many matched plays', () => {
  const tmp = tempDir('query-generated');
  let expected: ExpectedTables;
  before(async () => {
    const source = join(tmp.dir, 'source');
    await generate({ out: source, songs: 300, events: 8000, seed: 11 });
    await runEtl(source, join(tmp.dir, 'lake'), { buckets: 3 });
    expected = computeExpected(source);
  });
  after(() => tmp.remove());

  test('top-songs: titles and artists of the 10 most played songs', async () => {
    const songs = new Map(expected.songs.map((s) => [s.song_id, s]));
    const artists = new Map(expected.artists.map((a) => [a.artist_id, a]));
    const top = ranked(expected.songplays, (p) => p.song_id)
      .slice(0, 10)
      .map(([id, n]) => {
        const song = songs.get(id);
        return [id, song?.title ?? null, artists.get(song?.artist_id ?? '')?.name ?? null, n];
      });
    assert.ok((top[0]?.[3] as number) > 10, 'the generated data has songs played many times');
    assert.deepEqual((await queryLake(join(tmp.dir, 'lake'), sql('top-songs'))).rows, top);
  });

  test('top-artists: the 10 most played artists with names', async () => {
    const artists = new Map(expected.artists.map((a) => [a.artist_id, a]));
    const top = ranked(expected.songplays, (p) => p.artist_id)
      .slice(0, 10)
      .map(([id, n]) => [id, artists.get(id)?.name ?? null, n]);
    assert.deepEqual((await queryLake(join(tmp.dir, 'lake'), sql('top-artists'))).rows, top);
  });

  test('the command: --list, a named query as CSV and JSON, raw SQL as a table, and a clear error', () => {
    const run = (args: string[]) =>
      spawnSync(process.execPath, ['--import', './cli/preload.mjs', 'cli/sparkify.ts', 'query', ...args], {
        cwd: ROOT,
        encoding: 'utf8',
      });
    const lake = join(tmp.dir, 'lake');
    const list = run(['--list']);
    assert.equal(list.status, 0);
    assert.deepEqual(
      list.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(/\s+/)[0]),
      NAMED_QUERIES.map((q) => q.name),
    );
    const csv = run(['match-rate', '--lake', lake, '--csv']);
    assert.equal(csv.status, 0, csv.stderr);
    const matched = expected.songplays.filter((p) => p.song_id !== null).length;
    assert.equal(
      csv.stdout.trim().split('\n')[1],
      `${expected.songplays.length},${matched},${Math.round((10000 * matched) / expected.songplays.length) / 100}`,
    );
    const json = run(['free-vs-paid', '--lake', lake, '--json']);
    assert.equal(JSON.parse(json.stdout)[0].level, 'free');
    const table = run(['SELECT count(*) AS n FROM users', '--lake', lake]);
    const n = String(expected.users.length);
    assert.equal(table.stdout, `${'n'.padStart(n.length)}\n${'-'.repeat(n.length)}\n${n}\n(1 row)\n`);
    const bad = run(['SELECT nope FROM songplays', '--lake', lake]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr.trim(), /^sparkify-lake: query failed: .*nope/);
    assert.equal(bad.stderr.trim().split('\n').length, 1, 'one line');
    const none = run(['top-songs', '--lake', join(tmp.dir, 'nowhere')]);
    assert.equal(none.status, 1);
    assert.match(none.stderr, /no tables in .*nowhere: run the ETL first/);
  });
});

test('formatters: aligned table, CSV quoting', () => {
  const result = {
    columns: ['name', 'plays'],
    rows: [
      ['a, "b"', 10],
      [null, 2],
    ],
  };
  assert.equal(formatTable(result), 'name    plays\n------  -----\na, "b"     10\nNULL        2\n(2 rows)');
  assert.equal(formatCsv(result), 'name,plays\n"a, ""b""",10\n,2');
});
