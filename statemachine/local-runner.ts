/**
 * Runs statemachine/etl.asl.json on this machine with aws-local-stepfunctions: the ASL is lowered
 * (./lower.ts) and each Task state that invokes a function runs the same handler module Lambda runs.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import { openLocation } from '../shared/store.ts';
import { bundleHandlers } from './handler-bundle.ts';
import { batchItems, type ItemsRequest, lowerForLocal } from './lower.ts';
import { WORKER_LOOP, WorkerPool } from './worker-pool.ts';

/** The ASL file, the one orchestration. */
export const ASL_URL = new URL('./etl.asl.json', import.meta.url);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Handler = (event: unknown) => Promise<unknown>;

/** Progress of a local execution, as the runner sees states finish. */
export type Progress =
  | { kind: 'started'; state: string; items: number }
  | { kind: 'done'; state: string; result: unknown };

/** A failed execution: which state failed, and the error it raised. */
export class LocalExecutionError extends Error {
  override name = 'LocalExecutionError';
  constructor(
    readonly state: string,
    readonly errorName: string,
    message: string,
  ) {
    super(message);
  }
}

/** A function's name from its logical id: `MapLambdaFunction` → `map`. */
const functionName = (logicalId: string): string => logicalId.replace(/LambdaFunction$/, '').toLowerCase();

/** The handler module of a function's logical id: `MapLambdaFunction` → functions/map.ts. */
export function handlerModule(logicalId: string): URL {
  return new URL(`../functions/${functionName(logicalId)}.ts`, import.meta.url);
}

/**
 * A handler module in place of each function the ASL invokes, by logical id, for runLocal's `handlers`: `module`
 * gets the function's name (`map`). Tests inject faults this way; the benchmark runs each invocation alone.
 */
export function substituteHandlers(module: (name: string) => URL): Record<string, URL> {
  const { functions } = lowerForLocal(JSON.parse(readFileSync(ASL_URL, 'utf8')));
  return Object.fromEntries(Object.values(functions).map((id) => [id, module(functionName(id))]));
}

async function loadHandler(module: URL): Promise<Handler> {
  const loaded = (await import(module.href)) as { handler?: Handler };
  if (typeof loaded.handler !== 'function') throw new Error(`${module.pathname} exports no handler`);
  return loaded.handler;
}

/** How the local runner runs handlers. */
export interface LocalRunOptions {
  /** Worker threads for the handlers (default: one per core); 0 runs them in this thread. */
  workers?: number | undefined;
  onProgress?: (p: Progress) => void;
  /** Handler modules to run instead of functions/<name>.ts, by logical id (tests inject faults this way). */
  handlers?: Record<string, URL> | undefined;
}

/** Where the verdicts of the interpreter's validation of definitions are kept, a file per definition that passed. */
export const VALIDATED_CACHE = new URL('../node_modules/.cache/sparkify-lake/asl/', import.meta.url);

/** The interpreter's version: a verdict holds for the validator that gave it. */
const INTERPRETER_VERSION = (() => {
  try {
    const manifest = new URL('../node_modules/aws-local-stepfunctions/package.json', import.meta.url);
    return String((JSON.parse(readFileSync(manifest, 'utf8')) as { version?: unknown }).version);
  } catch {
    return 'unknown';
  }
})();

/**
 * The interpreter's state machine for a definition. Its validation (asl-validator compiling its JSON schemas) took
 * 470 ms of the main thread at every run's start, while the workers started; a definition that passed it once, by
 * the hash of its text and the interpreter's version, is not validated again. An edited definition is validated.
 */
export function stateMachine(definition: Json, cache: URL = VALIDATED_CACHE): StateMachine {
  const key = createHash('sha256')
    .update(`${INTERPRETER_VERSION}\u0000${JSON.stringify(definition)}`)
    .digest('hex');
  const verdict = new URL(key.slice(0, 32), cache);
  if (existsSync(verdict)) return new StateMachine(definition as never, { validationOptions: { noValidate: true } });
  const machine = new StateMachine(definition as never, { validationOptions: { checkArn: false } });
  try {
    mkdirSync(cache, { recursive: true });
    writeFileSync(verdict, '');
  } catch {
    // A cache that cannot be written: the next run validates again, nothing worse.
  }
  return machine;
}

/** Runs one execution of the state machine with the given input; resolves to the execution's output. */
export async function runLocal(input: Json, options: LocalRunOptions = {}): Promise<unknown> {
  const onProgress = options.onProgress ?? (() => {});
  const lowered = lowerForLocal(JSON.parse(readFileSync(ASL_URL, 'utf8')));
  const modules = Object.fromEntries(
    Object.values(lowered.functions).map((id) => [id, options.handlers?.[id] ?? handlerModule(id)]),
  );
  let pool: WorkerPool | undefined;
  if (options.workers !== 0) {
    const built = await bundleHandlers([WORKER_LOOP, ...Object.values(modules)]);
    for (const [id, module] of Object.entries(modules)) modules[id] = built.get(module.href) ?? module;
    pool = new WorkerPool(options.workers ?? availableParallelism(), built.get(WORKER_LOOP.href) ?? WORKER_LOOP);
  }
  const overrides: Record<string, (input: Json) => Promise<Json>> = {};
  let failedState = '';
  for (const [state, logicalId] of Object.entries(lowered.functions)) {
    const module = modules[logicalId] as URL;
    const handler: Handler = pool ? (payload) => pool.run(module, payload) : await loadHandler(module);
    overrides[state] = async (request) => {
      try {
        const payload = await handler((request as { Payload: Json }).Payload);
        onProgress({ kind: 'done', state, result: payload });
        return { Payload: payload as Json };
      } catch (error) {
        failedState ||= state;
        throw error;
      }
    };
  }
  for (const [state, { map }] of Object.entries(lowered.readers)) {
    overrides[state] = async (raw) => {
      const request = raw as unknown as ItemsRequest;
      let items = request.items;
      if (request.reader) {
        const { store, key } = openLocation(request.reader);
        items = JSON.parse(Buffer.from(await store.get(key)).toString('utf8')) as Json[];
        if (!Array.isArray(items)) throw new Error(`${map}: ItemReader object ${key} is not a JSON array`);
      }
      const batches = batchItems(items ?? [], request.maxItemsPerBatch, request.batchInput);
      onProgress({ kind: 'started', state: map, items: batches.length });
      return batches;
    };
  }
  const machine = stateMachine(lowered.definition);
  const execution = machine.run(input, { overrides: { taskResourceLocalHandlers: overrides } });
  try {
    return await execution.result;
  } catch (error) {
    const cause = (error instanceof ExecutionError ? error.cause : error) as Error | undefined;
    throw new LocalExecutionError(
      failedState || 'state machine',
      cause?.name ?? 'Error',
      cause?.message ?? String(error),
    );
  } finally {
    await pool?.close();
  }
}
