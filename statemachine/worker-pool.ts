/**
 * A pool of worker threads for the local runner: the interpreter runs Map iterations concurrently in one
 * thread, so the CPU-bound handlers are sent to threads (one per core by default) to run in parallel.
 */
import { Worker } from 'node:worker_threads';
import type { WorkerRequest, WorkerResponse } from './worker.ts';

const WORKER_URL = new URL('./worker-entry.mjs', import.meta.url);

/** An error raised in a worker, re-raised with its name so the ASL's Retry and Catch see it. */
class WorkerTaskError extends Error {}

/** Runs handler modules on a fixed set of threads; tasks queue when all are busy. */
export class WorkerPool {
  private readonly idle: Worker[] = [];
  private readonly all: Worker[] = [];
  private readonly queue: { request: WorkerRequest; resolve: (r: WorkerResponse) => void }[] = [];
  private readonly pending = new Map<number, (r: WorkerResponse) => void>();
  private readonly running = new Map<Worker, number>(); // worker → id of the request it runs
  private nextId = 0;

  constructor(readonly size: number) {
    for (let i = 0; i < size; i++) {
      const worker = new Worker(WORKER_URL);
      worker.on('message', (response: WorkerResponse) => {
        this.running.delete(worker);
        this.pending.get(response.id)?.(response);
        this.pending.delete(response.id);
        this.release(worker);
      });
      worker.on('error', (error) => {
        // A crashed thread fails what it was running, and is replaced by no other: the run fails with that error.
        const id = this.running.get(worker);
        if (id !== undefined) {
          this.pending.get(id)?.({ id, ok: false, name: error.name, message: error.message });
          this.pending.delete(id);
        }
        this.running.delete(worker);
      });
      worker.unref();
      this.all.push(worker);
      this.idle.push(worker);
    }
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

  private send(worker: Worker, request: WorkerRequest, resolve: (r: WorkerResponse) => void): void {
    this.pending.set(request.id, resolve);
    this.running.set(worker, request.id);
    worker.postMessage(request);
  }

  private release(worker: Worker): void {
    const next = this.queue.shift();
    if (next) this.send(worker, next.request, next.resolve);
    else this.idle.push(worker);
  }

  /** Stops every thread. */
  async close(): Promise<void> {
    await Promise.all(this.all.map((w) => w.terminate()));
  }
}
