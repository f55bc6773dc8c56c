/**
 * `sparkify start`: starts a run of the deployed state machine, shows its progress, and prints the run report.
 * @example npm run cli -- start --state-machine arn:aws:states:us-east-1:123456789012:stateMachine:sparkify-lake-dev-etl --input statemachine/example-input.json
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  DescribeExecutionCommand,
  DescribeMapRunCommand,
  ListMapRunsCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { RunReport } from '../shared/commit.ts';
import { parseRunInput } from '../shared/config.ts';
import { openStore } from '../shared/store.ts';
import { UsageError } from './usage.ts';

/** How a deployed run ended. */
export interface StartOutcome {
  status: string;
  executionArn: string;
  report?: RunReport;
  error?: string;
}

/** A bad `start` command line. */
export class StartUsageError extends UsageError {
  override name = 'StartUsageError';
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Starts an execution and waits for it, calling `onProgress` with a one-line status while it runs. */
export async function startDeployed(
  stateMachineArn: string,
  input: unknown,
  options: { pollMs?: number; onProgress?: (line: string) => void } = {},
): Promise<StartOutcome> {
  const run = parseRunInput(input); // refuse a bad input here rather than in Plan
  const sfn = new SFNClient({});
  const name = `sparkify-${new Date().toISOString().replace(/[-:.TZ]/g, '')}`;
  const { executionArn } = await sfn.send(
    new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }),
  );
  if (!executionArn) throw new Error('StartExecution returned no execution ARN');
  const started = Date.now();
  for (;;) {
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    const status = execution.status ?? 'UNKNOWN';
    if (status !== 'RUNNING' && status !== 'PENDING_REDRIVE') {
      if (status !== 'SUCCEEDED') {
        const error = [execution.error, execution.cause]
          .filter(Boolean)
          .join(': ')
          .replace(/\s*\n\s*/g, ' ');
        return { status, executionArn, error };
      }
      const output = JSON.parse(execution.output ?? '{}') as { report?: string };
      const store = openStore(run.target);
      const report = output.report
        ? (JSON.parse(Buffer.from(await store.get(output.report)).toString('utf8')) as RunReport)
        : undefined;
      return { status, executionArn, ...(report ? { report } : {}) };
    }
    options.onProgress?.(
      `${status} ${Math.round((Date.now() - started) / 1000)} s ${await mapProgress(sfn, executionArn)}`,
    );
    await sleep(options.pollMs ?? 2000);
  }
}

/** Items done of total in each Distributed Map run of the execution, e.g. `map 3/10  dimensions 0/4`. */
async function mapProgress(sfn: SFNClient, executionArn: string): Promise<string> {
  const { mapRuns = [] } = await sfn.send(new ListMapRunsCommand({ executionArn }));
  const parts: string[] = [];
  for (const run of mapRuns) {
    if (!run.mapRunArn) continue;
    const { itemCounts } = await sfn.send(new DescribeMapRunCommand({ mapRunArn: run.mapRunArn }));
    const label = (run.mapRunArn.split('/')[1] ?? 'map').split(':')[0];
    parts.push(`${label} ${itemCounts?.succeeded ?? 0}/${itemCounts?.total ?? '?'}`);
  }
  return parts.join('  ');
}

/** Parses `start` options into the state machine ARN and the execution input. */
export function startArgs(argv: string[]): { stateMachineArn: string; input: unknown; json: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      'state-machine': { type: 'string' },
      input: { type: 'string' },
      source: { type: 'string' },
      target: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const stateMachineArn = values['state-machine'];
  if (!stateMachineArn?.startsWith('arn:')) {
    throw new StartUsageError('start needs --state-machine <state machine ARN> (see `npx osls info` after deploy)');
  }
  let input: unknown;
  if (values.input) input = JSON.parse(readFileSync(values.input, 'utf8'));
  else if (values.source && values.target) input = { source: values.source, target: values.target };
  else throw new StartUsageError('start needs --input FILE.json, or --source and --target');
  return { stateMachineArn, input, json: values.json };
}
