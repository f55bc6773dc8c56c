/** statemachine/handler-bundle.ts: the threads' JavaScript build runs the handlers as their sources do. */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { BUILD_CACHE, bundleHandlers } from '../../statemachine/handler-bundle.ts';
import { WORKER_LOOP, WorkerPool } from '../../statemachine/worker-pool.ts';

const ECHO = new URL('../support/handlers/echo.ts', import.meta.url);
const EXIT = new URL('../support/handlers/exit.ts', import.meta.url);

describe('bundleHandlers', () => {
  // Under the default cache's parent, so that the build's packages resolve from it as they do in a run.
  const cache = new URL(`test-${process.pid}/`, new URL('..', BUILD_CACHE));
  after(() => rmSync(cache, { recursive: true, force: true }));

  test('builds each TypeScript module once, in a folder named by its content, shared by a second build', async () => {
    const withQuery = new URL('?fn=map', ECHO);
    const built = await bundleHandlers([WORKER_LOOP, ECHO, EXIT, ECHO, new URL('file:///plain.mjs'), withQuery], cache);
    assert.deepEqual([...built.keys()], [WORKER_LOOP.href, ECHO.href, EXIT.href]);
    const folders = readdirSync(cache);
    assert.equal(folders.length, 1, 'one finished folder, nothing left aside');
    assert.match(folders[0] as string, /^[0-9a-f]{16}$/);
    for (const url of built.values()) assert.ok(url.href.endsWith('.js') && url.href.includes(folders[0] as string));
    const again = await bundleHandlers([WORKER_LOOP, ECHO, EXIT], cache);
    assert.deepEqual([...again.values()].map(String), [...built.values()].map(String));
    assert.equal(readdirSync(cache).length, 1);
  });

  test('threads run the built handlers: results, error names and source-mapped stacks, a dead thread replaced', async () => {
    const built = await bundleHandlers([WORKER_LOOP, ECHO, EXIT], cache);
    const pool = new WorkerPool(2, built.get(WORKER_LOOP.href));
    try {
      const echo = built.get(ECHO.href) as URL;
      const results = (await Promise.all([1, 2, 3].map((i) => pool.run(echo, { i })))) as {
        event: { i: number };
        threadId: number;
      }[];
      assert.deepEqual(
        results.map((r) => r.event.i),
        [1, 2, 3],
      );
      assert.ok(results.every((r) => r.threadId > 0));
      const failure = await pool.run(echo, { fail: 'built' }).catch((e: unknown) => e as Error);
      assert.ok(failure instanceof Error);
      assert.equal(failure.name, 'TransientError');
      assert.equal(failure.message, 'asked to fail: built');
      assert.match(failure.stack ?? '', /echo\.ts:\d+/, 'the stack names the source, not the build');
      await assert.rejects(pool.run(built.get(EXIT.href) as URL, { code: 5 }), { message: /code 5/ });
      assert.equal(((await pool.run(echo, { i: 4 })) as { event: { i: number } }).event.i, 4);
      // A handler outside the build (given with a query, so not built) runs from its source.
      const source = (await pool.run(new URL('?fn=x', ECHO), { i: 5 })) as { event: { i: number }; threadId: number };
      assert.equal(source.event.i, 5);
      assert.ok(source.threadId > 0);
    } finally {
      await pool.close();
    }
  });

  test('a build that cannot be written gives no build: the threads load the sources instead', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bundle-'));
    try {
      writeFileSync(join(dir, 'file'), '');
      const built = await bundleHandlers([WORKER_LOOP, ECHO], new URL(`${pathToFileURL(join(dir, 'file')).href}/x/`));
      assert.equal(built.size, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
