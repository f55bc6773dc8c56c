/**
 * The command a user types, as a child process under a non-UTC time zone: bad input is rejected with reasons
 * and the run succeeds; a run over the reject limit fails with one clear line and publishes nothing.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { duck, readLake } from '../support/lake.ts';
import { computeExpected } from '../support/oracle.ts';
import { PUBLIC_SAMPLE, tempDir } from '../support/run.ts';

const ROOT = decodeURIComponent(new URL('../..', import.meta.url).pathname);

/** Runs `sparkify` as `npm start` does, in Los Angeles time. */
function sparkify(args: string[]) {
  const out = spawnSync(process.execPath, ['--import', './cli/preload.mjs', 'cli/sparkify.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, TZ: 'America/Los_Angeles' },
    encoding: 'utf8',
  });
  return { code: out.status, stdout: out.stdout, stderr: out.stderr };
}

function write(root: string, key: string, text: string): void {
  mkdirSync(dirname(join(root, key)), { recursive: true });
  writeFileSync(join(root, key), text);
}

const event = (fields: Record<string, unknown>): string =>
  JSON.stringify({
    artist: 'Elena',
    auth: 'Logged In',
    firstName: 'Lily',
    gender: 'F',
    itemInSession: 1,
    lastName: 'Koch',
    length: 269.58322,
    level: 'paid',
    location: 'Chicago-Naperville-Elgin, IL-IN-WI',
    page: 'NextSong',
    sessionId: 818,
    song: 'Setanta matins',
    ts: 1542837407796,
    userAgent: '"Mozilla/5.0"',
    userId: '15',
    ...fields,
  });

describe('sparkify run (command line, TZ=America/Los_Angeles)', () => {
  const tmp = tempDir('cli');
  const bad = join(tmp.dir, 'bad');

  before(() => {
    // Bad input of every listed kind, among enough good records to stay under the 5% reject limit.
    const good = Array.from({ length: 200 }, (_, i) => event({ ts: 1542837407796 + i * 1000, itemInSession: i }));
    write(bad, 'log_data/2018/11/2018-11-21-events.json', good.join('\n'));
    write(
      bad,
      'log_data/2018/11/2018-11-22-events.json',
      [
        event({ ts: 1542900000000 }),
        'this is not JSON',
        event({ ts: '1542900000001' }),
        event({ ts: 1542900000002, sessionId: 'x', length: 'long', userId: 15 }), // wrong optional types load
        event({ ts: 1542900000003 }).slice(0, 40), // truncated line
      ].join('\n'),
    );
    write(bad, 'log_data/2018/11/2018-11-23-events.json', ''); // empty file: no records
    write(
      bad,
      'song_data/A/A/A/TRAAAAA.json',
      JSON.stringify({
        num_songs: 1,
        artist_id: 'AR5KOSW1187FB35FF4',
        artist_latitude: 'north',
        artist_longitude: null,
        artist_location: '',
        artist_name: 'Elena',
        song_id: 'SOZCTXZ12AB0182364',
        title: 'Setanta matins',
        duration: 269.58322,
        year: 0,
      }),
    );
    for (let i = 0; i < 59; i++) {
      const id = String(i).padStart(4, '0');
      write(
        bad,
        `song_data/B/B/B/TRBBB${id}.json`,
        JSON.stringify({
          song_id: `SO${id}`,
          artist_id: `AR${id}`,
          title: `Song ${i}`,
          artist_name: `Band ${i}`,
          duration: 100 + i,
          year: 1990,
        }),
      );
    }
    write(bad, 'song_data/A/A/B/TRAAABB.json', '{"num_songs": 1, "artist_id": "ARX", "song_id": "SOX", "tit');
    write(bad, 'song_data/A/A/C/TRAAACC.json', JSON.stringify({ artist_id: 'ARY', title: 'No id', duration: 1 }));
  });
  after(() => tmp.remove());

  test('the public sample: exit 0, a summary with rows per table, and the same tables as in UTC', async () => {
    const lake = join(tmp.dir, 'public');
    const run = sparkify(['run', '--source', PUBLIC_SAMPLE, '--target', lake]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /run \S+ succeeded in \d+\.\d s/);
    assert.match(run.stdout, /songplays\s+6,820 rows/);
    assert.match(run.stdout, /time\s+6,813 rows/);
    assert.match(run.stdout, /log_data\s+30 objects, 8,056 records read: 8,056 loaded, 0 rejected/);
    assert.match(run.stdout, new RegExp(`output\\s+${lake.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    const tables = await readLake(await duck(), lake);
    assert.deepEqual(tables.time, computeExpected(PUBLIC_SAMPLE).time);
  });

  test('bad input: every record loaded or rejected with its reason; the run succeeds', async () => {
    const lake = join(tmp.dir, 'bad-lake');
    const run = sparkify(['run', '--source', bad, '--target', lake, '--json']);
    assert.equal(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout);
    assert.deepEqual(report.sources.log_data, {
      objects: 3,
      bytes: report.sources.log_data.bytes,
      read: 205,
      loaded: 202,
      rejected: 3,
      rejectRate: 3 / 205,
    });
    assert.equal(report.sources.song_data.read, 62);
    assert.equal(report.sources.song_data.loaded, 60);
    assert.deepEqual(report.rejects.byReason, {
      'invalid JSON': 3,
      'ts is not a finite number': 1,
      'song_id is missing or empty': 1,
    });
    const lines = readFileSync(join(lake, '_rejects/log_data/2018/11/2018-11-22-events.json.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      lines.map((l) => [l.line, l.reason]),
      [
        [2, 'invalid JSON'],
        [3, 'ts is not a finite number'],
        [5, 'invalid JSON'],
      ],
    );
    assert.equal(lines[0].raw, 'this is not JSON');
    const tables = await readLake(await duck(), lake);
    const { rejects: _r, read: _n, ...expected } = computeExpected(bad);
    assert.deepEqual(tables, expected);
    // 202 plays load; the one whose length had the wrong type cannot match.
    assert.equal(tables.songplays.filter((p) => p.song_id === 'SOZCTXZ12AB0182364').length, 201);
  });

  test('over the reject limit: exit 1, one line naming the source and rate, the previous tables untouched', async () => {
    const lake = join(tmp.dir, 'bad-lake');
    const before = readFileSync(join(lake, '_manifests/songplays.json'), 'utf8');
    const filesBefore = readdirSync(lake, { recursive: true }).map(String).sort();
    const run = sparkify(['run', '--source', bad, '--target', lake, '--reject-limit', '0.01', '--full']);
    assert.equal(run.code, 1);
    const errorLines = run.stderr.trim().split('\n');
    assert.equal(errorLines.length, 1, run.stderr);
    assert.match(
      errorLines[0] ?? '',
      /^sparkify-lake: run failed in Commit: DataQualityError: quality gate failed, nothing was published: song_data: reject rate \(2 of 62 records rejected \(3\.23%, limit 1\.00%\); see _rejects\/ .*\); log_data: reject rate \(3 of 205 records rejected \(1\.46%, limit 1\.00%\)/,
    );
    assert.equal(readFileSync(join(lake, '_manifests/songplays.json'), 'utf8'), before);
    const filesAfter = readdirSync(lake, { recursive: true })
      .map(String)
      .filter((f) => !f.startsWith('_runs'))
      .sort();
    assert.deepEqual(
      filesAfter,
      filesBefore.filter((f) => !f.startsWith('_runs')),
    );
  });

  test('a missing source fails with one clear line', () => {
    const run = sparkify(['run', '--source', join(tmp.dir, 'nowhere'), '--target', join(tmp.dir, 'x')]);
    assert.equal(run.code, 1);
    assert.match(run.stderr.trim(), /^sparkify-lake: run failed in Plan: ConfigError: no input under .*nowhere/);
  });

  test('a bad option prints the usage and exits 2', () => {
    const run = sparkify(['run', '--buckets', 'many']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--buckets must be a number, got "many"/);
    assert.match(run.stderr, /Usage:/);
  });
});
