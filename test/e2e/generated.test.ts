/**
 * Generated data with many matches, double-encoded names, duplicate and conflicting records and bad records:
 * the lake equals the tables the oracle computes, with any number of shards and buckets, and every record is
 * loaded or rejected with its reason.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { generate } from '../../cli/generate.ts';
import type { Insights } from '../../shared/insights.ts';
import { duck, readLake } from '../support/lake.ts';
import { computeExpected, type ExpectedTables } from '../support/oracle.ts';
import { runEtl, tempDir } from '../support/run.ts';

const TABLES = ['songplays', 'users', 'songs', 'artists', 'time'] as const;

describe('generated data end to end', () => {
  const tmp = tempDir('generated');
  const source = join(tmp.dir, 'source');
  let expected: ExpectedTables;
  let db: Awaited<ReturnType<typeof duck>>;
  let many: Awaited<ReturnType<typeof runEtl>>;
  let lake: Awaited<ReturnType<typeof readLake>>;

  before(async () => {
    await generate({ out: source, songs: 400, events: 6000, seed: 7, badRecords: 12 });
    expected = computeExpected(source);
    db = await duck();
    many = await runEtl(source, join(tmp.dir, 'many'), { buckets: 16, shardFiles: 37 });
    lake = await readLake(db, join(tmp.dir, 'many'));
  });
  after(() => tmp.remove());

  test('the data exercises what it should', () => {
    const matched = expected.songplays.filter((p) => p.song_id !== null).length;
    assert.ok(matched > 1000, `only ${matched} matched plays`);
    assert.ok(expected.rejects.length >= 10, `only ${expected.rejects.length} rejects`);
    assert.ok(
      expected.songs.some((s) => /[\u0080-\uffff]/.test(s.title ?? '')),
      'non-ASCII titles',
    );
    // Double-encoded text exists in the raw logs and none survives in the lake.
    const rawLogs = readdirSync(join(source, 'log_data'), { recursive: true })
      .map((f) => join(source, 'log_data', String(f)))
      .filter((f) => f.endsWith('.json'))
      .map((f) => readFileSync(f, 'utf8'))
      .join('');
    assert.match(rawLogs, /\\u00c3\\u0083/);
    assert.ok(!lake.users.some((u) => /Ã/.test(`${u.first_name}${u.last_name}`)));
    assert.ok(!lake.songplays.some((p) => /Ã/.test(p.location ?? '')));
  });

  test('every table equals the oracle', () => {
    for (const table of TABLES) assert.deepEqual(lake[table], expected[table], table);
  });

  test("the run report's insights are the oracle's tables counted: plays by hour and level, users by level, top songs", () => {
    // Prepare: the counts from the oracle's tables (a null level counts as "(unknown)")
    const count = (keys: (string | null)[]) => {
      const counts: Record<string, number> = {};
      for (const k of keys) counts[k ?? '(unknown)'] = (counts[k ?? '(unknown)'] ?? 0) + 1;
      return counts;
    };
    const hours = Array.from({ length: 24 }, () => 0);
    for (const p of expected.songplays) {
      const h = new Date(p.start_time).getUTCHours();
      hours[h] = (hours[h] as number) + 1;
    }
    const plays = count(expected.songplays.flatMap((p) => (p.song_id === null ? [] : [p.song_id])));
    const top = Object.entries(plays)
      .sort(([a, m], [b, n]) => n - m || (a < b ? -1 : 1))
      .slice(0, 10);
    const titles = new Map(expected.songs.map((s) => [s.song_id, s.title]));

    // Act
    const insights = many.report.insights as Insights;

    // Assess
    assert.deepEqual(insights.playsByHour, hours);
    assert.equal(
      hours.reduce((a, b) => a + b, 0),
      expected.songplays.length,
    );
    assert.deepEqual(insights.playsByLevel, count(expected.songplays.map((p) => p.level)));
    assert.deepEqual(insights.usersByLevel, count(expected.users.map((u) => u.level)));
    assert.equal(
      insights.matchedPlays,
      Object.values(plays).reduce((a, b) => a + b, 0),
    );
    assert.deepEqual(
      insights.topSongs.map((s) => [s.song_id, s.plays, s.title]),
      top.map(([id, n]) => [id, n, titles.get(id) ?? '']),
    );
  });

  test("songplays files are in time order, then by id; each other table's files in key order", async () => {
    const order = {
      songplays: 'start_time, songplay_id',
      users: 'user_id',
      songs: 'song_id',
      artists: 'artist_id',
      time: 'start_time',
    };
    for (const [table, by] of Object.entries(order)) {
      // Each row's place in its file against its place in the file's rows ordered by `by`.
      const reader = await db.runAndReadAll(
        `SELECT count(*)::INTEGER AS rows, count(DISTINCT filename)::INTEGER AS files,
           count(*) FILTER (WHERE file_row_number <> ordered - 1)::INTEGER AS misplaced
         FROM (SELECT filename, file_row_number, row_number() OVER (PARTITION BY filename ORDER BY ${by}) AS ordered
               FROM read_parquet('${join(tmp.dir, 'many', table)}/**/*.parquet', filename = true, file_row_number = true))`,
      );
      const [row] = reader.getRowObjectsJS() as { rows: number; files: number; misplaced: number }[];
      assert.equal(row?.rows, expected[table as (typeof TABLES)[number]].length, table);
      assert.ok((row?.files ?? 0) >= 1, table);
      assert.equal(row?.misplaced, 0, table);
    }
  });

  test('1 shard and 1 bucket in one thread give the same tables as many shards and 16 buckets on 2 threads', async () => {
    const one = join(tmp.dir, 'one');
    const single = await runEtl(source, one, { buckets: 1, shardFiles: 100_000 }, 0);
    const singleLake = await readLake(db, one);
    for (const table of TABLES) assert.deepEqual(singleLake[table], lake[table], table);
    // Same songplay ids, and the runs really were shaped differently.
    assert.deepEqual(
      singleLake.songplays.map((p) => p.songplay_id),
      lake.songplays.map((p) => p.songplay_id),
    );
    assert.deepEqual(
      [single.report.stages.map.invocations, single.report.stages.facts.invocations, single.report.stages.map.workers],
      [2, 1, 1],
    );
    const { map, dimensions, facts } = many.report.stages;
    assert.equal(map.invocations, many.report.stages.plan.shards);
    assert.ok(map.invocations > 10, `only ${map.invocations} map invocations`);
    assert.deepEqual([dimensions.invocations, facts.invocations], [16, 16]);
    assert.deepEqual([map.workers, dimensions.workers, facts.workers], [2, 2, 2]);
  });

  test('the report counts each stage: objects and bytes read, rows in and out, shuffle bytes', () => {
    const { sources, stages } = many.report;
    const { map, dimensions, facts } = stages;
    assert.equal(map.objectsRead, sources.song_data.objects + sources.log_data.objects);
    assert.equal(map.bytesRead, sources.song_data.bytes + sources.log_data.bytes);
    assert.equal(map.rowsIn, expected.read.song_data + expected.read.log_data);
    assert.equal(map.rowsOut, map.rowsIn - expected.rejects.length);
    // What one stage writes to the shuffle, the next one reads.
    assert.equal(dimensions.bytesRead, map.shuffleBytes);
    assert.equal(facts.bytesRead, dimensions.shuffleBytes);
    assert.equal(facts.rowsIn, dimensions.rowsOut);
    const tableRows = TABLES.reduce((n, t) => n + expected[t].length, 0);
    assert.equal(facts.rowsOut, tableRows);
    assert.ok(map.wallMs > 0 && facts.wallMs > 0, 'stage wall times');
  });

  test('every record is loaded or rejected with its reason, and rejects land under _rejects/', () => {
    const { sources, rejects } = many.report;
    for (const name of ['song_data', 'log_data'] as const) {
      assert.equal(sources[name].read, expected.read[name], `${name} read`);
      assert.equal(sources[name].loaded + sources[name].rejected, sources[name].read, `${name} balance`);
    }
    assert.equal(rejects.total, expected.rejects.length);
    const written = readdirSync(join(tmp.dir, 'many', '_rejects'), { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.jsonl'))
      .flatMap((f) =>
        readFileSync(join(tmp.dir, 'many', '_rejects', f), 'utf8')
          .trim()
          .split('\n'),
      )
      .map((line) => JSON.parse(line) as { source: string; key: string; line: number; reason: string; raw: string })
      .map(({ source: s, key, line, reason }) => ({ source: s, key, line, reason }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.line - b.line));
    assert.deepEqual(written, expected.rejects);
  });

  test('a rerun over the same input changes nothing: no new files, the same manifests', async () => {
    const target = join(tmp.dir, 'many');
    const manifest = readFileSync(join(target, '_manifests', 'songplays.json'), 'utf8');
    const rerun = await runEtl(source, target, { buckets: 5 });
    assert.equal(rerun.report.published, false);
    assert.equal(rerun.report.inputs.new + rerun.report.inputs.changed, 0);
    assert.equal(rerun.report.inputs.unchanged, rerun.report.inputs.seen);
    assert.ok(rerun.report.inputs.seen > 100, `${rerun.report.inputs.seen} objects seen`);
    assert.equal(readFileSync(join(target, '_manifests', 'songplays.json'), 'utf8'), manifest);
    const again = await readLake(db, target);
    for (const table of TABLES) assert.deepEqual(again[table], expected[table], table);
  });

  test('a --full rerun gives the same rows and ids, and the glob is exact again', async () => {
    const target = join(tmp.dir, 'many');
    const rerun = await runEtl(source, target, { buckets: 5 }, undefined, { mode: 'full' });
    assert.equal(rerun.report.published, true);
    for (const table of TABLES) {
      const t = rerun.report.tables[table];
      assert.deepEqual([t.added, t.updated, t.removed], [0, 0, 0], `${table}: nothing added, updated or removed`);
    }
    const again = await readLake(db, target);
    for (const table of TABLES) assert.deepEqual(again[table], expected[table], table);
    const parquet = readdirSync(join(target, 'songplays'), { recursive: true }).filter((f) =>
      String(f).endsWith('.parquet'),
    );
    assert.equal(parquet.length, rerun.report.tables.songplays.files);
    assert.ok(
      parquet.every((f) => String(f).includes(rerun.result.runId)),
      'only the new run files remain',
    );
  });
});
