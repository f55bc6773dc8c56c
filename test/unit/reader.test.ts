// Unit tests of shared/reader.ts (docs/contract.md, "Reading input"). Every input is fed as one chunk and also
// split into many tiny chunks (1–7 bytes); the records must be identical whatever the chunking.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readRecords } from '../../shared/reader.ts';
import { fixedChunks, fromChunks, randomChunks } from '../support/chunks.ts';

/** A record as compared here: the parsed value, or the reject (the reader's lazy `raw` of values is left out). */
type RawRecord = { line: number; value: unknown } | { line: number; reason: string; raw: string };

const BOM = Uint8Array.of(0xef, 0xbb, 0xbf);

const bytesOf = (input: string | Uint8Array): Uint8Array =>
  typeof input === 'string' ? new Uint8Array(Buffer.from(input, 'utf8')) : input;

async function collect(chunks: readonly Uint8Array[], maxRecordBytes: number): Promise<RawRecord[]> {
  const out: RawRecord[] = [];
  for await (const record of readRecords(() => fromChunks(chunks), maxRecordBytes)) {
    out.push('reason' in record ? record : { line: record.line, value: record.value });
  }
  return out;
}

/** The chunkings every input is read with: whole, fixed tiny sizes, and seeded random 1–7 byte pieces. */
function chunkings(bytes: Uint8Array, minSize = 1): { name: string; chunks: Uint8Array[] }[] {
  const all = [
    { name: 'one chunk', chunks: bytes.length === 0 ? [] : [bytes] },
    ...[1, 2, 3, 5, 7].map((n) => ({ name: `${n}-byte chunks`, chunks: fixedChunks(bytes, n) })),
    ...[1, 2, 3].map((seed) => ({
      name: `random 1-7 byte chunks (seed ${seed})`,
      chunks: randomChunks(bytes, seed, 7),
    })),
  ];
  // Some tests exclude chunks shorter than minSize at the start of the stream (see the BOM tests).
  return all.filter((c) => (c.chunks[0]?.length ?? minSize) >= minSize);
}

/** Reads the input under every chunking, asserts they agree, and returns the records. */
async function readAll(input: string | Uint8Array, maxRecordBytes: number, minSize = 1): Promise<RawRecord[]> {
  const bytes = bytesOf(input);
  const [first, ...others] = chunkings(bytes, minSize);
  assert.ok(first);
  const expected = await collect(first.chunks, maxRecordBytes);
  for (const other of others) {
    sameRecords(await collect(other.chunks, maxRecordBytes), expected, `chunking "${other.name}" differs`);
  }
  return expected;
}

/**
 * Records read under another chunking equal the one-chunk records, except the raw text of an oversized line: the
 * reader keeps only the head it held when the line crossed the limit, so with tiny chunks and a small limit it can
 * be shorter. It must still be a non-empty prefix of the line, at most 1,000 characters.
 */
function sameRecords(actual: RawRecord[], expected: RawRecord[], message: string): void {
  assert.equal(actual.length, expected.length, message);
  const normalised = actual.map((record, i): RawRecord => {
    const other = expected[i];
    if ('reason' in record && other && 'reason' in other && record.reason.startsWith('record exceeds ')) {
      const head = record.raw.replace(/\ufffd$/, ''); // a multi-byte character cut at the head's end
      assert.ok(record.raw.length <= 1000, `${message}: raw of line ${record.line} is ${record.raw.length} chars`);
      assert.ok(head.length > 0 && other.raw.startsWith(head), `${message}: raw of line ${record.line} is no prefix`);
      return { ...record, raw: other.raw };
    }
    return record;
  });
  assert.deepEqual(normalised, expected, message);
}

const lines = (...records: string[]): string => records.join('\n');

describe('readRecords: one JSON document (file not larger than maxRecordBytes)', () => {
  test('a one-line object is one record on line 1', async () => {
    // Prepare
    const input = '{"song_id":"SOUPIRU12A6D4FA1E1","duration":152.92036,"year":0}';

    // Act
    const records = await readAll(input, 1024);

    // Assess
    assert.deepEqual(records, [{ line: 1, value: { song_id: 'SOUPIRU12A6D4FA1E1', duration: 152.92036, year: 0 } }]);
  });

  test('a one-line object with a final newline is one record on line 1', async () => {
    assert.deepEqual(await readAll('{"a":1}\n', 1024), [{ line: 1, value: { a: 1 } }]);
  });

  test('a pretty multi-line object is one record on line 1', async () => {
    // Prepare
    const value = { song_id: 'S1', title: 'Zoë', nested: { list: [1, 2, 3] }, artist_latitude: null };
    const input = `${JSON.stringify(value, null, 2)}\n`;
    assert.equal(input.split('\n').length, 13);

    // Act
    const records = await readAll(input, 1024);

    // Assess
    assert.deepEqual(records, [{ line: 1, value }]);
  });

  test('an array document is one record per element, line = 1-based element index', async () => {
    // Prepare
    const input = '[{"a":1},\n {"b":2},\n\n 3, "x", null]';

    // Act
    const records = await readAll(input, 1024);

    // Assess
    assert.deepEqual(records, [
      { line: 1, value: { a: 1 } },
      { line: 2, value: { b: 2 } },
      { line: 3, value: 3 },
      { line: 4, value: 'x' },
      { line: 5, value: null },
    ]);
  });

  test('a pretty-printed array document also numbers by element, not by physical line', async () => {
    const input = JSON.stringify([{ a: 1 }, { b: 2 }], null, 2);
    assert.deepEqual(await readAll(input, 1024), [
      { line: 1, value: { a: 1 } },
      { line: 2, value: { b: 2 } },
    ]);
  });

  test('an empty array document holds no records', async () => {
    assert.deepEqual(await readAll('[]\n', 1024), []);
  });

  test('a single scalar document is returned as a value (rejection happens in validation)', async () => {
    assert.deepEqual(await readAll('42', 1024), [{ line: 1, value: 42 }]);
    assert.deepEqual(await readAll('null\n', 1024), [{ line: 1, value: null }]);
    assert.deepEqual(await readAll('"text"', 1024), [{ line: 1, value: 'text' }]);
  });

  test('a document of exactly maxRecordBytes is still read whole', async () => {
    // Prepare: a 3-line document padded to exactly 64 bytes
    const head = '{\n"k":"';
    const tail = '"\n}';
    const input = `${head}${'x'.repeat(64 - head.length - tail.length)}${tail}`;
    assert.equal(Buffer.byteLength(input), 64);

    // Act
    const records = await readAll(input, 64);

    // Assess
    assert.deepEqual(records, [{ line: 1, value: { k: 'x'.repeat(64 - head.length - tail.length) } }]);
  });
});

describe('readRecords: JSON lines', () => {
  test('one record per line, with a final newline', async () => {
    // Prepare
    const input = '{"ts":1,"page":"NextSong"}\n{"ts":2,"page":"Home"}\n{"ts":3}\n';

    // Act
    const records = await readAll(input, 1024);

    // Assess
    assert.deepEqual(records, [
      { line: 1, value: { ts: 1, page: 'NextSong' } },
      { line: 2, value: { ts: 2, page: 'Home' } },
      { line: 3, value: { ts: 3 } },
    ]);
  });

  test('the same records without a final newline', async () => {
    const input = '{"ts":1,"page":"NextSong"}\n{"ts":2,"page":"Home"}\n{"ts":3}';
    assert.deepEqual(await readAll(input, 1024), [
      { line: 1, value: { ts: 1, page: 'NextSong' } },
      { line: 2, value: { ts: 2, page: 'Home' } },
      { line: 3, value: { ts: 3 } },
    ]);
  });

  test('CRLF line ends give the same records', async () => {
    // Prepare
    const withCrlf = '{"a":"x"}\r\n{"a":"y"}\r\n\r\n{"a":"z"}\r\n';

    // Act
    const records = await readAll(withCrlf, 1024);

    // Assess
    assert.deepEqual(records, [
      { line: 1, value: { a: 'x' } },
      { line: 2, value: { a: 'y' } },
      { line: 4, value: { a: 'z' } },
    ]);
  });

  test('blank lines are skipped but still counted', async () => {
    // Prepare
    const input = '\n{"a":1}\n\n   \n\t\n{"a":2}\n\n';

    // Act
    const records = await readAll(input, 1024);

    // Assess
    assert.deepEqual(records, [
      { line: 2, value: { a: 1 } },
      { line: 6, value: { a: 2 } },
    ]);
  });

  test('a non-JSON line is rejected as invalid JSON with its raw text; the others load', async () => {
    // Prepare
    const input = lines('{"a":1}', 'not json at all', '{"a":3', '{"a":4}');

    // Act
    const records = await readAll(input, 1024);

    // Assess
    assert.deepEqual(records, [
      { line: 1, value: { a: 1 } },
      { line: 2, reason: 'invalid JSON', raw: 'not json at all' },
      { line: 3, reason: 'invalid JSON', raw: '{"a":3' },
      { line: 4, value: { a: 4 } },
    ]);
  });

  test('NaN and Infinity tokens are invalid JSON', async () => {
    const input = lines('{"a":NaN}', '{"a":Infinity}', '{"a":-Infinity}', '{"a":1e400}');
    assert.deepEqual(await readAll(input, 1024), [
      { line: 1, reason: 'invalid JSON', raw: '{"a":NaN}' },
      { line: 2, reason: 'invalid JSON', raw: '{"a":Infinity}' },
      { line: 3, reason: 'invalid JSON', raw: '{"a":-Infinity}' },
      // 1e400 is valid JSON syntax: it parses (to Infinity) and is left to validation.
      { line: 4, value: { a: Number.POSITIVE_INFINITY } },
    ]);
  });

  test('an invalid UTF-8 line is rejected as invalid UTF-8; the others load', async () => {
    // Prepare: line 2 holds a lone 0xFF byte inside a string
    const input = Buffer.concat([Buffer.from('{"a":1}\n{"name":"'), Buffer.from([0xff]), Buffer.from('"}\n{"a":3}\n')]);

    // Act
    const records = await readAll(new Uint8Array(input), 1024);

    // Assess
    assert.deepEqual(records, [
      { line: 1, value: { a: 1 } },
      { line: 2, reason: 'invalid UTF-8', raw: '{"name":"\ufffd"}' },
      { line: 3, value: { a: 3 } },
    ]);
  });

  test('a truncated multi-byte sequence is invalid UTF-8', async () => {
    // "é" is C3 A9: keep only C3
    const input = Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xc3]), Buffer.from('"}\n{"a":2}')]);
    assert.deepEqual(await readAll(new Uint8Array(input), 1024), [
      { line: 1, reason: 'invalid UTF-8', raw: '{"a":"\ufffd"}' },
      { line: 2, value: { a: 2 } },
    ]);
  });

  test('multi-byte characters survive any chunk boundary', async () => {
    const input = lines('{"n":"Zoë"}', '{"n":"東京"}', '{"n":"🎵 Alizée"}');
    assert.deepEqual(await readAll(input, 1024), [
      { line: 1, value: { n: 'Zoë' } },
      { line: 2, value: { n: '東京' } },
      { line: 3, value: { n: '🎵 Alizée' } },
    ]);
  });

  test('non-object values are returned as values (rejection happens in validation)', async () => {
    const input = lines('1', '"x"', 'null', '[1,2]', 'true', '{}');
    assert.deepEqual(await readAll(input, 1024), [
      { line: 1, value: 1 },
      { line: 2, value: 'x' },
      { line: 3, value: null },
      { line: 4, value: [1, 2] },
      { line: 5, value: true },
      { line: 6, value: {} },
    ]);
  });

  test('raw text of a rejected line is cut to 1,000 characters', async () => {
    // Prepare
    const junk = 'é'.repeat(1500); // 3,000 bytes, under the limit
    const input = lines(junk, '{"a":2}');

    // Act
    const records = await readAll(input, 8192);

    // Assess
    assert.deepEqual(records, [
      { line: 1, reason: 'invalid JSON', raw: 'é'.repeat(1000) },
      { line: 2, value: { a: 2 } },
    ]);
  });
});

describe('readRecords: empty input', () => {
  test('an empty file holds no records', async () => {
    assert.deepEqual(await readAll('', 1024), []);
    assert.deepEqual(await collect([], 1024), []);
    assert.deepEqual(await collect([new Uint8Array(0), new Uint8Array(0)], 1024), []);
  });

  test('a file of blank lines holds no records', async () => {
    assert.deepEqual(await readAll('\n\r\n  \n\t\n', 1024), []);
  });

  test('a file holding only a BOM holds no records', async () => {
    assert.deepEqual(await readAll(BOM, 1024), []);
  });
});

describe('readRecords: UTF-8 BOM', () => {
  test('whole-object path: a BOM before a document is dropped', async () => {
    // Prepare
    const input = new Uint8Array(Buffer.concat([BOM, Buffer.from('{"a":"Zoë"}')]));

    // Act
    const records = await readAll(input, 1024);

    // Assess
    assert.deepEqual(records, [{ line: 1, value: { a: 'Zoë' } }]);
  });

  test('whole-object path: a BOM before JSON lines is dropped', async () => {
    const input = new Uint8Array(Buffer.concat([BOM, Buffer.from('{"a":1}\r\n{"a":2}\r\n')]));
    assert.deepEqual(await readAll(input, 1024), [
      { line: 1, value: { a: 1 } },
      { line: 2, value: { a: 2 } },
    ]);
  });

  test('streaming path: a BOM before JSON lines is dropped (input larger than maxRecordBytes)', async () => {
    // Prepare: 5 lines of 7 bytes, limit 16, so the input streams
    const body = lines('{"a":1}', '{"a":2}', '{"a":3}', '{"a":4}', '{"a":5}');
    const input = new Uint8Array(Buffer.concat([BOM, Buffer.from(body)]));
    assert.ok(input.length > 16);

    // Act: chunkings whose first chunk holds the whole BOM
    const records = await readAll(input, 16, BOM.length);

    // Assess
    assert.deepEqual(
      records,
      [1, 2, 3, 4, 5].map((n) => ({ line: n, value: { a: n } })),
    );
  });

  // Fails today: streamLines strips the BOM from the first chunk only, so a BOM split over the first chunks
  // (or after an empty first chunk) stays, and line 1 is rejected as invalid JSON. The contract tolerates a BOM
  // whatever the read chunk size.
  test('streaming path: a BOM split over the first 1-byte chunks is dropped too', async () => {
    // Prepare
    const body = lines('{"a":1}', '{"a":2}', '{"a":3}', '{"a":4}', '{"a":5}');
    const input = new Uint8Array(Buffer.concat([BOM, Buffer.from(body)]));
    const expected = [1, 2, 3, 4, 5].map((n) => ({ line: n, value: { a: n } }));

    // Act
    const oneByte = await collect(fixedChunks(input, 1), 16);
    const emptyFirst = await collect([new Uint8Array(0), input], 16);

    // Assess
    assert.deepEqual(oneByte, expected);
    assert.deepEqual(emptyFirst, expected);
  });
});

describe('readRecords: records larger than maxRecordBytes', () => {
  test('streaming path: an oversized line is rejected, raw cut to 1,000 chars, later lines keep their numbers', async () => {
    // Prepare
    const big = `{"k":"${'x'.repeat(5000)}"}`;
    const input = lines('{"a":1}', big, '{"a":3}', '', '{"a":5}');

    // Act
    const records = await readAll(input, 64);

    // Assess
    assert.deepEqual(records, [
      { line: 1, value: { a: 1 } },
      { line: 2, reason: 'record exceeds 64 bytes', raw: big.slice(0, 1000) },
      { line: 3, value: { a: 3 } },
      { line: 5, value: { a: 5 } },
    ]);
    const reject = records[1];
    assert.ok(reject && 'raw' in reject);
    assert.equal(reject.raw.length, 1000);
  });

  test('streaming path: an oversized line of multi-byte text keeps at most 1,000 characters', async () => {
    // Prepare
    const big = `{"k":"${'é東🎵'.repeat(2000)}"}`;
    const input = lines(big, '{"a":2}');

    // Act
    const records = await readAll(input, 1024);

    // Assess
    assert.equal(records.length, 2);
    const [reject, next] = records;
    assert.ok(reject && 'reason' in reject);
    assert.equal(reject.line, 1);
    assert.equal(reject.reason, 'record exceeds 1024 bytes');
    assert.equal(reject.raw, big.slice(0, 1000));
    assert.ok(reject.raw.length <= 1000);
    assert.deepEqual(next, { line: 2, value: { a: 2 } });
  });

  test('streaming path: several oversized lines, including the last one without a newline', async () => {
    // Prepare
    const big1 = `{"k":"${'a'.repeat(300)}"}`;
    const big2 = `{"k":"${'b'.repeat(300)}"}`;
    const input = lines(big1, '{"a":2}', big2, '{"a":4}', big2);

    // Act
    const records = await readAll(input, 100);

    // Assess
    assert.deepEqual(records, [
      { line: 1, reason: 'record exceeds 100 bytes', raw: big1 },
      { line: 2, value: { a: 2 } },
      { line: 3, reason: 'record exceeds 100 bytes', raw: big2 },
      { line: 4, value: { a: 4 } },
      { line: 5, reason: 'record exceeds 100 bytes', raw: big2 },
    ]);
  });

  test('streaming path: a line of exactly maxRecordBytes loads, one byte more is rejected', async () => {
    // Prepare: lines of 64 and 65 bytes with a 64-byte limit
    const exact = `{"k":"${'x'.repeat(64 - 8)}"}`;
    const over = `{"k":"${'x'.repeat(65 - 8)}"}`;
    assert.equal(exact.length, 64);
    assert.equal(over.length, 65);
    const input = lines(exact, over, '{"a":3}');

    // Act
    const records = await readAll(input, 64);

    // Assess
    assert.deepEqual(records, [
      { line: 1, value: { k: 'x'.repeat(56) } },
      { line: 2, reason: 'record exceeds 64 bytes', raw: over },
      { line: 3, value: { a: 3 } },
    ]);
  });

  test('whole-object path: a one-line document larger than maxRecordBytes is one reject on line 1', async () => {
    // A file no larger than maxRecordBytes cannot hold a longer line, so the one-document file that is too large
    // is where a whole object meets the limit: it is rejected as one record, not parsed.
    // Prepare
    const big = `{"k":"${'x'.repeat(1500)}"}`;

    // Act
    const records = await readAll(big, 1024);

    // Assess
    assert.deepEqual(records, [{ line: 1, reason: 'record exceeds 1024 bytes', raw: big.slice(0, 1000) }]);
  });

  // Fails today: the record ends at the LF; the CR before it is the tolerated CRLF line end, not part of the record.
  // streamLines counts the CR against maxRecordBytes, so a record of exactly maxRecordBytes is rejected when the file
  // uses CRLF, and loads when it uses LF.
  test('streaming path: a record of exactly maxRecordBytes followed by CRLF loads', async () => {
    // Prepare
    const exact = `{"k":"${'x'.repeat(64 - 8)}"}`;
    const input = `${exact}\r\n{"a":2}\r\n{"a":3}\r\n`;

    // Act
    const records = await readAll(input, 64);

    // Assess
    assert.deepEqual(records, [
      { line: 1, value: { k: 'x'.repeat(56) } },
      { line: 2, value: { a: 2 } },
      { line: 3, value: { a: 3 } },
    ]);
  });

  // Fails today: a file larger than maxRecordBytes is read as JSON lines, so an array document written one element
  // per line loads only the elements whose line happens to be complete JSON (here the last one, without its comma).
  // The contract reads a file that parses as one document as that document; whether such a large document loads
  // element by element or is rejected whole, it can never load a subset of its elements.
  test('an array document larger than maxRecordBytes loads all of its elements or none', async () => {
    // Prepare
    const elements = [1, 2, 3, 4, 5].map((n) => ({ a: n }));
    const input = `[\n${elements.map((e) => JSON.stringify(e)).join(',\n')}\n]\n`;
    assert.ok(Buffer.byteLength(input) > 32);

    // Act
    const records = await readAll(input, 32);

    // Assess
    const loaded = records.filter((r) => 'value' in r).map((r) => ('value' in r ? r.value : undefined));
    assert.ok(
      loaded.length === 0 || loaded.length === elements.length,
      `loaded ${loaded.length} of ${elements.length} elements: ${JSON.stringify(loaded)}`,
    );
  });
});

describe('readRecords: chunking never changes the result', () => {
  test('a mixed file reads the same under 1-7 byte chunks, in both paths', async () => {
    // Prepare
    const input = new Uint8Array(
      Buffer.concat([
        Buffer.from('{"ts":1541106106796,"page":"NextSong","song":"Zoë"}\r\n\n'),
        Buffer.from('oops\n'),
        Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xe9, 0x22, 0x7d, 0x0a]), // {"a":"<E9>"}
        Buffer.from(`{"big":"${'z'.repeat(200)}"}\n`),
        Buffer.from('[1,2]\n  {"last":true}  '),
      ]),
    );
    const expected: RawRecord[] = [
      { line: 1, value: { ts: 1541106106796, page: 'NextSong', song: 'Zoë' } },
      { line: 3, reason: 'invalid JSON', raw: 'oops' },
      { line: 4, reason: 'invalid UTF-8', raw: '{"a":"\ufffd"}' },
      { line: 5, value: { big: 'z'.repeat(200) } },
      { line: 6, value: [1, 2] },
      { line: 7, value: { last: true } },
    ];

    // Act: whole-object path (limit above the file size) and streaming path (limit below it)
    const whole = await readAll(input, 4096);
    const streamed = await readAll(input, 256);

    // Assess
    assert.ok(input.length > 256 && input.length < 4096);
    assert.deepEqual(whole, expected);
    assert.deepEqual(streamed, expected);
  });
});
