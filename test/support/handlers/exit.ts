/** A handler whose thread dies mid-invocation, for the worker pool's tests. */
export async function handler(event: { code: number }): Promise<never> {
  process.exit(event.code);
}
