/**
 * Lowers the Distributed Map features the local interpreter (aws-local-stepfunctions) accepts but does not run,
 * so that the one ASL file also runs on one machine:
 * - `ItemReader` (S3 getObject, JSON array) and `ItemBatcher` become a Task state inserted before the Map that
 *   reads the items and batches them (`{ BatchInput, Items }`); the Map then iterates them with `ItemsPath`.
 * - `ProcessorConfig` and `Label` are dropped (iterations run inline), `ToleratedFailurePercentage: 0` too (the
 *   interpreter fails the Map on any failed iteration, which is what 0 means).
 * - `{"Fn::GetAtt": [LogicalId, "Arn"]}` (resolved by CloudFormation on deploy) becomes a local ARN; the runner
 *   maps each Task state invoking it to the handler module Lambda runs.
 * - A Retry on `LakeBusyError` alone is dropped: on AWS a run waits for the lake's lease, while a person at a
 *   terminal is told at once that another run holds the lake.
 * Anything else Distributed-Map-specific is refused by name, so a new ASL feature cannot be silently skipped.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** Thrown when the ASL uses something this lowering does not cover. */
export class UnsupportedAslError extends Error {
  override name = 'UnsupportedAslError';
}

/** Resource of the inserted reader states; the runner serves it. */
export const ITEMS_RESOURCE = 'arn:aws:states:::local:items';

/** Where the inserted reader state puts the items in the Map's input. */
export const ITEMS_PATH = '$.__items';

/** The ARN a logical id resolves to locally. */
export const localFunctionArn = (logicalId: string): string =>
  `arn:aws:lambda:us-east-1:000000000000:function:${logicalId}`;

/** What the lowering produced. */
export interface Lowered {
  definition: JsonObject;
  /** Inserted reader states by name, with the Map they feed. */
  readers: Record<string, { map: string }>;
  /** Task states that invoke a function, by state name → the function's logical id. */
  functions: Record<string, string>;
}

/** The reader state's Parameters: the ItemReader's and ItemBatcher's own (paths resolved by the interpreter). */
export interface ItemsRequest {
  reader?: { Bucket: string; Key: string };
  items?: Json[];
  maxItemsPerBatch?: number;
  batchInput?: Json;
}

const MAP_FIELDS = new Set([
  'Type',
  'Comment',
  'ItemReader',
  'ItemBatcher',
  'ItemsPath',
  'ItemSelector',
  'ItemProcessor',
  'MaxConcurrency',
  'ToleratedFailurePercentage',
  'Label',
  'ResultPath',
  'OutputPath',
  'Retry',
  'Catch',
  'Next',
  'End',
]);

/** Lowers a whole state machine definition. */
export function lowerForLocal(definition: JsonObject): Lowered {
  if ('QueryLanguage' in definition) throw new UnsupportedAslError('QueryLanguage (JSONata) is not run locally');
  const out: Lowered = { definition: {}, readers: {}, functions: {} };
  out.definition = lowerMachine(resolveIntrinsics(definition) as JsonObject, out);
  return out;
}

function lowerMachine(machine: JsonObject, out: Lowered): JsonObject {
  const states = machine.States as JsonObject;
  const lowered: JsonObject = {};
  const entry = new Map<string, string>(); // Map name → the reader state that now runs first
  for (const [name, raw] of Object.entries(states)) {
    const state = raw as JsonObject;
    if ('Assign' in state) throw new UnsupportedAslError(`${name}: Assign is not run locally`);
    if (state.Type === 'Task') {
      const fn = (state.Parameters as JsonObject | undefined)?.FunctionName;
      if (typeof fn === 'string' && fn.startsWith(localFunctionArn(''))) {
        out.functions[name] = fn.slice(localFunctionArn('').length);
      }
      const retry = (state.Retry as JsonObject[] | undefined)?.filter((r) => !waitsForLease(r));
      lowered[name] = retry === undefined ? state : { ...state, Retry: retry };
    } else if (state.Type === 'Map') {
      const { map, reader } = lowerMap(name, state, out);
      if (reader) {
        const readerName = `${name} (items)`;
        lowered[readerName] = reader;
        out.readers[readerName] = { map: name };
        entry.set(name, readerName);
      }
      lowered[name] = map;
    } else if (state.Type === 'Parallel') {
      lowered[name] = { ...state, Branches: (state.Branches as JsonObject[]).map((b) => lowerMachine(b, out)) };
    } else {
      lowered[name] = state;
    }
  }
  const to = (target: Json | undefined): Json | undefined =>
    typeof target === 'string' ? (entry.get(target) ?? target) : target;
  for (const [name, state] of Object.entries(lowered) as [string, JsonObject][]) {
    if (name in out.readers) continue; // a reader's Next is its own Map
    if (state.Next !== undefined) state.Next = to(state.Next) as Json;
    if (state.Default !== undefined) state.Default = to(state.Default) as Json;
    for (const rule of [...((state.Choices as JsonObject[]) ?? []), ...((state.Catch as JsonObject[]) ?? [])]) {
      rule.Next = to(rule.Next) as Json;
    }
  }
  return { ...machine, StartAt: to(machine.StartAt) as Json, States: lowered };
}

function lowerMap(name: string, state: JsonObject, out: Lowered): { map: JsonObject; reader?: JsonObject } {
  for (const field of Object.keys(state)) {
    if (!MAP_FIELDS.has(field)) throw new UnsupportedAslError(`${name}: Map field ${field} is not lowered locally`);
  }
  const tolerated = state.ToleratedFailurePercentage;
  if (tolerated !== undefined && tolerated !== 0) {
    throw new UnsupportedAslError(`${name}: ToleratedFailurePercentage ${String(tolerated)} is not run locally`);
  }
  const { ItemReader, ItemBatcher, ItemProcessor, ToleratedFailurePercentage: _t, Label: _l, ...rest } = state;
  const processor = ItemProcessor as JsonObject;
  const { ProcessorConfig: _p, ...inline } = processor;
  const map: JsonObject = { ...rest, ItemProcessor: lowerMachine(inline, out) };
  if (ItemReader === undefined && ItemBatcher === undefined) return { map };

  if (ItemBatcher !== undefined && state.ItemSelector !== undefined) {
    throw new UnsupportedAslError(`${name}: ItemSelector with ItemBatcher is not lowered locally`);
  }
  const parameters: JsonObject = {};
  if (ItemReader !== undefined) {
    const reader = ItemReader as JsonObject;
    const config = (reader.ReaderConfig ?? {}) as JsonObject;
    if (reader.Resource !== 'arn:aws:states:::s3:getObject' || config.InputType !== 'JSON') {
      throw new UnsupportedAslError(`${name}: only ItemReader s3:getObject with InputType JSON is lowered locally`);
    }
    for (const key of Object.keys(config)) {
      if (key !== 'InputType') throw new UnsupportedAslError(`${name}: ReaderConfig.${key} is not lowered locally`);
    }
    parameters.reader = reader.Parameters as JsonObject;
  } else {
    parameters['items.$'] = (state.ItemsPath as string | undefined) ?? '$';
  }
  if (ItemBatcher !== undefined) {
    const batcher = ItemBatcher as JsonObject;
    for (const key of Object.keys(batcher)) {
      if (!['MaxItemsPerBatch', 'MaxItemsPerBatchPath', 'BatchInput'].includes(key)) {
        throw new UnsupportedAslError(`${name}: ItemBatcher.${key} is not lowered locally`);
      }
    }
    if (batcher.MaxItemsPerBatch !== undefined) parameters.maxItemsPerBatch = batcher.MaxItemsPerBatch;
    if (batcher.MaxItemsPerBatchPath !== undefined) parameters['maxItemsPerBatch.$'] = batcher.MaxItemsPerBatchPath;
    if (batcher.BatchInput !== undefined) parameters.batchInput = batcher.BatchInput;
  }
  const reader: JsonObject = {
    Type: 'Task',
    Comment: `Local stand-in for ${name}'s ItemReader/ItemBatcher.`,
    Resource: ITEMS_RESOURCE,
    Parameters: parameters,
    ResultPath: ITEMS_PATH,
    Next: name,
  };
  return { map: { ...map, ItemsPath: ITEMS_PATH }, reader };
}

/** A retrier that waits for the lake's lease (only LakeBusyError). */
export function waitsForLease(retrier: { ErrorEquals?: unknown }): boolean {
  const errors = retrier.ErrorEquals;
  return Array.isArray(errors) && errors.length === 1 && errors[0] === 'LakeBusyError';
}

/** Replaces CloudFormation intrinsics with local values; refuses the ones it does not know. */
function resolveIntrinsics(value: Json): Json {
  if (Array.isArray(value)) return value.map(resolveIntrinsics);
  if (value === null || typeof value !== 'object') return value;
  const keys = Object.keys(value);
  if (keys.length === 1 && keys[0]?.startsWith('Fn::')) {
    const args = value[keys[0]] as Json[];
    if (keys[0] === 'Fn::GetAtt' && args[1] === 'Arn' && typeof args[0] === 'string') return localFunctionArn(args[0]);
    throw new UnsupportedAslError(`intrinsic ${keys[0]} ${JSON.stringify(args)} is not resolved locally`);
  }
  if (keys.length === 1 && keys[0] === 'Ref')
    throw new UnsupportedAslError(`Ref ${JSON.stringify(value.Ref)} is not resolved locally`);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveIntrinsics(v)]));
}

/** Batches items as ItemBatcher does: `{ BatchInput, Items }` of at most `max` items each. */
export function batchItems(items: Json[], max: number | undefined, batchInput: Json | undefined): Json[] {
  if (max === undefined && batchInput === undefined) return items;
  const size = max ?? items.length;
  const batches: Json[] = [];
  for (let i = 0; i < items.length; i += size) {
    batches.push({ ...(batchInput === undefined ? {} : { BatchInput: batchInput }), Items: items.slice(i, i + size) });
  }
  return batches;
}
