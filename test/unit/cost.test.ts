/** The AWS cost estimate: GB-seconds at each function's memory, transitions, S3 requests, at the listed prices. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { estimateCost, LAMBDA_MEMORY_MB, PRICES } from '../../shared/cost.ts';

describe('estimateCost', () => {
  test('adds up each part at its price', () => {
    const estimate = estimateCost({
      busyMs: { plan: 2000, map: 60_000, reduce: 30_000, commit: 4000 },
      invocations: { plan: 1, map: 10, reduce: 8, commit: 1 },
      mapBatches: 10,
      reduceItems: 8,
      storage: { get: 10_000, put: 2000, list: 500, delete: 3, retries: 7 },
    });
    // 2 s × 1 GB + 60 s × 1769/1024 GB + 30 s × 1769/1024 GB + 4 s × 1769/1024 GB
    const gbs = 2 + (94 * 1769) / 1024;
    assert.ok(Math.abs(estimate.lambdaGbSeconds - gbs) < 1e-9, `${estimate.lambdaGbSeconds} GB-s`);
    assert.equal(estimate.lambdaRequests, 20);
    assert.equal(estimate.stateTransitions, 6 + 10 + 8);
    assert.deepEqual([estimate.s3Get, estimate.s3PutOrList], [10_000, 2500]);
    const usd = {
      lambda: gbs * 0.0000133334 + 20 * 0.0000002,
      stepFunctions: 24 * 0.000025,
      s3: 2500 * 0.000005 + 10_000 * 0.0000004,
    };
    for (const k of ['lambda', 'stepFunctions', 's3'] as const) {
      assert.ok(Math.abs(estimate.usd[k] - usd[k]) < 1e-12, `${k}: ${estimate.usd[k]} vs ${usd[k]}`);
    }
    assert.ok(Math.abs(estimate.usd.total - (usd.lambda + usd.stepFunctions + usd.s3)) < 1e-12);
    assert.equal(estimate.region, PRICES.region);
  });

  test('map, reduce and commit are billed at one full vCPU (1769 MB), plan at 1024 MB', () => {
    assert.deepEqual(LAMBDA_MEMORY_MB, { plan: 1024, map: 1769, reduce: 1769, commit: 1769 });
  });
});
