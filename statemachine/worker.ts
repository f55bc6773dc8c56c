/** A worker thread of the local runner: runs handler modules (the ones Lambda runs) on request. */
import { parentPort } from 'node:worker_threads';

type Handler = (event: unknown) => Promise<unknown>;

/** A request from the pool. */
export interface WorkerRequest {
  id: number;
  module: string;
  payload: unknown;
}

/** The answer: the handler's result, or its error's name and message (names drive the ASL's Retry). */
export type WorkerResponse =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; name: string; message: string; stack?: string };

const handlers = new Map<string, Promise<Handler>>();

// Run from its source, this thread has the TypeScript loader already; run from the runner's JavaScript build
// (./handler-bundle.ts), it registers the loader, once, for a handler given as a TypeScript source.
let typescript: Promise<unknown> | undefined = import.meta.url.endsWith('.ts') ? Promise.resolve() : undefined;

function load(module: string): Promise<Handler> {
  let handler = handlers.get(module);
  if (!handler) {
    let ready: Promise<unknown> | undefined;
    if (new URL(module).pathname.endsWith('.ts')) {
      typescript ??= import('tsx/esm/api').then((tsx) => tsx.register());
      ready = typescript;
    }
    handler = Promise.resolve(ready)
      .then(() => import(module))
      .then((m: { handler: Handler }) => m.handler);
    handlers.set(module, handler);
  }
  return handler;
}

parentPort?.on('message', async (request: WorkerRequest) => {
  let response: WorkerResponse;
  try {
    const handler = await load(request.module);
    response = { id: request.id, ok: true, result: await handler(request.payload) };
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    response = { id: request.id, ok: false, name: e.name, message: e.message, ...(e.stack ? { stack: e.stack } : {}) };
  }
  parentPort?.postMessage(response);
});
