/**
 * S3 throttling and faults: a share of requests answered 503 SlowDown, 500, or dropped before any answer. The S3
 * client retries them with backoff and jitter, the run succeeds, the lake equals a clean run's, and the run report
 * counts the retries. A worker that fails or dies once is run again by the state machine's Retry.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openStore } from '../../shared/store.ts';
import { duck } from '../support/lake.ts';
import { LakeChecks } from '../support/lake-checks.ts';
import { PUBLIC_SAMPLE, runEtl, runEtlWithFault, tempDir } from '../support/run.ts';
import { type LocalS3, startS3 } from '../support/s3.ts';

describe('S3 answering 503, 500 and dropped connections on 10% of requests', () => {
  let s3: LocalS3;
  let checks: LakeChecks;
  const tmp = tempDir('s3-faults');
  const raw = openStore('s3://raw/faults');
  const lake = openStore('s3://lake/faults');

  before(async () => {
    s3 = await startS3(['raw', 'lake']);
    checks = new LakeChecks(await duck(), tmp.dir, 4);
    for (const file of readdirSync(PUBLIC_SAMPLE, { recursive: true }).map(String)) {
      if (/^(song|log)_data\/.*\.json$/.test(file)) await raw.put(file, readFileSync(join(PUBLIC_SAMPLE, file)));
    }
  });
  after(async () => {
    await s3.stop();
    tmp.remove();
  });

  test('the run succeeds, equals a clean run, and reports the retries', async (t) => {
    s3.setFaults({ rate: 0.1, seed: 7, kinds: ['503', '500', 'reset'] });
    let run: Awaited<ReturnType<typeof runEtl>>;
    try {
      run = await runEtl('s3://raw/faults', 's3://lake/faults', { buckets: 2 }, 2);
    } finally {
      s3.setFaults(undefined);
    }
    const injected = s3.injected['503'] + s3.injected['500'] + s3.injected.reset;
    const { storage } = run.report;
    t.diagnostic(`injected ${JSON.stringify(s3.injected)}; the run's requests ${JSON.stringify(storage.total)}`);
    assert.equal(run.report.status, 'succeeded');
    assert.ok(s3.injected['503'] > 0 && s3.injected['500'] > 0 && s3.injected.reset > 0, 'every kind was injected');
    assert.ok(storage.total.retries > 0, 'the report counts retries');
    // Faults also hit requests the report cannot count (the statistics objects, the report itself, clean-up).
    assert.ok(storage.total.retries <= injected, `${storage.total.retries} retries for ${injected} faults`);
    const requests = storage.total.get + storage.total.put + storage.total.list + storage.total.delete;
    assert.ok(
      storage.total.retries >= 0.05 * requests,
      `about one retry in ten requests: ${storage.total.retries} of ${requests}`,
    );
    for (const stage of ['plan', 'map', 'dimensions', 'facts', 'commit'] as const) {
      assert.ok(storage[stage].get + storage[stage].put + storage[stage].list > 0, `${stage} counts its requests`);
    }
    await checks.assertEqualsFull(raw, lake, 'after a run through faults');
  });

  test('a shard that always fails, with failures tolerated: its objects become file-level rejects and load next run', async () => {
    const target = 's3://lake/tolerated';
    const settings = { shardFiles: 10, toleratedShardFailures: 0.1 };
    // 71 song files and 30 log files in shards of 10: shards 0–7 song_data, 8–10 log_data; the middle log shard fails.
    const fault = { stage: 'map', kind: 'throw', shard: 'log_data-000009' };
    const { report } = await runEtlWithFault(fault, 's3://raw/faults', target, settings, 2);
    assert.equal(report.status, 'succeeded');
    assert.deepEqual(
      report.failedShards?.map((f: { shardId: string; objects: number }) => [f.shardId, f.objects]),
      [['log_data-000009', 10]],
    );
    assert.equal(report.rejects.byReason['object not read: its map shard failed'], 10);
    const check = report.checks.find((c: { name: string }) => c.name === 'map: failed shards');
    assert.deepEqual(
      [check?.passed, check?.detail.startsWith('1 of 11 shards failed (9.09%, tolerated 10.00%)')],
      [true, true],
    );
    const logs = report.sources.log_data;
    assert.equal(
      logs.loaded + logs.rejected,
      logs.read,
      'read = loaded + rejected, the unread objects counted once each',
    );

    // The lake holds everything but the failed shard's objects; each of those has one file-level reject.
    const target_ = openStore(target);
    const ledger: string[] = [];
    for await (const o of target_.list('_state/')) if (o.key.endsWith('ledger.jsonl')) ledger.push(o.key);
    const loaded = Buffer.from(await target_.get(ledger[0] as string))
      .toString('utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).key as string);
    assert.equal(loaded.length, 101 - 10, 'the failed objects are not in the ledger');
    const failedKeys: string[] = [];
    for await (const o of target_.list('_rejects/log_data/')) failedKeys.push(o.key);
    assert.equal(failedKeys.length, 10);
    const line = JSON.parse(Buffer.from(await target_.get(failedKeys[0] as string)).toString('utf8'));
    assert.deepEqual([line.line, line.reason], [0, 'object not read: its map shard failed']);
    assert.match(line.raw, /^InjectedFault: injected fault in map/);

    // Nothing injected now: the next run reads exactly those 10 objects, and the lake equals a full run.
    const next = await runEtl('s3://raw/faults', target, settings, 2);
    assert.equal(next.report.inputs.new, 10);
    await checks.assertEqualsFull(raw, target_, 'after the failed shard was read again');

    // A changed object whose shard fails leaves the ledger: put back as it was, it is still read again.
    const key = 'log_data/2018/11/2018-11-05-events.json';
    const original = await raw.get(key);
    await raw.put(key, Buffer.from(original).toString('utf8').split('\n').slice(1).join('\n'));
    const failedAgain = await runEtlWithFault(
      { stage: 'map', kind: 'throw', shard: 'log_data-000000' },
      's3://raw/faults',
      target,
      { ...settings, toleratedShardFailures: 1, rejectLimit: 1 },
      2,
    );
    assert.deepEqual(
      failedAgain.report.failedShards?.map((f: { objects: number }) => f.objects),
      [1],
    );
    await raw.put(key, original);
    const reverted = await runEtl('s3://raw/faults', target, settings, 2);
    assert.equal(reverted.report.inputs.new, 1, 'the object is read again although its ETag is the one loaded before');
    await checks.assertEqualsFull(raw, target_, 'after a failed changed object was put back');
  });

  test('failed shards beyond the tolerated share fail the run, naming the check; nothing is published', async () => {
    await assert.rejects(
      runEtlWithFault(
        { stage: 'map', kind: 'throw', shard: 'log_data-000009' },
        's3://raw/faults',
        's3://lake/over-tolerance',
        { shardFiles: 10, toleratedShardFailures: 0.05 },
        2,
      ),
      (e: Error & { errorName?: string }) =>
        e.errorName === 'DataQualityError' &&
        /map: failed shards \(1 of 11 shards failed \(9\.09%, tolerated 5\.00%\)/.test(e.message),
    );
    assert.equal(await openStore('s3://lake/over-tolerance').head('_manifests/songplays.json'), undefined);
  });

  for (const [label, fault] of [
    ['a map worker that throws once', { stage: 'map', kind: 'throw' }],
    ['a facts reducer killed once, after the others wrote', { stage: 'facts', kind: 'exit', bucket: 1 }],
  ] as const) {
    test(`${label} is run again: the run succeeds and equals a clean run`, async () => {
      const target = `s3://lake/once-${fault.stage}`;
      const once = join(tmp.dir, `once-${fault.stage}`);
      const run = await runEtlWithFault({ ...fault, once }, 's3://raw/faults', target, { buckets: 2 }, 2);
      assert.ok(existsSync(once), 'the fault fired');
      assert.equal(run.report.status, 'succeeded');
      assert.equal(
        run.report.stages[fault.stage === 'map' ? 'map' : 'facts'].invocations,
        fault.stage === 'map' ? run.report.stages.plan.shards : 2,
        'one statistics object per shard or bucket: the retry overwrote its own',
      );
      await checks.assertEqualsFull(raw, openStore(target), label);
    });
  }
});
