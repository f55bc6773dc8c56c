/** statemachine/worker-pool.ts: handlers run on threads, errors keep their names, a dead thread is replaced. */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { WORKER_EXITED, WorkerPool } from '../../statemachine/worker-pool.ts';

const ECHO = new URL('../support/handlers/echo.ts', import.meta.url);
const EXIT = new URL('../support/handlers/exit.ts', import.meta.url);

describe('WorkerPool', () => {
  const pool = new WorkerPool(2);
  after(() => pool.close());

  test('runs handlers on the pool threads, more tasks than threads queue', async () => {
    const results = (await Promise.all(Array.from({ length: 6 }, (_, i) => pool.run(ECHO, { i })))) as {
      event: { i: number };
      threadId: number;
    }[];
    assert.deepEqual(
      results.map((r) => r.event.i),
      [0, 1, 2, 3, 4, 5],
    );
    assert.equal(new Set(results.map((r) => r.threadId)).size, 2);
    assert.ok(
      results.every((r) => r.threadId > 0),
      'not the main thread',
    );
  });

  test("a handler's error keeps its name (what the ASL's Retry matches)", async () => {
    await assert.rejects(pool.run(ECHO, { fail: 'once' }), { name: 'TransientError', message: 'asked to fail: once' });
  });

  test('a thread that dies fails its task with WorkerExited and is replaced', async () => {
    await assert.rejects(pool.run(EXIT, { code: 3 }), { name: WORKER_EXITED, message: /code 3/ });
    await assert.rejects(pool.run(EXIT, { code: 4 }), { name: WORKER_EXITED, message: /code 4/ });
    const results = (await Promise.all(Array.from({ length: 4 }, (_, i) => pool.run(ECHO, { i })))) as {
      threadId: number;
    }[];
    assert.equal(results.length, 4);
    assert.equal(new Set(results.map((r) => r.threadId)).size, 2, 'still two threads');
  });
});
