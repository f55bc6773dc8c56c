/**
 * The handlers' logs (what CloudWatch keeps): one JSON object per line with the run id, and nothing about the
 * users: no names, locations or user agents of the public sample appear in them, even for rejected records.
 */
import assert from 'node:assert/strict';
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { runLocal } from '../../statemachine/local-runner.ts';
import { computeExpected } from '../support/oracle.ts';
import { PUBLIC_SAMPLE, tempDir } from '../support/run.ts';

describe('handler logs', () => {
  const tmp = tempDir('logs');
  after(() => tmp.remove());

  test('JSON lines with the run id, and no user names, locations or user agents', async () => {
    const source = join(tmp.dir, 'source');
    cpSync(PUBLIC_SAMPLE, source, { recursive: true });
    // A rejected record that carries a user's name: the reject goes to _rejects/, its content never to the logs.
    writeFileSync(
      join(source, 'log_data', '2018', '11', 'zz-bad-events.json'),
      '{"ts":"soon","firstName":"Zebulon","lastName":"Quartermaine","page":"NextSong"}\n',
    );
    const lines: string[] = [];
    const { log, error } = console;
    const quiet = process.env.SPARKIFY_QUIET;
    delete process.env.SPARKIFY_QUIET;
    console.log = (line: string) => lines.push(String(line));
    console.error = (line: string) => lines.push(String(line));
    let output: { runId: string };
    try {
      output = (await runLocal({ source, target: join(tmp.dir, 'lake') }, { workers: 0 })) as { runId: string };
    } finally {
      console.log = log;
      console.error = error;
      process.env.SPARKIFY_QUIET = quiet;
    }
    assert.ok(lines.length >= 8, `${lines.length} log lines`);
    for (const line of lines) {
      const entry = JSON.parse(line) as { level: string; message: string; runId?: string };
      assert.ok(['info', 'error'].includes(entry.level), line);
      assert.equal(entry.runId, output.runId, `every line names the run: ${line}`);
    }
    const text = lines.join('\n');
    const { users, songplays } = computeExpected(PUBLIC_SAMPLE);
    const personal = new Set<string>(['Zebulon', 'Quartermaine']);
    for (const u of users) for (const v of [u.first_name, u.last_name]) if (v) personal.add(v);
    for (const p of songplays) for (const v of [p.location, p.user_agent]) if (v) personal.add(v);
    assert.ok(personal.size > 150, `${personal.size} personal values checked`);
    const leaked = [...personal].filter((v) => text.includes(v));
    assert.deepEqual(leaked, [], 'no personal value in the logs');
  });
});
