/** docs/reliability.md: rendered from the fault tests' log, and the committed page says nothing was lost. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { FAULT_TESTS, renderReliability } from '../support/reliability-report.ts';

const check = (file: string, label: string, lost = 0, duplicated = 0) => ({
  kind: 'check' as const,
  file,
  label,
  rows: 100,
  lost,
  duplicated,
  unexpected: 0,
  rejectsExpected: 2,
  rejectsMissing: 0,
  rejectsExtra: 0,
});

describe('renderReliability', () => {
  test('totals, one row per test file, and the faults each compared', () => {
    const page = renderReliability(
      [
        { kind: 'run', file: 'atomic.test.ts', ok: true },
        { kind: 'run', file: 'atomic.test.ts', ok: false },
        check('atomic.test.ts', 'a map worker killed: after the next run'),
        check('incremental.test.ts', 'after 1 of 8 (log_data/a.json)'),
        check('incremental.test.ts', 'after 2 of 8 (log_data/b.json)'),
        check('s3-faults.test.ts', 'after a run through faults', 3, 1),
      ],
      { pass: 10, fail: 0 },
      new Date('2026-11-23T00:00:00Z'),
    );
    assert.match(
      page,
      /10 tests passed, 0 failed; 2 runs \(1 of them failed on purpose\); 4 comparisons covering 400 table rows/,
    );
    assert.match(page, /Rows lost: 3\. Duplicated: 1\./);
    assert.match(page, /\| `test\/e2e\/atomic\.test\.ts` \| 2 \| 1 \| 1 \| 100 \| 0 \| 0 \| 0 \| 0 \/ 0 \|/);
    assert.match(page, /- after every file loaded\n/, 'per-file counters collapse into one line');
    assert.equal(page.match(/after every file loaded/g)?.length, 1);
  });
});

describe('docs/reliability.md', () => {
  const page = readFileSync(new URL('../../docs/reliability.md', import.meta.url), 'utf8');

  test('lists every fault test and reports nothing lost, duplicated or unexpected', () => {
    for (const file of FAULT_TESTS) assert.ok(page.includes(`## \`test/e2e/${file}\``), file);
    assert.match(page, /\*\*Rows lost: 0\. Duplicated: 0\. Unexpected: 0\. Rejects missing: 0, extra: 0\.\*\*/);
    assert.match(page, /\d+ tests passed, 0 failed/);
    const runs = Number(/; (\d+) runs/.exec(page)?.[1]);
    assert.ok(runs > 50, `${runs} runs`);
  });
});
