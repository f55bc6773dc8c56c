/**
 * Publishing a new version of the lake, atomically per table. Every file of the new version is written before
 * the commit record; then each table's manifest (its current pointer) flips, then the state pointer, then files no
 * pointer names are removed. An interrupted publish is finished or rolled back by `recoverPublish`, which the next
 * run (under the lease) and the failed run's Abort both call:
 * - `flipping`: the previous version's files are all still there, so the previous pointers are put back;
 * - `cleaning`: every pointer names the new version, so the clean-up is finished.
 */
import { TABLES, type TableName } from './config.ts';
import {
  publishRecordKey,
  STATE_PREFIX,
  statePointerKey,
  stateVersionPrefix,
  tableManifestKey,
  tablePrefix,
} from './keys.ts';
import type { ObjectStore } from './store.ts';

/** One written table file. */
export interface TableFile {
  key: string;
  rows: number;
  bytes: number;
}

/** A table's current pointer: the manifest naming its files. */
export interface TableManifest {
  table: TableName;
  runId: string;
  files: TableFile[];
}

/** The state's current pointer: the version incremental runs merge with. */
export interface StatePointer {
  runId: string;
  buckets: number;
  /** The format of its digests (shared/schemas.ts DIGEST_FORMAT); absent in a state written before format 2. */
  digest?: number;
}

/** A lake version: every table's manifest and the state pointer. */
export interface LakeVersion {
  tables: Record<TableName, TableManifest | null>;
  state: StatePointer | null;
}

/** The commit record. */
export interface PublishRecord {
  runId: string;
  phase: 'flipping' | 'cleaning';
  next: LakeVersion;
  previous: LakeVersion;
}

/** What recovery did. */
export type Recovery = { action: 'none' } | { action: 'rolled-back' | 'finished'; runId: string };

/** The version readers see now. */
export async function currentVersion(store: ObjectStore): Promise<LakeVersion> {
  const [state, ...manifests] = await Promise.all([
    readJson<StatePointer>(store, statePointerKey),
    ...TABLES.map((t) => readJson<TableManifest>(store, tableManifestKey(t))),
  ]);
  const tables = Object.fromEntries(TABLES.map((t, i) => [t, manifests[i] ?? null])) as LakeVersion['tables'];
  return { tables, state: state ?? null };
}

/** A publish's steps, for callers that watch it: after each pointer flips, and once cleaning starts. */
export type PublishStep = `flipped ${TableName}` | 'flipped state' | 'cleaning';

/** Publishes `next` over the current version; returns the replaced version. */
export async function publish(
  store: ObjectStore,
  runId: string,
  next: LakeVersion,
  onStep: (step: PublishStep) => void = () => {},
): Promise<LakeVersion> {
  // A retried Commit finds its own record: the version before it is the one the record kept, not what is current
  // (some pointers may already name the new files).
  const pending = await readJson<PublishRecord>(store, publishRecordKey);
  const previous = pending?.runId === runId ? pending.previous : await currentVersion(store);
  const record: PublishRecord = { runId, phase: 'flipping', next, previous };
  await store.put(publishRecordKey, JSON.stringify(record));
  await writePointers(store, next, onStep);
  await store.put(publishRecordKey, JSON.stringify({ ...record, phase: 'cleaning' }));
  onStep('cleaning');
  await removeUnnamed(store, next);
  await store.delete([publishRecordKey]);
  return previous;
}

/** Finishes or rolls back an interrupted publish (see the module comment). */
export async function recoverPublish(store: ObjectStore): Promise<Recovery> {
  const record = await readJson<PublishRecord>(store, publishRecordKey);
  if (!record) return { action: 'none' };
  if (record.phase === 'flipping') {
    await writePointers(store, record.previous);
    await removeUnnamed(store, record.previous);
    await store.delete([publishRecordKey]);
    return { action: 'rolled-back', runId: record.runId };
  }
  await removeUnnamed(store, record.next);
  await store.delete([publishRecordKey]);
  return { action: 'finished', runId: record.runId };
}

/** Whether a publish by this run is recorded and not yet complete. */
export async function pendingPublish(store: ObjectStore): Promise<PublishRecord | undefined> {
  return (await readJson<PublishRecord>(store, publishRecordKey)) ?? undefined;
}

async function writePointers(
  store: ObjectStore,
  version: LakeVersion,
  onStep: (step: PublishStep) => void = () => {},
): Promise<void> {
  for (const t of TABLES) {
    const manifest = version.tables[t];
    if (manifest) await store.put(tableManifestKey(t), JSON.stringify(manifest, null, 2));
    else await store.delete([tableManifestKey(t)]);
    onStep(`flipped ${t}`);
  }
  if (version.state) await store.put(statePointerKey, JSON.stringify(version.state, null, 2));
  else await store.delete([statePointerKey]);
  onStep('flipped state');
}

/** Makes the glob exact again: table files and state versions the version does not name are removed. */
async function removeUnnamed(store: ObjectStore, version: LakeVersion): Promise<void> {
  for (const t of TABLES) {
    const keep = new Set((version.tables[t]?.files ?? []).map((f) => f.key));
    const stale: string[] = [];
    for await (const o of store.list(tablePrefix(t))) if (!keep.has(o.key)) stale.push(o.key);
    await store.delete(stale);
  }
  const keepState = version.state ? stateVersionPrefix(version.state.runId) : undefined;
  const stale: string[] = [];
  for await (const o of store.list(STATE_PREFIX)) if (!keepState || !o.key.startsWith(keepState)) stale.push(o.key);
  await store.delete(stale);
}

/** A JSON object, or null when there is none. */
export async function readJson<T>(store: ObjectStore, key: string): Promise<T | null> {
  if (!(await store.head(key))) return null;
  return JSON.parse(Buffer.from(await store.get(key)).toString('utf8')) as T;
}
