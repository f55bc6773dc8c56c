/**
 * `sparkify start` against a deployed state machine. Step Functions cannot run here, so a stub speaking its JSON
 * protocol stands in (AWS_ENDPOINT_URL_SFN); the run it reports is a real one, in a real local S3 server.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openStore } from '../../shared/store.ts';
import { PUBLIC_SAMPLE, runEtl } from '../support/run.ts';
import { type LocalS3, startS3 } from '../support/s3.ts';

const ROOT = decodeURIComponent(new URL('../..', import.meta.url).pathname);
/** A map run half done: 1 of 2 items succeeded, 1 running. */
const COUNTS = {
  pending: 0,
  running: 1,
  succeeded: 1,
  failed: 0,
  timedOut: 0,
  aborted: 0,
  total: 2,
  resultsWritten: 0,
};
const MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:sparkify-lake-dev-etl';

/** A Step Functions stand-in: the execution runs for two polls, then ends as told. */
function stubSfn(end: { status: string; output?: unknown; error?: string; cause?: string }) {
  const calls: { target: string; body: Record<string, unknown> }[] = [];
  let polls = 0;
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c) => {
      text += c;
    });
    req.on('end', () => {
      const target = String(req.headers['x-amz-target']).replace('AWSStepFunctions.', '');
      calls.push({ target, body: JSON.parse(text || '{}') });
      const now = Date.now() / 1000;
      const execution = `${MACHINE.replace(':stateMachine:', ':execution:')}:run-1`;
      const answers: Record<string, unknown> = {
        StartExecution: { executionArn: execution, startDate: now },
        DescribeExecution:
          target === 'DescribeExecution' && ++polls <= 2
            ? { executionArn: execution, stateMachineArn: MACHINE, status: 'RUNNING', startDate: now }
            : {
                executionArn: execution,
                stateMachineArn: MACHINE,
                startDate: now,
                stopDate: now,
                status: end.status,
                ...(end.output ? { output: JSON.stringify(end.output) } : {}),
                ...(end.error ? { error: end.error, cause: end.cause } : {}),
              },
        ListMapRuns: {
          mapRuns: [
            {
              executionArn: execution,
              mapRunArn: `${MACHINE.replace(':stateMachine:', ':mapRun:')}/MapShards:1`,
              stateMachineArn: MACHINE,
              startDate: now,
            },
          ],
        },
        DescribeMapRun: {
          mapRunArn: 'x',
          executionArn: execution,
          status: 'RUNNING',
          startDate: now,
          maxConcurrency: 40,
          toleratedFailurePercentage: 0,
          toleratedFailureCount: 0,
          itemCounts: COUNTS,
          executionCounts: COUNTS,
        },
      };
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify(answers[target] ?? {}));
    });
  });
  return { server, calls };
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('sparkify start (deployed run, stubbed Step Functions, real S3 server)', () => {
  let s3: LocalS3;
  let report: string;

  before(async () => {
    s3 = await startS3(['raw', 'lake']);
    const raw = openStore('s3://raw/in');
    for (const f of readdirSync(PUBLIC_SAMPLE, { recursive: true }).map(String)) {
      if (f.endsWith('.json')) await raw.put(f, readFileSync(join(PUBLIC_SAMPLE, f)));
    }
    report = (await runEtl('s3://raw/in', 's3://lake/out')).result.report;
  });
  after(async () => {
    await s3.stop();
  });

  const start = async (end: Parameters<typeof stubSfn>[0], args: string[]) => {
    const stub = stubSfn(end);
    const endpoint = await listen(stub.server);
    // Asynchronously: the stub answers from this process, so it must not be blocked while the command runs.
    const child = spawn(process.execPath, ['--import', './cli/preload.mjs', 'cli/sparkify.ts', 'start', ...args], {
      cwd: ROOT,
      env: { ...process.env, AWS_ENDPOINT_URL_SFN: endpoint },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => {
      stdout += c;
    });
    child.stderr.on('data', (c) => {
      stderr += c;
    });
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    stub.server.close();
    return { status, stdout, stderr, calls: stub.calls };
  };

  test('starts the execution with the input, polls it, and prints the run report', async () => {
    const out = await start({ status: 'SUCCEEDED', output: { status: 'succeeded', report } }, [
      '--state-machine',
      MACHINE,
      '--source',
      's3://raw/in',
      '--target',
      's3://lake/out',
    ]);
    assert.equal(out.status, 0, out.stderr);
    const started = out.calls.find((c) => c.target === 'StartExecution');
    assert.equal(started?.body.stateMachineArn, MACHINE);
    assert.deepEqual(JSON.parse(String(started?.body.input)), { source: 's3://raw/in', target: 's3://lake/out' });
    assert.ok(out.calls.filter((c) => c.target === 'DescribeExecution').length >= 3, 'polled until it ended');
    assert.ok(
      out.calls.some((c) => c.target === 'DescribeMapRun'),
      'read map progress while running',
    );
    assert.match(out.stdout, /songplays\s+6,820 rows/);
    assert.match(out.stdout, /log_data\s+30 objects, 8,056 records read/);
  });

  test('a failed execution: exit 1 and one line with the error and cause', async () => {
    const out = await start(
      {
        status: 'FAILED',
        error: 'DataQualityError',
        cause: 'reject limit 5.00% exceeded:\n log_data rejected 9 of 10',
      },
      ['--state-machine', MACHINE, '--input', join(ROOT, 'statemachine/example-input.json')],
    );
    assert.equal(out.status, 1);
    assert.equal(out.stderr.trim().split('\n').length, 1, out.stderr);
    assert.match(out.stderr, /run-1 FAILED: DataQualityError: reject limit 5\.00% exceeded: log_data rejected 9 of 10/);
  });

  test('a bad command line says what is missing', async () => {
    const out = await start({ status: 'SUCCEEDED' }, ['--source', 's3://raw/in']);
    assert.equal(out.status, 2);
    assert.match(out.stderr, /start needs --state-machine/);
    assert.equal(out.calls.length, 0);
  });
});
