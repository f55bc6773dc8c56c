/**
 * The packaged CloudFormation stack, read back for tests: packaging (`npm run package`, no AWS account), the
 * template's resources, a small evaluator for the intrinsics the stack uses, the state machine's definition with
 * its substitutions undone, the artifact's file list, and the Glue type of a declared or a Parquet column.
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
}

/** A CloudFormation template (the parts the tests read). */
export interface Template {
  Resources: Record<string, Resource>;
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
 * instead of `.serverless/`, so that a test never races a developer's packaging.
 */
export function packageStack(dir: string, timeoutMs = 90_000): Promise<PackageRun> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', 'package', '--', '--package', dir], {
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

/**
 * Evaluates the intrinsics this stack uses in resource properties: Ref (from `refs`), Fn::Join, Fn::Split and
 * Fn::Sub (variables from its map or `refs`). Anything else is an error naming it, so a test never compares an
 * unevaluated expression by accident.
 */
export function evaluate(expr: Json, refs: Record<string, string> = {}): Json {
  if (Array.isArray(expr)) return expr.map((e) => evaluate(e, refs));
  if (!isObject(expr)) return expr;
  const keys = Object.keys(expr);
  const [fn] = keys;
  if (keys.length !== 1 || fn === undefined || !(fn === 'Ref' || fn.startsWith('Fn::'))) {
    return Object.fromEntries(Object.entries(expr).map(([k, v]) => [k, evaluate(v, refs)]));
  }
  const arg = expr[fn] as Json;
  const str = (v: Json): string => {
    const value = evaluate(v, refs);
    if (typeof value !== 'string') throw new Error(`${fn}: expected a string, got ${JSON.stringify(value)}`);
    return value;
  };
  const list = (v: Json): string[] => {
    const value = evaluate(v, refs);
    if (!Array.isArray(value)) throw new Error(`${fn}: expected a list, got ${JSON.stringify(value)}`);
    return value.map((item) => {
      if (typeof item !== 'string') throw new Error(`${fn}: expected strings, got ${JSON.stringify(item)}`);
      return item;
    });
  };
  switch (fn) {
    case 'Ref': {
      const name = str(arg);
      const value = refs[name];
      if (value === undefined) throw new Error(`Ref ${name}: no value given`);
      return value;
    }
    case 'Fn::Join': {
      if (!Array.isArray(arg) || arg.length !== 2) throw new Error('Fn::Join takes [delimiter, list]');
      return list(arg[1] as Json).join(str(arg[0] as Json));
    }
    case 'Fn::Split': {
      if (!Array.isArray(arg) || arg.length !== 2) throw new Error('Fn::Split takes [delimiter, string]');
      return str(arg[1] as Json).split(str(arg[0] as Json));
    }
    case 'Fn::Sub': {
      const [template, vars] = Array.isArray(arg) ? [arg[0] as Json, (arg[1] ?? {}) as Json] : [arg, {}];
      if (typeof template !== 'string' || !isObject(vars)) throw new Error('Fn::Sub takes a string and a map');
      const values: Record<string, string> = { ...refs };
      for (const [k, v] of Object.entries(vars)) values[k] = str(v);
      return template.replace(/\$\{(!?)([^}]*)\}/g, (_m, bang: string, name: string) => {
        if (bang) return `\${${name}}`;
        const value = values[name];
        if (value === undefined) throw new Error(`Fn::Sub: no value for \${${name}}`);
        return value;
      });
    }
    default:
      throw new Error(`evaluate: ${fn} is not supported`);
  }
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
