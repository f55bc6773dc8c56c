/**
 * serverless.yml, packaged offline (`npm run package`: no network, no AWS account): the Lambda functions, the state
 * machine deployed from statemachine/etl.asl.json, and the analytics catalog — Glue tables whose columns,
 * partitions and projection are the TypeScript contract (shared/schemas.ts, shared/config.ts) and the Parquet the
 * pipeline really writes, and Athena named queries that are shared/queries.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_PARTITIONS, TABLES, type TableName } from '../../shared/config.ts';
import { NAMED_QUERIES } from '../../shared/queries.ts';
import { type ColumnKind, TABLE_COLUMNS } from '../../shared/schemas.ts';
import { duck, parquetTypes, readTable } from '../support/lake.ts';
import { PUBLIC_SAMPLE, runEtl, tempDir } from '../support/run.ts';
import {
  deployedDefinition,
  evaluate,
  getAtts,
  glueType,
  glueTypeOfParquet,
  type Json,
  type JsonObject,
  type PackageRun,
  packageStack,
  REPO,
  readTemplate,
  resourcesOfType,
  type Template,
  zipEntries,
} from '../support/stack.ts';

// What `npm run package` (stage dev) must give, from serverless.yml's params.
const LAKE_BUCKET = 'sparkify-lake-dev-lake';
const RAW_BUCKET = 'sparkify-lake-dev-raw';
const GLUE_DATABASE = 'sparkify_dev';
const FUNCTIONS = ['plan', 'map', 'reduce', 'commit'] as const;
const logicalId = (fn: string): string => `${fn[0]?.toUpperCase()}${fn.slice(1)}LambdaFunction`;

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
const lake = tempDir('stack');
let run: PackageRun;
let template: Template;

before(
  async () => {
    // Packaging and the ETL run are independent: run them together.
    const [packaging] = await Promise.all([packageStack(packaged), runEtl(PUBLIC_SAMPLE, lake.dir)]);
    run = packaging;
    assert.equal(run.code, 0, `npm run package failed:\n${run.output}`);
    template = readTemplate(packaged);
  },
  { timeout: 120_000 },
);

after(() => {
  rmSync(packaged, { recursive: true, force: true });
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
  test('packages offline into a CloudFormation template', (t) => {
    t.diagnostic(`npm run package: ${run.ms} ms`);
    assert.match(run.output, /Service packaged/, 'osls reports the service packaged');
    assert.match(run.output, /State machine "etl" definition is valid/, 'the plugin validated the ASL');
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

describe('Lambda functions and the state machine', () => {
  test('the four functions run nodejs22.x on arm64, one handler module each', () => {
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

  test('the state machine deploys statemachine/etl.asl.json, functions by GetAtt of their resources', () => {
    const machines = resourcesOfType(template, 'AWS::StepFunctions::StateMachine');
    assert.equal(machines.length, 1, 'one state machine');
    const [id, machine] = machines[0] as [string, { Properties?: JsonObject }];
    const properties = obj(machine.Properties, id);
    assert.equal(properties.StateMachineName, 'sparkify-lake-dev-etl');
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
      FUNCTIONS.map(logicalId).sort(),
      'the definition names every function, and nothing else, by GetAtt',
    );
    for (const [logical, attribute] of referenced) {
      assert.equal(attribute, 'Arn', `${logical}: GetAtt Arn`);
      assert.equal(template.Resources[logical]?.Type, 'AWS::Lambda::Function', `${logical} is a Lambda function`);
    }
  });

  test('the daily schedule starts the machine on the raw bucket into the lake bucket', () => {
    const rules = resourcesOfType(template, 'AWS::Events::Rule');
    assert.equal(rules.length, 1, 'one schedule');
    const properties = obj((rules[0] as [string, { Properties?: JsonObject }])[1].Properties, 'rule');
    assert.equal(properties.ScheduleExpression, 'rate(1 day)');
    const targets = properties.Targets as JsonObject[];
    assert.equal(targets.length, 1, 'one target');
    const input = JSON.parse(String(targets[0]?.Input));
    assert.deepEqual(input, { source: `s3://${RAW_BUCKET}`, target: `s3://${LAKE_BUCKET}` });
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
