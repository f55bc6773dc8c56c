/**
 * Plan: take the lake's lease, finish or roll back an interrupted publish, choose the input (what is new or changed
 * since the ledger, the S3 event's keys, or everything), cut it into shards of bounded bytes and files, and write
 * the shard manifest.
 */
import {
  BUCKET_INPUT_BYTES,
  DEFAULT_SETTINGS,
  MAX_BUCKETS,
  parseRunInput,
  type RunMode,
  resolveSettings,
  type Settings,
} from './config.ts';
import { ConfigError } from './errors.ts';
import {
  manifestKey,
  newRunId,
  planStatsKey,
  runInputsKey,
  SOURCES,
  type SourceName,
  shardId,
  sourcePrefix,
  statePointerKey,
} from './keys.ts';
import { acquireLease, releaseLease } from './lease.ts';
import { type LedgerEntry, readLedger } from './ledger.ts';
import { type Recovery, readJson, recoverPublish, type StatePointer } from './publish.ts';
import {
  addUsage,
  type ObjectInfo,
  type ObjectLocation,
  type ObjectStore,
  openStore,
  type StoreUsage,
} from './store.ts';

/** What every worker of a run is told: small enough for any state payload. */
export interface RunContext {
  runId: string;
  source: string;
  target: string;
  mode: RunMode;
  /** The state version this run merges with (null: a full run, or the lake's first). */
  baseline: string | null;
  /**
   * The digest format of the published state (shared/schemas.ts DIGEST_FORMAT; 1 for a state written before
   * formats were named), or null when there is none: the facts reducers also write that format's row hashes.
   */
  publishedDigest: number | null;
  settings: Settings;
  startedAt: string;
}

/** One unit of map work: input objects of one source. */
export interface Shard {
  shardId: string;
  source: SourceName;
  keys: string[];
  bytes: number;
}

/** How the run chose its input. */
export interface InputSummary {
  mode: RunMode;
  /** Keys given by the execution input (S3-event runs), or null when the source was listed. */
  keysGiven: number | null;
  /** Objects seen (listed, or given and found). */
  seen: number;
  new: number;
  changed: number;
  unchanged: number;
  /** Given keys that no longer exist. */
  missing: string[];
  /** Set when an incremental run became a full one because the lake outgrew its state's buckets. */
  rebucketed?: { from: number; to: number; loadedBytes: number };
}

/** One object a run reads, as Commit adds it to the ledger. */
export interface InputObject extends LedgerEntry {
  status: 'new' | 'changed';
}

/** What Plan leaves for Commit. */
export interface PlanStats {
  shards: number;
  inputs: PlanResult['inputs'];
  selection: InputSummary;
  recovery: Recovery;
  /** Storage requests and retries of Plan (the stats object itself not counted). */
  storage: StoreUsage;
  startedAt: string;
  finishedAt: string;
}

/** Plan's result: the state machine passes it on; the shards themselves stay in the manifest. */
export interface PlanResult {
  run: RunContext;
  manifest: ObjectLocation;
  /** Shards to map; 0 when nothing is new, and the state machine goes straight to Commit. */
  shards: number;
  /** Reduce bucket numbers, the reduce Map's items. */
  buckets: number[];
  /** Objects and bytes this run reads, per source. */
  inputs: Record<SourceName, { objects: number; bytes: number }>;
}

/** Plans a run from its execution input. */
export async function plan(rawInput: unknown, now: Date = new Date()): Promise<PlanResult> {
  const input = parseRunInput(rawInput);
  const settings = resolveSettings(input.settings);
  const mode = input.mode ?? 'incremental';
  const source = openStore(input.source);
  const target = openStore(input.target);
  const runId = newRunId(now);
  await acquireLease(target, runId, now);
  try {
    const recovery = await recoverPublish(target);
    const pointer = await readJson<StatePointer>(target, statePointerKey);
    let baseline = mode === 'incremental' && pointer ? pointer.runId : null;
    // The state is bucketed: an incremental run keeps the lake's bucket count (a full run may change it).
    if (baseline && pointer) settings.buckets = pointer.buckets;
    const ledger = await readLedger(target, baseline ?? undefined);
    const missing: string[] = [];
    const listed = await gather(candidates(source, input.keys, missing));
    let { selection, reading } = select(listed, input.keys, missing, ledger, mode, runId);
    const given = (input.settings as { buckets?: number } | undefined)?.buckets;
    let outgrown: { from: number; loadedBytes: number } | undefined;
    if (baseline && given === undefined) {
      // A reducer holds its bucket's share of the whole state, which grows with every incremental run: once the
      // data loaded calls for twice the state's buckets, the run rebuilds the state (a full run) with the count it
      // calls for, so that share stays bounded however the lake grows.
      let loadedBytes = reading.reduce((n, o) => n + o.size, 0);
      const reread = new Set(reading.map((o) => o.key));
      for (const e of ledger.values()) if (!reread.has(e.key)) loadedBytes += e.size;
      if (bucketsFor(loadedBytes) >= 2 * settings.buckets) {
        outgrown = { from: settings.buckets, loadedBytes };
        baseline = null;
        // A listed source is listed already; given keys leave the rest to list.
        const everything = input.keys ? await gather(candidates(source, undefined, [])) : listed;
        ({ selection, reading } = select(everything, undefined, [], new Map(), 'full', runId));
      }
    }
    if (selection.seen === 0 && !baseline && !input.keys) {
      throw new ConfigError(`no input under ${input.source}: expected song_data/ and log_data/ objects`);
    }
    // A new state (first run, or --full) picks its bucket count from the input unless one was given: a reducer's
    // memory follows its bucket's share of the data, so the share stays near BUCKET_INPUT_BYTES.
    if (!baseline && given === undefined) {
      settings.buckets = bucketsFor(reading.reduce((n, o) => n + o.size, 0));
    }
    // The count the listing calls for, which the ledger's sizes only foretold (objects deleted since count no more).
    if (outgrown) selection.rebucketed = { ...outgrown, to: settings.buckets };
    const run: RunContext = {
      runId,
      source: input.source,
      target: input.target,
      mode: selection.mode,
      baseline,
      publishedDigest: pointer ? (pointer.digest ?? 1) : null,
      settings,
      startedAt: now.toISOString(),
    };
    const shards = cut(reading, settings);
    const inputs = {} as PlanResult['inputs'];
    for (const name of SOURCES) {
      const mine = reading.filter((o) => sourceOf(o.key) === name);
      inputs[name] = { objects: mine.length, bytes: mine.reduce((n, o) => n + o.size, 0) };
    }
    await target.put(manifestKey(runId), JSON.stringify(shards));
    await target.put(runInputsKey(runId), JSON.stringify(reading));
    const stats: PlanStats = {
      shards: shards.length,
      inputs,
      selection,
      recovery,
      storage: addUsage(source.usage, target.usage),
      startedAt: run.startedAt,
      finishedAt: new Date().toISOString(),
    };
    await target.put(planStatsKey(runId), JSON.stringify(stats));
    return {
      run,
      manifest: target.locate(manifestKey(runId)),
      shards: shards.length,
      buckets: Array.from({ length: settings.buckets }, (_, i) => i),
      inputs,
    };
  } catch (error) {
    await releaseLease(target, runId).catch(() => undefined);
    throw error;
  }
}

/** The objects a run reads (new, or changed since the ledger's version), and how it chose them. */
function select(
  objects: readonly ObjectInfo[],
  keys: readonly string[] | undefined,
  missing: string[],
  ledger: ReadonlyMap<string, LedgerEntry>,
  mode: RunMode,
  runId: string,
): { selection: InputSummary; reading: InputObject[] } {
  const selection: InputSummary = {
    mode,
    keysGiven: keys ? keys.length : null,
    seen: objects.length,
    new: 0,
    changed: 0,
    unchanged: 0,
    missing,
  };
  const reading: InputObject[] = [];
  for (const object of objects) {
    const known = ledger.get(object.key);
    if (known && known.etag === object.etag) {
      selection.unchanged++;
      continue;
    }
    selection[known ? 'changed' : 'new']++;
    reading.push({ key: object.key, etag: object.etag, size: object.size, runId, status: known ? 'changed' : 'new' });
  }
  return { selection, reading };
}

/** Every item of an async iterable, in order. */
async function gather<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** The objects a run considers: the given keys that exist, or everything under both source prefixes. */
async function* candidates(
  source: ObjectStore,
  keys: readonly string[] | undefined,
  missing: string[],
): AsyncIterable<ObjectInfo> {
  if (!keys) {
    for (const name of SOURCES) yield* source.list(sourcePrefix(name));
    return;
  }
  for (const key of [...new Set(keys)].sort()) {
    const info = (await source.head(key)) ?? (await lookUpDecoded(source, key));
    if (info) yield info;
    else missing.push(key); // deleted since its event: nothing to load
  }
}

/**
 * A key as S3's classic notifications give it (URL-encoded, spaces as '+'), looked up as stored: a key that is
 * not found as given gets this one more try.
 */
async function lookUpDecoded(source: ObjectStore, key: string): Promise<ObjectInfo | undefined> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
  const safe =
    decoded !== key && SOURCES.some((s) => decoded.startsWith(`${s}/`)) && !decoded.split('/').includes('..');
  return safe ? source.head(decoded) : undefined;
}

const sourceOf = (key: string): SourceName => (key.startsWith('song_data/') ? 'song_data' : 'log_data');

/** Reduce buckets for a new state over `inputBytes`: the default, or more when a bucket would hold too much. */
export function bucketsFor(inputBytes: number): number {
  return Math.min(MAX_BUCKETS, Math.max(DEFAULT_SETTINGS.buckets, Math.ceil(inputBytes / BUCKET_INPUT_BYTES)));
}

/** Shards of one source each, closed at shardFiles objects or shardBytes bytes. */
function cut(objects: readonly InputObject[], settings: Settings): Shard[] {
  const shards: Shard[] = [];
  for (const name of SOURCES) {
    let current: Shard | undefined;
    for (const o of objects) {
      if (sourceOf(o.key) !== name) continue;
      if (!current || current.keys.length >= settings.shardFiles || current.bytes + o.size > settings.shardBytes) {
        if (current) shards.push(current);
        current = { shardId: shardId(name, shards.length), source: name, keys: [], bytes: 0 };
      }
      current.keys.push(o.key);
      current.bytes += o.size;
    }
    if (current) shards.push(current);
  }
  return shards;
}
