/**
 * Atomic publish and one run at a time, on the filesystem and on a local S3 server that honours conditional writes:
 * a worker killed (or failing) at each stage leaves the previous version intact and readable, removes what the run
 * wrote, gives the lease up, and the next run loads the same files; a publish interrupted with no Abort to clean up
 * is rolled back or finished by the next run; a held lease refuses a run with a clear message, and its keys are
 * picked up later through the ledger.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TABLES } from '../../shared/config.ts';
import { LakeBusyError } from '../../shared/errors.ts';
import { leaseKey, publishRecordKey, STATE_PREFIX, tableManifestKey } from '../../shared/keys.ts';
import { acquireLease, type Lease, releaseLease } from '../../shared/lease.ts';
import { type ObjectStore, openStore } from '../../shared/store.ts';
import { LocalExecutionError } from '../../statemachine/local-runner.ts';
import { type Dataset, putFiles, regroupedDataset } from '../support/incremental.ts';
import { duck } from '../support/lake.ts';
import { LakeChecks } from '../support/lake-checks.ts';
import { runEtl, runEtlWithFault, tempDir } from '../support/run.ts';
import { type LocalS3, localS3Locations, startS3 } from '../support/s3.ts';

const BUCKETS = 3;

const tmp = tempDir('atomic');
let checks: LakeChecks;
let data: Dataset;

before(async () => {
  checks = new LakeChecks(await duck(), tmp.dir, BUCKETS);
  data = await regroupedDataset(join(tmp.dir, 'generated'), {
    songs: 60,
    events: 900,
    seed: 3,
    bad: 2,
    songFiles: 2,
    logFiles: 4,
  });
});
after(() => tmp.remove());

/** The first load (every song file, two log files) and what arrives next (two more log files). */
const firstLoad = (): string[] => [...data.keys()].filter((k) => k.startsWith('song_data/')).concat(logs().slice(0, 2));
const nextLoad = (): string[] => logs().slice(2);
const logs = (): string[] => [...data.keys()].filter((k) => k.startsWith('log_data/'));

interface Backend {
  name: string;
  /** A fresh source and lake. */
  fresh(): { source: string; lake: string };
}

/** Every pointer of the lake, as text. */
async function pointers(lake: ObjectStore): Promise<Record<string, string | null>> {
  const out: Record<string, string | null> = {};
  for (const key of [...TABLES.map(tableManifestKey), '_manifests/_state.json']) {
    out[key] = (await lake.head(key)) ? Buffer.from(await lake.get(key)).toString('utf8') : null;
  }
  return out;
}

/** Keys under a prefix. */
async function keys(store: ObjectStore, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const o of store.list(prefix)) out.push(o.key);
  return out;
}

/**
 * The one run report written since `earlier` was listed. Not the last by name: run ids start with the second the
 * run started, and two runs in one second sort by their random suffix.
 */
async function newReport(store: ObjectStore, earlier: string[]): Promise<string> {
  const added = (await keys(store, '_runs/')).filter((k) => k.endsWith('.json') && !earlier.includes(k));
  assert.equal(added.length, 1, `one new run report, not ${added.join(', ')}`);
  return added[0] as string;
}

/** Runs with a fault injected; resolves to the execution's error (or its result when it succeeded). */
async function runWithFault(source: string, lake: string, fault: Record<string, unknown>) {
  try {
    return { ok: true as const, run: await runEtlWithFault(fault, source, lake, { buckets: BUCKETS }, 1) };
  } catch (error) {
    return { ok: false as const, error: error as LocalExecutionError };
  }
}

function atomicity(backend: Backend): void {
  /** A lake with the first load published; then the next files arrive in the source. */
  async function published() {
    const { source, lake } = backend.fresh();
    const src = openStore(source);
    const dst = openStore(lake);
    await putFiles(src, data, firstLoad());
    await runEtl(source, lake, { buckets: BUCKETS }, 1);
    const before = { pointers: await pointers(dst), tables: await checks.tables(dst) };
    await putFiles(src, data, nextLoad());
    return { source, lake, src, dst, before };
  }

  /** The previous version is intact, nothing of the failed run is left, and the next run loads the new files. */
  async function assertRolledBackThenRecovers(lab: Awaited<ReturnType<typeof published>>, label: string) {
    const { source, lake, src, dst, before } = lab;
    assert.deepEqual(await pointers(dst), before.pointers, `${label}: every pointer is the previous version's`);
    assert.deepEqual(await checks.tables(dst), before.tables, `${label}: the previous tables, read through the glob`);
    checks.assertGlobExact(await checks.download(dst), `${label}: no file of the failed run is left`);
    assert.equal(await dst.head(leaseKey), undefined, `${label}: the lease was given up`);
    assert.equal(await dst.head(publishRecordKey), undefined, `${label}: no commit record is left`);
    const versions = new Set((await keys(dst, STATE_PREFIX)).map((k) => k.split('/')[1]));
    assert.equal(versions.size, 1, `${label}: only the published state version remains`);
    const next = await runEtl(source, lake, { buckets: BUCKETS }, 1);
    assert.equal(
      next.report.inputs.new,
      nextLoad().length,
      `${label}: the next run reads the files the failed one did`,
    );
    await checks.assertEqualsFull(src, dst, `${label}: after the next run`);
  }

  const killed: [string, Record<string, unknown>, string][] = [
    ['a map worker killed', { stage: 'map', kind: 'exit' }, 'WorkerExited'],
    ['a map worker that always fails', { stage: 'map', kind: 'throw' }, 'InjectedFault'],
    ['a reducer killed in the dimensions phase', { stage: 'dimensions', kind: 'exit', bucket: 1 }, 'WorkerExited'],
    [
      'a reducer killed in the facts phase, after the others wrote their files',
      { stage: 'facts', kind: 'exit', bucket: BUCKETS - 1 },
      'WorkerExited',
    ],
    ['Commit killed before publishing', { stage: 'commit', kind: 'exit' }, 'WorkerExited'],
    [
      'Commit killed mid-publish, two tables flipped',
      { stage: 'commit', kind: 'exit', step: 'flipped users' },
      'WorkerExited',
    ],
  ];
  for (const [label, fault, errorName] of killed) {
    test(`${label}: the previous version stays; the next run recovers`, async () => {
      const lab = await published();
      const earlier = await keys(lab.dst, '_runs/');
      const outcome = await runWithFault(lab.source, lab.lake, fault);
      assert.equal(outcome.ok, false, `${label}: the run fails`);
      if (outcome.ok) return;
      assert.ok(outcome.error instanceof LocalExecutionError, String(outcome.error));
      assert.equal(outcome.error.errorName, errorName);
      const last = JSON.parse(Buffer.from(await lab.dst.get(await newReport(lab.dst, earlier))).toString('utf8'));
      assert.equal(last.status, 'failed');
      assert.match(last.error, new RegExp(`^${errorName}: `));
      await assertRolledBackThenRecovers(lab, label);
    });
  }

  test('the quality gate: a duplicate key and a dangling reference fail the run, named in the report; nothing is published', async () => {
    const lab = await published();
    const earlier = await keys(lab.dst, '_runs/');
    const outcome = await runWithFault(lab.source, lab.lake, { stage: 'facts', kind: 'corrupt', bucket: 0 });
    assert.equal(outcome.ok, false);
    if (outcome.ok) return;
    assert.equal(outcome.error.errorName, 'DataQualityError');
    assert.match(outcome.error.message, /songplays: unique non-null keys \(\d+ rows, 0 null keys, 1 duplicate keys\)/);
    assert.match(outcome.error.message, /songplays\.user_id in users \(\d+ non-null references, 1 missing\)/);
    const report = JSON.parse(Buffer.from(await lab.dst.get(await newReport(lab.dst, earlier))).toString('utf8'));
    const failedChecks = report.checks
      .filter((c: { passed: boolean }) => !c.passed)
      .map((c: { name: string }) => c.name);
    assert.deepEqual(failedChecks, ['songplays: unique non-null keys', 'songplays.user_id in users']);
    assert.equal(report.checks.length, 11, 'five key checks, four references, two reject rates');
    await assertRolledBackThenRecovers(lab, 'quality gate');
  });

  test('Commit killed after every pointer flipped: Abort finishes the publish and the run succeeds', async () => {
    const lab = await published();
    const outcome = await runWithFault(lab.source, lab.lake, { stage: 'commit', kind: 'exit', step: 'cleaning' });
    assert.equal(outcome.ok, true, outcome.ok ? '' : String(outcome.error));
    if (!outcome.ok) return;
    assert.equal(outcome.run.report.published, true);
    assert.deepEqual(outcome.run.report.recovery, { action: 'finished', runId: outcome.run.result.runId });
    assert.equal(await lab.dst.head(leaseKey), undefined);
    await checks.assertEqualsFull(lab.src, lab.dst, 'after the finished publish');
  });

  test('a publish interrupted with no Abort (the process died): the lease refuses runs until it expires, then the next run rolls back and loads', async () => {
    const lab = await published();
    const outcome = await runWithFault(lab.source, lab.lake, {
      stage: 'commit',
      kind: 'exit',
      step: 'flipped songs',
      abortToo: true,
    });
    assert.equal(outcome.ok, false);
    assert.ok(await lab.dst.head(publishRecordKey), 'the commit record is left');
    const refused = await runWithFault(lab.source, lab.lake, {});
    assert.equal(refused.ok, false);
    if (!refused.ok) {
      assert.equal(refused.error.errorName, 'LakeBusyError');
      assert.match(refused.error.message, /the lake .* is busy: run \S+ holds its lease since/);
    }
    // Time passes: the dead run's lease expires.
    const lease = JSON.parse(Buffer.from(await lab.dst.get(leaseKey)).toString('utf8')) as Lease;
    await lab.dst.put(leaseKey, JSON.stringify({ ...lease, expiresAt: new Date(Date.now() - 1000).toISOString() }));
    const next = await runEtl(lab.source, lab.lake, { buckets: BUCKETS }, 1);
    assert.deepEqual(next.report.recovery, { action: 'rolled-back', runId: lease.runId });
    assert.equal(next.report.inputs.new, nextLoad().length);
    await checks.assertEqualsFull(lab.src, lab.dst, 'after recovery');
  });

  test('two runs started at once (overlapping schedules): one loads, the other is refused; no row twice', async () => {
    const lab = await published();
    const outcomes = await Promise.allSettled([
      runEtl(lab.source, lab.lake, { buckets: BUCKETS }, 1),
      runEtl(lab.source, lab.lake, { buckets: BUCKETS }, 1),
    ]);
    const loaded = outcomes.filter((o) => o.status === 'fulfilled');
    const refused = outcomes.filter((o) => o.status === 'rejected');
    assert.equal(loaded.length + refused.length, 2);
    // Usually one is refused; if one finished before the other planned, the second found nothing new.
    for (const r of refused) assert.equal((r.reason as LocalExecutionError).errorName, 'LakeBusyError');
    const published_ = loaded.filter((o) => o.value.report.published);
    assert.equal(published_.length, 1, 'exactly one run published the new files');
    await checks.assertEqualsFull(lab.src, lab.dst, 'after overlapping runs');
  });

  test('a run refused by the lease changes nothing; its keys are loaded by the next run through the ledger', async () => {
    const lab = await published();
    await acquireLease(lab.dst, 'someone-else');
    const key = nextLoad()[0] as string;
    await assert.rejects(
      runEtl(lab.source, lab.lake, { buckets: BUCKETS }, 1, { keys: [key] }),
      (e: LocalExecutionError) => e.errorName === 'LakeBusyError' && e.state === 'Plan',
    );
    assert.deepEqual(await pointers(lab.dst), lab.before.pointers);
    await releaseLease(lab.dst, 'someone-else');
    const next = await runEtl(lab.source, lab.lake, { buckets: BUCKETS }, 1);
    assert.equal(next.report.inputs.new, nextLoad().length, 'the refused key and the other new file');
    await checks.assertEqualsFull(lab.src, lab.dst, 'after the next run');
  });
}

/** The lease itself: exclusive, refused while held, taken over once stale, by exactly one of many contenders. */
function leases(backend: Backend): void {
  test('the lease: one holder; refused while held; released; a stale lease goes to exactly one of ten contenders', async () => {
    const lake = openStore(backend.fresh().lake);
    await acquireLease(lake, 'run-a');
    await acquireLease(lake, 'run-a'); // a retried Plan holds it already
    await assert.rejects(
      acquireLease(lake, 'run-b'),
      (e: Error) => e instanceof LakeBusyError && /run-a/.test(e.message),
    );
    await releaseLease(lake, 'run-b'); // not the holder: no effect
    await assert.rejects(acquireLease(lake, 'run-b'), LakeBusyError);
    await releaseLease(lake, 'run-a');
    await acquireLease(lake, 'run-b');
    const future = new Date(Date.now() + 3 * 3600 * 1000); // run-b's lease has expired by then
    const contenders = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => acquireLease(lake, `run-${i}`, future)),
    );
    const winners = contenders.filter((c) => c.status === 'fulfilled');
    assert.equal(winners.length, 1, `exactly one contender takes the stale lease, not ${winners.length}`);
    for (const c of contenders) if (c.status === 'rejected') assert.ok(c.reason instanceof LakeBusyError);
  });

  test('ten runs racing for a free lease: exactly one gets it', async () => {
    const lake = openStore(backend.fresh().lake);
    const contenders = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => acquireLease(lake, `run-${i}`)));
    assert.equal(contenders.filter((c) => c.status === 'fulfilled').length, 1);
  });
}

describe('on the filesystem', () => {
  const backend: Backend = {
    name: 'filesystem',
    fresh: () => ({ source: checks.freshDir('src'), lake: checks.freshDir('lake') }),
  };
  leases(backend);
  atomicity(backend);
});

describe('on a local S3 server that honours conditional writes', () => {
  const backend: Backend = { name: 's3', fresh: localS3Locations('atomic') };
  leases(backend);
  atomicity(backend);
});

describe('on plain s3rver, which ignores conditional writes', () => {
  let s3: LocalS3;
  before(async () => {
    s3 = await startS3(['lake'], { conditional: false });
  });
  after(async () => {
    await s3.stop();
  });

  test('the racing test would fail: several runs believe they hold the lease', async () => {
    const lake = openStore('s3://lake/plain');
    const contenders = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => acquireLease(lake, `run-${i}`)));
    const winners = contenders.filter((c) => c.status === 'fulfilled').length;
    assert.ok(winners > 1, `with the condition ignored, ${winners} of 10 took the lease`);
  });
});
