/** The S3 backend end to end: s3:// source to s3:// target on a real local S3 server, via AWS_ENDPOINT_URL_S3. */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openStore } from '../../shared/store.ts';
import { runLocal } from '../../statemachine/local-runner.ts';
import { duck, readLake } from '../support/lake.ts';
import { computeExpected } from '../support/oracle.ts';
import { PUBLIC_SAMPLE, tempDir } from '../support/run.ts';
import { type LocalS3, startS3 } from '../support/s3.ts';

describe('s3:// source and target on a local S3 server', () => {
  let s3: LocalS3;
  const tmp = tempDir('s3');
  let result: { report: string; rows: Record<string, number> };

  before(async () => {
    s3 = await startS3(['raw', 'lake']);
    const raw = openStore('s3://raw/sparkify');
    for (const file of readdirSync(PUBLIC_SAMPLE, { recursive: true }).map(String)) {
      if (!/^(song|log)_data\/.*\.json$/.test(file)) continue;
      await raw.put(file, readFileSync(join(PUBLIC_SAMPLE, file)));
    }
    result = (await runLocal({ source: 's3://raw/sparkify', target: 's3://lake/star' })) as never;
  });
  after(async () => {
    await s3.stop();
    tmp.remove();
  });

  test('writes the same tables as the filesystem run, read back by DuckDB', async () => {
    // Download the lake as it sits in the bucket, then read it with the independent reader.
    const lake = openStore('s3://lake/star');
    let files = 0;
    for await (const o of lake.list('')) {
      const path = join(tmp.dir, o.key);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, await lake.get(o.key));
      files++;
    }
    assert.ok(files > 5);
    const tables = await readLake(await duck(), tmp.dir);
    const { rejects: _r, read: _n, ...expected } = computeExpected(PUBLIC_SAMPLE);
    assert.deepEqual(tables, expected);
    assert.deepEqual(result.rows, { songplays: 6820, users: 97, songs: 71, artists: 69, time: 6813 });
  });

  test('the report is in the bucket and no scratch is left', async () => {
    const lake = openStore('s3://lake/star');
    const keys: string[] = [];
    for await (const o of lake.list('')) keys.push(o.key);
    assert.ok(keys.includes(result.report));
    assert.equal(keys.filter((k) => k.startsWith('_scratch/')).length, 0);
    const report = JSON.parse(Buffer.from(await lake.get(result.report)).toString('utf8'));
    assert.equal(report.sources.log_data.read, 8056);
    assert.equal(report.sources.song_data.objects, 71);
  });
});
