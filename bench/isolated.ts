/**
 * A stand-in handler for the local runner that runs each invocation alone in a fresh process (bench/invoke.ts),
 * the way Lambda gives each invocation its own sandbox, and appends its peak memory to the JSON-lines file named
 * by SPARKIFY_BENCH_MEMORY_LOG. The function is the module URL's `fn` parameter: isolated.ts?fn=map.
 */
import { execFile } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const fn = new URL(import.meta.url).searchParams.get('fn') ?? '';
const ROOT = decodeURIComponent(new URL('..', import.meta.url).pathname);
const run = promisify(execFile);

/** One measured invocation, as logged. */
export interface Invocation {
  fn: string;
  phase: string | null;
  peakRssMB: number;
  ms: number;
}

/** Runs the real handler of `fn` in a child process and returns its result. */
export async function handler(event: unknown): Promise<unknown> {
  const dir = mkdtempSync(join(tmpdir(), 'sparkify-invoke-'));
  try {
    const file = join(dir, 'event.json');
    writeFileSync(file, JSON.stringify(event));
    const { stdout } = await run(process.execPath, ['--import', './cli/preload.mjs', 'bench/invoke.ts', fn, file], {
      cwd: ROOT,
      maxBuffer: 64 * 1024 * 1024,
    }).catch((error: { stderr?: string; message: string }) => {
      // The child's own error name and message are the last thing it printed.
      const message = (error.stderr ?? '').trim().split('\n').slice(-3).join(' ') || error.message;
      throw Object.assign(new Error(`${fn} invocation failed: ${message}`), { name: 'IsolatedInvocationError' });
    });
    const out = JSON.parse(stdout.trim().split('\n').pop() as string) as {
      peakRssMB: number;
      ms: number;
      result: unknown;
    };
    const log = process.env.SPARKIFY_BENCH_MEMORY_LOG;
    if (log) {
      const phase = (event as { phase?: string }).phase ?? null;
      const line: Invocation = { fn, phase, peakRssMB: out.peakRssMB, ms: out.ms };
      appendFileSync(log, `${JSON.stringify(line)}\n`);
    }
    return out.result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
