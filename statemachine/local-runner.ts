/**
 * Runs statemachine/etl.asl.json on this machine with aws-local-stepfunctions: the ASL is lowered
 * (./lower.ts) and each Task state that invokes a function runs the same handler module Lambda runs.
 */
import { readFileSync } from 'node:fs';
import { ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import { openLocation } from '../shared/store.ts';
import { batchItems, type ItemsRequest, lowerForLocal } from './lower.ts';

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

/** The handler module of a function's logical id: `MapLambdaFunction` → functions/map.ts. */
async function loadHandler(logicalId: string): Promise<Handler> {
  const name = logicalId.replace(/LambdaFunction$/, '').toLowerCase();
  const module = (await import(new URL(`../functions/${name}.ts`, import.meta.url).href)) as { handler?: Handler };
  if (typeof module.handler !== 'function') throw new Error(`functions/${name}.ts exports no handler`);
  return module.handler;
}

/** Runs one execution of the state machine with the given input; resolves to the execution's output. */
export async function runLocal(input: Json, onProgress: (p: Progress) => void = () => {}): Promise<unknown> {
  const lowered = lowerForLocal(JSON.parse(readFileSync(ASL_URL, 'utf8')));
  const overrides: Record<string, (input: Json) => Promise<Json>> = {};
  let failedState = '';
  for (const [state, logicalId] of Object.entries(lowered.functions)) {
    const handler = await loadHandler(logicalId);
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
  const machine = new StateMachine(lowered.definition as never, { validationOptions: { checkArn: false } });
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
  }
}
