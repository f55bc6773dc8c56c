/**
 * The Lambda bundles (cli/bundle.ts) run with no node_modules: built, copied to a temp folder outside the repo
 * (nothing to resolve packages from up the tree), and run there by plain `node` — no tsx — through the whole
 * pipeline, plan → map → reduce (dimensions, facts) → commit, against a local S3 server holding the public sample.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Bundle, buildBundles, describeBundles, FUNCTIONS, WASM_FILE } from '../../cli/bundle.ts';
import { openStore } from '../../shared/store.ts';
import { duck, readLake } from '../support/lake.ts';
import { computeExpected } from '../support/oracle.ts';
import { PUBLIC_SAMPLE, runNode, tempDir } from '../support/run.ts';
import { type LocalS3, startS3 } from '../support/s3.ts';
import { REPO } from '../support/stack.ts';

/**
 * Runs the pipeline the way the state machine calls the functions, each event a JSON round trip like a Lambda
 * payload. The manifest is read with a plain GET, as the Distributed Map's ItemReader (not a function) reads it.
 */
const DRIVER = `
const { handler: plan } = await import('./plan/index.mjs');
const { handler: map } = await import('./map/index.mjs');
const { handler: reduce } = await import('./reduce/index.mjs');
const { handler: commit } = await import('./commit/index.mjs');
const invoke = async (fn, event) => JSON.parse(JSON.stringify(await fn(JSON.parse(JSON.stringify(event)))));
const planned = await invoke(plan, JSON.parse(process.argv[2]));
const { Bucket, Key } = planned.manifest;
const response = await fetch(process.env.AWS_ENDPOINT_URL_S3 + '/' + Bucket + '/' + Key.split('/').map(encodeURIComponent).join('/'));
if (!response.ok) throw new Error('manifest: HTTP ' + response.status);
const shards = await response.json();
const maps = [];
for (const shard of shards) maps.push(await invoke(map, { BatchInput: { run: planned.run }, Items: [shard] }));
const reduces = [];
for (const phase of ['dimensions', 'facts']) {
  for (const bucket of planned.buckets) reduces.push(await invoke(reduce, { run: planned.run, phase, bucket }));
}
const committed = await invoke(commit, { run: planned.run });
process.stdout.write(JSON.stringify({ planned, shards, maps, reduces, committed }) + '\\n');
`;

/** Imports one bundle in a fresh process: the module's load time, as a Lambda cold start's init pays it. */
const IMPORT_ONE = `
import { pathToFileURL } from 'node:url';
const url = pathToFileURL(process.argv[1]).href;
const started = performance.now();
const module = await import(url);
const ms = performance.now() - started;
process.stdout.write(JSON.stringify({ ms, handler: typeof module.handler }) + '\\n');
`;

/** The folders from `dir` up to the root. */
function ancestors(dir: string): string[] {
  const all = [dir];
  while (dirname(all[all.length - 1] as string) !== all[all.length - 1]) {
    all.push(dirname(all[all.length - 1] as string));
  }
  return all;
}

interface DriverOutput {
  planned: { run: { runId: string }; buckets: number[]; shards: number };
  shards: unknown[];
  maps: unknown[];
  reduces: unknown[];
  committed: { runId: string; status: string; rows: Record<string, number>; rejects: number; report: string };
}

describe('Lambda bundles run with no node_modules', () => {
  const tmp = tempDir('bundle');
  const built = join(tmp.dir, 'dist');
  // The functions' folders as Lambda unpacks them, away from the build and the repo.
  const task = join(tmp.dir, 'task');
  let s3: LocalS3;
  let bundles: Bundle[];
  let env: Record<string, string>;

  before(async () => {
    // Built outside the repo's dist/ too, so that a concurrent `npm run package` never reads a half-written file.
    [bundles, s3] = await Promise.all([buildBundles({ outdir: built }), startS3(['raw', 'lake'])]);
    for (const name of FUNCTIONS) cpSync(join(built, name), join(task, name), { recursive: true });
    const raw = openStore('s3://raw/sparkify');
    for (const file of readdirSync(PUBLIC_SAMPLE, { recursive: true }).map(String)) {
      if (!/^(song|log)_data\/.*\.json$/.test(file)) continue;
      await raw.put(file, readFileSync(join(PUBLIC_SAMPLE, file)));
    }
    // Only what a Lambda function would have: no NODE_OPTIONS, NODE_PATH or home folder to find packages in.
    env = {
      PATH: process.env.PATH ?? '',
      HOME: task,
      SPARKIFY_QUIET: '1',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? '',
      AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? '',
      AWS_REGION: process.env.AWS_REGION ?? '',
    };
  });
  after(async () => {
    await s3?.stop();
    tmp.remove();
  });

  test('each bundle is one file with its source map, and the wasm where Parquet is written', (t) => {
    for (const line of describeBundles(bundles)) t.diagnostic(line);
    assert.deepEqual(
      bundles.map((b) => b.name),
      [...FUNCTIONS],
      'one bundle per function',
    );
    for (const b of bundles) {
      assert.deepEqual(b.warnings, [], `${b.name}: esbuild warnings`);
      const foreign = b.imports.filter((i) => !isBuiltin(i));
      assert.deepEqual(foreign, [], `${b.name}: imports only Node built-ins at run time`);
      const expected = ['index.mjs', 'index.mjs.map', ...(b.wasm ? [WASM_FILE] : [])].sort();
      assert.deepEqual(readdirSync(join(task, b.name)).sort(), expected, `${b.name}: the folder's files`);
      const code = readFileSync(join(task, b.name, 'index.mjs'), 'utf8');
      assert.ok(code.endsWith('//# sourceMappingURL=index.mjs.map\n'), `${b.name}: the bundle links its map`);
      assert.equal(
        code.includes(WASM_FILE),
        b.wasm,
        `${b.name}: the wasm is beside the bundle iff the bundle loads it`,
      );
    }
    // Only reduce writes Parquet; the others leave parquet-wasm out and start without compiling its wasm.
    assert.deepEqual(
      bundles.filter((b) => b.wasm).map((b) => b.name),
      ['reduce'],
      'parquet-wasm is bundled where Parquet is written, only',
    );
  });

  test('the temp folder is outside the repo with no node_modules in it or above it', () => {
    const fromRepo = relative(REPO, task);
    assert.ok(fromRepo.startsWith(`..${sep}`), `${task} is outside ${REPO}`);
    const found = ancestors(task).filter((d) => existsSync(join(d, 'node_modules')));
    assert.deepEqual(found, [], 'no node_modules folder in the temp folder or any folder above it');
    const nested = readdirSync(task, { recursive: true }).map(String);
    assert.ok(!nested.some((p) => p.split(sep).includes('node_modules')), 'no node_modules under the temp folder');
  });

  test('each bundle imports with plain node, cold', async (t) => {
    for (const name of FUNCTIONS) {
      const run = await runNode(task, ['--input-type=module', '-e', IMPORT_ONE, join(task, name, 'index.mjs')], env);
      assert.equal(run.code, 0, `${name}: import failed:\n${run.stderr}`);
      const { ms, handler } = JSON.parse(run.stdout) as { ms: number; handler: string };
      assert.equal(handler, 'function', `${name}: exports handler`);
      t.diagnostic(`${name}: import ${ms.toFixed(0)} ms (process ${run.ms.toFixed(0)} ms)`);
    }
  });

  test('the trigger bundle reads queued events: an event outside the source prefixes starts nothing', async () => {
    const script = `
const { handler } = await import('./trigger/index.mjs');
const event = { Records: [{ messageId: 'm1', body: JSON.stringify({ source: 'aws.s3', 'detail-type': 'Object Created',
  detail: { bucket: { name: 'raw' }, object: { key: 'elsewhere/x.json', sequencer: '1' } } }) }] };
process.stdout.write(JSON.stringify(await handler(event)) + '\\n');
try { delete process.env.STATE_MACHINE_ARN; await handler(event); } catch (e) { process.stdout.write(e.name + ': ' + e.message + '\\n'); }
`;
    writeFileSync(join(task, 'trigger-driver.mjs'), script);
    const triggerEnv = {
      ...env,
      STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:123456789012:stateMachine:sparkify-lake-dev-etl',
      RAW_BUCKET: 'raw',
      SOURCE: 's3://raw',
      TARGET: 's3://lake',
    };
    const run = await runNode(task, ['trigger-driver.mjs'], triggerEnv);
    assert.equal(run.code, 0, `the trigger driver failed:\n${run.stderr}`);
    const [result, refusal] = run.stdout.trim().split('\n');
    assert.deepEqual(JSON.parse(result ?? ''), { records: 1, keys: 0, ignored: 1, executions: [] });
    assert.match(refusal ?? '', /^ConfigError: trigger: missing or bad environment variables STATE_MACHINE_ARN/);
  });

  test('plan → map → reduce → commit, from the bundles, writes the public sample to S3', async (t) => {
    mkdirSync(task, { recursive: true });
    writeFileSync(join(task, 'driver.mjs'), DRIVER);
    const input = { source: 's3://raw/sparkify', target: 's3://lake/star', settings: { buckets: 2 } };
    const run = await runNode(task, ['driver.mjs', JSON.stringify(input)], env);
    assert.equal(run.code, 0, `the driver failed:\n${run.stderr}`);
    t.diagnostic(`pipeline from the bundles: ${run.ms.toFixed(0)} ms`);
    const out = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '') as DriverOutput;

    assert.equal(out.shards.length, out.planned.shards, 'the manifest holds every planned shard');
    assert.equal(out.maps.length, out.shards.length, 'one map invocation per shard');
    assert.deepEqual(out.planned.buckets, [0, 1], 'two buckets');
    assert.equal(out.reduces.length, 4, 'two phases × two buckets');
    assert.equal(out.committed.status, 'succeeded', 'the run is published');
    assert.deepEqual(
      out.committed.rows,
      { songplays: 6820, users: 97, songs: 71, artists: 69, time: 6813 },
      'the public sample figures',
    );

    // The lake as it sits in the bucket: Parquet under songplays/, the run report, no scratch.
    const lake = openStore('s3://lake/star');
    const local = join(tmp.dir, 'lake');
    const keys: string[] = [];
    for await (const o of lake.list('')) {
      keys.push(o.key);
      const path = join(local, o.key);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, await lake.get(o.key));
    }
    const songplays = keys.filter((k) => k.startsWith('songplays/') && k.endsWith('.parquet'));
    assert.ok(songplays.length > 0, `Parquet under songplays/ in ${keys.join(', ')}`);
    for (const key of songplays) {
      const bytes = readFileSync(join(local, key));
      const magic = (at: number) => bytes.subarray(at, at + 4).toString('latin1');
      assert.ok(magic(0) === 'PAR1' && magic(bytes.length - 4) === 'PAR1', `${key} is a Parquet file`);
    }
    assert.ok(keys.includes(out.committed.report), 'the run report is in the bucket');
    assert.deepEqual(
      keys.filter((k) => k.startsWith('_scratch/')),
      [],
      'no scratch left',
    );
    // Read back by an independent reader: the same tables as the oracle computes from the sample.
    const { rejects: _r, read: _n, ...expected } = computeExpected(PUBLIC_SAMPLE);
    assert.deepEqual(await readLake(await duck(), local), expected, 'the tables, row for row');
  });
});
