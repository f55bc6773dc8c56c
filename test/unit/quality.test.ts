/** The quality gate's checks on digests: each kind of violation fails its own check, with counts. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as arrow from 'apache-arrow';
import { encodeIpc, encodeIpcColumns, type Row } from '../../shared/columnar.ts';
import { type Digest, digestOf, QualityGate, qualityChecks, type RunReport } from '../../shared/commit.ts';
import { DEFAULT_SETTINGS, type TableName } from '../../shared/config.ts';
import { fingerprintColumn, fingerprintRows, fingerprintText } from '../../shared/fingerprints.ts';
import type { RunContext } from '../../shared/plan.ts';
import { type Column, DIGEST_COLUMNS } from '../../shared/schemas.ts';

const run = { settings: DEFAULT_SETTINGS, target: '/lake' } as unknown as RunContext;
const counts = (read: number, rejected: number) => ({
  objects: 1,
  bytes: 1,
  read,
  loaded: read - rejected,
  rejected,
  rejectRate: read === 0 ? 0 : rejected / read,
});
const report = (logRejected = 0) =>
  ({ sources: { song_data: counts(10, 0), log_data: counts(100, logRejected) } }) as unknown as RunReport;

const digest = (
  key: string | null,
  refs: Partial<Record<'start_time' | 'user_id' | 'song_id' | 'artist_id', string>> = {},
): Row => ({
  key,
  hash: 'h',
  start_time: refs.start_time ?? null,
  user_id: refs.user_id ?? null,
  song_id: refs.song_id ?? null,
  artist_id: refs.artist_id ?? null,
});

function clean(): Record<TableName, Row[]> {
  return {
    songplays: [
      digest('p1', { start_time: '1000', user_id: 'u1', song_id: 's1', artist_id: 'a1' }),
      digest('p2', { start_time: '2000', user_id: 'u1' }), // unmatched: null song and artist pass
    ],
    users: [digest('u1')],
    songs: [digest('s1')],
    artists: [digest('a1')],
    time: [digest('1000'), digest('2000')],
  };
}

/** Digest rows as Commit reads them: the digest files' Arrow IPC bytes, fingerprinted. */
const columns = (digests: Record<TableName, Row[]>): Record<TableName, Digest> =>
  Object.fromEntries(
    Object.entries(digests).map(([t, rows]) => [t, digestOf(encodeIpc(DIGEST_COLUMNS, rows))]),
  ) as Record<TableName, Digest>;

const failed = (digests: Record<TableName, Row[]>, r = report()) =>
  qualityChecks(run, r, columns(digests))
    .filter((c) => !c.passed)
    .map((c) => `${c.name}: ${c.detail}`);

describe('qualityChecks', () => {
  test('a consistent version passes all eleven checks', () => {
    const checks = qualityChecks(run, report(), columns(clean()));
    assert.equal(checks.length, 11);
    assert.deepEqual(failed(clean()), []);
  });

  test('null and duplicate keys fail the table’s key check', () => {
    const d = clean();
    d.users.push(digest(null), digest('u1'));
    assert.deepEqual(failed(d), ['users: unique non-null keys: 3 rows, 1 null keys, 1 duplicate keys']);
  });

  test('every dangling reference of songplays fails its own check', () => {
    const d = clean();
    d.songplays.push(digest('p3', { start_time: '3000', user_id: 'u9', song_id: 's9', artist_id: 'a9' }));
    assert.deepEqual(failed(d), [
      'songplays.start_time in time: 3 non-null references, 1 missing',
      'songplays.user_id in users: 3 non-null references, 1 missing',
      'songplays.song_id in songs: 2 non-null references, 1 missing',
      'songplays.artist_id in artists: 2 non-null references, 1 missing',
    ]);
  });

  test('a reject rate above the limit fails, at the limit passes', () => {
    assert.deepEqual(failed(clean(), report(5)), []);
    assert.match(
      failed(clean(), report(6))[0] ?? '',
      /^log_data: reject rate: 6 of 100 records rejected \(6\.00%, limit 5\.00%\)/,
    );
  });

  test('a dictionary-encoded reference column is read as its values', () => {
    // 40 songplays referencing one user: the digest writer stores that column as a dictionary.
    const d = clean();
    for (let i = 0; i < 40; i++)
      d.songplays.push(digest(`q${i}`, { start_time: '1000', user_id: i < 39 ? 'u1' : 'u2' }));
    assert.deepEqual(failed(d), ['songplays.user_id in users: 42 non-null references, 1 missing']);
  });
});

describe('QualityGate with keys whose fingerprints meet', () => {
  /** A users digest whose rows all have the same key fingerprint, and these key texts. */
  const sameFingerprint = (texts: string[]): Digest => {
    const base = digestOf(
      encodeIpc(
        DIGEST_COLUMNS,
        texts.map((t) => digest(t)),
      ),
    );
    const n = texts.length;
    return {
      ...base,
      key: { length: n, hi: new Int32Array(n).fill(7), lo: new Int32Array(n).fill(9), nulls: new Uint8Array(n) },
    };
  };
  const usersCheck = (d: Digest): string => {
    const gate = new QualityGate();
    gate.add('users', d);
    if (gate.needsTexts('users')) gate.addTexts('users', d);
    return gate.checks(run, report()).find((c) => c.name === 'users: unique non-null keys')?.detail ?? '';
  };

  test('different keys that share a fingerprint are not duplicates: their texts decide', () => {
    assert.equal(usersCheck(sameFingerprint(['u1', 'u2', 'u3'])), '3 rows, 0 null keys, 0 duplicate keys');
  });

  test('equal keys under a shared fingerprint are counted exactly', () => {
    assert.equal(usersCheck(sameFingerprint(['u1', 'u2', 'u1', 'u1'])), '4 rows, 0 null keys, 2 duplicate keys');
  });

  test('a text and its Arrow column give the same fingerprint, plain or as a dictionary', () => {
    const rows = Array.from({ length: 40 }, (_, i) => digest(`k${i}`, { user_id: i % 2 ? 'Zoë' : '東京 🎵' }));
    const d = digestOf(encodeIpc(DIGEST_COLUMNS, rows));
    assert.deepEqual([d.user_id.hi[1], d.user_id.lo[1]], fingerprintText('Zoë'));
    assert.deepEqual([d.user_id.hi[0], d.user_id.lo[0]], fingerprintText('東京 🎵'));
    assert.deepEqual([d.key.hi[5], d.key.lo[5]], fingerprintText('k5'));
    assert.equal(new Set(Array.from(d.key.lo)).size, 40);
    assert.equal(fingerprintColumn([]).length, 0);
  });
});

describe('fingerprintRows (format 2 digests: a row changed is a fingerprint changed)', () => {
  /** Each row's fingerprint as one text, from rows given as arrays of values. */
  const prints = (rows: unknown[][]): string[] => {
    const width = rows[0]?.length ?? 0;
    const columns = Array.from({ length: width }, (_, j) => rows.map((r) => r[j]));
    const { hi, lo } = fingerprintRows(columns, rows.length);
    return rows.map((_, i) => `${hi[i]}:${lo[i]}`);
  };

  test('equal rows agree; a changed value, kind, null or split of text gives another fingerprint', () => {
    const rows: unknown[][] = [
      ['p1', 1541106106796, 'free', 'Zoë'],
      ['p1', 1541106106796, 'free', 'Zoë'],
      ['p1', 1541106106796, 'paid', 'Zoë'],
      ['p1', 1541106106797, 'free', 'Zoë'],
      ['p1', '1541106106796', 'free', 'Zoë'],
      ['p1', 1541106106796, 'free', null],
      ['p1', 1541106106796, 'free', ''],
      ['p1', 1541106106796, 'fre', 'eZoë'],
      ['p1', 1541106106796, 'free', 'Zoe'],
      ['p1', 1541106106796, null, 'Zoë'],
      ['p1', -0.5, 'free', 'Zoë'],
      ['p1', 0.5, 'free', 'Zoë'],
    ];
    const got = prints(rows);
    assert.equal(got[0], got[1]);
    assert.equal(new Set(got).size, rows.length - 1);
  });

  /** Format 2's row fingerprint as first written, row by row: the lakes' digests hold these. */
  function formatTwo(columns: readonly ArrayLike<unknown>[], length: number): string[] {
    const bits = new Float64Array(1);
    const halves = new Int32Array(bits.buffer);
    const mix = (h: number): number => {
      let x = h ^ (h >>> 16);
      x = Math.imul(x, 0x85ebca6b);
      x ^= x >>> 13;
      x = Math.imul(x, 0xc2b2ae35);
      return x ^ (x >>> 16);
    };
    return Array.from({ length }, (_, i) => {
      let a = 0x811c9dc5;
      let b = 0x9747b28c;
      for (const column of columns) {
        const v = column[i];
        if (typeof v === 'string') {
          for (let k = 0; k < v.length; k++) {
            a = Math.imul(a ^ v.charCodeAt(k), 0x01000193);
            b = Math.imul(b ^ v.charCodeAt(k), 0x5bd1e995);
            b ^= b >>> 15;
          }
          a = Math.imul(a ^ (v.length + 0x10000), 0x01000193);
          b = Math.imul(b ^ v.length, 0x5bd1e995);
        } else if (typeof v === 'number') {
          bits[0] = v;
          a = Math.imul(a ^ (halves[0] as number), 0x01000193);
          b = Math.imul(b ^ (halves[1] as number), 0x5bd1e995);
          a = Math.imul(a ^ 0x20000, 0x01000193);
          b ^= b >>> 15;
        } else {
          a = Math.imul(a ^ 0x30000, 0x01000193);
          b = Math.imul(b ^ 0x30000, 0x5bd1e995);
        }
      }
      return `${mix(a)}:${mix(b ^ mix(a))}`;
    });
  }

  test('columns given as Arrow data (plain text, dictionaries, numbers, sliced) fingerprint as their values do', () => {
    // Prepare: text with non-ASCII and empty values, a dictionary column, int32, int64, timestamps and floats of
    // every sign, nulls in each; the encoder's layouts, then the same columns sliced at an odd offset.
    const n = 3000;
    const texts = ['Zoë', 'Alizée 東京 🎵', '', 'plain ascii', 'x'.repeat(90)];
    const columns: Column[] = [
      { name: 'id', kind: 'utf8' },
      { name: 'agent', kind: 'utf8', repeated: true },
      { name: 'year', kind: 'int32' },
      { name: 'session', kind: 'int64' },
      { name: 'ts', kind: 'timestamp' },
      { name: 'length', kind: 'float64' },
    ];
    const values: (string | number | null)[][] = [
      Array.from({ length: n }, (_, i) => (i % 11 === 0 ? null : `${texts[i % 5]}-${i}`)),
      Array.from({ length: n }, (_, i) => (i % 13 === 0 ? null : (texts[i % 5] as string))),
      Array.from({ length: n }, (_, i) => (i % 17 === 0 ? null : (i % 7) - 3)),
      Array.from({ length: n }, (_, i) => (i % 19 === 0 ? null : (i - 1500) * 2 ** 33 + i)),
      Array.from({ length: n }, (_, i) => (i % 23 === 0 ? null : 1541106106796 + i * 997 - 2 ** 42)),
      Array.from({ length: n }, (_, i) => (i % 29 === 0 ? null : i % 31 === 0 ? -0 : (i - 1500) / 7)),
    ];
    const batch = arrow.tableFromIPC(encodeIpcColumns(columns, values, n)).batches[0] as arrow.RecordBatch;
    const data = columns.map((c) => batch.getChild(c.name)?.data[0] as arrow.Data);
    assert.ok(arrow.DataType.isDictionary(data[1]?.type), 'the repeated column is a dictionary');
    const print = (cols: readonly (ArrayLike<unknown> | arrow.Data)[], length: number) => {
      const { hi, lo } = fingerprintRows(cols, length);
      return Array.from(hi, (h, i) => `${h}:${lo[i]}`);
    };

    // Act
    const fromValues = print(values, n);
    const fromData = print(data, n);
    const fromSlices = print(
      data.map((d) => d.slice(37, 1000)),
      1000,
    );

    // Assess
    const expected = formatTwo(values, n);
    assert.deepEqual(fromValues, expected);
    assert.deepEqual(fromData, expected);
    assert.deepEqual(fromSlices, expected.slice(37, 1037));
    assert.equal(new Set(expected).size, n);
  });

  test('100,000 distinct rows of near-identical values give 100,000 fingerprints', () => {
    const rows = Array.from({ length: 100_000 }, (_, i) => [`k${i % 1000}`, Math.floor(i / 1000), i % 3 ? 'a' : null]);
    assert.equal(new Set(prints(rows)).size, 100_000);
  });
});
