/**
 * Hostile and broken input, among the public sample: an empty file, binary garbage, a 60 MB single-line file,
 * deeply nested JSON, invalid UTF-8, huge numbers, keys with odd characters. No crash; every record is loaded or
 * rejected as DESIGN.md defines (the lake and the rejects equal the independent oracle's, read = loaded +
 * rejected); the whole local run stays under 2 GB; and the same holds on a local S3 server.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openStore } from '../../shared/store.ts';
import { duck } from '../support/lake.ts';
import { LakeChecks } from '../support/lake-checks.ts';
import { computeExpected } from '../support/oracle.ts';
import { PUBLIC_SAMPLE, runEtl, runNode, tempDir } from '../support/run.ts';
import { type LocalS3, startS3 } from '../support/s3.ts';

const ROOT = decodeURIComponent(new URL('../..', import.meta.url).pathname);
const MB = 1024 * 1024;

/** The hostile files, by key. */
function hostileFiles(): Map<string, Uint8Array | string> {
  const event = (fields: Record<string, unknown>) =>
    JSON.stringify({ page: 'NextSong', userId: '7', firstName: 'Ada', sessionId: 1, itemInSession: 1, ...fields });
  const garbage = new Uint8Array(64 * 1024);
  let x = 12345;
  for (let i = 0; i < garbage.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    garbage[i] = x >>> 24;
  }
  return new Map<string, Uint8Array | string>([
    ['log_data/2018/11/empty-events.json', ''],
    ['log_data/2018/11/garbage-events.json', garbage],
    // One line of 60 MB: over maxRecordBytes (16 MiB), rejected without being held whole.
    ['log_data/2018/11/huge-line-events.json', `${event({ ts: 1541990000000, song: 'x'.repeat(60 * MB) })}\n`],
    [
      'log_data/2018/11/nested-events.json',
      `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}\n${'['.repeat(100_000)}${']'.repeat(100_000)}`,
    ],
    [
      'log_data/2018/11/invalid-utf8-events.json',
      Buffer.concat([
        Buffer.from(`${event({ ts: 1541990000001, artist: 'Bj' })}`.replace('"Bj"', '"Bj\u0000"')),
        Buffer.from('\n'),
        Buffer.from(event({ ts: 1541990000002, lastName: 'Ok' })),
        Buffer.from('\n{"ts":1541990000003,"page":"NextSong","song":"'),
        Buffer.from([0xc3, 0x28, 0xff, 0xfe]),
        Buffer.from('"}\n'),
      ]),
    ],
    [
      'log_data/2018/11/huge-numbers-events.json',
      [
        // Numbers as the text has them: 1e400 parses to Infinity (a ts that is not finite), the others lose digits.
        '{"ts":1e400,"page":"NextSong","userId":"7"}',
        '{"ts":1541990000004,"page":"NextSong","userId":"8","sessionId":123456789012345678901234567890,"itemInSession":1e308,"length":1e999}',
        '{"ts":1541990000005,"page":"NextSong","userId":99999999999999999999,"sessionId":1,"itemInSession":1}',
      ].join('\n'),
    ],
    ['log_data/2018/11/odd name #1 ü %20 (copy).json', event({ ts: 1541990000006, userId: '15' })],
    [
      'song_data/Z/Z/Z/odd song ü #?.json',
      JSON.stringify({ song_id: 'SOODD', artist_id: 'ARODD', title: 'Ödd', duration: 1e308, year: 1e30 }),
    ],
  ]);
}

/** Writes the public sample plus the hostile files into a directory. */
function writeSource(dir: string): void {
  cpSync(PUBLIC_SAMPLE, dir, { recursive: true });
  for (const [key, body] of hostileFiles()) {
    mkdirSync(dirname(join(dir, key)), { recursive: true });
    writeFileSync(join(dir, key), body);
  }
}

describe('hostile and broken input', () => {
  const tmp = tempDir('hostile');
  let checks: LakeChecks;
  const source = join(tmp.dir, 'source');
  before(async () => {
    checks = new LakeChecks(await duck(), tmp.dir, 4);
    writeSource(source);
  });
  after(() => tmp.remove());

  test('the command runs through it under 2 GB, and the lake equals the oracle, rejects included', async (t) => {
    const lake = join(tmp.dir, 'lake');
    // The command as a user runs it, in its own process, reporting the process's peak memory (threads included).
    const script = `const { main } = await import(${JSON.stringify(join(ROOT, 'cli/sparkify.ts'))});
const code = await main(['run', '--source', ${JSON.stringify(source)}, '--target', ${JSON.stringify(lake)}, '--json']);
process.stderr.write('MAXRSS_KB ' + process.resourceUsage().maxRSS + '\\n');
process.exitCode = code;`;
    // A script file, not --eval: worker threads inherit the process's flags, and --input-type is for --eval only.
    const file = join(tmp.dir, 'run.mjs');
    writeFileSync(file, script);
    const { code, stdout, stderr } = await runNode(ROOT, ['--import', './cli/preload.mjs', file]);
    assert.equal(code, 0, stderr);
    const rssKb = Number(/MAXRSS_KB (\d+)/.exec(stderr)?.[1]);
    t.diagnostic(`peak memory of the run: ${(rssKb / 1024).toFixed(0)} MB`);
    assert.ok(rssKb > 0 && rssKb < 2 * 1024 * 1024, `peak memory ${(rssKb / 1024).toFixed(0)} MB, under 2 GB`);

    const report = JSON.parse(stdout);
    const expected = computeExpected(source);
    for (const name of ['song_data', 'log_data'] as const) {
      const s = report.sources[name];
      assert.equal(s.read, expected.read[name], `${name}: records read`);
      assert.equal(s.loaded + s.rejected, s.read, `${name}: every record loaded or rejected`);
    }
    const byReason: Record<string, number> = {};
    for (const r of expected.rejects) byReason[r.reason] = (byReason[r.reason] ?? 0) + 1;
    assert.deepEqual(report.rejects.byReason, byReason, 'rejects by reason, as the oracle counts them');
    assert.equal(report.rejects.byReason['record exceeds 16777216 bytes'], 1, 'the 60 MB line');
    await checks.assertEqualsFull(openStore(source), openStore(lake), 'hostile input');
    // The oversize reject keeps a bounded excerpt, not the 60 MB line.
    const rejects = readFileSync(join(lake, '_rejects', 'log_data/2018/11/huge-line-events.json.jsonl'), 'utf8');
    assert.ok(rejects.length < 10_000, `the reject line is ${rejects.length} characters`);
  });

  describe('on a local S3 server', () => {
    let s3: LocalS3;
    before(async () => {
      s3 = await startS3(['raw', 'lake']);
      const raw = openStore('s3://raw/hostile');
      for (const file of readdirSync(source, { recursive: true }).map(String)) {
        if (/^(song|log)_data\/.+\.json$/.test(file)) await raw.put(file, readFileSync(join(source, file)));
      }
    });
    after(async () => {
      await s3.stop();
    });

    test('the same: the lake and the rejects equal the oracle', async () => {
      const { report } = await runEtl('s3://raw/hostile', 's3://lake/hostile', {}, 2);
      assert.equal(report.status, 'succeeded');
      assert.equal(report.sources.log_data.loaded + report.sources.log_data.rejected, report.sources.log_data.read);
      await checks.assertEqualsFull(
        openStore('s3://raw/hostile'),
        openStore('s3://lake/hostile'),
        'hostile input on S3',
      );
    });
  });
});
