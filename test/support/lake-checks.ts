/** Checks on a lake, on disk or in a bucket, against the oracle: used by the incremental and atomicity tests. */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { TABLES } from '../../shared/config.ts';
import type { ObjectStore } from '../../shared/store.ts';
import { type duck, readLake } from './lake.ts';
import { computeExpected } from './oracle.ts';
import { recordReliability, testFile } from './reliability.ts';

type Connection = Awaited<ReturnType<typeof duck>>;

/** One reject as the oracle lists it. */
export interface RejectLine {
  source: 'song_data' | 'log_data';
  key: string;
  line: number;
  reason: string;
}

export class LakeChecks {
  private dirs = 0;
  constructor(
    private readonly db: Connection,
    private readonly root: string,
    private readonly buckets: number,
  ) {}

  /** A fresh directory under the root. */
  freshDir(name: string): string {
    const dir = join(this.root, `${name}-${this.dirs++}`);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  /** Copies every object under a prefix to a local directory (the lake as it sits in the bucket, for DuckDB). */
  async download(store: ObjectStore, prefix = ''): Promise<string> {
    const dir = this.freshDir('download');
    for await (const o of store.list(prefix)) {
      const path = join(dir, o.key);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, await store.get(o.key));
    }
    return dir;
  }

  /** The lake's tables as DuckDB reads them through the glob. */
  async tables(lake: ObjectStore) {
    return readLake(this.db, await this.download(lake));
  }

  /**
   * The lake equals one full run over the source's files (the oracle): tables, rejects; every table's glob is
   * exactly its manifest; no partition holds more files than buckets.
   */
  async assertEqualsFull(source: ObjectStore, lake: ObjectStore, label: string): Promise<void> {
    const sourceDir = await this.download(source);
    const lakeDir = await this.download(lake);
    const { rejects, read: _read, ...expected } = computeExpected(sourceDir);
    const actual = await readLake(this.db, lakeDir);
    recordComparison(label, expected, actual, rejects, readRejects(lakeDir));
    assert.deepEqual(actual, expected, `${label}: tables equal a full run`);
    assert.deepEqual(readRejects(lakeDir), rejects, `${label}: rejects equal a full run's`);
    this.assertGlobExact(lakeDir, label);
  }

  /** Every table's glob is exactly its manifest, and no partition holds more files than buckets. */
  assertGlobExact(lakeDir: string, label: string): void {
    for (const table of TABLES) {
      const manifest = JSON.parse(readFileSync(join(lakeDir, '_manifests', `${table}.json`), 'utf8')) as {
        files: { key: string }[];
      };
      const named = manifest.files.map((f) => f.key).sort();
      const onDisk = (existsSync(join(lakeDir, table)) ? readdirSync(join(lakeDir, table), { recursive: true }) : [])
        .map(String)
        .filter((f) => f.endsWith('.parquet'))
        .map((f) => `${table}/${f}`)
        .sort();
      assert.deepEqual(onDisk, named, `${label}: ${table} glob is exactly its manifest`);
      const perPartition = new Map<string, number>();
      for (const key of named) perPartition.set(dirname(key), (perPartition.get(dirname(key)) ?? 0) + 1);
      for (const [partition, files] of perPartition) {
        assert.ok(files <= this.buckets, `${label}: ${partition} holds ${files} files, at most ${this.buckets}`);
      }
    }
  }
}

/** Rows lost, duplicated or unexpected per table and rejects missing or extra, for docs/reliability.md. */
function recordComparison(
  label: string,
  expected: Record<string, unknown[]>,
  actual: Record<string, unknown[]>,
  rejectsExpected: RejectLine[],
  rejectsFound: RejectLine[],
): void {
  let rows = 0;
  let lost = 0;
  let duplicated = 0;
  let unexpected = 0;
  for (const table of TABLES) {
    const want = new Map<string, number>();
    for (const r of expected[table] ?? []) want.set(JSON.stringify(r), (want.get(JSON.stringify(r)) ?? 0) + 1);
    const seen = new Map<string, number>();
    for (const r of actual[table] ?? []) seen.set(JSON.stringify(r), (seen.get(JSON.stringify(r)) ?? 0) + 1);
    rows += (expected[table] ?? []).length;
    for (const [row, n] of want) lost += Math.max(0, n - (seen.get(row) ?? 0));
    for (const [row, n] of seen) {
      const w = want.get(row) ?? 0;
      if (w === 0) unexpected += n;
      else duplicated += Math.max(0, n - w);
    }
  }
  const key = (r: RejectLine) => `${r.key}\u0000${r.line}\u0000${r.reason}`;
  const found = new Set(rejectsFound.map(key));
  const wanted = new Set(rejectsExpected.map(key));
  recordReliability({
    kind: 'check',
    file: testFile(),
    label,
    rows,
    lost,
    duplicated,
    unexpected,
    rejectsExpected: rejectsExpected.length,
    rejectsMissing: rejectsExpected.filter((r) => !found.has(key(r))).length,
    rejectsExtra: rejectsFound.filter((r) => !wanted.has(key(r))).length,
  });
}

/** Every reject line under a lake directory's `_rejects/`, in key and line order. */
export function readRejects(lakeDir: string): RejectLine[] {
  if (!existsSync(join(lakeDir, '_rejects'))) return [];
  return readdirSync(join(lakeDir, '_rejects'), { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.jsonl'))
    .flatMap((f) =>
      readFileSync(join(lakeDir, '_rejects', f), 'utf8')
        .trim()
        .split('\n'),
    )
    .map((line) => JSON.parse(line) as RejectLine)
    .map(({ source, key, line, reason }) => ({ source, key, line, reason }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.line - b.line));
}
