/**
 * Compaction, on the filesystem and on a local S3 server: partitions are rewritten into as few files as the target
 * size allows, the rows and types stay, the glob stays exact, the lease is honoured, and runs go on afterwards.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { compactLake } from '../../shared/compact.ts';
import { TABLES } from '../../shared/config.ts';
import { LakeBusyError } from '../../shared/errors.ts';
import { leaseKey, tableManifestKey } from '../../shared/keys.ts';
import { acquireLease, releaseLease } from '../../shared/lease.ts';
import { openStore } from '../../shared/store.ts';
import { type Dataset, putFiles, regroupedDataset } from '../support/incremental.ts';
import { describeTable, duck } from '../support/lake.ts';
import { LakeChecks } from '../support/lake-checks.ts';
import { runEtl, tempDir } from '../support/run.ts';
import { localS3Locations } from '../support/s3.ts';

const BUCKETS = 4;
const tmp = tempDir('compact');
let db: Awaited<ReturnType<typeof duck>>;
let checks: LakeChecks;
let data: Dataset;

before(async () => {
  db = await duck();
  checks = new LakeChecks(db, tmp.dir, BUCKETS);
  data = await regroupedDataset(join(tmp.dir, 'generated'), {
    songs: 60,
    events: 1500,
    seed: 21,
    bad: 0,
    songFiles: 2,
    logFiles: 3,
  });
});
after(() => tmp.remove());

function compaction(fresh: () => { source: string; lake: string }): void {
  test('merges each partition into one file under the target size; rows, types and runs after it unchanged', async () => {
    const { source, lake } = fresh();
    const src = openStore(source);
    const dst = openStore(lake);
    const keys = [...data.keys()];
    await putFiles(src, data, keys.slice(0, -1));
    await runEtl(source, lake, { buckets: BUCKETS }, 1);
    const before = await checks.tables(dst);
    const lakeDir = await checks.download(dst);
    const types = await describeTable(db, lakeDir, 'songplays');
    const manifest = JSON.parse(Buffer.from(await dst.get(tableManifestKey('songplays'))).toString('utf8'));
    assert.equal(manifest.files.length, BUCKETS, 'one songplays file per bucket before');

    const report = await compactLake(lake);
    assert.deepEqual(
      [
        report.tables.songplays.filesBefore,
        report.tables.songplays.filesAfter,
        report.tables.songplays.partitionsRewritten,
      ],
      [BUCKETS, 1, 1],
    );
    assert.equal(report.tables.users.partitionsRewritten, 0, 'a single-file partition is left alone');
    assert.deepEqual(await checks.tables(dst), before, 'the same rows through the glob');
    const after = await checks.download(dst);
    checks.assertGlobExact(after, 'after compaction');
    assert.deepEqual(await describeTable(db, after, 'songplays'), types, 'the same column types');
    assert.equal(await dst.head(leaseKey), undefined, 'the lease was given up');

    // Smaller files: the partition is cut into ceil(bytes / target) files holding every row once.
    const bytes = report.tables.songplays.bytes;
    const small = await compactLake(lake, { fileBytes: Math.ceil(bytes / 3) });
    assert.equal(small.tables.songplays.filesAfter, 3);
    assert.deepEqual(await checks.tables(dst), before);

    // Runs go on: the last file arrives and the lake equals a full run.
    await putFiles(src, data, keys.slice(-1));
    const next = await runEtl(source, lake, { buckets: BUCKETS }, 1);
    assert.equal(next.report.inputs.new, 1);
    await checks.assertEqualsFull(src, dst, 'a run after compaction');
  });

  test('is refused while a run holds the lake', async () => {
    const { source, lake } = fresh();
    await putFiles(openStore(source), data, [...data.keys()]);
    await runEtl(source, lake, { buckets: BUCKETS }, 1);
    const dst = openStore(lake);
    await acquireLease(dst, 'a-running-load');
    await assert.rejects(
      compactLake(lake),
      (e: Error) => e instanceof LakeBusyError && /a-running-load/.test(e.message),
    );
    await releaseLease(dst, 'a-running-load');
    for (const t of TABLES) assert.ok(await dst.head(tableManifestKey(t)), `${t} manifest still there`);
  });
}

describe('compaction on the filesystem', () => {
  compaction(() => ({ source: checks.freshDir('src'), lake: checks.freshDir('lake') }));
});

describe('compaction on a local S3 server', () => {
  compaction(localS3Locations('compact'));
});
