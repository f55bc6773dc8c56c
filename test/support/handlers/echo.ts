/** A handler that answers with its event and the thread it ran on, for the worker pool's tests. */
import { threadId } from 'node:worker_threads';

export async function handler(event: unknown): Promise<{ event: unknown; threadId: number }> {
  if ((event as { fail?: string }).fail) {
    const error = new Error(`asked to fail: ${(event as { fail: string }).fail}`);
    error.name = 'TransientError';
    throw error;
  }
  return { event, threadId };
}
