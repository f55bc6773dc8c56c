/**
 * The shuffle between map and reduce: rows hash-partitioned on their dataset's reduce key, stored as one Arrow
 * IPC object per (dataset, bucket, producer) so a retried producer overwrites its own slices.
 */
import { decodeIpc, encodeIpc, type Row } from './columnar.ts';
import { type ShuffleName, shuffleBucketPrefix, shuffleKey } from './keys.ts';
import { SHUFFLE_COLUMNS } from './schemas.ts';
import type { ObjectStore } from './store.ts';
import { bucketOf } from './transform.ts';

/** Rows bound for the reducers, grouped by dataset and bucket. */
export class Shuffle {
  private readonly parts = new Map<ShuffleName, Row[][]>();
  constructor(private readonly buckets: number) {}

  /** Adds a row to the bucket its reduce key hashes to. */
  add(name: ShuffleName, reduceKey: string, row: Row): void {
    let byBucket = this.parts.get(name);
    if (!byBucket) {
      byBucket = Array.from({ length: this.buckets }, () => []);
      this.parts.set(name, byBucket);
    }
    (byBucket[bucketOf(reduceKey, this.buckets)] as Row[]).push(row);
  }

  /** Rows per dataset. */
  rowCounts(): Partial<Record<ShuffleName, number>> {
    const counts: Partial<Record<ShuffleName, number>> = {};
    for (const [name, byBucket] of this.parts) counts[name] = byBucket.reduce((n, rows) => n + rows.length, 0);
    return counts;
  }

  /** Writes one Arrow IPC object per non-empty (dataset, bucket); returns the bytes written. */
  async write(store: ObjectStore, runId: string, producer: string): Promise<number> {
    let bytes = 0;
    for (const [name, byBucket] of this.parts) {
      for (let b = 0; b < byBucket.length; b++) {
        const rows = byBucket[b] as Row[];
        if (rows.length === 0) continue;
        const body = encodeIpc(SHUFFLE_COLUMNS[name], rows);
        bytes += body.length;
        await store.put(shuffleKey(runId, name, b, producer), body);
      }
    }
    return bytes;
  }
}

/** What a reader of the shuffle has read. */
export interface ReadCounts {
  objects: number;
  bytes: number;
}

/** Every row of one bucket of one dataset, from all producers; adds what it read to `counts`. */
export async function readBucket(
  store: ObjectStore,
  runId: string,
  name: ShuffleName,
  bucket: number,
  counts: ReadCounts,
): Promise<Row[]> {
  const rows: Row[] = [];
  for await (const object of store.list(shuffleBucketPrefix(runId, name, bucket))) {
    const body = await store.get(object.key);
    counts.objects++;
    counts.bytes += body.length;
    for (const row of decodeIpc(body)) rows.push(row);
  }
  return rows;
}
