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
import { PUBLIC_SAMPLE, runEtl, tempDir } from '../support/run.ts';
import { type LocalS3, startS3 } from '../support/s3.ts';

const FAULTY = new URL('../support/handlers/faulty.ts', import.meta.url);
const FAULTY_HANDLERS = Object.fromEntries(
  ['PlanLambdaFunction', 'MapLambdaFunction', 'ReduceLambdaFunction', 'CommitLambdaFunction'].map((id) => [id, FAULTY]),
);

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

  for (const [label, fault] of [
    ['a map worker that throws once', { stage: 'map', kind: 'throw' }],
    ['a facts reducer killed once, after the others wrote', { stage: 'facts', kind: 'exit', bucket: 1 }],
  ] as const) {
    test(`${label} is run again: the run succeeds and equals a clean run`, async () => {
      const target = `s3://lake/once-${fault.stage}`;
      const once = join(tmp.dir, `once-${fault.stage}`);
      process.env.SPARKIFY_TEST_FAULT = JSON.stringify({ ...fault, once });
      let run: Awaited<ReturnType<typeof runEtl>>;
      try {
        run = await runEtl('s3://raw/faults', target, { buckets: 2 }, 2, {}, FAULTY_HANDLERS);
      } finally {
        delete process.env.SPARKIFY_TEST_FAULT;
      }
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
