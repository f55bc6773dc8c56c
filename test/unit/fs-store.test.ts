/** shared/store.ts, the local store: objects read back whole, small ones in one read and large ones streamed. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { openStore } from '../../shared/store.ts';

describe('a local store streams an object', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-stream-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('whole and byte for byte, on either side of the small-file read (64 KiB) and far above it', async () => {
    const store = openStore(dir);
    const sizes = [0, 1, 65_535, 65_536, 65_537, 3_000_001];
    for (const size of sizes) {
      const body = Buffer.alloc(size);
      for (let i = 0; i < size; i++) body[i] = (i * 31 + size) & 0xff;
      await store.put(`o/${size}.bin`, body);
    }
    for (const size of sizes) {
      const chunks: Uint8Array[] = [];
      for await (const chunk of store.stream(`o/${size}.bin`)) chunks.push(chunk);
      const back = Buffer.concat(chunks);
      assert.equal(back.length, size, `${size} bytes`);
      const want = Buffer.alloc(size);
      for (let i = 0; i < size; i++) want[i] = (i * 31 + size) & 0xff;
      assert.ok(back.equals(want), `${size}: the same bytes`);
    }
    // Two small objects read one after the other keep their own bytes (the read buffer is reused).
    const first: Uint8Array[] = [];
    for await (const c of store.stream('o/1.bin')) first.push(c);
    for await (const _ of store.stream('o/65535.bin')) {
    }
    assert.deepEqual([...Buffer.concat(first)], [1]);
    await assert.rejects(async () => {
      for await (const _ of store.stream('o/missing.bin')) {
      }
    }, /cannot read/);
  });
});
