/** Commit handler: checks the run, publishes the tables, writes the run report. */
import { commitRun } from '../shared/commit.ts';
import { parseEvent } from '../shared/config.ts';
import { commitEventSchema } from '../shared/events.ts';
import { runReportKey } from '../shared/keys.ts';
import { log } from './log.ts';

/** @example await handler({ run }) */
export async function handler(event: unknown) {
  const { run } = parseEvent(commitEventSchema, event, 'commit');
  const report = await commitRun(run);
  const rows = Object.fromEntries(Object.entries(report.tables).map(([t, v]) => [t, v.rows]));
  log('info', 'committed', { runId: run.runId, rows, rejects: report.rejects.total });
  return {
    runId: run.runId,
    status: report.status,
    rows,
    rejects: report.rejects.total,
    report: runReportKey(run.runId),
  };
}
