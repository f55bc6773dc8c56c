/**
 * Incremental loads equal a full load: files arrive one at a time, in several orders, on the filesystem and on a
 * local S3 server; after every run the lake equals the independent oracle over the files so far (which is what one
 * full run over them gives), rejects included. Changed files replace their old records; a run with nothing new
 * changes nothing; partitions never collect more files than buckets.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TABLES } from '../../shared/config.ts';
import { type ObjectStore, openStore } from '../../shared/store.ts';
import { type Dataset, regroupedDataset, shuffled } from '../support/incremental.ts';
import { duck } from '../support/lake.ts';
import { LakeChecks, readRejects } from '../support/lake-checks.ts';
import { computeExpected } from '../support/oracle.ts';
import { type RunChoice, runEtl, tempDir } from '../support/run.ts';
import { type LocalS3, startS3 } from '../support/s3.ts';

const BUCKETS = 3;
const tmp = tempDir('incremental');
let checks: LakeChecks;
let data: Dataset;

before(async () => {
  checks = new LakeChecks(await duck(), tmp.dir, BUCKETS);
  data = await regroupedDataset(join(tmp.dir, 'generated'), {
    songs: 80,
    events: 1200,
    seed: 11,
    bad: 4,
    songFiles: 4,
    logFiles: 4,
  });
});
after(() => tmp.remove());

const songKeys = (): string[] => [...data.keys()].filter((k) => k.startsWith('song_data/'));
const logKeys = (): string[] => [...data.keys()].filter((k) => k.startsWith('log_data/'));

/** Loads the files one at a time in `order`; checks the lake against a full run after every run. */
async function fileByFile(
  source: { uri: string; store: ObjectStore },
  lake: { uri: string; store: ObjectStore },
  order: readonly string[],
  choice: (key: string) => RunChoice = () => ({}),
): Promise<{ updated: number[] }> {
  const updated: number[] = [];
  for (const [i, key] of order.entries()) {
    await source.store.put(key, data.get(key) ?? '');
    const { report } = await runEtl(source.uri, lake.uri, { buckets: BUCKETS }, 0, choice(key));
    assert.equal(report.status, 'succeeded');
    assert.equal(report.published, true, `${key}: published`);
    assert.deepEqual([report.inputs.new, report.inputs.changed], [1, 0], `${key}: only the new file is read`);
    assert.equal(report.inputs.unchanged, choice(key).keys ? 0 : i, `${key}: the others are in the ledger`);
    updated.push(report.tables.songplays.updated);
    await checks.assertEqualsFull(source.store, lake.store, `after ${i + 1} of ${order.length} (${key})`);
  }
  return { updated };
}

describe('incremental loads on the filesystem equal a full load', () => {
  test('file by file, songs first, then logs', async () => {
    const src = checks.freshDir('src');
    const lake = checks.freshDir('lake');
    await fileByFile({ uri: src, store: openStore(src) }, { uri: lake, store: openStore(lake) }, [
      ...songKeys(),
      ...logKeys(),
    ]);
  });

  test('file by file, logs first: old plays are re-matched when their songs arrive', async () => {
    const src = checks.freshDir('src');
    const lake = checks.freshDir('lake');
    const order = [...logKeys().reverse(), ...songKeys().reverse()];
    const { updated } = await fileByFile(
      { uri: src, store: openStore(src) },
      { uri: lake, store: openStore(lake) },
      order,
    );
    const songRuns = updated.slice(logKeys().length);
    assert.ok(
      songRuns.every((n) => n > 0),
      `every song file re-matched songplays already loaded: ${songRuns.join(', ')}`,
    );
  });

  describe('in a shuffled order, each run given only its new key (the S3-event path)', () => {
    let src: string;
    let lake: string;
    let source: { uri: string; store: ObjectStore };
    let target: { uri: string; store: ObjectStore };
    before(() => {
      src = checks.freshDir('src');
      lake = checks.freshDir('lake');
      source = { uri: src, store: openStore(src) };
      target = { uri: lake, store: openStore(lake) };
    });

    test('every run equals a full run over the files so far', async () => {
      await fileByFile(source, target, shuffled([...data.keys()], 5), (key) => ({ keys: [key] }));
    });

    test('the same event delivered twice, and a run with nothing new, change nothing', async () => {
      const manifests = readFileSync(join(lake, '_manifests', 'songplays.json'), 'utf8');
      const key = logKeys()[0] as string;
      const again = await runEtl(src, lake, { buckets: BUCKETS }, 0, { keys: [key] });
      assert.equal(again.report.published, false);
      assert.deepEqual([again.report.inputs.unchanged, again.report.inputs.new], [1, 0]);
      const nothing = await runEtl(src, lake, { buckets: BUCKETS }, 0);
      assert.equal(nothing.report.published, false);
      assert.equal(nothing.report.inputs.unchanged, data.size);
      assert.equal(readFileSync(join(lake, '_manifests', 'songplays.json'), 'utf8'), manifests);
      const gone = await runEtl(src, lake, { buckets: BUCKETS }, 0, { keys: ['log_data/2018/11/never-arrived.json'] });
      assert.deepEqual(gone.report.inputs.missing, ['log_data/2018/11/never-arrived.json']);
      assert.equal(gone.report.published, false);
      await checks.assertEqualsFull(source.store, target.store, 'after the no-op runs');
    });

    test('changed files replace their old records (rejects too), and equal a full run', async () => {
      // A log file loses its bad lines and its first 100 events; a song file loses its first three records.
      const { rejects } = computeExpected(await checks.download(source.store));
      const withRejects = rejects.find((r) => r.source === 'log_data')?.key ?? (logKeys()[1] as string);
      const logText = (data.get(withRejects) as string).split('\n');
      const badLines = new Set(rejects.filter((r) => r.key === withRejects).map((r) => r.line));
      await source.store.put(withRejects, logText.filter((_, i) => !badLines.has(i + 1) && i >= 100).join('\n'));
      const songKey = songKeys()[2] as string;
      await source.store.put(songKey, (data.get(songKey) as string).split('\n').slice(3).join('\n'));
      const before = JSON.parse(readFileSync(join(lake, '_manifests', 'songplays.json'), 'utf8')) as {
        files: { rows: number }[];
      };
      const rowsBefore = before.files.reduce((n, f) => n + f.rows, 0);
      const { report } = await runEtl(src, lake, { buckets: BUCKETS }, 0);
      assert.equal(report.inputs.changed, 2);
      assert.equal(report.inputs.new, 0);
      const plays = report.tables.songplays;
      assert.ok(plays.removed > 0, `removed ${plays.removed}`);
      assert.equal(plays.rows, rowsBefore + plays.added - plays.removed, 'rows = before + added - removed');
      await checks.assertEqualsFull(source.store, target.store, 'after two files changed');
      const lakeDir = await checks.download(target.store, '_rejects/');
      assert.equal(
        readRejects(lakeDir).filter((r) => r.key === withRejects).length,
        0,
        'the changed file has no rejects any more',
      );
    });

    test('--full rebuilds from everything: the same tables, nothing added, updated or removed', async () => {
      const { report } = await runEtl(src, lake, { buckets: BUCKETS }, 0, { mode: 'full' });
      assert.equal(report.inputs.new, data.size);
      for (const table of TABLES) {
        const t = report.tables[table];
        assert.deepEqual([t.added, t.updated, t.removed], [0, 0, 0], table);
      }
      await checks.assertEqualsFull(source.store, target.store, 'after --full');
      const versions = readdirSync(join(lake, '_state'));
      assert.deepEqual(versions, [report.runId], 'one state version is kept');
    });

    test('--full drops the rejects of an object gone from the source', async () => {
      const { rejects } = computeExpected(await checks.download(source.store));
      const gone = rejects[0]?.key;
      assert.ok(gone !== undefined, 'an object with rejects');
      await source.store.delete([gone]);
      const { report } = await runEtl(src, lake, { buckets: BUCKETS }, 0, { mode: 'full' });
      assert.equal(report.inputs.new, data.size - 1);
      await checks.assertEqualsFull(source.store, target.store, 'after --full without one object');
      const kept = readRejects(await checks.download(target.store, '_rejects/'));
      assert.equal(kept.filter((r) => r.key === gone).length, 0, 'its rejects file is gone');
      assert.equal(kept.length, rejects.filter((r) => r.key !== gone).length, 'the other rejects stay');
    });
  });
});

describe('incremental loads on a local S3 server equal a full load', () => {
  let s3: LocalS3;
  before(async () => {
    s3 = await startS3(['raw', 'lake']);
  });
  after(async () => {
    await s3.stop();
  });

  test('file by file in a shuffled order, then a changed file', async () => {
    const source = { uri: 's3://raw/incremental', store: openStore('s3://raw/incremental') };
    const lake = { uri: 's3://lake/incremental', store: openStore('s3://lake/incremental') };
    await fileByFile(source, lake, shuffled([...data.keys()], 9));
    const key = logKeys()[3] as string;
    await source.store.put(key, (data.get(key) as string).split('\n').slice(50).join('\n'));
    const { report } = await runEtl(source.uri, lake.uri, { buckets: BUCKETS }, 0);
    assert.equal(report.inputs.changed, 1);
    await checks.assertEqualsFull(source.store, lake.store, 'after a changed file');
  });
});
