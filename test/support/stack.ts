/**
 * The packaged CloudFormation stack, read back for tests: packaging (`npm run package`, no AWS account), the
 * template's resources, a small evaluator for the intrinsics the stack uses and a resolver that turns IAM policies
 * into readable ARNs, the state machine's definition with its substitutions undone, the artifact's file list, and
 * the Glue type of a declared or a Parquet column.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ColumnKind } from '../../shared/schemas.ts';

/** The repository root. */
export const REPO = decodeURIComponent(new URL('../..', import.meta.url).pathname).replace(/\/$/, '');

/** The packaged template's file name, as `npm run package` writes it. */
export const TEMPLATE_FILE = 'cloudformation-template-update-stack.json';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** A CloudFormation resource. */
export interface Resource {
  Type: string;
  Properties?: JsonObject;
  DependsOn?: Json;
  Condition?: string;
}

/** A CloudFormation template (the parts the tests read). */
export interface Template {
  Resources: Record<string, Resource>;
  Conditions?: JsonObject;
  Outputs?: JsonObject;
}

/** What one packaging run printed and how long it took. */
export interface PackageRun {
  code: number | null;
  output: string;
  ms: number;
}

/**
 * Runs `npm run package` (the repo's own script: dummy credentials, stage dev, us-east-1) with its output in `dir`
 * instead of `.serverless/`, so that a test never races a developer's packaging; `params` are serverless.yml params
 * given as `--param=name=value`, as a deployment would.
 */
export function packageStack(
  dir: string,
  timeoutMs = 90_000,
  params: Record<string, string> = {},
): Promise<PackageRun> {
  const started = Date.now();
  const paramArgs = Object.entries(params).map(([name, value]) => `--param=${name}=${value}`);
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', 'package', '--', '--package', dir, ...paramArgs], {
      cwd: REPO,
      env: { ...process.env, CI: '1', FORCE_COLOR: '0', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`npm run package did not finish in ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output, ms: Date.now() - started });
    });
  });
}

/** The packaged template in `dir`. */
export function readTemplate(dir: string): Template {
  return JSON.parse(readFileSync(join(dir, TEMPLATE_FILE), 'utf8')) as Template;
}

/** Logical id and resource of every resource of one type, in template order. */
export function resourcesOfType(template: Template, type: string): [string, Resource][] {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

const isObject = (v: Json | undefined): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** How an evaluation answers Ref, Fn::GetAtt and Condition; a missing hook makes that intrinsic an error. */
interface Scope {
  ref: (name: string) => string;
  getAtt?: (logicalId: string, attribute: string) => string;
  condition?: (name: string) => boolean;
}

/** Stands for `Ref: AWS::NoValue` while evaluating: dropped from the list or object holding it. */
const NO_VALUE: unique symbol = Symbol('AWS::NoValue');
type Evaluated = Json | typeof NO_VALUE;

function evaluateIn(expr: Json, scope: Scope): Evaluated {
  if (Array.isArray(expr)) {
    return expr.map((e) => evaluateIn(e, scope)).filter((e): e is Json => e !== NO_VALUE);
  }
  if (!isObject(expr)) return expr;
  const keys = Object.keys(expr);
  const [fn] = keys;
  if (keys.length !== 1 || fn === undefined || !(fn === 'Ref' || fn === 'Condition' || fn.startsWith('Fn::'))) {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(expr)) {
      const value = evaluateIn(v, scope);
      if (value !== NO_VALUE) out[k] = value;
    }
    return out;
  }
  const arg = expr[fn] as Json;
  const str = (v: Json): string => {
    const value = evaluateIn(v, scope);
    if (typeof value !== 'string') throw new Error(`${fn}: expected a string, got ${JSON.stringify(value)}`);
    return value;
  };
  const list = (v: Json): string[] => {
    const value = evaluateIn(v, scope);
    if (!Array.isArray(value)) throw new Error(`${fn}: expected a list, got ${JSON.stringify(value)}`);
    return value.map((item) => {
      if (typeof item !== 'string') throw new Error(`${fn}: expected strings, got ${JSON.stringify(item)}`);
      return item;
    });
  };
  const condition = (c: Json): boolean => {
    if (!scope.condition) throw new Error(`evaluate: ${fn} needs the template's conditions`);
    if (typeof c === 'string') return scope.condition(c);
    const value = evaluateIn(c, scope);
    if (typeof value !== 'boolean') throw new Error(`${fn}: expected a condition, got ${JSON.stringify(value)}`);
    return value;
  };
  const args = (n?: number): Json[] => {
    if (!Array.isArray(arg) || (n !== undefined && arg.length !== n)) throw new Error(`${fn}: bad arguments`);
    return arg;
  };
  switch (fn) {
    case 'Ref': {
      const name = str(arg);
      return name === 'AWS::NoValue' ? NO_VALUE : scope.ref(name);
    }
    case 'Condition':
      return condition(str(arg));
    case 'Fn::GetAtt': {
      const [id, attribute] = Array.isArray(arg) ? arg : String(arg).split('.');
      if (!scope.getAtt) throw new Error('evaluate: Fn::GetAtt is not supported without a template');
      return scope.getAtt(String(id), String(attribute));
    }
    case 'Fn::Join': {
      const [delimiter, items] = args(2);
      return list(items as Json).join(str(delimiter as Json));
    }
    case 'Fn::Split': {
      const [delimiter, text] = args(2);
      return str(text as Json).split(str(delimiter as Json));
    }
    case 'Fn::Sub': {
      const [template, vars] = Array.isArray(arg) ? [arg[0] as Json, (arg[1] ?? {}) as Json] : [arg, {}];
      if (typeof template !== 'string' || !isObject(vars)) throw new Error('Fn::Sub takes a string and a map');
      const values: Record<string, string> = {};
      for (const [k, v] of Object.entries(vars)) values[k] = str(v);
      return template.replace(/\$\{(!?)([^}]*)\}/g, (_m, bang: string, name: string) => {
        if (bang) return `\${${name}}`;
        const value = values[name];
        if (value !== undefined) return value;
        const dot = name.indexOf('.');
        if (dot > 0 && !name.startsWith('AWS::')) {
          if (!scope.getAtt) throw new Error(`Fn::Sub: no value for \${${name}}`);
          return scope.getAtt(name.slice(0, dot), name.slice(dot + 1));
        }
        return scope.ref(name);
      });
    }
    case 'Fn::If': {
      const [name, whenTrue, whenFalse] = args(3);
      return evaluateIn((condition(str(name as Json)) ? whenTrue : whenFalse) as Json, scope);
    }
    case 'Fn::Equals': {
      const [a, b] = args(2);
      return JSON.stringify(evaluateIn(a as Json, scope)) === JSON.stringify(evaluateIn(b as Json, scope));
    }
    case 'Fn::Not':
      return !condition(args(1)[0] as Json);
    case 'Fn::And':
      return args().every((c) => condition(c));
    case 'Fn::Or':
      return args().some((c) => condition(c));
    default:
      throw new Error(`evaluate: ${fn} is not supported`);
  }
}

/**
 * Evaluates the intrinsics this stack uses in resource properties: Ref (from `refs`), Fn::Join, Fn::Split and
 * Fn::Sub (variables from its map or `refs`). Anything else is an error naming it, so a test never compares an
 * unevaluated expression by accident.
 */
export function evaluate(expr: Json, refs: Record<string, string> = {}): Json {
  const value = evaluateIn(expr, {
    ref: (name) => {
      const found = refs[name];
      if (found === undefined) throw new Error(`Ref ${name}: no value given`);
      return found;
    },
  });
  if (value === NO_VALUE) throw new Error('evaluate: the whole expression is AWS::NoValue');
  return value;
}

/** The deployment a template is resolved for: pseudo parameters, and conditions forced either way. */
export interface Deployment {
  /** AWS::Region; default us-east-1, the region `npm run package` packages for. */
  region?: string;
  /** AWS::AccountId; default the placeholder `<account>`, so that resolved ARNs read as the template means them. */
  account?: string;
  /** Conditions decided here instead of by the template's expressions (e.g. { TracingEnabled: true }). */
  conditions?: Record<string, boolean>;
}

/**
 * Resolves a value of the template into what CloudFormation would deploy, as readable strings: pseudo parameters,
 * Ref and Fn::GetAtt of the stack's resources (their ARNs and names built from their properties, the account a
 * placeholder), Fn::Sub, Fn::Join, Fn::Split, and Fn::If over the template's Conditions. `Ref: AWS::NoValue` drops
 * the entry holding it. An intrinsic or a resource type it does not know is an error naming it.
 */
export function resolve(template: Template, expr: Json, deployment: Deployment = {}): Json {
  const { region = 'us-east-1', account = '<account>', conditions = {} } = deployment;
  const partition = 'aws';
  const pseudo: Record<string, string> = {
    'AWS::Region': region,
    'AWS::AccountId': account,
    'AWS::Partition': partition,
    'AWS::URLSuffix': 'amazonaws.com',
  };
  const deciding = new Set<string>();
  const scope: Scope = {
    ref: (name) => {
      const value = pseudo[name];
      if (value !== undefined) return value;
      const { type, property } = resource(name);
      switch (type) {
        case 'AWS::S3::Bucket':
          return property('BucketName');
        case 'AWS::Lambda::Function':
          return property('FunctionName');
        case 'AWS::Logs::LogGroup':
          return property('LogGroupName');
        case 'AWS::SNS::Topic':
          return `arn:${partition}:sns:${region}:${account}:${property('TopicName')}`;
        case 'AWS::StepFunctions::StateMachine':
          return `arn:${partition}:states:${region}:${account}:stateMachine:${property('StateMachineName')}`;
        case 'AWS::IAM::Role':
          return property('RoleName', `<${name}>`);
        case 'AWS::SQS::Queue':
          return `https://sqs.${region}.amazonaws.com/${account}/${property('QueueName', `<${name}>`)}`;
        default:
          throw new Error(`Ref ${name}: resolving a ${type} is not supported`);
      }
    },
    getAtt: (id, attribute) => {
      const { type, property } = resource(id);
      const arn = attribute === 'Arn';
      if (type === 'AWS::S3::Bucket' && arn) return `arn:${partition}:s3:::${property('BucketName')}`;
      if (type === 'AWS::Lambda::Function' && arn) {
        return `arn:${partition}:lambda:${region}:${account}:function:${property('FunctionName')}`;
      }
      if (type === 'AWS::Logs::LogGroup' && arn) {
        return `arn:${partition}:logs:${region}:${account}:log-group:${property('LogGroupName')}:*`;
      }
      if (type === 'AWS::IAM::Role' && arn) return `arn:${partition}:iam::${account}:role/${scope.ref(id)}`;
      if (type === 'AWS::SNS::Topic' && attribute === 'TopicArn') return scope.ref(id);
      // Unnamed queues and rules get CloudFormation-made names: shown as the placeholder <LogicalId>.
      if (type === 'AWS::SQS::Queue' && (arn || attribute === 'QueueName')) {
        const name = property('QueueName', `<${id}>`);
        return arn ? `arn:${partition}:sqs:${region}:${account}:${name}` : name;
      }
      if (type === 'AWS::Events::Rule' && arn) {
        return `arn:${partition}:events:${region}:${account}:rule/${property('Name', `<${id}>`)}`;
      }
      if (type === 'AWS::StepFunctions::StateMachine' && arn) return scope.ref(id);
      throw new Error(`Fn::GetAtt ${id}.${attribute}: resolving a ${type}'s ${attribute} is not supported`);
    },
    condition: (name) => {
      const forced = conditions[name];
      if (forced !== undefined) return forced;
      const expression = template.Conditions?.[name];
      if (expression === undefined) throw new Error(`no condition ${name}`);
      if (deciding.has(name)) throw new Error(`condition ${name} refers to itself`);
      deciding.add(name);
      try {
        const value = evaluateIn(expression, scope);
        if (typeof value !== 'boolean') throw new Error(`condition ${name} is not a boolean`);
        return value;
      } finally {
        deciding.delete(name);
      }
    },
  };
  /** A resource the deployment has: one whose Condition is false is not created, so naming it is an error. */
  const resource = (id: string) => {
    const found = template.Resources[id];
    if (!found) throw new Error(`no resource ${id}`);
    if (found.Condition !== undefined && !scope.condition?.(found.Condition)) {
      throw new Error(`${id} is not created (its condition ${found.Condition} is false)`);
    }
    const property = (key: string, fallback?: string): string => {
      const raw = found.Properties?.[key];
      if (raw === undefined && fallback !== undefined) return fallback;
      const value = raw === undefined ? undefined : evaluateIn(raw, scope);
      if (typeof value !== 'string') throw new Error(`${id}.${key}: expected a string, got ${JSON.stringify(value)}`);
      return value;
    };
    return { type: found.Type, property };
  };
  const value = evaluateIn(expr, scope);
  if (value === NO_VALUE) throw new Error('resolve: the whole expression is AWS::NoValue');
  return value;
}

/** Whether a resource is created in a deployment (it has no Condition, or its Condition holds). */
export function isCreated(template: Template, id: string, deployment: Deployment = {}): boolean {
  const found = template.Resources[id];
  if (!found) return false;
  if (found.Condition === undefined) return true;
  return resolve(template, { Condition: found.Condition }, deployment) === true;
}

/** One IAM policy statement, resolved: actions and resources as sorted lists of strings. */
export interface Statement {
  Sid?: string;
  Effect: string;
  Action: string[];
  Resource: string[];
  Principal?: Json;
  Condition?: Json;
}

const sortedStrings = (value: Json | undefined, what: string): string[] => {
  const items = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return items
    .map((item) => {
      if (typeof item !== 'string') throw new Error(`${what}: expected strings, got ${JSON.stringify(item)}`);
      return item;
    })
    .sort();
};

/** The statements of a policy document, resolved (see `resolve`) and normalised (see `Statement`). */
export function policyStatements(template: Template, document: Json, deployment: Deployment = {}): Statement[] {
  const resolved = resolve(template, document, deployment);
  if (!isObject(resolved)) throw new Error('a policy document is an object');
  const statements = resolved.Statement;
  const list = Array.isArray(statements) ? statements : statements === undefined ? [] : [statements];
  return list.map((raw, i) => {
    if (!isObject(raw)) throw new Error(`statement ${i} is not an object`);
    const known = new Set(['Sid', 'Effect', 'Action', 'Resource', 'Principal', 'Condition']);
    const unknown = Object.keys(raw).filter((k) => !known.has(k));
    if (unknown.length > 0) throw new Error(`statement ${i}: unexpected ${unknown.join(', ')} (e.g. NotAction)`);
    const statement: Statement = {
      Effect: String(raw.Effect),
      Action: sortedStrings(raw.Action, `statement ${i} Action`),
      Resource: sortedStrings(raw.Resource, `statement ${i} Resource`),
    };
    if (raw.Sid !== undefined) statement.Sid = String(raw.Sid);
    if (raw.Principal !== undefined) statement.Principal = raw.Principal;
    if (raw.Condition !== undefined) statement.Condition = raw.Condition;
    return statement;
  });
}

/** A role's inline policies' statements, resolved; a role with managed policies or a boundary is an error. */
export function roleStatements(template: Template, roleId: string, deployment: Deployment = {}): Statement[] {
  const role = template.Resources[roleId];
  if (role?.Type !== 'AWS::IAM::Role') throw new Error(`${roleId} is not an AWS::IAM::Role`);
  const properties = role.Properties ?? {};
  for (const key of ['ManagedPolicyArns', 'PermissionsBoundary']) {
    if (key in properties) throw new Error(`${roleId}: ${key} is not read by these tests`);
  }
  const policies = (properties.Policies ?? []) as JsonObject[];
  return policies.flatMap((policy) => policyStatements(template, policy.PolicyDocument as Json, deployment));
}

/**
 * The state machine definition as the template deploys it, parsed, with each Fn::Sub variable put back as the
 * intrinsic it stands for (e.g. `{"Fn::GetAtt": ["PlanLambdaFunction", "Arn"]}`), so that it compares
 * structurally with the ASL file. A variable used anywhere but as a whole JSON string is an error.
 */
export function deployedDefinition(definitionString: Json): JsonObject {
  let template: string;
  let vars: JsonObject = {};
  if (typeof definitionString === 'string') {
    template = definitionString;
  } else if (isObject(definitionString) && 'Fn::Sub' in definitionString) {
    const arg = definitionString['Fn::Sub'] as Json;
    if (typeof arg === 'string') {
      template = arg;
    } else if (Array.isArray(arg) && typeof arg[0] === 'string' && (arg[1] === undefined || isObject(arg[1]))) {
      template = arg[0];
      vars = (arg[1] as JsonObject | undefined) ?? {};
    } else {
      throw new Error(`DefinitionString: unexpected Fn::Sub ${JSON.stringify(arg).slice(0, 200)}`);
    }
  } else {
    throw new Error(`DefinitionString: unexpected ${JSON.stringify(definitionString).slice(0, 200)}`);
  }
  const marker = (name: string) => `\uE000sub:${name}\uE000`;
  const used = new Set<string>();
  // Fn::Sub: ${!X} is the literal ${X}; ${X} a variable (its map, else a pseudo parameter or a resource).
  const text = template.replace(/\$\{(!?)([^}]*)\}/g, (_m, bang: string, name: string) => {
    if (bang) return `\${${name}}`;
    used.add(name);
    return marker(name);
  });
  const intrinsicOf = (name: string): Json => {
    if (name in vars) return vars[name] as Json;
    const [resource, attribute] = name.split('.');
    return attribute === undefined ? { Ref: name } : { 'Fn::GetAtt': [resource as string, attribute] };
  };
  const restore = (value: Json): Json => {
    if (typeof value === 'string') {
      const whole = /^\uE000sub:([^\uE000]*)\uE000$/.exec(value);
      if (whole) return intrinsicOf(whole[1] as string);
      if (value.includes('\uE000sub:')) throw new Error(`DefinitionString: a substitution inside ${value}`);
      return value;
    }
    if (Array.isArray(value)) return value.map(restore);
    if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, restore(v)]));
    return value;
  };
  const unused = Object.keys(vars).filter((k) => !used.has(k));
  if (unused.length > 0) throw new Error(`DefinitionString: unused Fn::Sub variables ${unused.join(', ')}`);
  return restore(JSON.parse(text) as Json) as JsonObject;
}

/** Every `Fn::GetAtt` in a value, as [logical id, attribute]. */
export function getAtts(value: Json): [string, string][] {
  if (Array.isArray(value)) return value.flatMap(getAtts);
  if (!isObject(value)) return [];
  const att = value['Fn::GetAtt'];
  if (Object.keys(value).length === 1 && Array.isArray(att)) return [[String(att[0]), String(att[1])]];
  return Object.values(value).flatMap(getAtts);
}

/** Names of the entries of a zip file, read from its central directory (no extraction, no dependency). */
export function zipEntries(file: string): string[] {
  const zip = readFileSync(file);
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error(`${file}: not a zip (no end of central directory)`);
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`${file}: bad central directory entry ${i}`);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    names.push(zip.toString('utf8', at + 46, at + 46 + nameLength));
    at += 46 + nameLength + extraLength + commentLength;
  }
  return names;
}

/** The Glue (Hive) type of a declared column kind: the contract's types as Athena reads them. */
export function glueType(kind: ColumnKind): string {
  switch (kind) {
    case 'utf8':
      return 'string';
    case 'int32':
      return 'int';
    case 'int64':
      return 'bigint';
    case 'float64':
      return 'double';
    case 'timestamp':
      return 'timestamp';
  }
}

/**
 * The Glue type a Parquet column is read as, from DuckDB's `parquet_schema` physical and logical types (the
 * `"<type> <logical_type>"` of test/support/lake.ts `parquetTypes`). Mapped from the file alone, independently of
 * shared/schemas.ts; a type the stack does not expect is an error naming it.
 */
export function glueTypeOfParquet(description: string): string {
  const [physical = '', ...rest] = description.split(' ');
  const logical = rest.join(' ');
  if (physical === 'BYTE_ARRAY' && logical === 'StringType()') return 'string';
  if (physical === 'INT32' && (logical === 'null' || /^IntType\(bitWidth=32, isSigned=(1|true)\)$/.test(logical))) {
    return 'int';
  }
  if (physical === 'INT64' && (logical === 'null' || /^IntType\(bitWidth=64, isSigned=(1|true)\)$/.test(logical))) {
    return 'bigint';
  }
  if (physical === 'DOUBLE' && logical === 'null') return 'double';
  // Athena reads TIMESTAMP(MILLIS) as timestamp; isAdjustedToUTC=1 is the contract's "UTC".
  if (physical === 'INT64' && /^TimestampType\(isAdjustedToUTC=(1|true), unit=TimeUnit\(MILLIS=/.test(logical)) {
    return 'timestamp';
  }
  throw new Error(`no Glue type for Parquet ${description}`);
}
