// The reader conformance suite (test/conformance/README.md): every case folder holds the raw bytes of one input
// object and its expected outcome per docs/contract.md. ingest() must produce that outcome however the bytes are
// chunked, and the independent oracle (test/support/oracle.ts) must agree on the rejects and the read count.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ingest } from '../../shared/ingest.ts';
import type { SourceName } from '../../shared/keys.ts';
import { fixedChunks, fromChunks, randomChunks } from '../support/chunks.ts';
import { computeExpected } from '../support/oracle.ts';

const CASES_DIR = fileURLToPath(new URL('../conformance/cases/', import.meta.url));
const RAW_LIMIT = 1000;
const RANDOM_SEEDS = [1, 2, 3];

/** The cases the brief requires; deleting one of these folders fails the suite. */
const REQUIRED_CASES = [
  'song-one-line-document',
  'song-pretty-printed-document',
  'song-minified-sorted-keys',
  'song-array-document',
  'log-lines-final-newline',
  'log-lines-no-final-newline',
  'log-lines-crlf',
  'log-lines-bom',
  'song-one-line-bom',
  'empty-file',
  'whitespace-only',
  'blank-lines-between-records',
  'duplicate-keys',
  'deep-nesting',
  'invalid-utf8',
  'log-numbers-beyond-2-53',
  'song-duration-1e400',
  'record-over-size-limit',
  'nan-infinity-tokens',
  'non-object-values',
  'truncated-log-lines',
  'log-ts-and-page-rejects',
  'song-missing-song-id',
  'song-empty-artist-id',
  'song-title-null',
  'log-wrong-typed-optional-fields',
  'song-wrong-typed-optional-fields',
] as const;

/** The fields of a loaded row an expectation lists, besides `line`. */
const FIELDS: { [S in SourceName]: readonly string[] } = {
  log_data: ['ts', 'page', 'userId', 'sessionId', 'itemInSession', 'length', 'song', 'artist', 'userAgent'],
  song_data: ['song_id', 'title', 'artist_id', 'year', 'duration', 'artist_name'],
};

type Row = Record<string, unknown> & { line: number };
interface Reject {
  line: number;
  reason: string;
}
interface Expected {
  source: SourceName;
  maxRecordBytes: number;
  description: string;
  read: number;
  loaded: Row[];
  rejects: Reject[];
}
interface Case {
  name: string;
  input: Uint8Array;
  expected: Expected;
}
/** What one reading produced, in the shape of an expectation. */
interface Outcome {
  read: number;
  loaded: Row[];
  rejects: Reject[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses and checks one expected.json; a malformed case file fails here, not as a confusing mismatch later. */
function parseExpected(name: string, text: string): Expected {
  const raw: unknown = JSON.parse(text);
  assert.ok(isRecord(raw), `${name}: expected.json is not an object`);
  const { source, maxRecordBytes, description, read, loaded, rejects } = raw;
  assert.ok(source === 'log_data' || source === 'song_data', `${name}: source must be log_data or song_data`);
  assert.ok(
    typeof maxRecordBytes === 'number' && Number.isInteger(maxRecordBytes) && maxRecordBytes >= 1024,
    `${name}: maxRecordBytes must be an integer >= 1024`,
  );
  assert.ok(typeof description === 'string' && description !== '', `${name}: description is missing`);
  assert.ok(typeof read === 'number' && Number.isInteger(read) && read >= 0, `${name}: read must be a count`);
  assert.ok(Array.isArray(loaded), `${name}: loaded must be an array`);
  assert.ok(Array.isArray(rejects), `${name}: rejects must be an array`);
  const keys = ['line', ...FIELDS[source]].sort();
  const rows = loaded.map((row: unknown, i): Row => {
    assert.ok(isRecord(row) && typeof row.line === 'number', `${name}: loaded[${i}] has no line`);
    assert.deepEqual(Object.keys(row).sort(), keys, `${name}: loaded[${i}] must list exactly ${keys.join(', ')}`);
    return row as Row;
  });
  const rejected = rejects.map((reject: unknown, i): Reject => {
    assert.ok(
      isRecord(reject) && typeof reject.line === 'number' && typeof reject.reason === 'string',
      `${name}: rejects[${i}] needs a line and a reason`,
    );
    assert.deepEqual(Object.keys(reject).sort(), ['line', 'reason'], `${name}: rejects[${i}] has other keys`);
    return { line: reject.line, reason: reject.reason };
  });
  assert.equal(read, rows.length + rejected.length, `${name}: read must equal loaded + rejects`);
  const lines = [...rows, ...rejected].map((r) => r.line);
  assert.equal(new Set(lines).size, lines.length, `${name}: a line appears twice`);
  return { source, maxRecordBytes, description, read, loaded: rows, rejects: rejected };
}

function loadCases(): Case[] {
  return readdirSync(CASES_DIR, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .map((name) => ({
      name,
      input: new Uint8Array(readFileSync(join(CASES_DIR, name, 'input'))),
      expected: parseExpected(name, readFileSync(join(CASES_DIR, name, 'expected.json'), 'utf8')),
    }));
}

const CASES = loadCases();

const byLine = <T extends { line: number }>(items: T[]): T[] => [...items].sort((a, b) => a.line - b.line);

/** Reads one case's chunks with ingest() and returns the outcome in the expectation's shape. */
async function readWithIngest(c: Case, chunks: readonly Uint8Array[]): Promise<Outcome> {
  const { source, maxRecordBytes } = c.expected;
  const fields = FIELDS[source];
  const loaded: Row[] = [];
  const rejects: Reject[] = [];
  for await (const record of ingest(source, () => fromChunks(chunks), maxRecordBytes)) {
    if (record.ok) {
      const row: Record<string, unknown> = record.row as unknown as Record<string, unknown>;
      loaded.push({ line: record.line, ...Object.fromEntries(fields.map((f) => [f, row[f]])) });
    } else {
      assert.ok(
        typeof record.raw === 'string' && record.raw.length <= RAW_LIMIT,
        `${c.name}: reject on line ${record.line} must carry a raw string of at most ${RAW_LIMIT} characters`,
      );
      rejects.push({ line: record.line, reason: record.reason });
    }
  }
  return { read: loaded.length + rejects.length, loaded: byLine(loaded), rejects: byLine(rejects) };
}

function assertOutcome(c: Case, actual: Outcome, how: string): void {
  const expected: Outcome = {
    read: c.expected.read,
    loaded: byLine(c.expected.loaded),
    rejects: byLine(c.expected.rejects),
  };
  assert.deepEqual(actual, expected, `${c.name} (${how}): ${c.expected.description}`);
}

describe('reader conformance: the case list', () => {
  test('every required case is present', () => {
    const names = new Set(CASES.map((c) => c.name));
    const missing = REQUIRED_CASES.filter((name) => !names.has(name));
    assert.deepEqual(missing, [], `required conformance cases are missing: ${missing.join(', ')}`);
  });

  test('every case folder holds exactly an input and an expected.json, the input under 64 KB', () => {
    for (const c of CASES) {
      const files = readdirSync(join(CASES_DIR, c.name)).sort();
      assert.deepEqual(files, ['expected.json', 'input'], `${c.name}: unexpected files`);
      assert.ok(c.input.length < 64 * 1024, `${c.name}: input is ${c.input.length} bytes, keep it under 64 KB`);
    }
  });

  test('the record-over-size-limit case is read as a stream: its file is larger than its maxRecordBytes', () => {
    const c = CASES.find((x) => x.name === 'record-over-size-limit');
    assert.ok(c, 'record-over-size-limit is missing');
    assert.equal(c.expected.maxRecordBytes, 1024, 'record-over-size-limit must use maxRecordBytes 1024');
    assert.ok(c.input.length > c.expected.maxRecordBytes, 'record-over-size-limit must be larger than the limit');
  });
});

describe('reader conformance: ingest()', () => {
  for (const c of CASES) {
    describe(c.name, () => {
      test('as one chunk', async () => {
        assertOutcome(c, await readWithIngest(c, [c.input]), 'one chunk');
      });

      test('in 1-byte chunks', async () => {
        assertOutcome(c, await readWithIngest(c, fixedChunks(c.input, 1)), '1-byte chunks');
      });

      for (const seed of RANDOM_SEEDS) {
        test(`in random 1-4096-byte chunks (seed ${seed})`, async () => {
          assertOutcome(c, await readWithIngest(c, randomChunks(c.input, seed, 4096)), `random chunks, seed ${seed}`);
        });
      }
    });
  }
});

describe('reader conformance: the independent oracle agrees', () => {
  const root = mkdtempSync(join(tmpdir(), 'sparkify-conformance-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  for (const c of CASES) {
    test(c.name, () => {
      // Each case in its own directory, so it can be read with its own maxRecordBytes.
      const dir = join(root, c.name);
      const folder = join(dir, c.expected.source, 'conformance');
      mkdirSync(folder, { recursive: true });
      writeFileSync(join(folder, `${c.name}.json`), c.input);

      const oracle = computeExpected(dir, { maxRecordBytes: c.expected.maxRecordBytes });

      const other: SourceName = c.expected.source === 'log_data' ? 'song_data' : 'log_data';
      assert.equal(oracle.read[other], 0, `${c.name}: the oracle read records of ${other}`);
      assert.deepEqual(
        {
          read: oracle.read[c.expected.source],
          rejects: byLine(oracle.rejects.map((r) => ({ line: r.line, reason: r.reason }))),
        },
        { read: c.expected.read, rejects: byLine(c.expected.rejects) },
        `${c.name} (oracle): ${c.expected.description}`,
      );
    });
  }
});
