/**
 * The S3-event path end to end, as far as it runs here: queued S3 events go to the real trigger handler, which
 * starts executions through a Step Functions stand-in (its JSON protocol via AWS_ENDPOINT_URL_SFN, with its
 * execution-name rules). Each started input is then run by the real state machine, locally, on a real S3 server.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { handler } from '../../functions/trigger.ts';
import { openStore } from '../../shared/store.ts';
import { duck } from '../support/lake.ts';
import { LakeChecks } from '../support/lake-checks.ts';
import { PUBLIC_SAMPLE, runEtl, tempDir } from '../support/run.ts';
import { type LocalS3, startS3 } from '../support/s3.ts';
import { objectCreated } from '../support/s3-events.ts';

const MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:sparkify-lake-dev-etl';
const RAW = 'sparkify-raw';

/** StartExecution as Step Functions answers it: one name, one input; the same again is the same execution. */
function stubSfn() {
  const executions = new Map<string, { arn: string; input: string }>();
  const calls: { name: string; input: string }[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c) => {
      text += c;
    });
    req.on('end', () => {
      const body = JSON.parse(text || '{}') as { name: string; input: string; stateMachineArn: string };
      calls.push({ name: body.name, input: body.input });
      const known = executions.get(body.name);
      res.setHeader('content-type', 'application/x-amz-json-1.0');
      if (known && known.input !== body.input) {
        res.statusCode = 400;
        res.end(JSON.stringify({ __type: 'ExecutionAlreadyExists', message: `Execution ${body.name} exists` }));
        return;
      }
      const arn = known?.arn ?? `${body.stateMachineArn.replace(':stateMachine:', ':execution:')}:${body.name}`;
      executions.set(body.name, { arn, input: body.input });
      res.end(JSON.stringify({ executionArn: arn, startDate: Date.now() / 1000 }));
    });
  });
  return { server, executions, calls };
}

describe('S3 events → trigger → runs for the keys that arrived', () => {
  let s3: LocalS3;
  let sfn: ReturnType<typeof stubSfn>;
  let checks: LakeChecks;
  const tmp = tempDir('trigger');
  const raw = openStore(`s3://${RAW}`);
  const lake = openStore('s3://sparkify-lake');
  const files = readdirSync(PUBLIC_SAMPLE, { recursive: true })
    .map(String)
    .filter((f) => /^(song|log)_data\/.*\.json$/.test(f))
    .sort();
  const logs = files.filter((f) => f.startsWith('log_data/'));
  const first = files.filter((f) => f !== logs.at(-1));
  const late = 'log_data/2018/11/late events.json';

  /** Runs every execution the stand-in was asked to start, in order, as the deployed state machine would. */
  async function runStarted(from: number) {
    const reports = [];
    for (const { input } of [...sfn.executions.values()].slice(from)) {
      const { source, target, keys } = JSON.parse(input) as { source: string; target: string; keys: string[] };
      reports.push((await runEtl(source, target, {}, 1, { keys })).report);
    }
    return reports;
  }

  before(async () => {
    s3 = await startS3([RAW, 'sparkify-lake']);
    sfn = stubSfn();
    await new Promise<void>((r) => sfn.server.listen(0, '127.0.0.1', r));
    process.env.AWS_ENDPOINT_URL_SFN = `http://127.0.0.1:${(sfn.server.address() as AddressInfo).port}`;
    process.env.STATE_MACHINE_ARN = MACHINE;
    process.env.RAW_BUCKET = RAW;
    process.env.SOURCE = `s3://${RAW}`;
    process.env.TARGET = 's3://sparkify-lake';
    checks = new LakeChecks(await duck(), tmp.dir, 4);
    for (const f of first) await raw.put(f, readFileSync(join(PUBLIC_SAMPLE, f)));
  });
  after(async () => {
    await new Promise((r) => (sfn.server as Server).close(r));
    await s3.stop();
    tmp.remove();
    for (const v of ['AWS_ENDPOINT_URL_SFN', 'STATE_MACHINE_ARN', 'RAW_BUCKET', 'SOURCE', 'TARGET'])
      delete process.env[v];
  });

  test('a burst of 100 files (and a duplicate event) starts one run, which loads exactly them', async () => {
    const records = [
      ...first.map((k) => objectCreated(k, '0064D3901D00059242', RAW)),
      objectCreated(first[0] as string, '0064D3901D00059242', RAW, 'dup'),
    ];
    const out = await handler({ Records: records });
    assert.deepEqual(
      [out.records, out.keys, out.ignored, out.executions.length],
      [first.length + 1, first.length, 0, 1],
    );
    assert.deepEqual(JSON.parse(sfn.calls[0]?.input ?? '{}').keys, first);
    const [report] = await runStarted(0);
    assert.equal(report.inputs.new, first.length);
    assert.equal(report.inputs.keysGiven, first.length);
    await checks.assertEqualsFull(raw, lake, 'after the burst');
  });

  test('the same batch delivered again starts nothing new', async () => {
    const records = first.map((k) => objectCreated(k, '0064D3901D00059242', RAW));
    const out = await handler({ Records: records });
    assert.equal(out.executions.length, 1, 'Step Functions answers with the execution already started');
    assert.equal(sfn.executions.size, 1, 'still one execution');
  });

  test('a late file, its key URL-encoded as classic S3 notifications give it, is loaded by its own run', async () => {
    await raw.put(late, readFileSync(join(PUBLIC_SAMPLE, logs.at(-1) as string)));
    const out = await handler({
      Records: [objectCreated('log_data/2018/11/late+events.json', '0064D3901D00059299', RAW)],
    });
    assert.equal(out.executions.length, 1);
    const [report] = await runStarted(1);
    assert.deepEqual([report.inputs.new, report.inputs.unchanged, report.inputs.missing], [1, 0, []]);
    assert.ok(report.tables.songplays.added > 0, `songplays added: ${report.tables.songplays.added}`);
    await checks.assertEqualsFull(raw, lake, 'after the late file');
  });

  test('a key deleted before its run is reported missing, and the run changes nothing', async () => {
    const out = await handler({ Records: [objectCreated('log_data/2018/11/gone.json', '1', RAW)] });
    assert.equal(out.executions.length, 1);
    const [report] = await runStarted(2);
    assert.deepEqual(report.inputs.missing, ['log_data/2018/11/gone.json']);
    assert.equal(report.published, false);
  });

  test('a bad event is refused with a clear message; so is a missing setting', async () => {
    await assert.rejects(handler({ Records: [{ body: '{}' }] }), /bad trigger event: Records\.0\.messageId/);
    const arn = process.env.STATE_MACHINE_ARN;
    delete process.env.STATE_MACHINE_ARN;
    try {
      await assert.rejects(
        handler({ Records: [] }),
        /trigger: missing or bad environment variables STATE_MACHINE_ARN \(serverless\.yml sets them\)/,
      );
    } finally {
      process.env.STATE_MACHINE_ARN = arn;
    }
  });
});
