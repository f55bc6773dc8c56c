/**
 * `npm run bench`: our local pipeline (the real state machine on worker threads) against a DuckDB implementation
 * of the same ETL (bench/duckdb-etl.ts), on the same generated data and machine, in one run; the outputs are
 * checked equal. Writes the figures to bench/results.md (or --out).
 * @example npm run bench                          # small, medium and large (about 1.8 GB of data under --data)
 * @example npm run bench -- --sizes small --no-memory
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { type GenerateSummary, generate } from '../cli/generate.ts';
import { DEFAULT_SETTINGS } from '../shared/config.ts';
import type { StoreUsage } from '../shared/store.ts';
import { compareLakes } from './duckdb-etl.ts';
import type { Invocation } from './isolated.ts';

/** The issue's sizes: small has the shape of the public S3 set; medium about 160 MB; large about 1.6 GB. */
const SIZES = {
  small: { songs: 15_000, events: 10_000 },
  medium: { songs: 15_000, events: 320_000 },
  large: { songs: 150_000, events: 3_200_000 },
} as const;
type Size = keyof typeof SIZES;

/** First-byte latency of the simulated-S3 run (a small GET from Lambda in the same region). */
const LATENCY_MS = 30;

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: 'small,medium,large' },
    data: { type: 'string', default: join(tmpdir(), 'sparkify-bench') },
    out: { type: 'string', default: new URL('./results.md', import.meta.url).pathname },
    'no-memory': { type: 'boolean', default: false },
    'no-latency': { type: 'boolean', default: false },
  },
  strict: true,
});
const sizes = values.sizes.split(',').map((s) => s.trim()) as Size[];
for (const s of sizes) if (!(s in SIZES)) throw new Error(`--sizes takes ${Object.keys(SIZES).join(', ')}; got ${s}`);
const ROOT = decodeURIComponent(new URL('..', import.meta.url).pathname);
const run = promisify(execFile);

interface Measured {
  ms: number;
  peakRssMB: number;
  stages?: Record<string, { wallMs: number }>;
  storage?: Record<string, StoreUsage>;
}

/** Runs a contender in a fresh process (bench/contender.ts). */
async function contender(name: string, source: string, target: string, env: NodeJS.ProcessEnv = {}): Promise<Measured> {
  rmSync(target, { recursive: true, force: true });
  const { stdout } = await run(
    process.execPath,
    ['--import', './cli/preload.mjs', 'bench/contender.ts', name, source, target],
    { cwd: ROOT, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 },
  );
  return JSON.parse(stdout.trim().split('\n').pop() as string) as Measured;
}

/** The size's data, generated once and kept under --data (seed 42, no bad records: DuckDB writes no rejects). */
async function dataFor(size: Size): Promise<{ dir: string; summary: GenerateSummary }> {
  const dir = join(values.data, size);
  const marker = join(dir, '.generated.json');
  if (existsSync(marker)) return { dir, summary: JSON.parse(readFileSync(marker, 'utf8')) as GenerateSummary };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  log(`${size}: generating ${SIZES[size].songs} songs, ${SIZES[size].events} events into ${dir}`);
  const summary = await generate({ out: dir, ...SIZES[size], seed: 42 });
  writeFileSync(marker, JSON.stringify(summary));
  return { dir, summary };
}

/** Reads every file once, so that neither contender pays for a cold page cache. */
function warm(dir: string): void {
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) readFileSync(join(entry.parentPath, entry.name));
  }
}

const log = (text: string): void => {
  process.stderr.write(`${text}\n`);
};
const s = (ms: number): string => (ms / 1000).toFixed(1);
const mb = (n: number): string => n.toFixed(0);

interface Result {
  size: Size;
  summary: GenerateSummary;
  files: number;
  ours: Measured;
  duck: Measured;
  equal: boolean;
  differences: string;
  memory?: Record<string, { max: number; invocations: number }>;
  latency?: { run: Measured; floorMs: number; gets: number; inFlight: number };
}

const results: Result[] = [];
const work = join(values.data, 'lakes');
for (const size of sizes) {
  const { dir, summary } = await dataFor(size);
  const files = summary.songFiles + summary.logFiles;
  warm(dir);
  log(`${size}: DuckDB`);
  const duck = await contender('duckdb', dir, join(work, `${size}-duckdb`));
  log(`${size}: ours`);
  const ours = await contender('ours', dir, join(work, `${size}-ours`));
  const compared = await compareLakes(join(work, `${size}-ours`), join(work, `${size}-duckdb`));
  const unequal = compared.filter((c) => c.onlyA + c.onlyB > 0 || c.rowsA !== c.rowsB);
  const result: Result = {
    size,
    summary,
    files,
    ours,
    duck,
    equal: unequal.length === 0 && compared.length === 5,
    differences: unequal.map((c) => `${c.table}: ${c.onlyA} only ours, ${c.onlyB} only DuckDB`).join('; '),
  };
  log(`${size}: ours ${s(ours.ms)} s, DuckDB ${s(duck.ms)} s, equal: ${result.equal} ${result.differences}`);
  if (!values['no-memory']) {
    log(`${size}: ours, each invocation in its own process (peak memory per worker)`);
    const memoryLog = join(work, `${size}-memory.jsonl`);
    rmSync(memoryLog, { force: true });
    await contender('ours-isolated', dir, join(work, `${size}-isolated`), { SPARKIFY_BENCH_MEMORY_LOG: memoryLog });
    const invocations = readFileSync(memoryLog, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Invocation);
    result.memory = {};
    for (const i of invocations) {
      const stage = i.phase ?? i.fn;
      const m = result.memory[stage] ?? { max: 0, invocations: 0 };
      m.max = Math.max(m.max, i.peakRssMB);
      m.invocations++;
      result.memory[stage] = m;
    }
    rmSync(join(work, `${size}-isolated`), { recursive: true, force: true });
  }
  if (size === 'small' && !values['no-latency']) {
    log(`${size}: ours with ${LATENCY_MS} ms per storage request`);
    const slow = await contender('ours', dir, join(work, `${size}-latency`), {
      SPARKIFY_SIMULATE_LATENCY_MS: String(LATENCY_MS),
    });
    const gets = slow.storage?.map?.get ?? 0;
    // Every map worker keeps readConcurrency GETs in flight; the workers run side by side.
    const inFlight = availableParallelism() * DEFAULT_SETTINGS.readConcurrency;
    result.latency = { run: slow, gets, inFlight, floorMs: (gets / inFlight) * LATENCY_MS };
    rmSync(join(work, `${size}-latency`), { recursive: true, force: true });
  }
  results.push(result);
  for (const lake of ['ours', 'duckdb']) rmSync(join(work, `${size}-${lake}`), { recursive: true, force: true });
}

/** A run's stage wall times as table cells. */
function stageWalls(m: Measured): string {
  const st = m.stages ?? {};
  return ['plan', 'map', 'dimensions', 'facts', 'commit'].map((k) => `${s(st[k]?.wallMs ?? 0)} s`).join(' | ');
}

/** The results page. */
function page(): string {
  const inputMB = (r: Result): number => r.summary.bytes / 1e6;
  const lines = [
    '# Benchmark: sparkify-lake against DuckDB on the same ETL',
    '',
    `Written by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${availableParallelism()} cores (${cpus()[0]?.model.trim()}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}.`,
    'Both contenders ran one after the other in this run, each in a fresh process, on the same generated data',
    '(seed 42) read once beforehand so that neither pays for a cold page cache. Ours is the real state machine with',
    'its default settings (worker threads one per core; buckets from the input size: one per 128 MiB, at least',
    `${DEFAULT_SETTINGS.buckets}); DuckDB is bench/duckdb-etl.ts with one thread per core. "Equal" means DuckDB read back`,
    'both lakes and found every table the same, row for row. Times are wall times of the whole run in its process.',
    '',
    '| size | input | ours | DuckDB | ours / DuckDB | ours throughput | DuckDB throughput | peak RSS ours / DuckDB | equal |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    const sec = (m: Measured): number => m.ms / 1000;
    lines.push(
      `| ${r.size} | ${mb(inputMB(r))} MB, ${r.files.toLocaleString('en-US')} files, ${r.summary.events.toLocaleString('en-US')} events | ${s(r.ours.ms)} s | ${s(r.duck.ms)} s | **${(r.ours.ms / r.duck.ms).toFixed(2)}** | ${(inputMB(r) / sec(r.ours)).toFixed(1)} MB/s, ${mb(r.summary.events / sec(r.ours))} events/s | ${(inputMB(r) / sec(r.duck)).toFixed(1)} MB/s, ${mb(r.summary.events / sec(r.duck))} events/s | ${mb(r.ours.peakRssMB)} / ${mb(r.duck.peakRssMB)} MB | ${r.equal ? 'yes' : `**no**: ${r.differences}`} |`,
    );
  }
  lines.push('', '## Scaling', '', 'Seconds per GB of input: level when time grows linearly with the data.', '');
  lines.push('| size | ours s/GB | DuckDB s/GB |', '|---|---|---|');
  for (const r of results) {
    const gb = r.summary.bytes / 1e9;
    lines.push(`| ${r.size} | ${(r.ours.ms / 1000 / gb).toFixed(1)} | ${(r.duck.ms / 1000 / gb).toFixed(1)} |`);
  }
  lines.push('', '## Our stages (wall time)', '', '| size | plan | map | dimensions | facts | commit |');
  lines.push('|---|---|---|---|---|---|');
  for (const r of results) lines.push(`| ${r.size} | ${stageWalls(r.ours)} |`);
  const withMemory = results.filter((r) => r.memory);
  if (withMemory.length > 0) {
    lines.push(
      '',
      '## Peak memory of one worker, per stage',
      '',
      'A second run of ours with every invocation alone in a fresh process, as Lambda runs it (bench/isolated.ts):',
      'the highest peak RSS of any invocation of the stage, and how many there were. The limit is 1,769 MB, the',
      'Lambda size with one full vCPU.',
      '',
      '| size | plan | map | dimensions | facts | commit |',
      '|---|---|---|---|---|---|',
    );
    for (const r of withMemory) {
      const m = (k: string): string => {
        const x = r.memory?.[k];
        return x ? `${mb(x.max)} MB (${x.invocations})` : '—';
      };
      lines.push(`| ${r.size} | ${m('plan')} | ${m('map')} | ${m('dimensions')} | ${m('facts')} | ${m('commit')} |`);
    }
  }
  const withLatency = results.filter((r) => r.latency);
  for (const r of withLatency) {
    const l = r.latency as NonNullable<Result['latency']>;
    lines.push(
      '',
      `## ${r.size} with ${LATENCY_MS} ms per storage request`,
      '',
      `The same run with SPARKIFY_SIMULATE_LATENCY_MS=${LATENCY_MS}: every request to the local store waits ${LATENCY_MS} ms`,
      'before its first byte, as a small S3 GET does. The floor is what the map stage cannot beat with its',
      `bounded reads: GETs ÷ reads in flight (${DEFAULT_SETTINGS.readConcurrency} per worker × ${availableParallelism()} workers) × ${LATENCY_MS} ms.`,
      '',
      '| run | plan | map | dimensions | facts | commit | map GETs | map floor | map / floor |',
      '|---|---|---|---|---|---|---|---|---|',
      `| ${s(l.run.ms)} s (without latency ${s(r.ours.ms)} s) | ${stageWalls(l.run)} | ${l.gets.toLocaleString('en-US')} | ${s(l.floorMs)} s | ${((l.run.stages?.map?.wallMs ?? 0) / l.floorMs).toFixed(2)} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

writeFileSync(values.out, page());
log(`wrote ${values.out}`);
const failed = results.filter((r) => !r.equal);
if (failed.length > 0) {
  log(`outputs differ: ${failed.map((r) => `${r.size} (${r.differences})`).join('; ')}`);
  process.exitCode = 1;
}
log(`generated data kept in ${values.data} for the next run`);
