/**
 * The facts reducers pass some songplays columns on to the writer as Arrow data copied from the plays' buffers,
 * never read as values (shared/reduce.ts PASSED_ON). Songplays' partitions (year, month) are runs of rows in time
 * order: each file is written from a slice of that data, and must hold the oracle's rows.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { duck, readTable } from '../support/lake.ts';
import { computeExpected, type ExpectedTables } from '../support/oracle.ts';
import { PUBLIC_SAMPLE, runEtl, tempDir } from '../support/run.ts';

describe('songplays partitions written from columns passed on as Arrow data', () => {
  const tmp = tempDir('songplays-partitions');
  const source = join(tmp.dir, 'source');
  let expected: ExpectedTables;
  let db: Awaited<ReturnType<typeof duck>>;

  before(async () => {
    // The public sample with its last day moved 30 days on, into December: songplays then span two months, and in
    // a reducer's time order each month is one run of rows, the second starting past the first row.
    cpSync(PUBLIC_SAMPLE, source, { recursive: true });
    const last = join(source, 'log_data', '2018', '11', '2018-11-30-events.json');
    const moved = readFileSync(last, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => {
        const event = JSON.parse(line) as { ts: number };
        event.ts += 30 * 86_400_000;
        return JSON.stringify(event);
      });
    rmSync(last);
    mkdirSync(join(source, 'log_data', '2018', '12'));
    writeFileSync(join(source, 'log_data', '2018', '12', '2018-12-30-events.json'), `${moved.join('\n')}\n`);
    expected = computeExpected(source);
    db = await duck();
  });
  after(() => tmp.remove());

  test('by year and month (each a run of rows): the oracle songplays, in both months', async () => {
    // Act
    const lake = join(tmp.dir, 'by-month');
    await runEtl(source, lake, { buckets: 2 });

    // Assess
    const december = expected.songplays.filter((p) => new Date(p.start_time as number).getUTCMonth() === 11);
    assert.ok(december.length > 100 && december.length < expected.songplays.length / 2, `${december.length} plays`);
    assert.deepEqual(await readTable(db, lake, 'songplays'), expected.songplays);
    assert.deepEqual(readdirSync(join(lake, 'songplays', 'year=2018')).sort(), ['month=11', 'month=12']);
  });
});
