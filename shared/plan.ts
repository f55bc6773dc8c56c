/** Plan: list the input, cut it into shards of bounded bytes and files, write the shard manifest. */
import { parseRunInput, resolveSettings, type Settings } from './config.ts';
import { ConfigError } from './errors.ts';
import { manifestKey, newRunId, planStatsKey, SOURCES, type SourceName, shardId, sourcePrefix } from './keys.ts';
import { type ObjectLocation, openStore } from './store.ts';

/** What every worker of a run is told: small enough for any state payload. */
export interface RunContext {
  runId: string;
  source: string;
  target: string;
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

/** What Plan leaves for Commit. */
export interface PlanStats {
  shards: number;
  inputs: PlanResult['inputs'];
  startedAt: string;
  finishedAt: string;
}

/** Plan's result: the state machine passes it on; the shards themselves stay in the manifest. */
export interface PlanResult {
  run: RunContext;
  manifest: ObjectLocation;
  shards: number;
  /** Reduce bucket numbers, the reduce Map's items. */
  buckets: number[];
  inputs: Record<SourceName, { objects: number; bytes: number }>;
}

/** Plans a run from its execution input. */
export async function plan(rawInput: unknown, now: Date = new Date()): Promise<PlanResult> {
  const input = parseRunInput(rawInput);
  const settings = resolveSettings(input.settings);
  const run: RunContext = {
    runId: newRunId(now),
    source: input.source,
    target: input.target,
    settings,
    startedAt: now.toISOString(),
  };
  const source = openStore(input.source);
  const target = openStore(input.target);
  const shards: Shard[] = [];
  const inputs = {} as PlanResult['inputs'];
  for (const name of SOURCES) {
    let objects = 0;
    let bytes = 0;
    let current: Shard | undefined;
    for await (const object of source.list(sourcePrefix(name))) {
      objects++;
      bytes += object.size;
      if (!current || current.keys.length >= settings.shardFiles || current.bytes + object.size > settings.shardBytes) {
        if (current) shards.push(current);
        current = { shardId: shardId(name, shards.length), source: name, keys: [], bytes: 0 };
      }
      current.keys.push(object.key);
      current.bytes += object.size;
    }
    if (current) shards.push(current);
    inputs[name] = { objects, bytes };
  }
  if (shards.length === 0) {
    throw new ConfigError(`no input under ${input.source}: expected song_data/ and log_data/ objects`);
  }
  await target.put(manifestKey(run.runId), JSON.stringify(shards));
  const stats: PlanStats = {
    shards: shards.length,
    inputs,
    startedAt: run.startedAt,
    finishedAt: new Date().toISOString(),
  };
  await target.put(planStatsKey(run.runId), JSON.stringify(stats));
  return {
    run,
    manifest: target.locate(manifestKey(run.runId)),
    shards: shards.length,
    buckets: Array.from({ length: settings.buckets }, (_, i) => i),
    inputs,
  };
}
