/**
 * The user's command.
 * @example npm start                                   # the bundled sample into ./lake
 * @example npm start -- --source s3://raw/sparkify --target ./lake --buckets 16
 * @example npm run generate -- --out ./data --songs 1000 --events 20000
 */
import { parseArgs } from 'node:util';
import type { RunReport } from '../shared/commit.ts';
import { DEFAULT_FILE_BYTES, DEFAULT_SETTINGS, TABLES, type TableName } from '../shared/config.ts';
import { describeError } from '../shared/errors.ts';
import { runPageKey } from '../shared/keys.ts';
import { rebucketedText } from '../shared/report-html.ts';
import { openStore } from '../shared/store.ts';
import { LocalExecutionError, type Progress, runLocal } from '../statemachine/local-runner.ts';
import { ProgressTracker } from './progress.ts';
import { UsageError } from './usage.ts';

/** The bundled sample `npm start` runs on (made by `npm run generate`, see cli/sample/README.md). */
export const SAMPLE_DIR = new URL('./sample/', import.meta.url);

const USAGE = `Usage:
  sparkify run [--source DIR|s3://bucket/prefix] [--target DIR|s3://bucket/prefix] [options]
  sparkify compact [--target DIR|s3://bucket/prefix] [--file-bytes N]
  sparkify generate --out DIR [--songs N] [--events M] [--seed S] [--bad N]
  sparkify query "<SQL>" | NAME | --list [--lake DIR] [--csv | --json]
  sparkify start --state-machine ARN (--input FILE.json | --source s3://… --target s3://…) [--json]

run options (defaults in brackets):
  --source URI              input holding song_data/ and log_data/ [the bundled sample]
  --target URI              the lake [./lake]
  --buckets N               reduce buckets [${DEFAULT_SETTINGS.buckets}]
  --shard-files N           input files per map shard [${DEFAULT_SETTINGS.shardFiles}]
  --shard-bytes N           input bytes per map shard [${DEFAULT_SETTINGS.shardBytes}]
  --shards-per-batch N      shards per map invocation [${DEFAULT_SETTINGS.shardsPerBatch}]
  --read-concurrency N      GETs in flight per map worker [${DEFAULT_SETTINGS.readConcurrency}]
  --reject-limit X          fail when a source's rejected/read exceeds X [${DEFAULT_SETTINGS.rejectLimit}]
  --tolerated-shard-failures X  share of map shards that may fail; their objects are retried next run [${DEFAULT_SETTINGS.toleratedShardFailures}]
  --max-record-bytes N      larger records are rejected [${DEFAULT_SETTINGS.maxRecordBytes}]
  --partition TABLE=COLS    partition columns, e.g. songs=year,artist_id (repeatable; TABLE= for none)
  --full                    rebuild from every input object, not only what is new or changed since the ledger
  --keys K1,K2              load only these source keys (what an S3-event run passes; repeatable)
  --workers N               worker threads running the handlers [one per core; 0: this thread]
  --json                    print the run report as JSON instead of the summary
compact rewrites each table partition whose file count does not fit its size into files of about
--file-bytes [${DEFAULT_FILE_BYTES}] and publishes them atomically, under the lake's lease.
S3 URIs use the default AWS credential chain; AWS_ENDPOINT_URL_S3 points them at any S3-compatible server.`;

function intOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got "${value}"`);
  return n;
}

/** Builds the execution input from `run` options. */
export function runInputFromArgs(argv: string[]): {
  input: Record<string, unknown>;
  json: boolean;
  workers: number | undefined;
} {
  const { values } = parseArgs({
    args: argv,
    options: {
      source: { type: 'string' },
      target: { type: 'string', default: 'lake' },
      buckets: { type: 'string' },
      'shard-files': { type: 'string' },
      'shard-bytes': { type: 'string' },
      'shards-per-batch': { type: 'string' },
      'read-concurrency': { type: 'string' },
      'reject-limit': { type: 'string' },
      'max-record-bytes': { type: 'string' },
      'tolerated-shard-failures': { type: 'string' },
      partition: { type: 'string', multiple: true },
      full: { type: 'boolean', default: false },
      keys: { type: 'string', multiple: true },
      json: { type: 'boolean', default: false },
      workers: { type: 'string' },
    },
    strict: true,
  });
  const partitions: Partial<Record<TableName, string[]>> = {};
  for (const spec of values.partition ?? []) {
    const [table, cols] = spec.split('=', 2);
    if (!TABLES.includes(table as TableName) || cols === undefined) {
      throw new UsageError(`--partition takes TABLE=COL,COL with TABLE one of ${TABLES.join(', ')}; got "${spec}"`);
    }
    partitions[table as TableName] = cols === '' ? [] : cols.split(',');
  }
  const settings = Object.fromEntries(
    Object.entries({
      buckets: intOption(values.buckets, 'buckets'),
      shardFiles: intOption(values['shard-files'], 'shard-files'),
      shardBytes: intOption(values['shard-bytes'], 'shard-bytes'),
      shardsPerBatch: intOption(values['shards-per-batch'], 'shards-per-batch'),
      readConcurrency: intOption(values['read-concurrency'], 'read-concurrency'),
      rejectLimit: intOption(values['reject-limit'], 'reject-limit'),
      toleratedShardFailures: intOption(values['tolerated-shard-failures'], 'tolerated-shard-failures'),
      maxRecordBytes: intOption(values['max-record-bytes'], 'max-record-bytes'),
      partitions: Object.keys(partitions).length > 0 ? partitions : undefined,
    }).filter(([, v]) => v !== undefined),
  );
  const source = values.source ?? decodeURIComponent(SAMPLE_DIR.pathname);
  const workers = intOption(values.workers, 'workers');
  if (workers !== undefined && (!Number.isInteger(workers) || workers < 0)) {
    throw new UsageError(`--workers takes a whole number ≥ 0, got "${values.workers}"`);
  }
  const keys = values.keys?.flatMap((k) => k.split(',')).filter((k) => k !== '');
  const input: Record<string, unknown> = { source, target: values.target, settings };
  if (values.full) input.mode = 'full';
  if (keys) input.keys = keys;
  return { input, json: values.json, workers };
}

/** Shows progress on a terminal (stderr): map batches and reduce buckets done of total, and the time. */
function progressLine(): { onProgress: (p: Progress) => void; clear: () => void } {
  const tty = process.stderr.isTTY === true;
  const tracker = new ProgressTracker();
  const started = performance.now();
  return {
    onProgress: (p) => {
      tracker.update(p);
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      if (tty) process.stderr.write(`\r\x1b[2K${tracker.line()}  ${seconds} s`);
    },
    clear: () => {
      if (tty) process.stderr.write('\r\x1b[2K');
    },
  };
}

const fmt = (n: number): string => n.toLocaleString('en-US');

/** The summary a person reads after a run. */
export function summarize(report: RunReport, seconds: number): string {
  const lines = [`sparkify-lake: run ${report.runId} ${report.status} in ${seconds.toFixed(1)} s`];
  const i = report.inputs;
  const given = i.keysGiven === null ? '' : `${fmt(i.keysGiven)} keys given, `;
  const missing = i.missing.length > 0 ? `, ${fmt(i.missing.length)} given keys not found` : '';
  lines.push(
    `  input     ${i.mode}: ${given}${fmt(i.new)} new, ${fmt(i.changed)} changed, ${fmt(i.unchanged)} unchanged${missing}`,
  );
  if (i.rebucketed) lines.push(`  full run  ${rebucketedText(i.rebucketed)}`);
  if (!report.published && report.status === 'succeeded')
    lines.push('  nothing new or changed: the tables stay as they were');
  if (report.recovery.action !== 'none') {
    lines.push(`  recovery  ${report.recovery.action} the interrupted publish of run ${report.recovery.runId}`);
  }
  for (const [name, s] of Object.entries(report.sources)) {
    lines.push(
      `  ${name.padEnd(9)} ${fmt(s.objects)} objects, ${fmt(s.read)} records read: ${fmt(s.loaded)} loaded, ${fmt(s.rejected)} rejected`,
    );
  }
  lines.push('  tables');
  for (const [table, t] of Object.entries(report.tables)) {
    const files = `${fmt(t.files).padStart(5)} ${t.files === 1 ? 'file' : 'files'}`;
    const change = report.published ? `  +${fmt(t.added)} ~${fmt(t.updated)} -${fmt(t.removed)}` : '';
    lines.push(`    ${table.padEnd(10)} ${fmt(t.rows).padStart(10)} rows  ${files}${change}`);
  }
  const reasons = Object.entries(report.rejects.byReason)
    .map(([r, n]) => `${r}: ${fmt(n)}`)
    .join('; ');
  lines.push(`  rejects   ${fmt(report.rejects.total)}${reasons ? ` (${reasons}) under _rejects/` : ''}`);
  const u = report.storage?.total;
  if (u && u.get + u.put + u.list + u.delete > 0) {
    lines.push(
      `  storage   ${fmt(u.get + u.put + u.list + u.delete)} requests (${fmt(u.get)} GET, ${fmt(u.put)} PUT, ${fmt(u.list)} LIST, ${fmt(u.delete)} DELETE), ${fmt(u.retries)} retried`,
    );
  }
  if (report.cost) {
    const c = report.cost;
    lines.push(
      `  on AWS    about $${c.usd.total.toFixed(4)} (${c.region}: Lambda ${c.lambdaGbSeconds.toFixed(1)} GB-s, ${fmt(c.stateTransitions)} state transitions, ${fmt(c.s3Get + c.s3PutOrList)} S3 requests)`,
    );
  }
  lines.push(`  output    ${report.target}`);
  const base = report.target.replace(/\/$/, '');
  lines.push(`  report    ${base}/${runPageKey(report.runId)} (and .json)`);
  return lines.join('\n');
}

async function run(argv: string[]): Promise<number> {
  const { input, json, workers } = runInputFromArgs(argv);
  const started = performance.now();
  const progress = progressLine();
  let result: { report?: string };
  try {
    result = (await runLocal(input as never, { workers, onProgress: progress.onProgress })) as { report?: string };
  } finally {
    progress.clear();
  }
  const store = openStore(String(input.target));
  const report = JSON.parse(Buffer.from(await store.get(String(result.report))).toString('utf8')) as RunReport;
  const shown = { ...report, target: store.uri };
  console.log(json ? JSON.stringify(shown, null, 2) : summarize(shown, (performance.now() - started) / 1000));
  return 0;
}

// Each command loads what it needs when it runs: DuckDB, the SFN client and Arrow take 0.1 to 0.5 s each to
// load, which `run` (the command people wait on) does not need.

async function startCommand(argv: string[]): Promise<number> {
  const { startArgs, startDeployed } = await import('./start.ts');
  const { stateMachineArn, input, json } = startArgs(argv);
  const tty = process.stderr.isTTY === true;
  const started = performance.now();
  const outcome = await startDeployed(stateMachineArn, input, {
    onProgress: (line) => {
      if (tty) process.stderr.write(`\r\x1b[2K${line}`);
    },
  });
  if (tty) process.stderr.write('\r\x1b[2K');
  if (outcome.status !== 'SUCCEEDED' || !outcome.report) {
    console.error(
      `sparkify-lake: execution ${outcome.executionArn} ${outcome.status}: ${outcome.error ?? 'no run report'}`,
    );
    return 1;
  }
  console.log(
    json ? JSON.stringify(outcome.report, null, 2) : summarize(outcome.report, (performance.now() - started) / 1000),
  );
  return 0;
}

async function compactCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { target: { type: 'string', default: 'lake' }, 'file-bytes': { type: 'string' } },
    strict: true,
  });
  const fileBytes = intOption(values['file-bytes'], 'file-bytes');
  if (fileBytes !== undefined && (!Number.isInteger(fileBytes) || fileBytes < 1024)) {
    throw new UsageError(`--file-bytes takes a whole number ≥ 1024, got "${values['file-bytes']}"`);
  }
  const { compactLake } = await import('../shared/compact.ts');
  const report = await compactLake(values.target, fileBytes === undefined ? {} : { fileBytes });
  const lines = [`sparkify-lake: compaction ${report.runId} of ${openStore(values.target).uri}`];
  for (const [table, t] of Object.entries(report.tables)) {
    lines.push(
      `  ${table.padEnd(10)} ${fmt(t.filesBefore).padStart(5)} → ${fmt(t.filesAfter).padStart(5)} files, ${fmt(t.partitionsRewritten)} partitions rewritten`,
    );
  }
  console.log(lines.join('\n'));
  return 0;
}

async function generateCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' },
      songs: { type: 'string', default: '200' },
      events: { type: 'string', default: '5000' },
      seed: { type: 'string', default: '42' },
      bad: { type: 'string', default: '0' },
    },
    strict: true,
  });
  if (!values.out) throw new UsageError('generate needs --out DIR');
  const { generate } = await import('./generate.ts');
  const summary = await generate({
    out: values.out,
    songs: intOption(values.songs, 'songs') ?? 0,
    events: intOption(values.events, 'events') ?? 0,
    seed: intOption(values.seed, 'seed') ?? 42,
    badRecords: intOption(values.bad, 'bad') ?? 0,
  });
  console.log(
    `generated ${fmt(summary.songFiles)} song files (${fmt(summary.songRecords)} records), ${fmt(summary.logFiles)} log files (${fmt(summary.events)} events, ${fmt(summary.nextSongEvents)} NextSong), ${fmt(summary.badRecords)} bad records, ${fmt(summary.bytes)} bytes in ${values.out}`,
  );
  return 0;
}

/** Runs a command line; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  process.env.SPARKIFY_QUIET ??= '1'; // the handlers' JSON logs are for CloudWatch; a person gets the summary
  const [command = 'run', ...rest] = argv;
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  try {
    if (command === 'run') return await run(rest);
    if (command === 'generate') return await generateCommand(rest);
    if (command === 'compact') return await compactCommand(rest);
    if (command === 'start') return await startCommand(rest);
    if (command === 'query') {
      const { queryCommand } = await import('./query.ts');
      console.log(await queryCommand(rest));
      return 0;
    }
    if (command === 'help' || command === '--help' || command === '-h') {
      console.log(USAGE);
      return 0;
    }
    throw new UsageError(`unknown command "${command}"`);
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`sparkify-lake: ${(error as Error).message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof LocalExecutionError) {
      console.error(`sparkify-lake: run failed in ${error.state}: ${error.errorName}: ${error.message}`);
      return 1;
    }
    // One line: engines such as DuckDB append multi-line context to their messages.
    console.error(`sparkify-lake: ${command} failed: ${describeError(error).split('\n')[0]}`);
    return 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main(process.argv.slice(2));
}
