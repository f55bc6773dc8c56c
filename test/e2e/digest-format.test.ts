/**
 * A lake whose published state holds digests of format 1 (a sha1 text hash per row, before format 2's 64-bit
 * fingerprints): its next run counts rows added, updated and removed exactly as the same run on a lake of format 2
 * does, and leaves format 2 behind.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as arrow from 'apache-arrow';
import { generate } from '../../cli/generate.ts';
import { computeExpected } from '../support/oracle.ts';
import { runEtl, tempDir } from '../support/run.ts';

const TABLES = ['songplays', 'users', 'songs', 'artists', 'time'] as const;
type Table = (typeof TABLES)[number];

// The contract's columns in order: format 1 hashed a row's values as a JSON array in this order.
const COLUMNS: Record<Table, string[]> = {
  songplays: [
    'songplay_id',
    'start_time',
    'user_id',
    'level',
    'song_id',
    'artist_id',
    'session_id',
    'location',
    'user_agent',
  ],
  users: ['user_id', 'first_name', 'last_name', 'gender', 'level'],
  songs: ['song_id', 'title', 'artist_id', 'year', 'duration'],
  artists: ['artist_id', 'name', 'location', 'latitude', 'longitude'],
  time: ['start_time', 'hour', 'day', 'week', 'month', 'year', 'weekday'],
};

/** Rewrites a lake's state to format 1: each digest's rows get format 1's hash, and the pointer names no format. */
function toFormat1(lake: string, source: string): number {
  const expected = computeExpected(source);
  const pointerFile = join(lake, '_manifests', '_state.json');
  const pointer = JSON.parse(readFileSync(pointerFile, 'utf8')) as { runId: string; buckets: number };
  let rewritten = 0;
  for (const table of TABLES) {
    const rows = expected[table] as unknown as Record<string, unknown>[];
    const hashes = new Map(
      rows.map((r) => [
        String(r[COLUMNS[table][0] as string]),
        createHash('sha1')
          .update(JSON.stringify(COLUMNS[table].map((c) => r[c] ?? null)))
          .digest('hex')
          .slice(0, 16),
      ]),
    );
    const dir = join(lake, '_state', pointer.runId, 'digest', table);
    for (const file of readdirSync(dir)) {
      const digest = arrow.tableFromIPC(readFileSync(join(dir, file)));
      const text = (name: string) => [...(digest.getChild(name) ?? [])].map((v) => (v === null ? null : String(v)));
      const keys = text('key');
      const hash = keys.map((k) => {
        const h = hashes.get(k as string);
        assert.ok(h, `${table}: key ${k} in the oracle`);
        return h;
      });
      const old = new arrow.Table({
        key: arrow.vectorFromArray(keys, new arrow.Utf8()),
        hash: arrow.vectorFromArray(hash, new arrow.Utf8()),
        start_time: arrow.vectorFromArray(text('start_time'), new arrow.Utf8()),
        user_id: arrow.vectorFromArray(text('user_id'), new arrow.Utf8()),
        song_id: arrow.vectorFromArray(text('song_id'), new arrow.Utf8()),
        artist_id: arrow.vectorFromArray(text('artist_id'), new arrow.Utf8()),
      });
      writeFileSync(join(dir, file), arrow.tableToIPC(old, 'stream'));
      rewritten += keys.length;
    }
  }
  writeFileSync(pointerFile, JSON.stringify({ runId: pointer.runId, buckets: pointer.buckets }));
  return rewritten;
}

/** One log file's events, each with its level switched (the plays' level changes; no key does). */
function switchLevels(file: string): number {
  let switched = 0;
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => {
      if (!line.trim()) return line;
      const event = JSON.parse(line) as { level?: string };
      if (event.level !== 'free' && event.level !== 'paid') return line;
      event.level = event.level === 'free' ? 'paid' : 'free';
      switched++;
      return JSON.stringify(event);
    });
  writeFileSync(file, lines.join('\n'));
  return switched;
}

describe('digests of format 1 in the published state', () => {
  const tmp = tempDir('digest-format');
  const source = join(tmp.dir, 'source');
  const format2 = join(tmp.dir, 'format2');
  const format1 = join(tmp.dir, 'format1');
  let rewritten = 0;

  before(async () => {
    await generate({ out: source, songs: 150, events: 2500, seed: 23 });
    await runEtl(source, format2, { buckets: 3 });
    cpSync(format2, format1, { recursive: true });
    rewritten = toFormat1(format1, source);
  });
  after(() => tmp.remove());

  test('the next run counts added, updated and removed as on format 2, and writes format 2', async () => {
    // Prepare: one log file's levels switched
    const logs = readdirSync(join(source, 'log_data'), { recursive: true }).map(String);
    const changed = join(source, 'log_data', logs.find((f) => f.endsWith('.json')) as string);
    assert.ok(switchLevels(changed) > 20);
    assert.ok(rewritten > 2500);

    // Act
    const two = (await runEtl(source, format2, { buckets: 3 })).report;
    const one = (await runEtl(source, format1, { buckets: 3 })).report;

    // Assess
    const counts = (report: typeof one) =>
      Object.fromEntries(
        TABLES.map((t) => [t, [report.tables[t].added, report.tables[t].updated, report.tables[t].removed]]),
      );
    assert.equal(one.inputs.changed, 1);
    assert.deepEqual(counts(one), counts(two));
    assert.ok(two.tables.songplays.updated > 20, `songplays updated: ${two.tables.songplays.updated}`);
    assert.ok(two.tables.songplays.updated < two.tables.songplays.rows, 'not every row');
    const usersDigest = () => {
      const pointer = JSON.parse(readFileSync(join(format1, '_manifests', '_state.json'), 'utf8'));
      const dir = join(format1, '_state', pointer.runId, 'digest', 'users');
      return { pointer, digest: arrow.tableFromIPC(readFileSync(join(dir, readdirSync(dir)[0] as string))) };
    };
    const upgraded = usersDigest();
    assert.equal(upgraded.pointer.digest, 2);
    assert.ok(upgraded.digest.getChild('row_hi'), 'format 2 fingerprints');
    assert.equal(upgraded.digest.getChild('hash')?.nullCount, 0, 'format 1 hashes, for the comparison made');

    // A run after it compares format 2 with format 2, and writes no format 1 hashes.
    const full = (await runEtl(source, format1, { buckets: 3 }, undefined, { mode: 'full' })).report;
    for (const t of TABLES) assert.deepEqual(counts(full)[t], [0, 0, 0], t);
    const after = usersDigest();
    assert.equal(after.digest.getChild('hash')?.nullCount, after.digest.numRows);
  });
});
