// Worker threads start here and run the thread's loop: the runner's JavaScript build of ./worker.ts
// (./handler-bundle.ts) when the pool was given one, else ./worker.ts itself through the TypeScript loader.
// The handlers' heavy JavaScript dependencies (left out of the build) are loaded first, while nothing else runs;
// without the build, this also keeps their hundreds of files out of the TypeScript loader's hooks, where each would
// cost a round trip to the hooks thread (a map thread's start: 600 → 450 ms).
import { workerData } from 'node:worker_threads';

await Promise.all([import('apache-arrow'), import('parquet-wasm'), import('zod')]);
const loop = workerData?.loop ?? new URL('./worker.ts', import.meta.url).href;
if (loop.endsWith('.ts')) {
  const { register } = await import('tsx/esm/api');
  register();
} else {
  // Errors raised in the build name the TypeScript sources, through the build's source maps.
  process.setSourceMapsEnabled(true);
}
await import(loop);
