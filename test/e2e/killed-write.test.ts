/**
 * A writer killed in the middle of writing a table file (SIGKILL, no chance to clean up) leaves no partial file a
 * reader of the table would see: the bytes sit in a hidden temp file that the store's listing, the Parquet globs
 * and Athena (which skip names starting with a dot) ignore; the table reads as before.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { openStore } from '../../shared/store.ts';
import { duck, readTable } from '../support/lake.ts';
import { PUBLIC_SAMPLE, runEtl, tempDir } from '../support/run.ts';

const ROOT = decodeURIComponent(new URL('../..', import.meta.url).pathname);

describe('a writer killed mid-write', () => {
  const tmp = tempDir('killed-write');
  after(() => tmp.remove());

  test('leaves only a hidden temp file; the table and its listing are untouched', async () => {
    const lake = join(tmp.dir, 'lake');
    await runEtl(PUBLIC_SAMPLE, lake, {}, 0);
    const db = await duck();
    const before = await readTable(db, lake, 'songplays');
    const folder = join(lake, 'songplays', 'year=2018', 'month=11');
    const filesBefore = readdirSync(folder).sort();

    // A child writes a 1 GiB table file through the store; it is killed as soon as the write has begun.
    const script = join(tmp.dir, 'writer.mjs');
    writeFileSync(
      script,
      `const { openStore } = await import(${JSON.stringify(join(ROOT, 'shared/store.ts'))});
await openStore(${JSON.stringify(lake)}).put('songplays/year=2018/month=11/part-killed-b0000.parquet', new Uint8Array(1024 ** 3));`,
    );
    const child = spawn(process.execPath, ['--import', './cli/preload.mjs', script], { cwd: ROOT, stdio: 'ignore' });
    let partial: string | undefined;
    for (let i = 0; i < 600 && partial === undefined; i++) {
      await new Promise((r) => setTimeout(r, 25));
      partial = readdirSync(folder).find((f) => f.includes('.tmp-') && statSync(join(folder, f)).size > 0);
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.on('close', r));
    assert.ok(partial, 'the writer had begun writing');
    assert.ok(partial.startsWith('.'), `the partial file is hidden: ${partial}`);
    assert.ok(statSync(join(folder, partial)).size < 1024 ** 3, 'and it is partial');
    assert.deepEqual(
      readdirSync(folder)
        .filter((f) => !f.startsWith('.'))
        .sort(),
      filesBefore,
      'no visible file was added',
    );
    const listed: string[] = [];
    for await (const o of openStore(lake).list('songplays/')) listed.push(o.key);
    assert.ok(!listed.some((k) => k.includes('killed')), 'the store does not list it');
    assert.deepEqual(await readTable(db, lake, 'songplays'), before, 'the table reads as before');
  });
});
