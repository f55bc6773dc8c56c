// Unit tests of shared/columnar.ts and shared/schemas.ts: the shuffle's Arrow IPC round trip and the tables'
// Parquet files, read back by DuckDB (docs/contract.md, "Tables": column types; timestamps are ms, UTC).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import * as arrow from 'apache-arrow';
import {
  ArrowRows,
  ColumnsBuilder,
  decodeIpc,
  decodeIpcColumns,
  encodeIpc,
  encodeIpcColumns,
  encodeParquet,
  joined,
  type Row,
  valuesOf,
} from '../../shared/columnar.ts';
import type { TableName } from '../../shared/config.ts';
import { SHUFFLES } from '../../shared/keys.ts';
import { type Column, type ColumnKind, SHUFFLE_COLUMNS, TABLE_COLUMNS } from '../../shared/schemas.ts';
import { groupsByValue } from '../../shared/transform.ts';
import { mulberry32 } from '../support/chunks.ts';

/** Sample values per kind: edge values, unicode, int64 above 2^31, timestamps before and after 1970. */
const SAMPLES: Record<ColumnKind, (string | number)[]> = {
  utf8: ['Zoë', 'Alizée 東京 🎵', '', 'a "quoted" \\ value\nwith a newline', 'x'.repeat(300)],
  int32: [2_147_483_647, -2_147_483_648, 0, 44, -1],
  int64: [2 ** 40 + 7, 2 ** 31, Number.MAX_SAFE_INTEGER, -(2 ** 33), 139],
  float64: [246.30812, -90.04892, 0, 1e-300, 1.7976931348623157e308],
  timestamp: [1541106106796, 0, -1000, 8.64e15, 4102444799999],
};

/** Rows for declared columns: one per sample index, plus a row of nulls; each column rotates its samples. */
function sampleRows(columns: readonly Column[]): Row[] {
  const rows: Row[] = [];
  for (let i = 0; i < 5; i++) {
    const row: Row = {};
    columns.forEach((c, j) => {
      row[c.name] = SAMPLES[c.kind][(i + j) % 5] as string | number;
    });
    rows.push(row);
  }
  rows.push(Object.fromEntries(columns.map((c) => [c.name, null])));
  return rows;
}

/** Column names in declared order. */
const namesOf = (columns: readonly Column[]): string[] => columns.map((c) => c.name);

describe('Arrow IPC round trip (the shuffle)', () => {
  for (const name of SHUFFLES) {
    test(`${name}: rows come back equal, nulls, unicode, int64 > 2^31 and timestamps included`, () => {
      // Prepare
      const columns = SHUFFLE_COLUMNS[name];
      const rows = sampleRows(columns);

      // Act
      const bytes = encodeIpc(columns, rows);
      const back = decodeIpc(bytes);

      // Assess
      assert.deepEqual(back, rows);
      for (const row of back) assert.deepEqual(Object.keys(row), namesOf(columns));
    });
  }

  test('the IPC stream carries the declared types; text declared repeated as dictionaries of it', () => {
    // Prepare: 2,000 events with distinct ids and source lines, and a few levels, agents and sources
    const columns = SHUFFLE_COLUMNS.events;
    const rows: Row[] = Array.from({ length: 2000 }, (_, i) => ({
      songplay_id: `id-${i}`,
      start_time: 1541106106796 + i,
      user_id: String(i % 40),
      level: i % 3 === 0 ? 'paid' : 'free',
      song: `Song ${i}`,
      artist: i % 5 === 0 ? null : `Artist ${i % 7}`,
      length: 200 + i,
      session_id: 2 ** 33 + i,
      location: 'Zoë, 東京',
      user_agent: `"Mozilla/5.0 (${i % 2})"`,
      missing: i % 2,
      src: `log_data/2018/11/2018-11-0${i % 3}-events.json`,
      line: i + 1,
    }));

    // Act
    const bytes = encodeIpc(columns, rows);
    const table = arrow.tableFromIPC(bytes);

    // Assess
    assert.deepEqual(
      table.schema.fields.map((f) => [f.name, String(f.type)]),
      [
        ['songplay_id', 'Utf8'],
        ['start_time', 'Timestamp<MILLISECOND, UTC>'],
        ['user_id', 'Dictionary<Int32, Utf8>'],
        ['level', 'Dictionary<Int32, Utf8>'],
        ['song', 'Utf8'],
        ['artist', 'Utf8'],
        ['length', 'Float64'],
        ['session_id', 'Int64'],
        ['location', 'Dictionary<Int32, Utf8>'],
        ['user_agent', 'Dictionary<Int32, Utf8>'],
        ['missing', 'Int32'],
        ['src', 'Dictionary<Int32, Utf8>'],
        ['line', 'Int32'],
      ],
    );
    assert.deepEqual(decodeIpc(bytes), rows);
  });

  test('a dictionary keeps apart values that look alike: one length, and equal but for a few characters', () => {
    // Prepare: 400 distinct user agents of one length that differ in two middle characters, in a seeded order, and
    // each repeated; the encoder's first guess of a value comes from its length and a few characters.
    const agents = Array.from({ length: 400 }, (_, i) => {
      const a = String.fromCharCode(65 + (i % 20));
      const b = String.fromCharCode(97 + Math.floor(i / 20));
      return `Mozilla/5.0 (X11; Linux ${a}${b}) AppleWebKit/537.36 (KHTML, like Gecko) Safari/537.36`;
    });
    const rows: Row[] = Array.from({ length: 4000 }, (_, i) => ({ user_agent: agents[(i * 7919) % 400] as string }));
    const columns: Column[] = [{ name: 'user_agent', kind: 'utf8', repeated: true }];

    // Act
    const bytes = encodeIpc(columns, rows);

    // Assess
    assert.equal(String(arrow.tableFromIPC(bytes).schema.fields[0]?.type), 'Dictionary<Int32, Utf8>');
    assert.deepEqual(decodeIpc(bytes), rows);
  });

  test('an all-null column keeps its declared type', () => {
    // Prepare
    const columns = SHUFFLE_COLUMNS.songkeys;
    const rows: Row[] = [
      { song_id: 'S1', artist_id: 'A1', title: null, artist_name: null, duration: null },
      { song_id: 'S2', artist_id: 'A2', title: null, artist_name: null, duration: null },
    ];

    // Act
    const bytes = encodeIpc(columns, rows);

    // Assess
    assert.deepEqual(decodeIpc(bytes), rows);
    assert.deepEqual(
      arrow.tableFromIPC(bytes).schema.fields.map((f) => String(f.type)),
      ['Utf8', 'Utf8', 'Utf8', 'Utf8', 'Float64'],
    );
  });

  test('a column named __proto__ is refused, not read from the prototype', () => {
    const columns: Column[] = [{ name: '__proto__', kind: 'utf8' }];
    assert.throws(() => encodeIpc(columns, [{ x: 'a' }]), /__proto__ cannot be read or written/);
  });

  test('int64 beyond 2^53 reads back as Number(bigint) rounds it', () => {
    // Prepare: values another writer may hold, odd ones that a double cannot hold exactly
    const big = [2n ** 60n + 1n, -(2n ** 62n) - 3n, 2n ** 53n + 1n, 2n ** 63n - 1n, -(2n ** 63n), -1n, 2n ** 32n - 1n];
    const bytes = arrow.tableToIPC(new arrow.Table({ v: arrow.makeVector(BigInt64Array.from(big)) }), 'stream');

    // Act
    const back = decodeIpcColumns(bytes).get('v');

    // Assess
    assert.deepEqual(
      back,
      big.map((v) => Number(v)),
    );
  });

  test('no rows round-trip to no rows', () => {
    assert.deepEqual(decodeIpc(encodeIpc(SHUFFLE_COLUMNS.plays, [])), []);
  });

  test('20,000 rows round-trip in order', () => {
    // Prepare
    const columns: Column[] = [
      { name: 'start_time', kind: 'timestamp' },
      { name: 'src', kind: 'utf8' },
    ];
    const rows: Row[] = Array.from({ length: 20_000 }, (_, i) => ({
      start_time: 1541106106796 + i * 1000,
      src: `log_data/${i % 7}.json`,
    }));

    // Act
    const back = decodeIpc(encodeIpc(columns, rows));

    // Assess
    assert.equal(back.length, 20_000);
    assert.deepEqual(back, rows);
  });

  test('values read from sliced Arrow data (a partition of the writer) are the slice of the values', () => {
    // Prepare: every kind, a dictionary, nulls; sliced at an offset that is not a multiple of 8
    const columns: Column[] = [
      { name: 'text', kind: 'utf8' },
      { name: 'agent', kind: 'utf8', repeated: true },
      { name: 'n', kind: 'int32' },
      { name: 'big', kind: 'int64' },
      { name: 'ts', kind: 'timestamp' },
      { name: 'x', kind: 'float64' },
    ];
    const n = 200;
    const values = [
      Array.from({ length: n }, (_, i) => (i % 9 === 0 ? null : `t${i}é`)),
      Array.from({ length: n }, (_, i) => (i % 7 === 0 ? null : `agent ${i % 3}`)),
      Array.from({ length: n }, (_, i) => (i % 5 === 0 ? null : i - 100)),
      Array.from({ length: n }, (_, i) => (i % 6 === 0 ? null : (i - 100) * 2 ** 35)),
      Array.from({ length: n }, (_, i) => (i % 4 === 0 ? null : 1541106106796 + i)),
      Array.from({ length: n }, (_, i) => (i % 3 === 0 ? null : i / 3)),
    ];
    const batch = arrow.tableFromIPC(encodeIpcColumns(columns, values, n)).batches[0] as arrow.RecordBatch;

    // Act
    const sliced = columns.map((c) =>
      valuesOf(((batch.getChild(c.name) as arrow.Vector).data[0] as arrow.Data).slice(13, 150)),
    );

    // Assess
    assert.deepEqual(
      sliced,
      values.map((v) => v.slice(13, 163)),
    );
  });

  test('a text column given numbers holds their text as String() writes it, digits written for safe integers', () => {
    // Prepare: integers of every length and sign, the edges of safe integers, -0, and numbers that are not safe
    // integers (String() writes those), among nulls; a growing column of timestamps past the first buffer's size.
    const numbers = [
      0,
      -0,
      7,
      -7,
      10,
      99,
      100,
      1541106106796,
      -1541106106796,
      999_999_999_999_999,
      1_000_000_000_000_000,
      Number.MAX_SAFE_INTEGER,
      -Number.MAX_SAFE_INTEGER,
      2 ** 53,
      1.5,
      -0.000001,
      1e21,
      123456789.125,
      Number.NaN,
      Number.POSITIVE_INFINITY,
    ];
    const values = [null, ...numbers, undefined, ...Array.from({ length: 5000 }, (_, i) => 1541106106796 + i * 997)];
    const columns: Column[] = [{ name: 'text', kind: 'utf8' }];

    // Act
    const back = decodeIpcColumns(encodeIpcColumns(columns, [values], values.length)).get('text');

    // Assess
    assert.deepEqual(
      back,
      values.map((v) => (v === null || v === undefined ? null : String(v))),
    );
    assert.equal(back?.[2], '0'); // -0
    assert.equal(back?.[12], '9007199254740991');
  });
});

describe('joined', () => {
  test('parts end to end, nulls and empty parts included; one part is given back as it is', () => {
    const one = [1, null, 'a'];
    assert.deepEqual(joined<string | number | null>([[1, null], [], ['a', 'b'], [null]]), [1, null, 'a', 'b', null]);
    assert.deepEqual(joined([]), []);
    assert.equal(joined([one]), one);
  });
});

describe('ColumnsBuilder: rows encoded as they come, the same bytes as encodeIpc', () => {
  /** Seeded rows of a dataset's columns: nulls, unicode, numbers in text, and text columns of few or many values. */
  function randomRows(columns: readonly Column[], n: number, seed: number): Row[] {
    const random = mulberry32(seed);
    // Per column: how often null, and how many distinct texts (from 2 to one per row).
    const shape = columns.map(() => ({ nulls: [0, 0.1, 1][Math.floor(random() * 3)] as number, spread: random() }));
    return Array.from({ length: n }, () => {
      const row: Row = {};
      columns.forEach((c, j) => {
        const { nulls, spread } = shape[j] as { nulls: number; spread: number };
        if (random() < nulls) {
          row[c.name] = null;
          return;
        }
        const pick = Math.floor(random() * Math.max(2, spread * n));
        if (c.kind !== 'utf8')
          row[c.name] = c.kind === 'float64' ? pick / 7 : pick * (c.kind === 'int32' ? 1 : 2 ** 21);
        else if (pick % 11 === 0)
          row[c.name] = pick; // a number in a text column
        else row[c.name] = pick % 5 === 0 ? `Zoë 東京 ${pick}` : `${c.name}-${pick}-${'x'.repeat(pick % 40)}`;
      });
      return row;
    });
  }

  /**
   * Each column's Arrow layout in an IPC stream: type, counts and every buffer's bytes, the dictionary's too. Only
   * a dictionary's id is left out: Arrow numbers dictionary types from a counter of the process.
   */
  function layout(bytes: Uint8Array): unknown[] {
    const hex = (b: ArrayBufferView | undefined) =>
      b && Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
    const of = (d: arrow.Data): unknown => [
      String(d.type),
      d.length,
      d.nullCount,
      hex(d.nullBitmap),
      hex(d.valueOffsets),
      hex(d.values),
      d.dictionary && of(d.dictionary.data[0] as arrow.Data),
    ];
    return arrow.tableFromIPC(bytes).batches.flatMap((b) => b.data.children.map(of));
  }

  for (const name of SHUFFLES) {
    test(`${name}: every length across the growth steps and the dictionary's decisions gives encodeIpc's layout`, () => {
      const columns = SHUFFLE_COLUMNS[name];
      for (const [k, n] of [0, 1, 3, 255, 256, 257, 513, 1023, 1024, 1025, 3000].entries()) {
        for (let seed = 1; seed <= 4; seed++) {
          // Prepare
          const rows = randomRows(columns, n, 1000 * k + seed);
          const builder = new ColumnsBuilder(columns);

          // Act
          for (const row of rows) builder.append(row);
          const built = builder.encodeIpc();

          // Assess
          assert.equal(builder.length, n);
          assert.deepEqual(layout(built), layout(encodeIpc(columns, rows)), `${n} rows, seed ${seed}`);
          // A number given to a text column comes back as its text.
          const text = (c: Column, v: Row[string] | undefined) =>
            c.kind === 'utf8' && typeof v === 'number' ? String(v) : v;
          const expected = rows.map((r) => Object.fromEntries(columns.map((c) => [c.name, text(c, r[c.name])])));
          assert.deepEqual(decodeIpc(built), expected);
        }
      }
    });
  }

  test('a repeated column is a dictionary, or plain text when its first 1,024 values hold more than 512 distinct', () => {
    // Prepare: columns of few values; of 513 and of 512 distinct in the first 1,024 rows (then one value); and of
    // one value, then more distinct values than a quarter of the rows
    const columns: Column[] = [
      { name: 'few', kind: 'utf8', repeated: true },
      { name: 'early', kind: 'utf8', repeated: true },
      { name: 'edge', kind: 'utf8', repeated: true },
      { name: 'late', kind: 'utf8', repeated: true },
    ];
    const rows: Row[] = Array.from({ length: 4000 }, (_, i) => ({
      few: `v${i % 3}`,
      early: i < 1024 ? `e${i % 513}` : 'same',
      edge: i < 1024 ? `e${i % 512}` : 'same',
      late: i < 2000 ? 'same' : `l${i}`,
    }));
    const builder = new ColumnsBuilder(columns);

    // Act
    for (const row of rows) builder.append(row);
    const bytes = builder.encodeIpc();

    // Assess
    assert.deepEqual(
      arrow.tableFromIPC(bytes).schema.fields.map((f) => String(f.type)),
      ['Dictionary<Int32, Utf8>', 'Utf8', 'Dictionary<Int32, Utf8>', 'Utf8'],
    );
    assert.deepEqual(decodeIpc(bytes), rows);
    assert.deepEqual(layout(bytes), layout(encodeIpc(columns, rows)));
  });
});

describe('ArrowRows: picked rows of IPC slices copied into new IPC as bytes', () => {
  /** Events of one slice: `distinct` sets how many different locations it has (many: a plain text column). */
  const eventSlice = (from: number, n: number, distinct: number): Row[] =>
    Array.from({ length: n }, (_, k) => {
      const i = from + k;
      return {
        songplay_id: i % 11 === 0 ? null : `id-${i}-Zoë`,
        start_time: i % 13 === 0 ? null : 1541106106796 + i * 1000 - 2 ** 40,
        user_id: String(i % 40),
        level: i % 3 === 0 ? 'paid' : 'free',
        song: i % 9 === 0 ? '' : `Song ${i} 東京 🎵`.repeat(1 + (i % 30)),
        artist: i % 5 === 0 ? null : `Artist ${i % 7}`,
        length: i % 17 === 0 ? null : 200.5 + i,
        session_id: 2 ** 33 + i,
        location: i % 8 === 0 ? null : `Place ${i % distinct}, Zoë`,
        user_agent: `"Mozilla/5.0 (${i % 2})"`,
        missing: i % 2,
        src: `log_data/2018/11/2018-11-0${i % 3}-events.json`,
        line: i % 19 === 0 ? null : i + 1,
      };
    });

  test('compareText orders rows by a text column as its values order: nulls last, UTF-16 code units, any slice', () => {
    // Prepare: slices whose texts share prefixes, hold accents, CJK and emoji (which UTF-16 orders after U+E000 and
    // UTF-8 before) or are null; the third slice's locations form a dictionary
    const random = mulberry32(77);
    const pieces = ['a', 'b', 'Z', ' ', 'é', '東', '🎵', '\ue000', '\uffff'];
    const text = () =>
      Array.from({ length: Math.floor(random() * 5) }, () => pieces[Math.floor(random() * 9)]).join('');
    const slice = (n: number): Row[] =>
      Array.from({ length: n }, (_, i) => ({
        ...(eventSlice(i, 1, 3)[0] as Row),
        song: random() < 0.1 ? null : text(),
      }));
    const slices: Row[][] = [slice(300), slice(200), eventSlice(0, 400, 3)];
    const rows = new ArrowRows(slices.map((rows) => encodeIpc(SHUFFLE_COLUMNS.events, rows)));
    const values = [...slices.flat().map((r) => r.song), ...slices.flat().map((r) => r.location)];
    const byValue = (a: unknown, b: unknown) =>
      a === b ? 0 : a == null ? 1 : b == null ? -1 : (a as string) < (b as string) ? -1 : 1;

    for (const [name, offset] of [
      ['song', 0],
      ['location', rows.length],
    ] as const) {
      // Act
      const compare = rows.compareText(name);

      // Assess: the sign for every pair of 900 rows
      for (let r = 0; r < rows.length; r++) {
        for (let s = 0; s < rows.length; s++) {
          const expected = byValue(values[offset + r], values[offset + s]);
          assert.equal(Math.sign(compare(r, s)), expected, `${name} ${r} ${s}`);
        }
      }
    }
  });

  test('compareText refuses a column that is not text', () => {
    const rows = new ArrowRows([encodeIpc(SHUFFLE_COLUMNS.events, eventSlice(0, 10, 3))]);
    assert.throws(() => rows.compareText('line'), /compareText takes a text column, not Int32/);
  });

  test('picks in any order, repeated, across slices: rows equal to the picked rows, columns read out equal, in any order', () => {
    // Prepare: three slices; the third has too many locations for a dictionary, so that column is mixed
    const columns = SHUFFLE_COLUMNS.events;
    const slices = [eventSlice(0, 700, 5), eventSlice(700, 300, 3), eventSlice(1000, 600, 600)];
    const all = slices.flat();
    const rows = new ArrowRows(slices.map((s) => encodeIpc(columns, s)));
    const picks = Int32Array.from({ length: 900 }, (_, k) => (k * 7919) % all.length);

    // Act
    const back = decodeIpc(rows.encodeIpc(columns, picks));
    const plays = decodeIpc(rows.encodeIpc(SHUFFLE_COLUMNS.plays, picks.subarray(0, 50)));

    // Assess
    assert.equal(rows.length, 1600);
    assert.deepEqual([rows.streamRows(0), rows.streamRows(2)], [700, 600]);
    assert.deepEqual(
      back,
      Array.from(picks, (i) => all[i]),
    );
    assert.deepEqual(
      plays,
      Array.from(picks.subarray(0, 50), (i) =>
        Object.fromEntries(namesOf(SHUFFLE_COLUMNS.plays).map((c) => [c, (all[i] as Row)[c]])),
      ),
    );
    for (const c of ['songplay_id', 'start_time', 'location', 'src', 'line']) {
      // In pick order: copied as bytes before the column is decoded, then from the decoded column.
      const column = columns.find((x) => x.name === c) as Column;
      const expected = Array.from(picks, (i) => (all[i] as Row)[c]);
      assert.deepEqual(rows.valuesAt(column, picks), expected);
      assert.deepEqual(
        rows.values(c),
        all.map((r) => r[c]),
      );
      assert.equal(rows.values(c), rows.values(c), `${c} is decoded once`);
      assert.deepEqual(rows.valuesAt(column, picks), expected);
    }
  });

  test('a repeated column stays a dictionary (merged) when every slice has one, plain text when mixed', () => {
    // Prepare
    const columns = SHUFFLE_COLUMNS.events;
    const dictionaries = new ArrowRows([
      encodeIpc(columns, eventSlice(0, 400, 5)),
      encodeIpc(columns, eventSlice(400, 400, 9)),
    ]);
    const mixed = new ArrowRows([
      encodeIpc(columns, eventSlice(0, 400, 5)),
      encodeIpc(columns, eventSlice(400, 400, 400)),
    ]);
    const picks = Int32Array.from({ length: 800 }, (_, i) => 799 - i);

    // Act
    const typeOf = (rows: ArrowRows, name: string) =>
      String(arrow.tableFromIPC(rows.encodeIpc(columns, picks)).schema.fields.find((f) => f.name === name)?.type);

    // Assess: 5 and 9 places merge into one dictionary of 9 (the first 5 are shared)
    assert.equal(typeOf(dictionaries, 'location'), 'Dictionary<Int32, Utf8>');
    const location = arrow.tableFromIPC(dictionaries.encodeIpc(columns, picks)).getChild('location');
    assert.equal(location?.data[0]?.dictionary?.length, 9);
    assert.equal(typeOf(mixed, 'location'), 'Utf8');
    assert.equal(typeOf(mixed, 'src'), 'Dictionary<Int32, Utf8>');
  });

  test('a slice without a column (older state) gives nulls; another layout of a column goes through its values', () => {
    // Prepare: an older slice without `line`, and one whose `missing` is a float and `src` plain text
    const columns = SHUFFLE_COLUMNS.events;
    const current = eventSlice(0, 30, 4);
    const older = eventSlice(30, 20, 4);
    const olderColumns = columns.filter((c) => c.name !== 'line');
    const other = eventSlice(50, 10, 4);
    const otherTable = arrow.tableFromIPC(encodeIpc(columns, other));
    const otherBytes = arrow.tableToIPC(
      new arrow.Table({
        ...Object.fromEntries(columns.map((c) => [c.name, otherTable.getChild(c.name) as arrow.Vector])),
        missing: arrow.vectorFromArray(
          other.map((r) => r.missing as number),
          new arrow.Float64(),
        ),
        src: arrow.vectorFromArray(
          other.map((r) => r.src as string),
          new arrow.Utf8(),
        ),
      }),
      'stream',
    );
    const rows = new ArrowRows([encodeIpc(columns, current), encodeIpc(olderColumns, older), otherBytes]);
    const picks = Int32Array.from({ length: 60 }, (_, i) => (i * 37) % 60);
    const expected = [...current, ...older.map((r) => ({ ...r, line: null })), ...other];

    // Act
    const back = decodeIpc(rows.encodeIpc(columns, picks));

    // Assess
    assert.deepEqual(
      back,
      Array.from(picks, (i) => expected[i]),
    );
    assert.deepEqual(
      rows.values('line').slice(28, 52),
      expected.slice(28, 52).map((r) => r.line),
    );
  });

  test('groups: rows grouped by a text column from its bytes, as grouping its values gives them', () => {
    // Prepare: keys repeating across slices, as plain text (songplay_id: mostly distinct, some null), as a
    // dictionary (user_id, src) and missing from an older slice (null); a number column goes through its values.
    const columns = SHUFFLE_COLUMNS.events;
    const key = (i: number) => (i % 11 === 0 ? null : `id-${i % 23}-Zoë`);
    const slices = [eventSlice(0, 40, 4), eventSlice(40, 40, 4), eventSlice(80, 25, 4)].map((slice, k) =>
      slice.map((r, i) => ({ ...r, songplay_id: key(k * 40 + i) })),
    );
    const withoutIds = columns.filter((c) => c.name !== 'songplay_id');
    const rows = new ArrowRows([
      encodeIpc(columns, slices[0] as Row[]),
      encodeIpc(columns, slices[1] as Row[]),
      encodeIpc(withoutIds, slices[2] as Row[]),
    ]);
    // Some rows, in another order, one of them twice.
    const live = Int32Array.from({ length: 90 }, (_, p) => (p * 7 + 3) % 105);

    for (const name of ['songplay_id', 'user_id', 'src', 'missing']) {
      // Act
      const groups = rows.groups(name, live);

      // Assess
      const values = rows.values(name);
      const expected = groupsByValue(live.length, (p) => values[live[p] as number]);
      assert.deepEqual(groups, expected, name);
    }
    assert.equal(
      rows.groups('songplay_id', live).count,
      new Set(Array.from(live, (r) => rows.values('songplay_id')[r])).size,
    );
  });

  test('no picks give a stream of the declared columns and no rows', () => {
    const rows = new ArrowRows([encodeIpc(SHUFFLE_COLUMNS.events, eventSlice(0, 10, 2))]);
    const table = arrow.tableFromIPC(rows.encodeIpc(SHUFFLE_COLUMNS.plays, new Int32Array(0)));
    assert.equal(table.numRows, 0);
    assert.deepEqual(
      table.schema.fields.map((f) => f.name),
      namesOf(SHUFFLE_COLUMNS.plays),
    );
  });
});

describe('encodeParquet, read back by DuckDB', () => {
  let dir: string;
  let instance: DuckDBInstance;
  let connection: DuckDBConnection;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'columnar-test-'));
    instance = await DuckDBInstance.create(':memory:');
    connection = await instance.connect();
  });

  after(() => {
    connection.closeSync();
    instance.closeSync();
    rmSync(dir, { recursive: true, force: true });
  });

  let fileCount = 0;
  function writeParquet(columns: readonly Column[], rows: readonly Row[]): string {
    const file = join(dir, `t${fileCount++}.parquet`);
    writeFileSync(file, encodeParquet(columns, rows));
    return file;
  }

  async function query(sql: string): Promise<Record<string, unknown>[]> {
    return (await connection.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
  }

  /** DuckDB's JS values back to the rows' plain values: timestamps as epoch ms, BIGINT as number. */
  const plain = (row: Record<string, unknown>): Row =>
    Object.fromEntries(
      Object.entries(row).map(([k, v]) => [
        k,
        v instanceof Date ? v.getTime() : typeof v === 'bigint' ? Number(v) : (v as string | number | null),
      ]),
    );

  const PHYSICAL: Record<ColumnKind, { type: string; logical: RegExp | null; duck: string }> = {
    utf8: { type: 'BYTE_ARRAY', logical: /^StringType\(\)$/, duck: 'VARCHAR' },
    int32: { type: 'INT32', logical: null, duck: 'INTEGER' },
    int64: { type: 'INT64', logical: null, duck: 'BIGINT' },
    float64: { type: 'DOUBLE', logical: null, duck: 'DOUBLE' },
    timestamp: {
      type: 'INT64',
      logical: /^TimestampType\(isAdjustedToUTC=1, unit=TimeUnit\(MILLIS=MilliSeconds\(\)/,
      duck: 'TIMESTAMP WITH TIME ZONE',
    },
  };

  const TABLES = Object.keys(TABLE_COLUMNS) as TableName[];

  for (const table of TABLES) {
    test(`${table}: values read back equal`, async () => {
      // Prepare
      const columns = TABLE_COLUMNS[table];
      const rows = sampleRows(columns);
      const file = writeParquet(columns, rows);

      // Act
      const back = (await query(`SELECT * FROM read_parquet('${file}')`)).map(plain);

      // Assess
      assert.deepEqual(back, rows);
      for (const row of back) assert.deepEqual(Object.keys(row), namesOf(columns));
    });

    test(`${table}: Parquet physical and logical types follow the contract`, async () => {
      // Prepare
      const columns = TABLE_COLUMNS[table];
      const file = writeParquet(columns, sampleRows(columns));

      // Act
      const schema = await query(
        `SELECT name, type, converted_type, logical_type FROM parquet_schema('${file}') WHERE type IS NOT NULL`,
      );
      const described = await query(`DESCRIBE SELECT * FROM read_parquet('${file}')`);

      // Assess
      assert.deepEqual(
        schema.map((s) => s.name),
        namesOf(columns),
      );
      for (const [i, column] of columns.entries()) {
        const expected = PHYSICAL[column.kind];
        const got = schema[i] as Record<string, unknown>;
        assert.equal(got.type, expected.type, `${column.name} physical type`);
        if (expected.logical === null) assert.equal(got.logical_type, null, `${column.name} logical type`);
        else assert.match(String(got.logical_type), expected.logical, `${column.name} logical type`);
        if (column.kind === 'utf8') assert.equal(got.converted_type, 'UTF8', `${column.name} converted type`);
        assert.equal((described[i] as Record<string, unknown>).column_type, expected.duck, `${column.name} in DuckDB`);
      }
    });
  }

  test('the contract types of the key columns: start_time, session_id, year, hour', async () => {
    // Prepare
    const songplays = writeParquet(TABLE_COLUMNS.songplays, sampleRows(TABLE_COLUMNS.songplays));
    const time = writeParquet(TABLE_COLUMNS.time, sampleRows(TABLE_COLUMNS.time));
    const songs = writeParquet(TABLE_COLUMNS.songs, sampleRows(TABLE_COLUMNS.songs));
    const typeOf = async (file: string, column: string): Promise<Record<string, unknown>> => {
      const rows = await query(`SELECT type, logical_type FROM parquet_schema('${file}') WHERE name = '${column}'`);
      assert.equal(rows.length, 1);
      return rows[0] as Record<string, unknown>;
    };

    // Act
    const startTime = await typeOf(songplays, 'start_time');
    const sessionId = await typeOf(songplays, 'session_id');
    const year = await typeOf(songs, 'year');
    const hour = await typeOf(time, 'hour');
    const timeStart = await typeOf(time, 'start_time');

    // Assess
    assert.equal(startTime.type, 'INT64');
    assert.match(String(startTime.logical_type), /TimestampType\(isAdjustedToUTC=1, unit=TimeUnit\(MILLIS=/);
    assert.equal(timeStart.type, 'INT64');
    assert.match(String(timeStart.logical_type), /TimestampType\(isAdjustedToUTC=1, unit=TimeUnit\(MILLIS=/);
    assert.equal(sessionId.type, 'INT64');
    assert.equal(year.type, 'INT32');
    assert.equal(hour.type, 'INT32');
  });

  test('strings are plain UTF8: the embedded Arrow schema holds no dictionary types', async () => {
    // Prepare
    const columns = TABLE_COLUMNS.songplays;
    // Many repeats of few values: a writer inferring types would choose dictionaries here.
    const rows: Row[] = Array.from({ length: 500 }, (_, i) => ({
      songplay_id: `id-${i}`,
      start_time: 1541106106796 + i,
      user_id: String(i % 3),
      level: i % 2 ? 'paid' : 'free',
      song_id: null,
      artist_id: null,
      session_id: 139,
      location: 'Phoenix-Mesa-Scottsdale, AZ',
      user_agent: 'Mozilla/5.0',
    }));
    const file = writeParquet(columns, rows);

    // Act
    const meta = (
      await connection.runAndReadAll(
        `SELECT decode(key) AS key, value FROM parquet_kv_metadata('${file}') WHERE decode(key) = 'ARROW:schema'`,
      )
    ).getRowObjects();
    const value = meta[0]?.value as { bytes: Uint8Array } | undefined;
    assert.ok(value, 'the file carries an ARROW:schema');
    const schema = arrow.tableFromIPC(Buffer.from(Buffer.from(value.bytes).toString('latin1'), 'base64')).schema;
    const count = await query(
      `SELECT count(*)::INTEGER AS n, count(DISTINCT level)::INTEGER AS levels FROM read_parquet('${file}')`,
    );

    // Assess
    assert.deepEqual(
      schema.fields.map((f) => [f.name, String(f.type)]),
      [
        ['songplay_id', 'Utf8'],
        ['start_time', 'Timestamp<MILLISECOND, UTC>'],
        ['user_id', 'Utf8'],
        ['level', 'Utf8'],
        ['song_id', 'Utf8'],
        ['artist_id', 'Utf8'],
        ['session_id', 'Int64'],
        ['location', 'Utf8'],
        ['user_agent', 'Utf8'],
      ],
    );
    assert.ok(schema.fields.every((f) => !arrow.DataType.isDictionary(f.type)));
    assert.deepEqual(count, [{ n: 500, levels: 2 }]);
  });

  for (const table of TABLES) {
    test(`${table}: no rows give a readable file with 0 rows and every column`, async () => {
      // Prepare
      const columns = TABLE_COLUMNS[table];
      const file = writeParquet(columns, []);

      // Act
      const count = await query(`SELECT count(*)::INTEGER AS n FROM read_parquet('${file}')`);
      const described = await query(`DESCRIBE SELECT * FROM read_parquet('${file}')`);

      // Assess
      assert.deepEqual(count, [{ n: 0 }]);
      assert.deepEqual(
        described.map((d) => [d.column_name, d.column_type]),
        columns.map((c) => [c.name, PHYSICAL[c.kind].duck]),
      );
    });
  }

  test('columns declared distinct are written without a Parquet dictionary; the others keep theirs', async () => {
    // Prepare: 200 plays of 2 users, every id and time different
    const columns = TABLE_COLUMNS.songplays;
    const rows: Row[] = Array.from({ length: 200 }, (_, i) => ({
      songplay_id: `id${i}`,
      start_time: 1541106106796 + i,
      user_id: String(i % 2),
      level: 'free',
      song_id: 'S1',
      artist_id: 'A1',
      session_id: 7,
      location: 'Here',
      user_agent: 'Agent',
    }));
    const file = writeParquet(columns, rows);

    // Act
    const chunks = await query(
      `SELECT path_in_schema AS name, dictionary_page_offset IS NOT NULL AS dictionary FROM parquet_metadata('${file}')`,
    );

    // Assess
    const withDictionary = Object.fromEntries(chunks.map((c) => [c.name, c.dictionary]));
    assert.deepEqual(withDictionary, Object.fromEntries(columns.map((c) => [c.name, !c.distinct])));
    assert.deepEqual(
      columns.filter((c) => c.distinct).map((c) => c.name),
      ['songplay_id', 'start_time'],
    );
    const back = (await query(`SELECT * FROM read_parquet('${file}') ORDER BY start_time`)).map(plain);
    assert.deepEqual(back, rows);
  });

  test('partition columns left out of a file are absent from it (the writer moves them into the path)', async () => {
    // Prepare
    const columns = TABLE_COLUMNS.songs.filter((c) => c.name !== 'year');
    const file = writeParquet(columns, [{ song_id: 'S1', title: 'Zoë', artist_id: 'A1', year: 2018, duration: 1.5 }]);

    // Act
    const back = (await query(`SELECT * FROM read_parquet('${file}')`)).map(plain);

    // Assess
    assert.deepEqual(back, [{ song_id: 'S1', title: 'Zoë', artist_id: 'A1', duration: 1.5 }]);
  });
});
