// Unit tests of the reduce bucket count a new state gets (shared/plan.ts bucketsFor): the default for small input,
// more when a bucket would hold more than BUCKET_INPUT_BYTES, the given setting when there is one; an incremental
// lake whose loaded data outgrows its state's buckets is rebuilt (a full run) with the count the data calls for.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { BUCKET_INPUT_BYTES, DEFAULT_SETTINGS, MAX_BUCKETS } from '../../shared/config.ts';
import { ledgerKey, planStatsKey, statePointerKey } from '../../shared/keys.ts';
import { bucketsFor, plan } from '../../shared/plan.ts';
import { rebucketedText } from '../../shared/report-html.ts';
import { openStore } from '../../shared/store.ts';

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

describe('plan, on a lake whose data outgrows its state', () => {
  // Sparse song files of 600 MiB: two are loaded already, by a state of 4 buckets; a third arrives.
  const MiB = 1024 * 1024;
  const source = join(dir, 'growing');
  mkdirSync(join(source, 'song_data', 'A'), { recursive: true });
  mkdirSync(join(source, 'log_data'), { recursive: true });
  for (const name of ['one', 'two', 'three']) {
    writeFileSync(join(source, 'song_data', 'A', `${name}.json`), '');
    truncateSync(join(source, 'song_data', 'A', `${name}.json`), 600 * MiB);
  }
  writeFileSync(join(source, 'log_data', 'day.json'), '{}\n');

  /** A lake whose state (4 buckets) has loaded these source objects. */
  async function lake(name: string, loaded: string[]): Promise<string> {
    const target = join(dir, name);
    const store = openStore(target);
    const entries = [];
    for (const key of loaded) {
      const info = await openStore(source).head(key);
      entries.push(JSON.stringify({ key, etag: info?.etag, size: info?.size, runId: 'r-0' }));
    }
    await store.put(ledgerKey('r-0'), `${entries.join('\n')}\n`);
    await store.put(statePointerKey, JSON.stringify({ runId: 'r-0', buckets: 4, digest: 2 }));
    return target;
  }

  test('1,800 MiB loaded by 4 buckets (15 wanted): the run rebuilds the state with 15, as a full run', async () => {
    const target = await lake('outgrown', ['song_data/A/one.json', 'song_data/A/two.json']);
    const planned = await plan({ source, target });
    assert.equal(planned.run.mode, 'full');
    assert.equal(planned.run.baseline, null);
    assert.equal(planned.buckets.length, bucketsFor(1800 * MiB + 3));
    assert.equal(planned.buckets.length, 15);
    const stats = JSON.parse(Buffer.from(await openStore(target).get(planStatsKey(planned.run.runId))).toString());
    assert.deepEqual(stats.selection.rebucketed, { from: 4, to: 15, loadedBytes: 1800 * MiB + 3 });
    assert.deepEqual([stats.selection.new, stats.selection.unchanged], [4, 0], 'every object is read again');
    assert.equal(
      rebucketedText(stats.selection.rebucketed),
      "the lake outgrew its state's 4 buckets (1800 MiB loaded): state rebuilt with 15",
    );
  });

  test('under twice its buckets the lake stays incremental; a given bucket count is never changed', async () => {
    // 600 MiB loaded and a small log arriving: 5 buckets wanted, fewer than twice 4.
    const small = await plan({
      source,
      target: await lake('growing', ['song_data/A/one.json']),
      keys: ['log_data/day.json'],
    });
    assert.deepEqual([small.run.mode, small.run.baseline, small.buckets.length], ['incremental', 'r-0', 4]);
    // Outgrown, but the run gives its buckets: the state keeps its own.
    const target = await lake('given', ['song_data/A/one.json', 'song_data/A/two.json']);
    const given = await plan({ source, target, settings: { buckets: 4 } });
    assert.deepEqual([given.run.mode, given.run.baseline, given.buckets.length], ['incremental', 'r-0', 4]);
  });
});
