/**
 * The lake's lease: one run at a time may change a lake. Taken by Plan with an exclusive create (S3
 * `If-None-Match: *`, a hard link on disk), released by Commit or Abort. A lease whose run can no longer hold it
 * (expired, or held by a local process that has died) is taken over with a compare-and-swap on its ETag, so two
 * runs that find the same stale lease cannot both win.
 */
import { hostname } from 'node:os';
import { LakeBusyError } from './errors.ts';
import { leaseKey } from './keys.ts';
import type { ObjectStore } from './store.ts';

/** The lease object. */
export interface Lease {
  runId: string;
  acquiredAt: string;
  expiresAt: string;
  /** Where the holder runs; a local holder whose process is gone gives its lease up at once. */
  owner: { host: string; pid: number; local: boolean };
}

/** A lease outlives any execution: the state machine's TimeoutSeconds (7200) plus a margin. */
export const LEASE_TTL_MS = (7200 + 300) * 1000;

/** Takes the lake's lease for a run; idempotent for the same run (a retried Plan); LakeBusyError when held. */
export async function acquireLease(store: ObjectStore, runId: string, now: Date = new Date()): Promise<Lease> {
  const lease: Lease = {
    runId,
    acquiredAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + LEASE_TTL_MS).toISOString(),
    owner: { host: hostname(), pid: process.pid, local: process.env.AWS_LAMBDA_FUNCTION_NAME === undefined },
  };
  const body = `${JSON.stringify(lease, null, 2)}\n`;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (await store.create(leaseKey, body)) return lease;
    const found = await readLease(store);
    if (!found) continue; // released in between: try to create again
    if (found.lease?.runId === runId) return found.lease;
    if (found.lease && !isStale(found.lease, now)) {
      const held = found.lease;
      throw new LakeBusyError(
        `the lake ${store.uri} is busy: run ${held.runId} holds its lease since ${held.acquiredAt} ` +
          `(it expires ${held.expiresAt}). This run changed nothing; run again when that one has finished ` +
          `(new input is picked up then through the ledger).`,
      );
    }
    if (await store.replace(leaseKey, body, found.etag)) return lease;
  }
  throw new LakeBusyError(`the lake ${store.uri} is busy: another run is taking its lease right now; run again later`);
}

/** Gives the lease up if this run holds it (a no-op otherwise, so Abort may call it whatever happened). */
export async function releaseLease(store: ObjectStore, runId: string): Promise<void> {
  const found = await readLease(store);
  if (found?.lease?.runId === runId) await store.delete([leaseKey]);
}

/** The current lease and its ETag; `lease` is undefined when the object is unreadable (treated as stale). */
export async function readLease(store: ObjectStore): Promise<{ lease: Lease | undefined; etag: string } | undefined> {
  const info = await store.head(leaseKey);
  if (!info) return undefined;
  try {
    const lease = JSON.parse(Buffer.from(await store.get(leaseKey)).toString('utf8')) as Lease;
    return { lease: typeof lease.runId === 'string' ? lease : undefined, etag: info.etag };
  } catch {
    return { lease: undefined, etag: info.etag };
  }
}

/** Expired, or held by a local process on this host that no longer exists. */
export function isStale(lease: Lease, now: Date): boolean {
  if (!(Date.parse(lease.expiresAt) > now.getTime())) return true;
  return lease.owner?.local === true && lease.owner.host === hostname() && !processAlive(lease.owner.pid);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
