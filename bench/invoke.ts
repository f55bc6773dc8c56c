/**
 * Runs one handler invocation in this (fresh) process and prints its peak memory and result, so a benchmark can
 * measure one worker alone, as a Lambda sandbox would run it.
 * Usage: node --import ./cli/preload.mjs bench/invoke.ts <plan|map|reduce|commit> <event.json>
 */
import { readFileSync } from 'node:fs';

const [name, eventFile] = process.argv.slice(2);
process.env.SPARKIFY_QUIET = '1';
const { handler } = (await import(`../functions/${name}.ts`)) as { handler: (e: unknown) => Promise<unknown> };
const loadedRss = process.resourceUsage().maxRSS;
const started = performance.now();
const result = await handler(JSON.parse(readFileSync(String(eventFile), 'utf8')));
const usage = process.resourceUsage();
console.log(
  JSON.stringify({
    peakRssMB: usage.maxRSS / 1024,
    loadedRssMB: loadedRss / 1024,
    ms: performance.now() - started,
    result: result ?? null,
  }),
);
