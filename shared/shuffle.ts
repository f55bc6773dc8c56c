/**
 * The shuffle between map and reduce: rows hash-partitioned on their dataset's reduce key, stored as one Arrow
 * IPC object per (dataset, bucket, producer) so a retried producer overwrites its own slices.
 */
import { ColumnsBuilder, decodeIpc, decodeIpcColumns, joined, type Row, type Value } from './columnar.ts';
import { forEachLimited, mapLimited, STORAGE_CONCURRENCY } from './concurrency.ts';
import { type ShuffleName, shuffleBucketPrefix, shuffleKey } from './keys.ts';
import { SHUFFLE_COLUMNS } from './schemas.ts';
import type { ObjectStore } from './store.ts';
import { bucketOf } from './transform.ts';

/** Rows bound for the reducers, grouped by dataset and bucket, each bucket's encoded as they come. */
export class Shuffle {
  private readonly parts = new Map<ShuffleName, (ColumnsBuilder | undefined)[]>();
  private readonly counts: Partial<Record<ShuffleName, number>> = {};
  /** Slices given already encodable (addEncoded), each written as it is encoded. */
  private readonly encoders: [ShuffleName, number, () => Uint8Array][] = [];
  constructor(private readonly buckets: number) {}

  /** Adds a row to the bucket its reduce key hashes to. */
  add(name: ShuffleName, reduceKey: string, row: Row): void {
    this.addTo(name, bucketOf(reduceKey, this.buckets), row);
  }

  /** Adds a row to a given bucket. */
  addTo(name: ShuffleName, bucket: number, row: Row): void {
    let byBucket = this.parts.get(name);
    if (!byBucket) {
      if (this.encoders.some(([n]) => n === name))
        throw new Error(`shuffle ${name} takes rows or encoded slices, not both`);
      byBucket = new Array(this.buckets).fill(undefined);
      this.parts.set(name, byBucket);
    }
    let rows = byBucket[bucket];
    if (!rows) {
      rows = new ColumnsBuilder(SHUFFLE_COLUMNS[name]);
      byBucket[bucket] = rows;
    }
    rows.append(row);
    this.counts[name] = (this.counts[name] ?? 0) + 1;
  }

  /**
   * Adds a slice of `rows` rows to a bucket as its IPC is made by `encode`, called when it is written (a reducer
   * copies picked rows from its input's buffers). A dataset takes slices this way or rows by add, not both.
   */
  addEncoded(name: ShuffleName, bucket: number, rows: number, encode: () => Uint8Array): void {
    if (this.parts.has(name)) throw new Error(`shuffle ${name} takes rows or encoded slices, not both`);
    if (rows === 0) return;
    // One object per (dataset, bucket, producer): a second slice would overwrite the first.
    if (this.encoders.some(([n, b]) => n === name && b === bucket))
      throw new Error(`shuffle ${name} has a slice for bucket ${bucket} already`);
    this.encoders.push([name, bucket, encode]);
    this.counts[name] = (this.counts[name] ?? 0) + rows;
  }

  /** Rows added per dataset (written or not: write() lets go of the rows as it encodes them). */
  rowCounts(): Partial<Record<ShuffleName, number>> {
    return { ...this.counts };
  }

  /** Writes one Arrow IPC object per non-empty (dataset, bucket); returns the bytes written. */
  async write(store: ObjectStore, runId: string, producer: string): Promise<number> {
    const slices: [ShuffleName, number, () => Uint8Array][] = [...this.encoders];
    for (const [name, byBucket] of this.parts) {
      byBucket.forEach((rows, b) => {
        if (!rows) return;
        slices.push([
          name,
          b,
          // The rows are let go of as they are encoded: read here, not captured.
          () => {
            const slice = byBucket[b] as ColumnsBuilder;
            byBucket[b] = undefined;
            return slice.encodeIpc();
          },
        ]);
      });
    }
    this.encoders.length = 0;
    let bytes = 0;
    // Encoded as the writes go, so that only the slices in flight are held twice.
    await forEachLimited(slices, STORAGE_CONCURRENCY, async ([name, b, encode]) => {
      const body = encode();
      bytes += body.length;
      await store.put(shuffleKey(runId, name, b, producer), body);
    });
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
  return joined(await readSlices(store, runId, name, bucket, counts, decodeIpc));
}

/** Each producer's slice of one bucket of one dataset as stored (Arrow IPC), for ArrowRows. */
export const readBucketBodies = (
  store: ObjectStore,
  runId: string,
  name: ShuffleName,
  bucket: number,
  counts: ReadCounts,
): Promise<Uint8Array[]> => readSlices(store, runId, name, bucket, counts, (body) => body);

/** One column of one bucket of one dataset, from all producers, as readBucket's rows would hold it. */
export async function readBucketColumn(
  store: ObjectStore,
  runId: string,
  name: ShuffleName,
  bucket: number,
  column: string,
  counts: ReadCounts,
): Promise<Value[]> {
  const parts = await readSlices(store, runId, name, bucket, counts, (body) => {
    const values = decodeIpcColumns(body, [column]).get(column);
    if (!values) throw new Error(`shuffle ${name} has no column ${column}`);
    return values;
  });
  return joined(parts);
}

/** Each producer's slice of a bucket, decoded. */
async function readSlices<T>(
  store: ObjectStore,
  runId: string,
  name: ShuffleName,
  bucket: number,
  counts: ReadCounts,
  decode: (body: Uint8Array) => T,
): Promise<T[]> {
  const objects: string[] = [];
  for await (const object of store.list(shuffleBucketPrefix(runId, name, bucket))) objects.push(object.key);
  // Fetched concurrently, kept in listing order: the rows' order never depends on which answer came first.
  return mapLimited(objects, STORAGE_CONCURRENCY, async (key) => {
    const body = await store.get(key);
    counts.objects++;
    counts.bytes += body.length;
    return decode(body);
  });
}
