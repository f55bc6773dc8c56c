/**
 * The DuckDB peer (bench/duckdb-etl.ts) is a fair benchmark only if it computes the same lake: on the public sample
 * and on generated data (double-encoded text, duplicates, conflicts, guests, near misses, shared timestamps, bad
 * records) its tables equal the pipeline's row for row and the oracle's in count, and compareLakes notices a
 * single changed value.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { compareLakes, runDuckDbEtl, TABLE_NAMES, type TableComparison } from '../../bench/duckdb-etl.ts';
import { generate } from '../../cli/generate.ts';
import { duck, readLake } from '../support/lake.ts';
import { computeExpected, type ExpectedTables } from '../support/oracle.ts';
import { PUBLIC_SAMPLE, runEtl, tempDir } from '../support/run.ts';

const tmp = tempDir('duckdb-etl');
after(() => tmp.remove());

/** Runs the pipeline and the peer over `source`; returns both lakes, the peer's result and the oracle's tables. */
async function runBoth(source: string, name: string) {
  const pipeline = join(tmp.dir, `${name}-pipeline`);
  const peer = join(tmp.dir, `${name}-duckdb`);
  const { report } = await runEtl(source, pipeline);
  assert.equal(report.status, 'succeeded');
  const result = await runDuckDbEtl({ source, target: peer, threads: 2 });
  return { pipeline, peer, result, expected: computeExpected(source) };
}

function assertAllEqual(comparison: TableComparison[]): void {
  assert.deepEqual(
    comparison.map((c) => c.table),
    [...TABLE_NAMES],
  );
  for (const c of comparison) {
    assert.ok(c.rowsA > 0, `${c.table}: no rows`);
    assert.deepEqual(c, { table: c.table, rowsA: c.rowsA, rowsB: c.rowsA, onlyA: 0, onlyB: 0 }, c.table);
  }
}

async function assertPeerEqualsOracle(peer: string, expected: ExpectedTables): Promise<void> {
  const lake = await readLake(await duck(), peer);
  for (const table of TABLE_NAMES) assert.deepEqual(lake[table], expected[table], table);
}

describe('the DuckDB peer on the public sample', () => {
  let run: Awaited<ReturnType<typeof runBoth>>;
  before(async () => {
    run = await runBoth(PUBLIC_SAMPLE, 'sample');
  });

  test('equals the pipeline table by table, and the oracle', async () => {
    const { pipeline, peer, result, expected } = run;
    for (const table of TABLE_NAMES) assert.equal(result.rows[table], expected[table].length, table);
    assert.ok(result.ms > 0);
    assertAllEqual(await compareLakes(pipeline, peer));
    await assertPeerEqualsOracle(peer, expected);
  });

  test('writes the pipeline layout: year/month partitions for songplays and time, one folder for the rest', () => {
    const files = (table: string): string[] =>
      readdirSync(join(run.peer, table), { recursive: true })
        .map(String)
        .filter((f) => f.endsWith('.parquet'));
    for (const table of ['songplays', 'time']) {
      assert.ok(files(table).length > 0, table);
      for (const f of files(table)) assert.match(f, /^year=2018\/month=11\/[^/]+\.parquet$/, table);
    }
    for (const table of ['users', 'songs', 'artists']) {
      assert.ok(files(table).length > 0, table);
      for (const f of files(table)) assert.match(f, /^[^/]+\.parquet$/, table);
    }
  });

  test('compareLakes finds a single changed value', async () => {
    const changed = join(tmp.dir, 'sample-changed');
    cpSync(run.peer, changed, { recursive: true });
    const db = await duck();
    const users = join(changed, 'users').replace(/'/g, "''");
    await db.run(`CREATE TABLE changed_users AS SELECT * FROM read_parquet('${users}/*.parquet')`);
    await db.run(`UPDATE changed_users SET first_name = first_name || '!'
      WHERE user_id = (SELECT min(user_id) FROM changed_users)`);
    rmSync(join(changed, 'users'), { recursive: true });
    mkdirSync(join(changed, 'users'));
    await db.run(`COPY changed_users TO '${users}/data_0.parquet' (FORMAT parquet)`);
    const comparison = await compareLakes(run.pipeline, changed);
    for (const c of comparison) {
      const expected = c.table === 'users' ? 1 : 0;
      assert.deepEqual([c.onlyA, c.onlyB, c.rowsA], [expected, expected, c.rowsB], c.table);
    }
  });
});

describe('the DuckDB peer on generated data with bad records', () => {
  let run: Awaited<ReturnType<typeof runBoth>>;
  before(async () => {
    const source = join(tmp.dir, 'generated');
    await generate({ out: source, songs: 300, events: 5000, seed: 7, badRecords: 20 });
    run = await runBoth(source, 'generated');
  });

  test('the data has the hard cases', () => {
    const { expected } = run;
    assert.ok(expected.rejects.length >= 15, `only ${expected.rejects.length} rejects`);
    assert.ok(expected.songplays.filter((p) => p.song_id !== null).length > 1000, 'matched plays');
    assert.ok(
      expected.songs.some((s) => /[\u0080-\uffff]/.test(s.title ?? '')),
      'non-ASCII titles',
    );
  });

  test('equals the pipeline table by table, and the oracle', async () => {
    const { pipeline, peer, result, expected } = run;
    for (const table of TABLE_NAMES) assert.equal(result.rows[table], expected[table].length, table);
    assertAllEqual(await compareLakes(pipeline, peer));
    await assertPeerEqualsOracle(peer, expected);
  });
});
