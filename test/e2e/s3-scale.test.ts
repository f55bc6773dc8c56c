/**
 * The S3 backend at scale on a real local S3 server: more than 1,000 input keys (list pagination), log files read
 * as streams (larger than the record limit), and a Parquet file large enough for a multipart upload. The lake
 * equals the oracle's tables.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { generate } from '../../cli/generate.ts';
import { forEachLimited } from '../../shared/concurrency.ts';
import { type ObjectInfo, openStore } from '../../shared/store.ts';
import { duck, readLake } from '../support/lake.ts';
import { computeExpected } from '../support/oracle.ts';
import { runEtl, tempDir } from '../support/run.ts';
import { type LocalS3, startS3 } from '../support/s3.ts';

const PART = 5 * 1024 * 1024;

describe('s3:// at scale: pagination, streamed reads, multipart upload', () => {
  let s3: LocalS3;
  const tmp = tempDir('s3-scale');
  const source = join(tmp.dir, 'source');
  const objects: ObjectInfo[] = [];
  let report: Awaited<ReturnType<typeof runEtl>>['report'];
  let expected: ReturnType<typeof computeExpected>;

  before(async () => {
    process.env.SPARKIFY_S3_PART_BYTES = String(PART); // read when the store module loads, in the worker threads
    s3 = await startS3(['raw', 'lake']);
    await generate({ out: source, songs: 1150, events: 160_000, seed: 5 });
    const raw = openStore('s3://raw/in');
    const files = readdirSync(source, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.json'));
    await forEachLimited(files, 32, (f) => raw.put(f, readFileSync(join(source, f))));
    // One songplays file for the whole run: large enough to go up in parts. Log files (~2 MB) exceed the
    // record limit, so they are read as streams.
    const settings = { buckets: 1, partitions: { songplays: [] }, maxRecordBytes: 1024 * 1024 };
    ({ report } = await runEtl('s3://raw/in', 's3://lake/out', settings));
    for await (const o of openStore('s3://lake/out').list('')) objects.push(o);
    expected = computeExpected(source);
  });
  after(async () => {
    await s3.stop();
    tmp.remove();
  });

  test('lists more than 1,000 input keys across pages', () => {
    assert.ok(report.sources.song_data.objects > 1000, `${report.sources.song_data.objects} song objects`);
    assert.equal(report.sources.song_data.read, expected.read.song_data);
    assert.equal(report.sources.log_data.read, expected.read.log_data);
  });

  test('writes a songplays file larger than a part, in parts', () => {
    const songplays = objects.filter((o) => o.key.startsWith('songplays/'));
    assert.equal(songplays.length, 1);
    assert.ok((songplays[0]?.size ?? 0) > PART, `songplays file of ${songplays[0]?.size} bytes`);
    const key = `/lake/out/${songplays[0]?.key}`;
    const parts = s3.requests.filter(
      (r) => r.method === 'PUT' && r.url.startsWith(`${key}?`) && r.url.includes('partNumber='),
    );
    assert.equal(parts.length, Math.ceil((songplays[0]?.size ?? 0) / PART));
    assert.ok(
      s3.requests.some((r) => r.method === 'POST' && r.url.startsWith(`${key}?`) && r.url.includes('uploadId=')),
      'the upload was completed',
    );
    // A small object goes up in one plain PUT.
    const users = objects.find((o) => o.key.startsWith('users/'));
    assert.ok(users && users.size < PART, 'the users file is small');
    assert.deepEqual(
      s3.requests.filter((r) => r.url.split('?')[0] === `/lake/out/${users.key}`).map((r) => r.method),
      ['PUT'],
    );
  });

  test('the lake in the bucket equals the oracle', async () => {
    const lake = join(tmp.dir, 'lake');
    const store = openStore('s3://lake/out');
    for (const o of objects) {
      mkdirSync(dirname(join(lake, o.key)), { recursive: true });
      writeFileSync(join(lake, o.key), await store.get(o.key));
    }
    const tables = await readLake(await duck(), lake);
    const { rejects: _r, read: _n, ...tablesExpected } = expected;
    assert.deepEqual(tables, tablesExpected);
  });
});
