/**
 * A pool of worker threads for the local runner: the interpreter runs Map iterations concurrently in one
 * thread, so the CPU-bound handlers are sent to threads (one per core by default) to run in parallel.
 */
import { Worker } from 'node:worker_threads';
import type { WorkerRequest, WorkerResponse } from './worker.ts';

const WORKER_URL = new URL('./worker-entry.mjs', import.meta.url);
/** The thread's loop, in TypeScript. */
export const WORKER_LOOP = new URL('./worker.ts', import.meta.url);

/** An error raised in a worker, re-raised with its name so the ASL's Retry and Catch see it. */
class WorkerTaskError extends Error {}

/** The error name of an invocation whose thread died under it (like a Lambda sandbox crash). */
export const WORKER_EXITED = 'WorkerExited';

/** Runs handler modules on a fixed number of threads; tasks queue when all are busy. */
export class WorkerPool {
  private readonly idle: Worker[] = [];
  private readonly all = new Set<Worker>();
  private readonly queue: { request: WorkerRequest; resolve: (r: WorkerResponse) => void }[] = [];
  private readonly running = new Map<Worker, { id: number; resolve: (r: WorkerResponse) => void }>();
  private nextId = 0;
  private closing = false;

  /**
   * @param loop the thread's loop to load: ./worker.ts (the default, through the TypeScript loader, which the
   *   handlers then also go through) or its JavaScript build, for handlers built with it (./handler-bundle.ts)
   */
  constructor(
    readonly size: number,
    private readonly loop: URL = WORKER_LOOP,
  ) {
    for (let i = 0; i < size; i++) this.release(this.spawn());
  }

  /** Runs `handler(payload)` of a module on a free thread. */
  async run(module: URL, payload: unknown): Promise<unknown> {
    const request: WorkerRequest = { id: this.nextId++, module: module.href, payload };
    const response = await new Promise<WorkerResponse>((resolve) => {
      const worker = this.idle.pop();
      if (worker) this.send(worker, request, resolve);
      else this.queue.push({ request, resolve });
    });
    if (response.ok) return response.result;
    const error = new WorkerTaskError(response.message);
    error.name = response.name;
    if (response.stack) error.stack = response.stack;
    throw error;
  }

  private spawn(): Worker {
    const worker = new Worker(WORKER_URL, { workerData: { loop: this.loop.href } });
    let failure: Error | undefined;
    worker.on('message', (response: WorkerResponse) => {
      const task = this.running.get(worker);
      this.running.delete(worker);
      task?.resolve(response);
      this.release(worker);
    });
    worker.on('error', (error) => {
      failure = error;
    });
    worker.on('exit', (code) => {
      // A thread that dies fails what it was running and is replaced, so the pool keeps its size.
      this.all.delete(worker);
      const task = this.running.get(worker);
      this.running.delete(worker);
      task?.resolve({
        id: task.id,
        ok: false,
        name: WORKER_EXITED,
        message: `worker thread exited (code ${code})${failure ? `: ${failure.message}` : ''}`,
      });
      const index = this.idle.indexOf(worker);
      if (index >= 0) this.idle.splice(index, 1);
      if (!this.closing) this.release(this.spawn());
    });
    this.all.add(worker);
    return worker;
  }

  private send(worker: Worker, request: WorkerRequest, resolve: (r: WorkerResponse) => void): void {
    this.running.set(worker, { id: request.id, resolve });
    worker.ref(); // a busy thread keeps the process alive until it answers; an idle one does not
    worker.postMessage(request);
  }

  private release(worker: Worker): void {
    const next = this.queue.shift();
    if (next) this.send(worker, next.request, next.resolve);
    else {
      worker.unref();
      this.idle.push(worker);
    }
  }

  /** Stops every thread. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all([...this.all].map((w) => w.terminate()));
  }
}
