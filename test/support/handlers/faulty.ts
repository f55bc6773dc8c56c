/**
 * The real handlers with one fault injected, for the atomicity tests: every function's logical id points here.
 * SPARKIFY_TEST_FAULT (JSON, read per call) says where: a stage (`map`, `dimensions`, `facts`, `commit`,
 * `abort`), what happens (`exit` ends the worker thread, as a killed Lambda; `throw` raises an error), and for
 * `commit` the publish step to die after. `once` names a file: the fault fires only for the call that creates it.
 */
import { writeFileSync } from 'node:fs';
import { handler as map } from '../../../functions/map.ts';
import { handler as plan } from '../../../functions/plan.ts';
import { handler as reduce } from '../../../functions/reduce.ts';
import { decodeIpc, encodeIpc, type Row } from '../../../shared/columnar.ts';
import { abortRun, commitRun, type RunReport } from '../../../shared/commit.ts';
import { commitEventSchema } from '../../../shared/events.ts';
import { runReportKey, stateDigestKey } from '../../../shared/keys.ts';
import type { RunContext } from '../../../shared/plan.ts';
import { DIGEST_COLUMNS } from '../../../shared/schemas.ts';
import { openStore } from '../../../shared/store.ts';

interface Fault {
  stage: 'map' | 'dimensions' | 'facts' | 'commit' | 'abort';
  /** `corrupt` (facts only): after the real reducer, its songplays digest gains a duplicate key and a dangling user. */
  kind: 'exit' | 'throw' | 'corrupt';
  /** For map: the shard to fail in (every shard when not given). */
  shard?: string;
  /** For facts: the bucket to die in (the others write their files first). */
  bucket?: number;
  /** For commit: the publish step after which to die (`flipped songplays`, `cleaning`, …). */
  step?: string;
  once?: string;
  /** Also kill the Abort that follows (a process killed outright: only the next run can recover). */
  abortToo?: boolean;
}

function fires(fault: Fault): boolean {
  if (!fault.once) return true;
  try {
    writeFileSync(fault.once, 'fired', { flag: 'wx' });
    return true;
  } catch {
    return false;
  }
}

function fail(fault: Fault, where: string): never {
  if (fault.kind === 'exit') process.exit(1);
  const error = new Error(`injected fault in ${where}`);
  error.name = 'InjectedFault';
  throw error;
}

export async function handler(event: Record<string, unknown>): Promise<unknown> {
  const fault = JSON.parse(process.env.SPARKIFY_TEST_FAULT ?? '{}') as Fault;
  if ('BatchInput' in event) {
    // The failure handler of a batch (MapShardFailed) is the real one.
    if ('failure' in event) return map(event);
    const items = event.Items as { shardId: string }[];
    const here = fault.stage === 'map' && (fault.shard === undefined || items.some((i) => i.shardId === fault.shard));
    if (here && fires(fault)) fail(fault, 'map');
    return map(event);
  }
  if ('phase' in event) {
    const here = fault.stage === event.phase && (fault.bucket === undefined || fault.bucket === event.bucket);
    if (here && fault.kind === 'corrupt') {
      const out = await reduce(event);
      await corruptDigest(event as { run: RunContext; bucket: number });
      return out;
    }
    if (here && fires(fault)) fail(fault, `${event.phase} bucket ${event.bucket}`);
    return reduce(event);
  }
  if (!('run' in event)) return plan(event);
  const { run, failure } = commitEventSchema.parse(event) as { run: RunContext; failure?: { Error: string } };
  if (failure) {
    if (fault.stage === 'abort' || fault.abortToo) fail(fault, 'abort');
    return result(await abortRun(run, failure));
  }
  if (fault.stage === 'commit' && !fault.step && fires(fault)) fail(fault, 'commit');
  const report = await commitRun(run, {
    onPublish: (step) => {
      if (fault.stage === 'commit' && step === fault.step) fail(fault, `commit after ${step}`);
    },
  });
  return result(report);
}

/** Commit's result, as functions/commit.ts returns it. */
function result(report: RunReport) {
  return {
    runId: report.runId,
    status: report.status,
    published: report.published,
    report: runReportKey(report.runId),
  };
}

/** What a reducer with a bug would leave: a songplay key twice, and a play whose user is in no users row. */
async function corruptDigest(event: { run: RunContext; bucket: number }): Promise<void> {
  const store = openStore(event.run.target);
  const key = stateDigestKey(event.run.runId, 'songplays', event.bucket);
  const rows = decodeIpc(await store.get(key));
  const first = rows[0] as Row;
  rows.push({ ...first }, { ...first, key: 'ghost-play', user_id: 'ghost-user' });
  await store.put(key, encodeIpc(DIGEST_COLUMNS, rows));
}
