/**
 * Runs one benchmark contender in this (fresh) process and prints one JSON line: wall time, peak memory of the
 * whole process (worker threads included), and for ours the run report's stages and storage counts.
 * Usage: node --import ./cli/preload.mjs bench/contender.ts <ours|ours-isolated|duckdb> <source> <target> [buckets]
 */
import { readFileSync } from 'node:fs';
import type { RunReport } from '../shared/commit.ts';
import { runLocal, substituteHandlers } from '../statemachine/local-runner.ts';
import { runDuckDbEtl } from './duckdb-etl.ts';

const [contender, source, target, buckets] = process.argv.slice(2) as [string, string, string, string | undefined];
process.env.SPARKIFY_QUIET = '1';

/** Each function alone in a fresh process per invocation (bench/isolated.ts), for per-invocation peak memory. */
const ISOLATED: Record<string, URL> = substituteHandlers((fn) => new URL(`./isolated.ts?fn=${fn}`, import.meta.url));

const started = performance.now();
let detail: Record<string, unknown> = {};
if (contender === 'duckdb') {
  await runDuckDbEtl({ source, target });
} else {
  const settings = buckets ? { buckets: Number(buckets) } : {};
  const handlers = contender === 'ours-isolated' ? ISOLATED : undefined;
  const result = (await runLocal({ source, target, settings, mode: 'full' }, { handlers })) as { report: string };
  const report = JSON.parse(readFileSync(`${target}/${result.report}`, 'utf8')) as RunReport;
  detail = { stages: report.stages, storage: report.storage };
}
const ms = performance.now() - started;
console.log(JSON.stringify({ ms, peakRssMB: process.resourceUsage().maxRSS / 1024, ...detail }));
