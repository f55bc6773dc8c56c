/**
 * `npm run bench` as a smoke run (CI runs the small size only, and asserts no time): both contenders run on the
 * generated small data (14,375 files), their lakes are equal, every stage's invocations are measured alone, and
 * bench/results.md's page is written with those figures.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { tempDir } from '../support/run.ts';

const tmp = tempDir('bench');
after(() => tmp.remove());
const ROOT = decodeURIComponent(new URL('../..', import.meta.url).pathname);

test('npm run bench -- --sizes small: equal lakes, a ratio, per-stage worker memory, the results page', async () => {
  // Act: a child process, as `npm run bench` runs it (spawnSync would block this test runner's event loop)
  const out = join(tmp.dir, 'results.md');
  const { stderr } = await promisify(execFile)(
    process.execPath,
    [
      '--import',
      './cli/preload.mjs',
      'bench/run.ts',
      '--sizes',
      'small',
      '--no-latency',
      '--data',
      tmp.dir,
      '--out',
      out,
    ],
    { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 },
  );

  // Assess
  assert.match(stderr, /small: ours [\d.]+ s, DuckDB [\d.]+ s, equal: true/);
  const page = readFileSync(out, 'utf8');
  const row = page.split('\n').find((l) => l.startsWith('| small | 9 MB, 14,375 files, 10,000 events |'));
  assert.ok(row, `a row for small in:\n${page}`);
  const cells = row.split('|').map((c) => c.trim());
  assert.match(cells[5] ?? '', /^\*\*\d+\.\d\d\*\*$/, 'the ratio ours / DuckDB');
  assert.equal(cells[9], 'yes', 'equal lakes');
  const memory = page.split('\n').find((l) => l.startsWith('| small | ') && l.includes('MB ('));
  assert.ok(memory, 'a per-stage memory row');
  // plan 1, map one per shard (8 song shards of ≤ 2,000 files and 1 log shard), 4 buckets per reduce phase, commit 1
  const counts = [...memory.matchAll(/MB \((\d+)\)/g)].map((m) => Number(m[1]));
  assert.deepEqual(counts, [1, 9, 4, 4, 1]);
  for (const mb of [...memory.matchAll(/(\d+) MB/g)].map((m) => Number(m[1]))) {
    assert.ok(mb > 50 && mb < 1769, `${mb} MB: a process's peak, under the Lambda size`);
  }
});
