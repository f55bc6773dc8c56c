// Unit tests of the simulated S3 latency (shared/store.ts LatencyStore): which waits each request makes, and the
// environment settings that turn it on. The waits are recorded, not timed.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ConfigError } from '../../shared/errors.ts';
import { LatencyStore, openStore, simulatedLatency } from '../../shared/store.ts';

const dir = mkdtempSync(join(tmpdir(), 'sparkify-latency-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A latency store over a fresh directory that records the waits instead of sleeping. */
function recording(firstByteMs: number, megabytesPerSecond: number) {
  const waits: number[] = [];
  const inner = openStore(mkdtempSync(join(dir, 'store-')));
  const store = new LatencyStore(inner, { firstByteMs, megabytesPerSecond }, async (ms) => {
    waits.push(ms);
  });
  return { store, inner, waits };
}

describe('LatencyStore', () => {
  test('a GET waits the first-byte latency, then its bytes at the transfer rate', async () => {
    // Prepare
    const { store, inner, waits } = recording(30, 1);
    await inner.put('a.bin', new Uint8Array(2_000_000));

    // Act
    const body = await store.get('a.bin');

    // Assess: 2,000,000 bytes at 1 MB/s is 2,000 ms
    assert.equal(body.length, 2_000_000);
    assert.deepEqual(waits, [30, 2000]);
  });

  test('a PUT waits like a GET and writes through; a stream waits once, then per chunk', async () => {
    // Prepare
    const { store, inner, waits } = recording(25, 10);

    // Act
    await store.put('b.txt', 'x'.repeat(500_000));
    let streamed = 0;
    for await (const chunk of store.stream('b.txt')) streamed += chunk.length;

    // Assess
    assert.equal((await inner.get('b.txt')).length, 500_000);
    assert.equal(streamed, 500_000);
    assert.equal(waits[0], 25);
    assert.equal(waits[1], 50); // 500,000 bytes at 10 MB/s
    assert.equal(waits[2], 25); // the stream's first byte
    assert.equal(
      waits.slice(3).reduce((a, b) => a + b, 0),
      50,
    );
  });

  test('a LIST waits once per page of 1,000 keys; a DELETE once per 1,000 keys; an empty LIST once', async () => {
    // Prepare
    const { store, inner, waits } = recording(10, 0);
    for (let i = 0; i < 1001; i++) await inner.put(`p/${String(i).padStart(4, '0')}`, 'x');

    // Act
    const listed: string[] = [];
    for await (const o of store.list('p/')) listed.push(o.key);
    const afterList = waits.length;
    for await (const _ of store.list('none/')) listed.push('unexpected');
    const afterEmpty = waits.length;
    await store.delete(listed.slice(0, 1001));

    // Assess
    assert.equal(listed.length, 1001);
    assert.equal(afterList, 2);
    assert.equal(afterEmpty, 3);
    assert.equal(waits.length, 5);
    assert.equal((await inner.head('p/0000')) === undefined, true);
  });

  test('conditional writes and head pass through with one wait each', async () => {
    // Prepare
    const { store, waits } = recording(5, 0);

    // Act
    const created = await store.create('lease.json', '{}');
    const again = await store.create('lease.json', '{}');
    const head = await store.head('lease.json');
    const replaced = await store.replace('lease.json', '{"a":1}', head?.etag ?? '');

    // Assess
    assert.deepEqual([created, again, replaced], [true, false, true]);
    assert.equal(head?.size, 2);
    assert.deepEqual(waits, [5, 5, 5, 5]);
  });
});

describe('simulatedLatency (SPARKIFY_SIMULATE_LATENCY_MS, SPARKIFY_SIMULATE_MBPS)', () => {
  test('unset means none; set means those figures', () => {
    assert.equal(simulatedLatency({}), undefined);
    assert.deepEqual(simulatedLatency({ SPARKIFY_SIMULATE_LATENCY_MS: '30' }), {
      firstByteMs: 30,
      megabytesPerSecond: 0,
    });
    assert.deepEqual(simulatedLatency({ SPARKIFY_SIMULATE_LATENCY_MS: '30', SPARKIFY_SIMULATE_MBPS: '90' }), {
      firstByteMs: 30,
      megabytesPerSecond: 90,
    });
  });

  test('openStore wraps local stores in it while the setting is on', () => {
    const before = process.env.SPARKIFY_SIMULATE_LATENCY_MS;
    try {
      process.env.SPARKIFY_SIMULATE_LATENCY_MS = '30';
      assert.ok(openStore(dir) instanceof LatencyStore, 'a local store with latency');
      delete process.env.SPARKIFY_SIMULATE_LATENCY_MS;
      assert.equal(openStore(dir) instanceof LatencyStore, false);
    } finally {
      if (before !== undefined) process.env.SPARKIFY_SIMULATE_LATENCY_MS = before;
    }
  });

  test('a bad figure is a ConfigError naming both settings', () => {
    assert.throws(
      () => simulatedLatency({ SPARKIFY_SIMULATE_LATENCY_MS: 'fast' }),
      (e: unknown) =>
        e instanceof ConfigError && /SPARKIFY_SIMULATE_LATENCY_MS.*SPARKIFY_SIMULATE_MBPS/.test(e.message),
    );
    assert.throws(() => simulatedLatency({ SPARKIFY_SIMULATE_MBPS: '-1' }), ConfigError);
  });
});
