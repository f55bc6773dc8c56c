/**
 * What the fault tests saw, for docs/reliability.md: with SPARKIFY_RELIABILITY_LOG set, every run and every
 * comparison of a lake with the oracle appends one JSON line (the test file, what was checked, rows lost and
 * duplicated). `npm run reliability` runs the fault tests that way and writes the page.
 */
import { appendFileSync } from 'node:fs';
import { basename } from 'node:path';

/** One line of the log. */
export type ReliabilityEntry =
  | { kind: 'run'; file: string; ok: boolean }
  | {
      kind: 'check';
      file: string;
      label: string;
      rows: number;
      lost: number;
      duplicated: number;
      unexpected: number;
      rejectsExpected: number;
      rejectsMissing: number;
      rejectsExtra: number;
    };

/** The test file this process runs (node --test runs each file in its own process). */
export const testFile = (): string => basename(process.argv[1] ?? 'unknown');

/** Appends an entry when the log is on. */
export function recordReliability(entry: ReliabilityEntry): void {
  const log = process.env.SPARKIFY_RELIABILITY_LOG;
  if (log) appendFileSync(log, `${JSON.stringify(entry)}\n`);
}
