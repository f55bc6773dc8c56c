// Worker threads start here: register the TypeScript loader for this thread, then run the worker.
// The handlers' heavy JavaScript dependencies are loaded first, before the loader's hooks: through them, each of
// their hundreds of files costs a round trip to the hooks thread (a map thread's start: 600 ms → 450 ms).
await Promise.all([import('apache-arrow'), import('parquet-wasm'), import('zod')]);
const { register } = await import('tsx/esm/api');
register();
await import('./worker.ts');
