/** The ledger: every input object a lake version has loaded, with the ETag it had when it was read. */
import { ledgerKey } from './keys.ts';
import type { ObjectStore } from './store.ts';

/** One loaded object. */
export interface LedgerEntry {
  key: string;
  etag: string;
  size: number;
  /** The run that read it. */
  runId: string;
}

/** The ledger of a state version, by key (empty when there is none). */
export async function readLedger(
  store: ObjectStore,
  stateRunId: string | undefined,
): Promise<Map<string, LedgerEntry>> {
  const out = new Map<string, LedgerEntry>();
  if (!stateRunId || !(await store.head(ledgerKey(stateRunId)))) return out;
  const text = Buffer.from(await store.get(ledgerKey(stateRunId))).toString('utf8');
  for (const line of text.split('\n')) {
    if (!line) continue;
    const e = JSON.parse(line) as LedgerEntry;
    out.set(e.key, e);
  }
  return out;
}

/** Writes a version's ledger, in key order. */
export async function writeLedger(store: ObjectStore, runId: string, entries: Iterable<LedgerEntry>): Promise<void> {
  const sorted = [...entries].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  await store.put(ledgerKey(runId), sorted.map((e) => `${JSON.stringify(e)}\n`).join(''));
}
