// Unit tests of the reduce bucket count a new state gets (shared/plan.ts bucketsFor): the default for small input,
// more when a bucket would hold more than BUCKET_INPUT_BYTES, the given setting when there is one.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { BUCKET_INPUT_BYTES, DEFAULT_SETTINGS, MAX_BUCKETS } from '../../shared/config.ts';
import { bucketsFor, plan } from '../../shared/plan.ts';

const dir = mkdtempSync(join(tmpdir(), 'sparkify-buckets-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('bucketsFor', () => {
  test('the default up to 4 × BUCKET_INPUT_BYTES, then one bucket per BUCKET_INPUT_BYTES, at most MAX_BUCKETS', () => {
    assert.equal(bucketsFor(0), DEFAULT_SETTINGS.buckets);
    assert.equal(bucketsFor(157_170_032), DEFAULT_SETTINGS.buckets); // the benchmark's medium input
    assert.equal(bucketsFor(4 * BUCKET_INPUT_BYTES), 4);
    assert.equal(bucketsFor(4 * BUCKET_INPUT_BYTES + 1), 5);
    assert.equal(bucketsFor(1_600_000_000), 12); // large
    assert.equal(bucketsFor(1e15), MAX_BUCKETS);
  });
});

describe('plan', () => {
  // A sparse 600 MiB song file: its size is real to a listing, and costs no disk.
  const source = join(dir, 'source');
  mkdirSync(join(source, 'song_data', 'A'), { recursive: true });
  mkdirSync(join(source, 'log_data'), { recursive: true });
  writeFileSync(join(source, 'song_data', 'A', 'big.json'), '');
  truncateSync(join(source, 'song_data', 'A', 'big.json'), 600 * 1024 * 1024);
  writeFileSync(join(source, 'log_data', 'day.json'), '{}\n');

  test('a first run over 600 MiB gets 5 buckets', async () => {
    const planned = await plan({ source, target: join(dir, 'lake-auto') });
    assert.equal(planned.buckets.length, 5);
    assert.equal(planned.run.settings.buckets, 5);
  });

  test('a given bucket count is kept', async () => {
    const planned = await plan({ source, target: join(dir, 'lake-given'), settings: { buckets: 3 } });
    assert.equal(planned.buckets.length, 3);
  });
});
