/**
 * statemachine/: the ASL is valid, retries exactly the transient errors, and its local lowering covers every
 * Distributed Map feature it uses (a feature the lowering does not cover makes these tests fail).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { TRANSIENT_ERRORS } from '../../shared/errors.ts';
import { ASL_URL, stateMachine } from '../../statemachine/local-runner.ts';
import {
  batchItems,
  ITEMS_PATH,
  ITEMS_RESOURCE,
  localFunctionArn,
  lowerForLocal,
  UnsupportedAslError,
  waitsForLease,
} from '../../statemachine/lower.ts';

type Obj = Record<string, unknown>;
const validate = createRequire(import.meta.url)('asl-validator') as (d: unknown) => {
  isValid: boolean;
  errorsText: () => string;
};
const asl = (): Obj => JSON.parse(readFileSync(ASL_URL, 'utf8'));
/** The workers' retriers for any other failure (tested on their own below). */
const retriesAnyFailure = (r: Obj): boolean =>
  r.MaxAttempts === 0 || (r.ErrorEquals as string[] | undefined)?.includes('States.ALL') === true;
const lower = (machine: Obj) => lowerForLocal(machine as Parameters<typeof lowerForLocal>[0]);
const states = (machine: Obj): Record<string, Obj> => machine.States as Record<string, Obj>;

/** The Task states of the map and reduce workers: idempotent, so any failure of theirs may be retried. */
const WORKERS = ['MapShard', 'ReduceDimensionsBucket', 'ReduceFactsBucket'];

/** Every state, child machines included. */
function allStates(machine: Obj): [string, Obj][] {
  return Object.entries(states(machine)).flatMap(([name, s]) => [
    [name, s] as [string, Obj],
    ...(s.ItemProcessor ? allStates(s.ItemProcessor as Obj) : []),
  ]);
}

describe('etl.asl.json', () => {
  test('is valid ASL (asl-validator)', () => {
    const result = validate(asl());
    assert.equal(result.isValid, true, result.errorsText());
  });

  test('runs Plan → Distributed Map over the manifest → reducers (two phases) → Commit', () => {
    const machine = asl();
    assert.equal(machine.StartAt, 'Plan');
    assert.equal(states(machine).Plan?.Next, 'AnythingToLoad');
    const choice = states(machine).AnythingToLoad as Obj;
    assert.equal(choice.Type, 'Choice');
    assert.deepEqual(choice.Choices, [{ Variable: '$.shards', NumericGreaterThan: 0, Next: 'MapShards' }]);
    assert.equal(choice.Default, 'Commit', 'nothing new: straight to Commit');
    const order: string[] = [];
    for (let name: unknown = 'MapShards'; typeof name === 'string'; name = states(machine)[name]?.Next) {
      order.push(name);
    }
    assert.deepEqual(order, ['MapShards', 'ReduceDimensions', 'ReduceFacts', 'Commit']);
    for (const name of order) {
      assert.deepEqual(
        states(machine)[name]?.Catch,
        [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'Abort' }],
        `${name} hands any failure to Abort, keeping $.run`,
      );
    }
    const abort = states(machine).Abort as Obj;
    assert.deepEqual((abort.Parameters as Obj).Payload, { 'run.$': '$.run', 'failure.$': '$.failure' });
    assert.equal(abort.End, true);
    assert.equal(abort.Catch, undefined, 'Abort fails the execution with the original error');
    const map = states(machine).MapShards as Obj;
    assert.deepEqual((map.ItemReader as Obj).Resource, 'arn:aws:states:::s3:getObject');
    assert.deepEqual((map.ItemReader as Obj).ReaderConfig, { InputType: 'JSON' });
    assert.ok(map.ItemBatcher);
    assert.equal(map.ToleratedFailurePercentage, 0);
    assert.equal(typeof map.MaxConcurrency, 'number');
    for (const name of ['MapShards', 'ReduceDimensions', 'ReduceFacts']) {
      const processor = (states(machine)[name] as Obj).ItemProcessor as Obj;
      assert.deepEqual(processor.ProcessorConfig, { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' }, name);
    }
  });

  test('every Task retries exactly the transient errors, with backoff and jitter', () => {
    const tasks = allStates(asl()).filter(([, s]) => s.Type === 'Task');
    assert.equal(tasks.length, 7);
    for (const [name, task] of tasks) {
      // Plan also waits for the lake's lease, the workers retry any other failure (both tested below).
      const retry = (task.Retry as Obj[]).filter((r) => !waitsForLease(r) && !retriesAnyFailure(r));
      assert.equal(retry.length, 1, name);
      assert.deepEqual(
        [...((retry[0]?.ErrorEquals as string[] | undefined) ?? [])].sort(),
        [...TRANSIENT_ERRORS].sort(),
        name,
      );
      assert.equal(retry[0]?.JitterStrategy, 'FULL', name);
      assert.ok((retry[0]?.BackoffRate as number) > 1, name);
    }
  });

  test('the workers (map, reduce) also retry any other failure twice, but never bad input, storage or data errors', () => {
    for (const [name, task] of allStates(asl()).filter(([, s]) => s.Type === 'Task')) {
      const retry = task.Retry as Obj[];
      if (!WORKERS.includes(name)) {
        assert.ok(
          !retry.some((r) => (r.ErrorEquals as string[]).includes('States.ALL')),
          `${name}: no catch-all retry`,
        );
        continue;
      }
      assert.deepEqual(
        retry.slice(1),
        [
          { ErrorEquals: ['ConfigError', 'StorageError', 'DataQualityError'], MaxAttempts: 0 },
          { ErrorEquals: ['States.ALL'], IntervalSeconds: 1, MaxAttempts: 2, BackoffRate: 2, JitterStrategy: 'FULL' },
        ],
        `${name}: a crashed or failed worker is run again (its output keys are its own), a permanent error is not`,
      );
    }
  });

  test('a map batch that still fails after its retries goes to MapShardFailed (the map function, told the failure)', () => {
    const processor = (states(asl()).MapShards as Obj).ItemProcessor as Obj;
    const mapShard = states(processor).MapShard as Obj;
    assert.deepEqual(mapShard.Catch, [
      { ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'MapShardFailed' },
    ]);
    const failed = states(processor).MapShardFailed as Obj;
    assert.deepEqual((failed.Parameters as Obj).Payload, {
      'BatchInput.$': '$.BatchInput',
      'Items.$': '$.Items',
      'failure.$': '$.failure',
    });
    assert.equal(failed.End, true);
    assert.equal(failed.Catch, undefined, 'its own failure fails the Map, and so the run');
  });

  test('Plan waits for a busy lake on AWS (about an hour, with jitter); locally the wait is dropped', () => {
    const plan = states(asl()).Plan as Obj;
    const waits = (plan.Retry as Obj[]).filter((r) => waitsForLease(r));
    assert.deepEqual(waits, [
      {
        ErrorEquals: ['LakeBusyError'],
        IntervalSeconds: 60,
        MaxAttempts: 10,
        BackoffRate: 1.5,
        MaxDelaySeconds: 600,
        JitterStrategy: 'FULL',
      },
    ]);
    let total = 0;
    for (let i = 0; i < 10; i++) total += Math.min(60 * 1.5 ** i, 600);
    assert.ok(total < 7200 - 600, `the waits (${total} s at most) end well inside the execution's 7,200 s`);
    for (const [name, task] of allStates(asl()).filter(([n, s]) => s.Type === 'Task' && n !== 'Plan')) {
      assert.equal((task.Retry as Obj[]).filter((r) => waitsForLease(r)).length, 0, `${name} does not wait`);
    }
    const lowered = states(lower(asl()).definition).Plan as Obj;
    assert.deepEqual(
      (lowered.Retry as Obj[]).map((r) => r.ErrorEquals),
      [[...TRANSIENT_ERRORS]],
      'a local run is refused at once',
    );
  });

  test('names functions only by reference, each backed by a handler module', async () => {
    const lowered = lower(asl());
    assert.deepEqual(lowered.functions, {
      Plan: 'PlanLambdaFunction',
      MapShard: 'MapLambdaFunction',
      MapShardFailed: 'MapLambdaFunction',
      ReduceDimensionsBucket: 'ReduceLambdaFunction',
      ReduceFactsBucket: 'ReduceLambdaFunction',
      Commit: 'CommitLambdaFunction',
      Abort: 'CommitLambdaFunction',
    });
    for (const id of new Set(Object.values(lowered.functions))) {
      const file = new URL(`../../functions/${id.replace('LambdaFunction', '').toLowerCase()}.ts`, import.meta.url);
      assert.ok(existsSync(file), `${file.pathname} exists`);
      const module = (await import(file.href)) as { handler?: unknown };
      assert.equal(typeof module.handler, 'function');
    }
    assert.doesNotMatch(JSON.stringify(asl()), /arn:aws:lambda/, 'no hard-coded function ARNs');
  });
});

describe('lowerForLocal', () => {
  test('inserts a reader before the Map with ItemReader and leaves no Distributed-only field', () => {
    const { definition, readers } = lower(asl());
    assert.deepEqual(readers, { 'MapShards (items)': { map: 'MapShards' } });
    const reader = states(definition)['MapShards (items)'] as Obj;
    assert.equal(reader.Resource, ITEMS_RESOURCE);
    assert.equal(reader.Next, 'MapShards');
    assert.equal(reader.ResultPath, ITEMS_PATH);
    assert.deepEqual(reader.Parameters, {
      reader: { 'Bucket.$': '$.manifest.Bucket', 'Key.$': '$.manifest.Key' },
      'maxItemsPerBatch.$': '$.run.settings.shardsPerBatch',
      batchInput: { 'run.$': '$.run' },
    });
    const choice = states(definition).AnythingToLoad as Obj;
    assert.equal(
      (choice.Choices as Obj[])[0]?.Next,
      'MapShards (items)',
      'the Choice enters the Map through its reader',
    );
    assert.equal((states(definition).MapShards as Obj).ItemsPath, ITEMS_PATH);
    const text = JSON.stringify(definition);
    for (const field of ['ItemReader', 'ItemBatcher', 'ProcessorConfig', 'ToleratedFailurePercentage', 'Fn::GetAtt']) {
      assert.equal(text.includes(`"${field}"`), false, field);
    }
    assert.ok(text.includes(localFunctionArn('MapLambdaFunction')));
  });

  test('refuses every feature it does not lower, by name', () => {
    const withMap = (change: (map: Obj) => void): Obj => {
      const machine = asl();
      change(states(machine).MapShards as Obj);
      return machine;
    };
    const cases: [string, Obj, RegExp][] = [
      [
        'ResultWriter',
        withMap((m) => (m.ResultWriter = { Resource: 'arn:aws:states:::s3:putObject' })),
        /ResultWriter/,
      ],
      ['tolerated failures', withMap((m) => (m.ToleratedFailurePercentage = 5)), /ToleratedFailurePercentage 5/],
      ['tolerated count', withMap((m) => (m.ToleratedFailureCount = 1)), /ToleratedFailureCount/],
      ['batch bytes', withMap((m) => ((m.ItemBatcher as Obj).MaxInputBytesPerBatch = 1024)), /MaxInputBytesPerBatch/],
      ['CSV reader', withMap((m) => ((m.ItemReader as Obj).ReaderConfig = { InputType: 'CSV' })), /InputType JSON/],
      [
        'S3 listing reader',
        withMap((m) => ((m.ItemReader as Obj).Resource = 'arn:aws:states:::s3:listObjectsV2')),
        /s3:getObject/,
      ],
      [
        'ItemSelector with batching',
        withMap((m) => (m.ItemSelector = { 'x.$': '$' })),
        /ItemSelector with ItemBatcher/,
      ],
      ['Ref', withMap((m) => (m.Comment = { Ref: 'Bucket' } as never)), /Ref "Bucket"/],
      ['JSONata', { ...asl(), QueryLanguage: 'JSONata' }, /JSONata/],
      ['Assign', withMap((m) => (m.Assign = { a: 1 })), /Assign/],
    ];
    for (const [name, machine, message] of cases) {
      assert.throws(
        () => lower(machine),
        (e: Error) => e instanceof UnsupportedAslError && message.test(e.message),
        name,
      );
    }
  });

  test('batchItems makes ItemBatcher batches with BatchInput', () => {
    assert.deepEqual(batchItems([1, 2, 3, 4, 5], 2, { run: 'r' }), [
      { BatchInput: { run: 'r' }, Items: [1, 2] },
      { BatchInput: { run: 'r' }, Items: [3, 4] },
      { BatchInput: { run: 'r' }, Items: [5] },
    ]);
    assert.deepEqual(batchItems([1, 2], undefined, undefined), [1, 2]);
    assert.deepEqual(batchItems([], 3, {}), []);
  });
});

describe('the local interpreter validates a definition once', () => {
  test('a definition that passes leaves a verdict; one that fails is refused every time and leaves none', () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'sparkify-asl-'));
    const cache = pathToFileURL(`${dir}/`);
    // Lowered afresh for each machine, as every run does (the interpreter adds to the definition it is given).
    const definition = () => lower(asl()).definition;
    const broken = () => ({
      ...definition(),
      States: { ...(definition().States as Obj), Plan: { Type: 'NoSuchType' } },
    });
    try {
      // Act
      stateMachine(definition() as never, cache);
      const afterValid = readdirSync(dir);
      stateMachine(definition() as never, cache);
      const refusals = [0, 1].map(() => {
        try {
          stateMachine(broken() as never, cache);
          return 'accepted';
        } catch (error) {
          return (error as Error).message;
        }
      });

      // Assess
      assert.equal(afterValid.length, 1);
      assert.deepEqual(readdirSync(dir), afterValid);
      for (const refusal of refusals) assert.match(refusal, /State machine definition is invalid/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
