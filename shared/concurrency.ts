/** Bounded concurrency for storage requests: enough in flight to hide per-request latency, never unbounded. */

/** Requests in flight for a stage's own reads and writes (map input reads have their own setting). */
export const STORAGE_CONCURRENCY = 16;

/** Runs `fn` over items with at most `limit` in flight. */
export async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      await fn(items[index] as T, index);
    }
  });
  await Promise.all(workers);
}

/** `fn` over items with at most `limit` in flight; the results in the items' order. */
export async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  await forEachLimited(items, limit, async (item, index) => {
    out[index] = await fn(item, index);
  });
  return out;
}
