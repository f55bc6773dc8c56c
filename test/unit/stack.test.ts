/**
 * serverless.yml, packaged offline (`npm run package`: no network, no AWS account): the Lambda functions, the state
 * machine deployed from statemachine/etl.asl.json, the buckets, one least-privilege role per function and one for
 * the state machine (each statement resolved to readable ARNs and compared whole, the object folders taken from
 * shared/keys.ts), the failure alarm, logging and tracing, the schedule, and the analytics catalog — Glue tables
 * whose columns, partitions and projection are the TypeScript contract (shared/schemas.ts, shared/config.ts) and the
 * Parquet the pipeline really writes, and Athena named queries that are shared/queries.ts. The stack is packaged
 * twice: with the default params, and with every param given (as docs/deploy.md documents them).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_PARTITIONS, TABLES, type TableName } from '../../shared/config.ts';
import { LAMBDA_MEMORY_MB } from '../../shared/cost.ts';
import {
  leaseKey,
  ledgerKey,
  manifestKey,
  mapStatsKey,
  planStatsKey,
  publishRecordKey,
  reduceStatsKey,
  rejectsKey,
  runInputsKey,
  runInputsReportKey,
  runPageKey,
  runReportKey,
  SOURCES,
  scratchPrefix,
  shuffleKey,
  sourcePrefix,
  stateDigestKey,
  statePointerKey,
  stateRecordsKey,
  stateVersionPrefix,
  statsPrefix,
  tableFileKey,
  tableManifestKey,
  tablePrefix,
} from '../../shared/keys.ts';
import { NAMED_QUERIES } from '../../shared/queries.ts';
import { type ColumnKind, TABLE_COLUMNS } from '../../shared/schemas.ts';
import { duck, parquetTypes, readTable } from '../support/lake.ts';
import { PUBLIC_SAMPLE, runEtl, tempDir } from '../support/run.ts';
import {
  type Deployment,
  deployedDefinition,
  evaluate,
  getAtts,
  glueType,
  glueTypeOfParquet,
  isCreated,
  type Json,
  type JsonObject,
  type PackageRun,
  packageStack,
  policyStatements,
  REPO,
  readTemplate,
  resolve,
  resourcesOfType,
  roleStatements,
  type Statement,
  type Template,
  zipEntries,
} from '../support/stack.ts';

// What `npm run package` (stage dev) must give, from serverless.yml's params.
const LAKE_BUCKET = 'sparkify-lake-dev-lake';
const RAW_BUCKET = 'sparkify-lake-dev-raw';
const GLUE_DATABASE = 'sparkify_dev';
const FUNCTIONS = ['plan', 'map', 'reduce', 'commit', 'trigger'] as const;
type FunctionName = (typeof FUNCTIONS)[number];
/** The functions the state machine runs (the trigger starts it instead). */
const STAGES = ['plan', 'map', 'reduce', 'commit'] as const;
const capitalised = (fn: string): string => `${fn[0]?.toUpperCase()}${fn.slice(1)}`;
const logicalId = (fn: string): string => `${capitalised(fn)}LambdaFunction`;
const roleId = (fn: FunctionName): string => `${capitalised(fn)}FunctionRole`;
const STATE_MACHINE = 'sparkify-lake-dev-etl';
const STATE_MACHINE_ID = 'EtlStateMachine';
const STATE_MACHINE_ROLE = 'EtlStateMachineExecutionRole';
const SCHEDULE_ROLE = 'EtlScheduleToStepFunctionsRole';

/** Every param given, as a deployment would (`--param=name=value`; values are strings): the second packaging. */
const CUSTOM = {
  rawBucket: 'acme-sparkify-raw',
  lakeBucket: 'acme-sparkify-lake',
  schedule: 'cron(0 3 * * ? *)',
  scheduleEnabled: 'false',
  scratchExpirationDays: '3',
  logRetentionDays: '14',
  alarmTopicArn: 'arn:aws:sns:us-east-1:111122223333:data-ops',
  alarmEmail: 'ops@example.com',
  tracing: 'true',
  s3EventsEnabled: 'false',
  s3EventsBatchWindow: '120',
} as const;

/** Memory (MB) and timeout (s) per function: docs/deploy.md gives the reasons. */
const SIZES: Record<FunctionName, { memory: number; timeout: number }> = {
  plan: { memory: 1024, timeout: 300 },
  map: { memory: 1769, timeout: 900 },
  reduce: { memory: 1769, timeout: 900 },
  trigger: { memory: 256, timeout: 60 },
  commit: { memory: 1769, timeout: 900 },
};

const PARQUET_SERDE = 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe';
const PARQUET_INPUT = 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat';
const PARQUET_OUTPUT = 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat';

/** Glue { Name, Type } of a column list. */
type GlueColumn = { Name: string; Type: string };

/** The kind of a partition column: the table's own column, or (songplays) year/month of start_time as in time. */
function partitionKind(table: TableName, column: string): ColumnKind {
  const kind = (
    TABLE_COLUMNS[table].find((c) => c.name === column) ?? TABLE_COLUMNS.time.find((c) => c.name === column)
  )?.kind;
  if (kind === undefined) throw new Error(`${table}: partition column ${column} has no declared type`);
  return kind;
}

/** The Glue columns a table must have: its declared columns minus its default partitions, in order. */
const expectedColumns = (table: TableName): GlueColumn[] =>
  TABLE_COLUMNS[table]
    .filter((c) => !DEFAULT_PARTITIONS[table].includes(c.name))
    .map((c) => ({ Name: c.name, Type: glueType(c.kind) }));

/** The Glue partition keys a table must have: its default partitions, in order. */
const expectedPartitionKeys = (table: TableName): GlueColumn[] =>
  DEFAULT_PARTITIONS[table].map((name) => ({ Name: name, Type: glueType(partitionKind(table, name)) }));

const obj = (value: Json | undefined, what: string): JsonObject => {
  assert.ok(typeof value === 'object' && value !== null && !Array.isArray(value), `${what} is an object`);
  return value as JsonObject;
};

const packaged = mkdtempSync(join(tmpdir(), 'sparkify-stack-'));
const packagedCustom = mkdtempSync(join(tmpdir(), 'sparkify-stack-custom-'));
const lake = tempDir('stack');
let run: PackageRun;
let runCustom: PackageRun;
let template: Template;
/** Packaged with every param of CUSTOM. */
let custom: Template;

before(
  async () => {
    // Packaging and the ETL run are independent: run them together. The two packagings one after the other: each
    // rebuilds dist/, which the other zips.
    const packagings = async (): Promise<[PackageRun, PackageRun]> => {
      const first = await packageStack(packaged);
      return [first, await packageStack(packagedCustom, 90_000, CUSTOM)];
    };
    [[run, runCustom]] = await Promise.all([packagings(), runEtl(PUBLIC_SAMPLE, lake.dir)]);
    assert.equal(run.code, 0, `npm run package failed:\n${run.output}`);
    assert.equal(runCustom.code, 0, `npm run package with params failed:\n${runCustom.output}`);
    template = readTemplate(packaged);
    custom = readTemplate(packagedCustom);
  },
  { timeout: 180_000 },
);

after(() => {
  rmSync(packaged, { recursive: true, force: true });
  rmSync(packagedCustom, { recursive: true, force: true });
  lake.remove();
});

/** The Glue tables by name (TableInput), with their resources' other properties. */
function glueTables(): Map<string, { input: JsonObject; properties: JsonObject }> {
  const tables = new Map<string, { input: JsonObject; properties: JsonObject }>();
  for (const [id, resource] of resourcesOfType(template, 'AWS::Glue::Table')) {
    const properties = obj(resource.Properties, `${id}.Properties`);
    const input = obj(properties.TableInput, `${id}.TableInput`);
    assert.equal(typeof input.Name, 'string', `${id}: TableInput.Name`);
    assert.equal(tables.has(input.Name as string), false, `${id}: a second table named ${input.Name}`);
    tables.set(input.Name as string, { input, properties });
  }
  return tables;
}

function glueTable(table: TableName): { input: JsonObject; properties: JsonObject; storage: JsonObject } {
  const found = glueTables().get(table);
  assert.ok(found, `no AWS::Glue::Table named ${table}`);
  return { ...found, storage: obj(found.input.StorageDescriptor, `${table}.StorageDescriptor`) };
}

/** The one AWS::Glue::Database: its logical id and name (evaluated for the packaged stage). */
function glueDatabase(): { id: string; name: Json; expression: Json } {
  const databases = resourcesOfType(template, 'AWS::Glue::Database');
  assert.equal(databases.length, 1, 'one Glue database');
  const [id, resource] = databases[0] as [string, { Properties?: JsonObject }];
  const input = obj(obj(resource.Properties, `${id}.Properties`).DatabaseInput, `${id}.DatabaseInput`);
  return { id, name: evaluate(input.Name as Json), expression: input.Name as Json };
}

/** Table parameters, all of them strings (Glue's map of string to string). */
function parametersOf(table: TableName): Record<string, string> {
  const parameters = obj(glueTable(table).input.Parameters, `${table}.Parameters`);
  for (const [k, v] of Object.entries(parameters)) assert.equal(typeof v, 'string', `${table}: parameter ${k}`);
  return parameters as Record<string, string>;
}

/** Relative paths (table/...) of every Parquet file the run wrote for a table, sorted. */
function tableFiles(table: TableName): string[] {
  return (readdirSync(join(lake.dir, table), { recursive: true }) as string[])
    .filter((f) => f.endsWith('.parquet'))
    .map((f) => `${table}/${f}`)
    .sort();
}

/** States-level keys the deployed definition adds with their defaults, removed; their paths recorded. */
function withoutAddedDefaults(deployed: Json, source: Json, path: string, added: string[]): Json {
  if (Array.isArray(deployed)) {
    return deployed.map((d, i) =>
      withoutAddedDefaults(d, Array.isArray(source) ? (source[i] as Json) : null, path, added),
    );
  }
  if (typeof deployed !== 'object' || deployed === null) return deployed;
  const src = typeof source === 'object' && source !== null && !Array.isArray(source) ? source : {};
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(deployed)) {
    if (k === 'QueryLanguage' && v === 'JSONPath' && !('QueryLanguage' in src)) {
      added.push(`${path}.${k}`);
      continue;
    }
    out[k] = withoutAddedDefaults(v, (src[k] ?? null) as Json, `${path}.${k}`, added);
  }
  return out;
}

describe('npm run package', () => {
  test('packages offline into a CloudFormation template, with the default params and with every param given', (t) => {
    t.diagnostic(`npm run package: ${run.ms} ms; with params: ${runCustom.ms} ms`);
    for (const [packaging, what] of [
      [run, 'defaults'],
      [runCustom, 'params'],
    ] as const) {
      assert.match(packaging.output, /Service packaged/, `osls reports the service packaged (${what})`);
      assert.match(
        packaging.output,
        /State machine "etl" definition is valid/,
        `the plugin validated the ASL (${what})`,
      );
      // osls validates serverless.yml against its schema and only warns: a param of the wrong type would show here.
      assert.doesNotMatch(packaging.output, /Invalid configuration|deprecat/i, `no configuration warnings (${what})`);
    }
    assert.ok(Object.keys(template.Resources).length > 0, 'the template has resources');
  });

  test("each function's artifact is its bundle folder, nothing else", () => {
    assert.ok(!readdirSync(packaged).includes('sparkify-lake.zip'), 'no service-wide artifact');
    for (const fn of FUNCTIONS) {
      // Only reduce writes Parquet: only its bundle carries parquet-wasm's wasm (see cli/bundle.ts).
      const files = ['index.mjs', 'index.mjs.map', ...(fn === 'reduce' ? ['parquet_wasm_bg.wasm'] : [])];
      assert.deepEqual(
        zipEntries(join(packaged, `${fn}.zip`)).sort(),
        files.map((f) => `dist/${fn}/${f}`).sort(),
        `${fn}.zip: the bundle, its source map and the wasm it loads; no node_modules or sources`,
      );
    }
  });
});

/** A resource's properties, which must exist. */
const propertiesOf = (t: Template, id: string): JsonObject => {
  const resource = t.Resources[id];
  assert.ok(resource, `the template has ${id}`);
  return obj(resource.Properties, `${id}.Properties`);
};

/** `arn:aws:s3:::bucket` or an object ARN in it. */
const s3Arn = (bucket: string, key?: string): string => `arn:aws:s3:::${bucket}${key === undefined ? '' : `/${key}`}`;
const logGroupArn = (name: string): string => `arn:aws:logs:us-east-1:<account>:log-group:${name}:*`;
const functionArn = (fn: FunctionName): string => `arn:aws:lambda:us-east-1:<account>:function:sparkify-lake-dev-${fn}`;
const stateMachineArn = `arn:aws:states:us-east-1:<account>:stateMachine:${STATE_MACHINE}`;
const RAW_EVENTS_QUEUE_ARN = 'arn:aws:sqs:us-east-1:<account>:<RawEventsQueue>';
const RAW_EVENTS_DLQ_ARN = 'arn:aws:sqs:us-east-1:<account>:<RawEventsDeadLetterQueue>';

/**
 * The folder (`_scratch/*`) of keys a shared/keys.ts builder gives, checked to be one folder for every key given:
 * the roles' object ARNs and list prefixes come from here, so moving a key in keys.ts moves what the test expects.
 */
function folderOf(...keys: string[]): string {
  const folders = new Set(keys.map((key) => `${key.slice(0, key.indexOf('/') + 1)}*`));
  assert.equal(folders.size, 1, `one top folder for ${keys.join(', ')}`);
  const [folder] = folders;
  assert.ok(folder !== undefined && folder.length > 2, `${keys[0]} is in a folder`);
  return folder;
}

const RUN_ID = '20250101T000000Z-abcdef';
/** Everything a run keeps between stages: the manifest, the shuffle, statistics. Commit removes it. */
const SCRATCH = folderOf(
  scratchPrefix(RUN_ID),
  manifestKey(RUN_ID),
  planStatsKey(RUN_ID),
  shuffleKey(RUN_ID, 'songs', 0, 'song_data-000000'),
  mapStatsKey(RUN_ID, 'song_data-000000'),
  reduceStatsKey(RUN_ID, 'dimensions', 0),
  statsPrefix(RUN_ID, 'map'),
  runInputsKey(RUN_ID),
);
const REJECTS = folderOf(rejectsKey('log_data/2018/11/2018-11-01-events.json'));
const MANIFESTS = folderOf(...TABLES.map(tableManifestKey), statePointerKey);
/** The lake's state between runs: records, digests and the ledger of each version. */
const STATE = folderOf(
  stateVersionPrefix(RUN_ID),
  stateRecordsKey(RUN_ID, 'songs', 0),
  stateDigestKey(RUN_ID, 'songplays', 0),
  ledgerKey(RUN_ID),
);
/** The lease and the commit record. */
const CONTROL = folderOf(leaseKey, publishRecordKey);
const RUNS = folderOf(runReportKey(RUN_ID), runPageKey(RUN_ID), runInputsReportKey(RUN_ID));
/** One folder per table: its data files (tableFileKey) and what Commit lists (tablePrefix). */
const TABLE_FOLDERS = TABLES.map((t) => folderOf(tablePrefix(t), tableFileKey(t, 'year=2018/month=11/', RUN_ID, 0)));
const SOURCE_FOLDERS = SOURCES.map((s) => folderOf(sourcePrefix(s), `${sourcePrefix(s)}A/B/C/TRABC.json`));

const allow = (Sid: string, Action: string[], Resource: string[], Condition?: Json): Statement => ({
  Effect: 'Allow',
  Action: [...Action].sort(),
  Resource: [...Resource].sort(),
  Sid,
  ...(Condition === undefined ? {} : { Condition }),
});
const listOnly = (prefixes: string[]): Json => ({ StringLike: { 's3:prefix': prefixes } });
const WRITE = ['s3:PutObject', 's3:AbortMultipartUpload'];
const LAMBDA_XRAY = ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'];
const STATES_XRAY = [...LAMBDA_XRAY, 'xray:GetSamplingRules', 'xray:GetSamplingTargets'];
/** CloudWatch Logs' vended-log delivery: these actions take no resource-level permissions (Resource '*'). */
const LOG_DELIVERY = [
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
];
/** The only actions allowed on Resource '*': AWS offers no narrower resource for them. */
const ANY_RESOURCE_ONLY = new Set([...LOG_DELIVERY, ...STATES_XRAY]);

/** Each role's statements, exactly, for the given buckets (and with X-Ray's when tracing is on). */
function expectedStatements(raw: string, lakeBucket: string, tracing: boolean): Record<string, Statement[]> {
  const lakeObjects = (...folders: string[]): string[] => folders.map((f) => s3Arn(lakeBucket, f));
  const logs = (fn: FunctionName): Statement =>
    allow(
      'OwnLogs',
      ['logs:CreateLogStream', 'logs:PutLogEvents'],
      [logGroupArn(`/aws/lambda/sparkify-lake-dev-${fn}`)],
    );
  const lambdaXRay = tracing ? [allow('XRay', LAMBDA_XRAY, ['*'])] : [];
  return {
    [roleId('plan')]: [
      logs('plan'),
      allow('ListInput', ['s3:ListBucket'], [s3Arn(raw)], listOnly(SOURCE_FOLDERS)),
      allow(
        'ListLake',
        ['s3:ListBucket'],
        [s3Arn(lakeBucket)],
        listOnly([CONTROL, MANIFESTS, STATE, ...TABLE_FOLDERS]),
      ),
      allow('ReadLeasePointersAndLedger', ['s3:GetObject'], lakeObjects(CONTROL, MANIFESTS, STATE)),
      allow('WriteScratchLeaseAndPointers', WRITE, lakeObjects(SCRATCH, CONTROL, MANIFESTS)),
      allow('ReleaseLeaseAndRecover', ['s3:DeleteObject'], lakeObjects(CONTROL, MANIFESTS, STATE, ...TABLE_FOLDERS)),
      ...lambdaXRay,
    ],
    [roleId('map')]: [
      logs('map'),
      allow(
        'ReadInput',
        ['s3:GetObject'],
        SOURCE_FOLDERS.map((f) => s3Arn(raw, f)),
      ),
      allow('WriteScratchAndRejects', WRITE, lakeObjects(SCRATCH, REJECTS)),
      ...lambdaXRay,
    ],
    [roleId('reduce')]: [
      logs('reduce'),
      allow('ListScratchAndState', ['s3:ListBucket'], [s3Arn(lakeBucket)], listOnly([SCRATCH, STATE])),
      allow('ReadScratchAndState', ['s3:GetObject'], lakeObjects(SCRATCH, STATE)),
      allow('WriteScratchStateAndTables', WRITE, lakeObjects(SCRATCH, STATE, ...TABLE_FOLDERS)),
      ...lambdaXRay,
    ],
    [roleId('commit')]: [
      logs('commit'),
      allow(
        'ListLake',
        ['s3:ListBucket'],
        [s3Arn(lakeBucket)],
        listOnly([SCRATCH, STATE, MANIFESTS, CONTROL, REJECTS, RUNS, ...TABLE_FOLDERS]),
      ),
      allow('ReadAndRemoveScratch', ['s3:GetObject', 's3:DeleteObject'], lakeObjects(SCRATCH)),
      allow('ReadStateAndPointers', ['s3:GetObject'], lakeObjects(STATE, MANIFESTS, CONTROL, RUNS)),
      allow(
        'RemoveUnnamedFiles',
        ['s3:DeleteObject'],
        lakeObjects(...TABLE_FOLDERS, STATE, MANIFESTS, CONTROL, REJECTS),
      ),
      allow('WriteStatePointersAndReports', WRITE, lakeObjects(MANIFESTS, RUNS, STATE, CONTROL)),
      ...lambdaXRay,
    ],
    [roleId('trigger')]: [
      logs('trigger'),
      allow(
        'ConsumeEvents',
        ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
        [RAW_EVENTS_QUEUE_ARN],
      ),
      allow('StartRuns', ['states:StartExecution'], [stateMachineArn]),
      ...lambdaXRay,
    ],
    [STATE_MACHINE_ROLE]: [
      allow(
        'InvokeFunctions',
        ['lambda:InvokeFunction'],
        STAGES.flatMap((fn) => [functionArn(fn), `${functionArn(fn)}:*`]),
      ),
      allow('StartChildExecutions', ['states:StartExecution'], [stateMachineArn]),
      allow(
        'ManageExecutions',
        ['states:DescribeExecution', 'states:StopExecution'],
        [
          // The machine's own executions, and the Distributed Maps' child executions (<name>/<map run>:<id>).
          `arn:aws:states:us-east-1:<account>:execution:${STATE_MACHINE}:*`,
          `arn:aws:states:us-east-1:<account>:execution:${STATE_MACHINE}/*`,
        ],
      ),
      allow('ReadShardManifest', ['s3:GetObject'], lakeObjects(SCRATCH)),
      allow('DeliverLogs', LOG_DELIVERY, ['*']),
      ...(tracing ? [allow('XRay', STATES_XRAY, ['*'])] : []),
    ],
    // The plugin's role for the schedule (no Sid): start this state machine, nothing else.
    [SCHEDULE_ROLE]: [{ Effect: 'Allow', Action: ['states:StartExecution'], Resource: [stateMachineArn] }],
  };
}

/** The deployments the roles are checked in: both templates, tracing as packaged (and forced the other way). */
function deployments(): { name: string; t: Template; raw: string; lake: string; tracing: boolean; d: Deployment }[] {
  return [
    { name: 'defaults', t: template, raw: RAW_BUCKET, lake: LAKE_BUCKET, tracing: false, d: {} },
    {
      name: 'defaults, tracing forced on',
      t: template,
      raw: RAW_BUCKET,
      lake: LAKE_BUCKET,
      tracing: true,
      d: { conditions: { TracingEnabled: true } },
    },
    { name: 'params', t: custom, raw: CUSTOM.rawBucket, lake: CUSTOM.lakeBucket, tracing: true, d: {} },
  ];
}

describe('Lambda functions and the state machine', () => {
  test('the five functions run nodejs22.x on arm64, one handler module each', () => {
    const functions = resourcesOfType(template, 'AWS::Lambda::Function');
    assert.deepEqual(functions.map(([id]) => id).sort(), FUNCTIONS.map(logicalId).sort());
    for (const fn of FUNCTIONS) {
      const properties = obj(template.Resources[logicalId(fn)]?.Properties, logicalId(fn));
      assert.equal(properties.Runtime, 'nodejs22.x', `${fn}: runtime`);
      assert.deepEqual(properties.Architectures, ['arm64'], `${fn}: architecture`);
      assert.equal(properties.Handler, `dist/${fn}/index.handler`, `${fn}: handler (its bundle)`);
      assert.equal(properties.FunctionName, `sparkify-lake-dev-${fn}`, `${fn}: name`);
    }
  });

  test('memory and timeout per function, source maps on, and each function runs as its own role', () => {
    for (const fn of FUNCTIONS) {
      const properties = propertiesOf(template, logicalId(fn));
      assert.equal(properties.MemorySize, SIZES[fn].memory, `${fn}: memory`);
      assert.equal(properties.Timeout, SIZES[fn].timeout, `${fn}: timeout`);
      const variables = obj(obj(properties.Environment, `${fn}.Environment`).Variables, `${fn}: variables`);
      assert.equal(variables.NODE_OPTIONS, '--enable-source-maps', `${fn}: NODE_OPTIONS`);
      assert.equal(variables.SPARKIFY_ALLOWED_SOURCES, `s3://${RAW_BUCKET}`, `${fn}: reads only the raw bucket`);
      assert.equal(variables.SPARKIFY_ALLOWED_TARGETS, `s3://${LAKE_BUCKET}`, `${fn}: writes only the lake bucket`);
      assert.deepEqual(properties.Role, { 'Fn::GetAtt': [roleId(fn), 'Arn'] }, `${fn}: its own role`);
      assert.equal(template.Resources[roleId(fn)]?.Type, 'AWS::IAM::Role', `${roleId(fn)} is a role`);
    }
    // The run report's cost estimate bills each stage at the memory deployed here.
    for (const fn of STAGES) assert.equal(LAMBDA_MEMORY_MB[fn], SIZES[fn].memory, `${fn}: shared/cost.ts memory`);
    // 1769 MB is one full vCPU; the workers that parse and encode get it, and commit, which holds every table's keys
    // (866 MB at 3.2 M events, bench/results.md; 1,075 MB for an incremental run over that lake); plan less.
    assert.ok(SIZES.plan.memory < 1769 && SIZES.commit.memory === 1769, 'plan is smaller');
    assert.equal(template.Resources.IamRoleLambdaExecution, undefined, 'no osls provider role: no provider-level IAM');
  });

  test('the IAM roles are the six of serverless.yml and the schedule role, nothing else', () => {
    const expected = [...FUNCTIONS.map(roleId), STATE_MACHINE_ROLE, SCHEDULE_ROLE].sort();
    for (const { name, t } of deployments()) {
      assert.deepEqual(
        resourcesOfType(t, 'AWS::IAM::Role')
          .map(([id]) => id)
          .sort(),
        expected,
        name,
      );
    }
    // The plugin's own state machine role (which allows s3:GetObject on every object) is not generated.
    assert.equal(template.Resources[`${STATE_MACHINE_ID}Role`], undefined, 'no plugin state machine role');
  });

  test('the state machine deploys statemachine/etl.asl.json, functions by GetAtt of their resources', () => {
    const machines = resourcesOfType(template, 'AWS::StepFunctions::StateMachine');
    assert.equal(machines.length, 1, 'one state machine');
    const [id, machine] = machines[0] as [string, { Properties?: JsonObject }];
    assert.equal(id, STATE_MACHINE_ID, 'a fixed logical id, whatever the stage');
    const properties = obj(machine.Properties, id);
    assert.equal(properties.StateMachineName, STATE_MACHINE);
    assert.equal(properties.Definition, undefined, 'the definition is DefinitionString only');

    const source = JSON.parse(readFileSync(join(REPO, 'statemachine/etl.asl.json'), 'utf8')) as JsonObject;
    const deployed = deployedDefinition(properties.DefinitionString as Json);
    // asl-validator (the plugin's `validate: true`) writes the default QueryLanguage into every state it checks.
    const added: string[] = [];
    const normalised = withoutAddedDefaults(deployed, source, '$', added);
    for (const path of added) {
      assert.match(path, /\.States\.[^.]+\.QueryLanguage$/, `only states get the default QueryLanguage: ${path}`);
    }
    assert.deepEqual(normalised, source);

    const referenced = getAtts(deployed);
    assert.deepEqual(
      [...new Set(referenced.map(([logical]) => logical))].sort(),
      STAGES.map(logicalId).sort(),
      'the definition names every stage function, and nothing else, by GetAtt',
    );
    for (const [logical, attribute] of referenced) {
      assert.equal(attribute, 'Arn', `${logical}: GetAtt Arn`);
      assert.equal(template.Resources[logical]?.Type, 'AWS::Lambda::Function', `${logical} is a Lambda function`);
    }
  });

  test('the state machine runs as its own role and logs errors, without execution data, to a retained group', () => {
    const properties = propertiesOf(template, STATE_MACHINE_ID);
    assert.deepEqual(properties.RoleArn, { 'Fn::GetAtt': [STATE_MACHINE_ROLE, 'Arn'] }, 'the explicit role');
    const group = `/aws/vendedlogs/states/${STATE_MACHINE}`;
    assert.deepEqual(resolve(template, properties.LoggingConfiguration as Json), {
      Level: 'ERROR',
      IncludeExecutionData: false,
      Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: logGroupArn(group) } }],
    });
    assert.deepEqual(propertiesOf(template, 'EtlStateMachineLogGroup'), { LogGroupName: group, RetentionInDays: 30 });
    assert.equal(Number(propertiesOf(custom, 'EtlStateMachineLogGroup').RetentionInDays), 14, 'logRetentionDays');
  });

  test('every log group has the retention of logRetentionDays', () => {
    const groups = [...FUNCTIONS.map((fn) => `${capitalised(fn)}LogGroup`), 'EtlStateMachineLogGroup'];
    for (const [t, days] of [
      [template, 30],
      [custom, 14],
    ] as const) {
      assert.deepEqual(
        resourcesOfType(t, 'AWS::Logs::LogGroup')
          .map(([id]) => id)
          .sort(),
        [...groups].sort(),
      );
      for (const id of groups) assert.equal(Number(propertiesOf(t, id).RetentionInDays), days, `${id}: retention`);
    }
    for (const fn of FUNCTIONS) {
      assert.equal(
        propertiesOf(template, `${capitalised(fn)}LogGroup`).LogGroupName,
        `/aws/lambda/sparkify-lake-dev-${fn}`,
        `${fn}: the log group its role may write`,
      );
    }
  });

  test('X-Ray is off by default and on, for the functions and the state machine, with tracing=true', () => {
    const ids = [...FUNCTIONS.map(logicalId), STATE_MACHINE_ID];
    const tracing = (t: Template, id: string, d: Deployment = {}): Json | undefined => {
      const properties = propertiesOf(t, id);
      const key = id === STATE_MACHINE_ID ? 'TracingConfiguration' : 'TracingConfig';
      const value = properties[key];
      // Resolved inside an object, so that AWS::NoValue leaves the key out as CloudFormation does.
      return value === undefined ? undefined : (resolve(t, { [key]: value }, d) as JsonObject)[key];
    };
    for (const id of ids) {
      const on = id === STATE_MACHINE_ID ? { Enabled: true } : { Mode: 'Active' };
      assert.equal(tracing(template, id), undefined, `${id}: no tracing by default`);
      assert.deepEqual(tracing(template, id, { conditions: { TracingEnabled: true } }), on, `${id}: TracingEnabled`);
      assert.deepEqual(tracing(custom, id), on, `${id}: tracing=true`);
    }
    assert.equal(resolve(template, { Condition: 'TracingEnabled' }), false, 'tracing off by default');
    assert.equal(resolve(custom, { Condition: 'TracingEnabled' }), true, 'tracing=true turns it on');
  });

  test('the schedule starts the state machine daily on the raw bucket into the lake bucket, as its own role', () => {
    for (const { t, raw, lakeBucket, expression, state } of [
      { t: template, raw: RAW_BUCKET, lakeBucket: LAKE_BUCKET, expression: 'rate(1 day)', state: 'ENABLED' },
      {
        t: custom,
        raw: CUSTOM.rawBucket,
        lakeBucket: CUSTOM.lakeBucket,
        expression: CUSTOM.schedule,
        state: 'DISABLED',
      },
    ]) {
      const rules = resourcesOfType(t, 'AWS::Events::Rule').filter(([, r]) => r.Properties?.ScheduleExpression);
      assert.equal(rules.length, 1, 'one schedule');
      const properties = obj((rules[0] as [string, { Properties?: JsonObject }])[1].Properties, 'rule');
      assert.equal(properties.ScheduleExpression, expression, 'schedule');
      assert.equal(properties.State, state, 'scheduleEnabled');
      const targets = properties.Targets as JsonObject[];
      assert.equal(targets.length, 1, 'one target');
      const target = targets[0] as JsonObject;
      assert.deepEqual(target.Arn, { Ref: STATE_MACHINE_ID }, 'the target is the state machine');
      assert.equal(resolve(t, target.Arn as Json), stateMachineArn, 'by its ARN');
      // docs/deploy.md: the scheduled run's input is the two buckets' roots, with the default settings.
      assert.deepEqual(JSON.parse(String(target.Input)), { source: `s3://${raw}`, target: `s3://${lakeBucket}` });
      assert.deepEqual(target.RoleArn, { 'Fn::GetAtt': [SCHEDULE_ROLE, 'Arn'] }, 'the schedule role');
    }
    const trust = policyStatements(template, propertiesOf(template, SCHEDULE_ROLE).AssumeRolePolicyDocument as Json);
    assert.deepEqual(trust, [
      { Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: ['sts:AssumeRole'], Resource: [] },
    ]);
  });
});

describe('IAM: least privilege, proven statement by statement', () => {
  test('the object folders come from shared/keys.ts', () => {
    assert.equal(SCRATCH, '_scratch/*');
    assert.equal(REJECTS, '_rejects/*');
    assert.equal(MANIFESTS, '_manifests/*');
    assert.equal(RUNS, '_runs/*');
    assert.deepEqual(TABLE_FOLDERS, ['songplays/*', 'users/*', 'songs/*', 'artists/*', 'time/*']);
    assert.deepEqual(SOURCE_FOLDERS, ['song_data/*', 'log_data/*']);
  });

  for (const fn of FUNCTIONS) {
    test(`${fn}: exactly the statements its stage needs`, () => {
      for (const { name, t, raw, lake: lakeBucket, tracing, d } of deployments()) {
        assert.deepEqual(
          roleStatements(t, roleId(fn), d),
          expectedStatements(raw, lakeBucket, tracing)[roleId(fn)],
          `${roleId(fn)} (${name})`,
        );
      }
    });
  }

  test('the state machine: invoke the four functions, run its child executions, read the shard manifest, log', () => {
    for (const { name, t, raw, lake: lakeBucket, tracing, d } of deployments()) {
      assert.deepEqual(
        roleStatements(t, STATE_MACHINE_ROLE, d),
        expectedStatements(raw, lakeBucket, tracing)[STATE_MACHINE_ROLE],
        `${STATE_MACHINE_ROLE} (${name})`,
      );
    }
  });

  test('the schedule: start the state machine, nothing else', () => {
    for (const { name, t, raw, lake: lakeBucket, tracing, d } of deployments()) {
      assert.deepEqual(
        roleStatements(t, SCHEDULE_ROLE, d),
        expectedStatements(raw, lakeBucket, tracing)[SCHEDULE_ROLE],
        `${SCHEDULE_ROLE} (${name})`,
      );
    }
  });

  test('who may assume each role: Lambda, Step Functions (this account only), EventBridge', () => {
    const trust = (id: string): Statement[] =>
      policyStatements(template, propertiesOf(template, id).AssumeRolePolicyDocument as Json);
    for (const fn of FUNCTIONS) {
      assert.deepEqual(
        trust(roleId(fn)),
        [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: ['sts:AssumeRole'], Resource: [] }],
        `${fn}: assumed by Lambda`,
      );
    }
    assert.deepEqual(trust(STATE_MACHINE_ROLE), [
      {
        Effect: 'Allow',
        Principal: { Service: 'states.amazonaws.com' },
        Action: ['sts:AssumeRole'],
        Resource: [],
        Condition: { StringEquals: { 'aws:SourceAccount': '<account>' } },
      },
    ]);
  });

  test("no role allows a wildcard action, a whole bucket's objects, or Resource '*' beyond what AWS requires", () => {
    const offences: string[] = [];
    for (const { name, t, d } of deployments()) {
      for (const [id] of resourcesOfType(t, 'AWS::IAM::Role')) {
        for (const statement of roleStatements(t, id, d)) {
          const where = `${id} ${statement.Sid ?? statement.Action.join(',')} (${name})`;
          if (statement.Effect !== 'Allow') offences.push(`${where}: ${statement.Effect}`);
          for (const action of statement.Action) if (action.includes('*')) offences.push(`${where}: action ${action}`);
          if (statement.Resource.length === 0) offences.push(`${where}: no resource`);
          for (const resource of statement.Resource) {
            if (/^arn:aws:s3:::[^/]+\/\*$/.test(resource)) offences.push(`${where}: every object of ${resource}`);
            if (resource.includes('*') && resource !== '*' && !resource.endsWith('/*') && !resource.endsWith(':*')) {
              offences.push(`${where}: a wildcard inside ${resource}`);
            }
          }
          // Log delivery and X-Ray take no resource-level permissions: they, and only they, get Resource '*'.
          if (statement.Resource.includes('*')) {
            if (statement.Resource.length !== 1) offences.push(`${where}: '*' beside other resources`);
            for (const action of statement.Action) {
              if (!ANY_RESOURCE_ONLY.has(action)) offences.push(`${where}: ${action} on '*'`);
            }
          }
        }
      }
    }
    assert.deepEqual(offences, [], 'least privilege');
  });
});

describe('buckets', () => {
  const BUCKETS = [
    { id: 'RawBucket', name: RAW_BUCKET, customName: CUSTOM.rawBucket },
    { id: 'LakeBucket', name: LAKE_BUCKET, customName: CUSTOM.lakeBucket },
  ];

  test('raw and lake: named by the params, encrypted, private, owner-enforced', () => {
    for (const { id, name, customName } of BUCKETS) {
      const properties = propertiesOf(template, id);
      assert.equal(template.Resources[id]?.Type, 'AWS::S3::Bucket', `${id} is a bucket`);
      assert.equal(properties.BucketName, name, `${id}: name`);
      assert.equal(propertiesOf(custom, id).BucketName, customName, `${id}: name from its param`);
      assert.deepEqual(
        properties.BucketEncryption,
        { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        `${id}: SSE-S3`,
      );
      assert.deepEqual(
        properties.PublicAccessBlockConfiguration,
        { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        `${id}: no public access`,
      );
      assert.deepEqual(
        properties.OwnershipControls,
        { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        `${id}: no ACLs`,
      );
    }
  });

  test('the raw bucket sends its events to EventBridge, where one rule matches them', () => {
    assert.deepEqual(propertiesOf(template, 'RawBucket').NotificationConfiguration, {
      EventBridgeConfiguration: { EventBridgeEnabled: true },
    });
    assert.equal(propertiesOf(template, 'LakeBucket').NotificationConfiguration, undefined, 'lake: none');
    // The schedule and the S3-event rule (tested in "S3 events" below).
    const patterns = resourcesOfType(template, 'AWS::Events::Rule')
      .map(([id, r]) => [id, obj(r.Properties, 'rule').EventPattern])
      .filter(([, pattern]) => pattern !== undefined)
      .map(([id]) => id);
    assert.deepEqual(patterns, ['RawObjectCreatedRule'], 'one rule matches S3 events');
  });

  test('lifecycle: the run scratch expires after scratchExpirationDays, incomplete uploads abort after a day', () => {
    const abort = {
      Id: 'AbortIncompleteMultipartUploads',
      Status: 'Enabled',
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
    };
    const scratch = SCRATCH.slice(0, -1);
    for (const [t, days] of [
      [template, 7],
      [custom, 3],
    ] as const) {
      const rules = obj(propertiesOf(t, 'LakeBucket').LifecycleConfiguration, 'lake lifecycle').Rules as JsonObject[];
      assert.deepEqual(
        rules.map((r) => ({
          ...r,
          ...(r.ExpirationInDays === undefined ? {} : { ExpirationInDays: Number(r.ExpirationInDays) }),
        })),
        [{ Id: 'ExpireRunScratch', Status: 'Enabled', Prefix: scratch, ExpirationInDays: days }, abort],
        `lake lifecycle (${days} days)`,
      );
    }
    assert.equal(scratch, '_scratch/', 'the prefix Commit removes (shared/keys.ts scratchPrefix)');
    assert.deepEqual(propertiesOf(template, 'RawBucket').LifecycleConfiguration, { Rules: [abort] }, 'raw lifecycle');
  });

  test('TLS only: each bucket policy denies any request without aws:SecureTransport, and allows nothing', () => {
    for (const { id, name } of BUCKETS) {
      const policies = resourcesOfType(template, 'AWS::S3::BucketPolicy').filter(
        ([, r]) => JSON.stringify(r.Properties?.Bucket) === JSON.stringify({ Ref: id }),
      );
      assert.equal(policies.length, 1, `${id}: one bucket policy`);
      const properties = obj((policies[0] as [string, { Properties?: JsonObject }])[1].Properties, `${id} policy`);
      assert.equal(resolve(template, properties.Bucket as Json), name, `${id}: the policy's bucket`);
      // The one s3:* in the stack, and a Deny: it takes away, it grants nothing.
      assert.deepEqual(policyStatements(template, properties.PolicyDocument as Json), [
        {
          Sid: 'DenyInsecureTransport',
          Effect: 'Deny',
          Principal: '*',
          Action: ['s3:*'],
          Resource: [s3Arn(name), s3Arn(name, '*')],
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
      ]);
    }
  });
});

describe('operations: the failure alarm', () => {
  test('ExecutionsFailed + ExecutionsTimedOut of the state machine, summed per 5 minutes, alarm at 1', () => {
    const alarms = resourcesOfType(template, 'AWS::CloudWatch::Alarm');
    assert.deepEqual(
      alarms.map(([id]) => id).sort(),
      ['EtlFailedAlarm', 'RawEventsDeadLetterAlarm'],
      'the failed-execution alarm and the dead-letter alarm',
    );
    const properties = resolve(template, propertiesOf(template, 'EtlFailedAlarm')) as JsonObject;
    const metric = (Id: string, MetricName: string): Json => ({
      Id,
      ReturnData: false,
      MetricStat: {
        Metric: {
          Namespace: 'AWS/States',
          MetricName,
          Dimensions: [{ Name: 'StateMachineArn', Value: stateMachineArn }],
        },
        Period: 300,
        Stat: 'Sum',
      },
    });
    assert.deepEqual(properties.Metrics, [
      {
        Id: 'failedOrTimedOut',
        Label: 'ExecutionsFailed + ExecutionsTimedOut',
        Expression: 'FILL(failed, 0) + FILL(timedOut, 0)',
        ReturnData: true,
      },
      metric('failed', 'ExecutionsFailed'),
      metric('timedOut', 'ExecutionsTimedOut'),
    ]);
    assert.equal(properties.ComparisonOperator, 'GreaterThanOrEqualToThreshold', 'comparison');
    assert.equal(properties.Threshold, 1, 'threshold');
    assert.equal(properties.EvaluationPeriods, 1, 'evaluation periods');
    assert.equal(properties.DatapointsToAlarm, 1, 'datapoints');
    assert.equal(properties.TreatMissingData, 'notBreaching', 'no executions is not a failure');
    assert.equal(properties.AlarmName, `${STATE_MACHINE}-failed`, 'name');
  });

  test('without alarmTopicArn it notifies a topic of its own (email optional); with it, that topic', () => {
    const topicArn = 'arn:aws:sns:us-east-1:<account>:sparkify-lake-dev-alarms';
    assert.ok(isCreated(template, 'AlarmTopic'), 'a topic is created when alarmTopicArn is empty');
    assert.equal(propertiesOf(template, 'AlarmTopic').TopicName, 'sparkify-lake-dev-alarms', 'topic name');
    assert.deepEqual(resolve(template, propertiesOf(template, 'EtlFailedAlarm').AlarmActions as Json), [topicArn]);
    assert.ok(!isCreated(template, 'AlarmEmailSubscription'), 'no subscription without alarmEmail');

    assert.ok(!isCreated(custom, 'AlarmTopic'), 'no topic when alarmTopicArn is given');
    assert.deepEqual(resolve(custom, propertiesOf(custom, 'EtlFailedAlarm').AlarmActions as Json), [
      CUSTOM.alarmTopicArn,
    ]);
    assert.ok(!isCreated(custom, 'AlarmEmailSubscription'), 'alarmEmail only subscribes to a topic made here');
    // alarmEmail reaches the subscription, which exists whenever the stack makes the topic.
    const subscription = propertiesOf(custom, 'AlarmEmailSubscription');
    assert.equal(subscription.Protocol, 'email', 'by email');
    assert.equal(subscription.Endpoint, CUSTOM.alarmEmail, 'to alarmEmail');
    assert.deepEqual(subscription.TopicArn, { Ref: 'AlarmTopic' }, 'on the topic made here');
    assert.ok(
      isCreated(custom, 'AlarmEmailSubscription', { conditions: { CreateAlarmTopic: true } }),
      'subscribed when the stack makes the topic and alarmEmail is given',
    );
  });
});

describe('S3 events: objects created start runs for their keys', () => {
  test('an EventBridge rule sends Object Created events under song_data/ and log_data/ of the raw bucket to a queue', () => {
    const rule = resolve(template, propertiesOf(template, 'RawObjectCreatedRule')) as JsonObject;
    assert.equal(rule.State, 'ENABLED');
    assert.deepEqual(rule.EventPattern, {
      source: ['aws.s3'],
      'detail-type': ['Object Created'],
      detail: {
        bucket: { name: [RAW_BUCKET] },
        object: { key: [{ prefix: 'song_data/' }, { prefix: 'log_data/' }] },
      },
    });
    assert.deepEqual(rule.Targets, [
      {
        Id: 'RawEventsQueue',
        Arn: RAW_EVENTS_QUEUE_ARN,
        DeadLetterConfig: { Arn: RAW_EVENTS_DLQ_ARN },
        RetryPolicy: { MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 185 },
      },
    ]);
    const custom_ = resolve(custom, propertiesOf(custom, 'RawObjectCreatedRule')) as JsonObject;
    assert.equal(custom_.State, 'DISABLED', 's3EventsEnabled=false');
    assert.deepEqual(
      ((custom_.EventPattern as JsonObject).detail as JsonObject).bucket,
      { name: [CUSTOM.rawBucket] },
      'the rawBucket param',
    );
    // The raw bucket sends its events to EventBridge at all.
    const notification = propertiesOf(template, 'RawBucket').NotificationConfiguration as JsonObject;
    assert.deepEqual(notification.EventBridgeConfiguration, { EventBridgeEnabled: true });
  });

  test('the queue batches for the trigger; a batch failed five times, or an undeliverable event, goes to the dead-letter queue', () => {
    const queue = resolve(template, propertiesOf(template, 'RawEventsQueue')) as JsonObject;
    assert.deepEqual(queue.RedrivePolicy, { deadLetterTargetArn: RAW_EVENTS_DLQ_ARN, maxReceiveCount: 5 });
    assert.equal(queue.SqsManagedSseEnabled, true, 'encrypted');
    const trigger = propertiesOf(template, logicalId('trigger'));
    assert.ok(
      (queue.VisibilityTimeout as number) >= 6 * (trigger.Timeout as number),
      'visibility at least six times the trigger timeout',
    );
    assert.equal(propertiesOf(template, 'RawEventsDeadLetterQueue').SqsManagedSseEnabled, true);
    assert.equal(propertiesOf(template, 'RawEventsDeadLetterQueue').MessageRetentionPeriod, 1209600, '14 days');

    const mappings = resourcesOfType(template, 'AWS::Lambda::EventSourceMapping');
    assert.equal(mappings.length, 1, 'one event source mapping');
    const mapping = resolve(template, (mappings[0] as [string, { Properties: Json }])[1].Properties) as JsonObject;
    assert.deepEqual(mapping, {
      BatchSize: 1000,
      MaximumBatchingWindowInSeconds: 60,
      EventSourceArn: RAW_EVENTS_QUEUE_ARN,
      FunctionName: functionArn('trigger'),
      Enabled: true,
    });
    const customMapping = resolve(
      custom,
      (resourcesOfType(custom, 'AWS::Lambda::EventSourceMapping')[0] as [string, { Properties: Json }])[1].Properties,
    ) as JsonObject;
    assert.equal(customMapping.MaximumBatchingWindowInSeconds, 120, 's3EventsBatchWindow');
    assert.equal(customMapping.Enabled, false, 's3EventsEnabled=false');

    const variables = obj(obj(trigger.Environment, 'trigger.Environment').Variables, 'variables');
    assert.deepEqual(resolve(template, variables) as JsonObject, {
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      NODE_OPTIONS: '--enable-source-maps',
      SPARKIFY_ALLOWED_SOURCES: `s3://${RAW_BUCKET}`,
      SPARKIFY_ALLOWED_TARGETS: `s3://${LAKE_BUCKET}`,
      STATE_MACHINE_ARN: stateMachineArn,
      RAW_BUCKET,
      SOURCE: `s3://${RAW_BUCKET}`,
      TARGET: `s3://${LAKE_BUCKET}`,
    });
  });

  test('only this rule may send to the queues, only over TLS; the dead-letter queue alarms', () => {
    const policy = propertiesOf(template, 'RawEventsQueuePolicy');
    assert.deepEqual(resolve(template, policy.Queues as Json), [
      'https://sqs.us-east-1.amazonaws.com/<account>/<RawEventsQueue>',
      'https://sqs.us-east-1.amazonaws.com/<account>/<RawEventsDeadLetterQueue>',
    ]);
    const statements = resolve(template, (policy.PolicyDocument as JsonObject).Statement as Json) as JsonObject[];
    assert.deepEqual(statements, [
      {
        Sid: 'EventBridgeSends',
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: [RAW_EVENTS_QUEUE_ARN, RAW_EVENTS_DLQ_ARN],
        Condition: { ArnEquals: { 'aws:SourceArn': 'arn:aws:events:us-east-1:<account>:rule/<RawObjectCreatedRule>' } },
      },
      {
        Sid: 'DenyInsecureTransport',
        Effect: 'Deny',
        Principal: '*',
        Action: 'sqs:*',
        Resource: [RAW_EVENTS_QUEUE_ARN, RAW_EVENTS_DLQ_ARN],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    ]);
    const alarm = resolve(template, propertiesOf(template, 'RawEventsDeadLetterAlarm')) as JsonObject;
    assert.deepEqual(
      [alarm.Namespace, alarm.MetricName, alarm.Dimensions, alarm.Threshold, alarm.ComparisonOperator],
      [
        'AWS/SQS',
        'ApproximateNumberOfMessagesVisible',
        [{ Name: 'QueueName', Value: '<RawEventsDeadLetterQueue>' }],
        1,
        'GreaterThanOrEqualToThreshold',
      ],
    );
    assert.deepEqual(alarm.AlarmActions, ['arn:aws:sns:us-east-1:<account>:sparkify-lake-dev-alarms']);
  });
});

describe('docs/deploy.md', () => {
  const doc = readFileSync(join(REPO, 'docs/deploy.md'), 'utf8');

  test("documents every param of serverless.yml in its parameters table, and every param's name is one", () => {
    const yml = readFileSync(join(REPO, 'serverless.yml'), 'utf8');
    const block = /^params:\n {2}default:\n((?: {4}.*\n|\s*\n)+)/m.exec(yml);
    assert.ok(block?.[1], 'serverless.yml has params.default');
    const params = [...block[1].matchAll(/^ {4}(\w+):/gm)].map((m) => m[1] as string);
    assert.deepEqual(
      [...params].sort(),
      [...new Set([...params, ...Object.keys(CUSTOM)])].sort(),
      'CUSTOM sets params',
    );
    const documented = [...doc.matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1] as string);
    for (const param of params) assert.ok(documented.includes(param), `docs/deploy.md documents ${param}`);
    for (const name of documented.filter((d) => !(FUNCTIONS as readonly string[]).includes(d))) {
      assert.ok(params.includes(name), `docs/deploy.md documents ${name}, which serverless.yml has not`);
    }
  });

  test("gives each function's memory and timeout as deployed", () => {
    for (const fn of FUNCTIONS) {
      const row = new RegExp(`^\\| \`${fn}\` \\| (\\d+) MB \\| (\\d+) s \\|`, 'm').exec(doc);
      assert.ok(row, `docs/deploy.md has a row for ${fn}`);
      const properties = propertiesOf(template, logicalId(fn));
      assert.equal(Number(row[1]), properties.MemorySize, `${fn}: memory in the docs`);
      assert.equal(Number(row[2]), properties.Timeout, `${fn}: timeout in the docs`);
    }
  });
});

describe('Glue catalog', () => {
  test('one database, sparkify_<stage> with dashes as underscores', () => {
    const { name, expression } = glueDatabase();
    assert.equal(name, GLUE_DATABASE);
    // The same expression for a stage with dashes gives a name Athena takes.
    const dashed = JSON.parse(JSON.stringify(expression).replaceAll(GLUE_DATABASE, 'sparkify_qa-eu-1')) as Json;
    assert.equal(evaluate(dashed), 'sparkify_qa_eu_1');
  });

  test('one external Parquet table per star-schema table, at s3://<lake>/<table>/', () => {
    const { id: database } = glueDatabase();
    assert.deepEqual([...glueTables().keys()].sort(), [...TABLES].sort());
    for (const table of TABLES) {
      const { input, properties, storage } = glueTable(table);
      assert.deepEqual(properties.DatabaseName, { Ref: database }, `${table}: in the Glue database`);
      assert.deepEqual(properties.CatalogId, { Ref: 'AWS::AccountId' }, `${table}: catalog`);
      assert.equal(input.TableType, 'EXTERNAL_TABLE', `${table}: table type`);
      assert.equal(parametersOf(table).classification, 'parquet', `${table}: classification`);
      assert.equal(storage.Location, `s3://${LAKE_BUCKET}/${table}/`, `${table}: location`);
      assert.equal(storage.InputFormat, PARQUET_INPUT, `${table}: input format`);
      assert.equal(storage.OutputFormat, PARQUET_OUTPUT, `${table}: output format`);
      assert.equal(obj(storage.SerdeInfo, `${table}.SerdeInfo`).SerializationLibrary, PARQUET_SERDE, `${table}: SerDe`);
    }
  });

  test('columns are TABLE_COLUMNS minus DEFAULT_PARTITIONS, in order, with their Glue types', () => {
    for (const table of TABLES) {
      assert.deepEqual(glueTable(table).storage.Columns, expectedColumns(table), `${table}: columns`);
    }
    // Spelled out once, so a mapping mistake cannot hide in both sides.
    assert.deepEqual(expectedColumns('songs'), [
      { Name: 'song_id', Type: 'string' },
      { Name: 'title', Type: 'string' },
      { Name: 'artist_id', Type: 'string' },
      { Name: 'year', Type: 'int' },
      { Name: 'duration', Type: 'double' },
    ]);
    assert.deepEqual(
      expectedColumns('songplays').filter((c) => c.Type !== 'string'),
      [
        { Name: 'start_time', Type: 'timestamp' },
        { Name: 'session_id', Type: 'bigint' },
      ],
    );
  });

  test('partition keys are DEFAULT_PARTITIONS, apart from the columns, with their types', () => {
    for (const table of TABLES) {
      const { input, storage } = glueTable(table);
      const keys = (input.PartitionKeys ?? []) as GlueColumn[];
      assert.deepEqual(keys, expectedPartitionKeys(table), `${table}: partition keys`);
      const columns = new Set((storage.Columns as GlueColumn[]).map((c) => c.Name));
      for (const key of keys) assert.equal(columns.has(key.Name), false, `${table}: ${key.Name} is not a column`);
    }
    assert.deepEqual(expectedPartitionKeys('songplays'), [
      { Name: 'year', Type: 'int' },
      { Name: 'month', Type: 'int' },
    ]);
    assert.deepEqual(expectedPartitionKeys('songs'), []);
  });

  test('partition projection: integer year and month on songplays and time, none on unpartitioned tables', () => {
    for (const table of TABLES) {
      const parameters = parametersOf(table);
      const partitions = DEFAULT_PARTITIONS[table];
      if (partitions.length === 0) {
        assert.equal(parameters['projection.enabled'], undefined, `${table}: no projection without partitions`);
        continue;
      }
      assert.equal(parameters['projection.enabled'], 'true', `${table}: projection enabled`);
      for (const column of partitions) {
        assert.equal(parameters[`projection.${column}.type`], 'integer', `${table}.${column}: integer projection`);
        assert.match(parameters[`projection.${column}.range`] ?? '', /^\d+,\d+$/, `${table}.${column}: a range`);
        assert.equal(parameters[`projection.${column}.digits`], undefined, `${table}.${column}: unpadded, as written`);
      }
      const hivePath = partitions.map((c) => `${c}=\${${c}}/`).join('');
      assert.equal(parameters['storage.location.template'], `s3://${LAKE_BUCKET}/${table}/${hivePath}`, table);
    }
    for (const table of ['songplays', 'time'] as const) {
      const parameters = parametersOf(table);
      assert.equal(parameters['projection.month.range'], '1,12', `${table}: months`);
      const [low, high] = (parameters['projection.year.range'] ?? '').split(',').map(Number);
      assert.ok(
        low !== undefined && high !== undefined && low <= 2018 && high >= 2100,
        `${table}: 2018 to 2100 at least`,
      );
    }
  });

  test('the named queries are NAMED_QUERIES, in the Glue database', () => {
    const { id: database } = glueDatabase();
    const queries = resourcesOfType(template, 'AWS::Athena::NamedQuery').map(([id, r]) =>
      obj(r.Properties, `${id}.Properties`),
    );
    assert.deepEqual(
      queries.map((q) => ({ name: q.Name, description: q.Description, sql: q.QueryString })),
      NAMED_QUERIES.map((q) => ({ name: q.name, description: q.description, sql: q.sql })),
    );
    for (const q of queries) assert.deepEqual(q.Database, { Ref: database }, `${q.Name}: database`);
  });
});

describe('the Parquet the pipeline writes (public sample) matches the Glue tables', () => {
  test('each table file holds exactly the Glue columns, in order, with the Glue types', async () => {
    const db = await duck();
    for (const table of TABLES) {
      const files = tableFiles(table);
      assert.ok(files.length > 0, `${table}: the run wrote files`);
      const types = await parquetTypes(db, join(lake.dir, files[0] as string));
      const fileColumns = Object.entries(types).map(([name, description]) => ({
        Name: name,
        Type: glueTypeOfParquet(description),
      }));
      assert.deepEqual(fileColumns, glueTable(table).storage.Columns, `${table}: ${files[0]}`);
    }
  });

  test('no partition column is inside any file', async () => {
    const db = await duck();
    for (const table of TABLES) {
      for (const file of tableFiles(table)) {
        const names = Object.keys(await parquetTypes(db, join(lake.dir, file)));
        for (const column of DEFAULT_PARTITIONS[table]) {
          assert.equal(names.includes(column), false, `${file}: holds ${column}`);
        }
      }
    }
  });

  test('every partition folder written is one the projection yields', async () => {
    const unprojected: string[] = [];
    for (const table of TABLES) {
      const parameters = parametersOf(table);
      const partitions = DEFAULT_PARTITIONS[table];
      const folders = [...new Set(tableFiles(table).map((f) => `s3://${LAKE_BUCKET}/${dirname(f)}/`))];
      if (partitions.length === 0) {
        assert.deepEqual(folders, [`s3://${LAKE_BUCKET}/${table}/`], `${table}: files at the table's location`);
        continue;
      }
      const locationTemplate = parameters['storage.location.template'] ?? '';
      const literal = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      const pattern = new RegExp(
        `^${locationTemplate
          .split(/\$\{\w+\}/)
          .map(literal)
          .join('([^/]+)')}$`,
      );
      for (const folder of folders) {
        const match = pattern.exec(folder);
        assert.ok(match, `${folder} is under ${locationTemplate}`);
        partitions.forEach((column, i) => {
          const value = match[i + 1] as string;
          const [low, high] = (parameters[`projection.${column}.range`] ?? '').split(',').map(Number);
          const projected =
            String(Number.parseInt(value, 10)) === value &&
            Number(value) >= (low as number) &&
            Number(value) <= (high as number);
          if (!projected) unprojected.push(`${folder} (${column}=${value} outside ${low},${high})`);
        });
      }
    }
    assert.deepEqual(unprojected, [], 'every folder Athena must read is projected');
    // Songs of unknown year are rows of the unpartitioned songs table, so Athena sees them.
    const songs = await readTable(await duck(), lake.dir, 'songs');
    assert.equal(songs.filter((song) => song.year === null).length, 43, 'songs of unknown year are in the table');
  });
});
