/** Runs the real state machine locally into a fresh temp lake, for end-to-end tests. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../shared/store.ts';
import { runLocal, substituteHandlers } from '../../statemachine/local-runner.ts';
import { recordReliability, testFile } from './reliability.ts';

process.env.SPARKIFY_QUIET = '1';

/** The public sample, copied into the repo with its provenance note. */
export const PUBLIC_SAMPLE = decodeURIComponent(new URL('../fixtures/sparkify-sample', import.meta.url).pathname);

/** A temp directory removed by the returned function. */
export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `sparkify-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The commit handler's result. */
export interface CommitResult {
  runId: string;
  status: string;
  rows: Record<string, number>;
  rejects: number;
  report: string;
}

/** How a run chooses its input: the execution input's `mode` and `keys`. */
export interface RunChoice {
  mode?: 'incremental' | 'full';
  keys?: string[];
}

/** Runs one execution (worker threads: one per core unless given); returns Commit's result and the run report. */
export async function runEtl(
  source: string,
  target: string,
  settings: Record<string, unknown> = {},
  workers?: number,
  choice: RunChoice = {},
  handlers?: Record<string, URL>,
) {
  const input = { source, target, settings, ...choice };
  let ok = false;
  let result: CommitResult;
  try {
    result = (await runLocal(input as never, { workers, handlers })) as unknown as CommitResult;
    ok = true;
  } finally {
    recordReliability({ kind: 'run', file: testFile(), ok });
  }
  const report = JSON.parse(Buffer.from(await openStore(target).get(result.report)).toString('utf8'));
  return { result, report };
}

/** Every function's logical id → the real handler with a fault injected (./handlers/faulty.ts). */
export const FAULTY_HANDLERS: Record<string, URL> = substituteHandlers(
  () => new URL('./handlers/faulty.ts', import.meta.url),
);

/** Runs through FAULTY_HANDLERS with SPARKIFY_TEST_FAULT set to `fault` for the run's duration. */
export async function runEtlWithFault(
  fault: Record<string, unknown>,
  source: string,
  target: string,
  settings: Record<string, unknown>,
  workers: number,
) {
  process.env.SPARKIFY_TEST_FAULT = JSON.stringify(fault);
  try {
    return await runEtl(source, target, settings, workers, {}, FAULTY_HANDLERS);
  } finally {
    delete process.env.SPARKIFY_TEST_FAULT;
  }
}

/** A child process's exit code, output and wall time. */
export interface Child {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** `node args` in `cwd` (without this process's flags), with the environment given (default: this one's). */
export function runNode(cwd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Child> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: performance.now() - started }));
  });
}
