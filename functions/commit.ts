/** Commit handler: checks the run and publishes it; with `failure`, the Abort of a run that failed. */
import { abortRun, commitRun, type RunReport } from '../shared/commit.ts';
import { parseEvent } from '../shared/config.ts';
import { commitEventSchema } from '../shared/events.ts';
import { runReportKey } from '../shared/keys.ts';
import { log } from './log.ts';

/** @example await handler({ run }) */
export async function handler(event: unknown) {
  const { run, failure } = parseEvent(commitEventSchema, event, 'commit');
  let report: RunReport;
  try {
    report = failure ? await abortRun(run, failure) : await commitRun(run);
  } catch (error) {
    log('error', failure ? 'aborted' : 'commit failed', { runId: run.runId, error: (error as Error).name });
    throw error;
  }
  const rows = Object.fromEntries(Object.entries(report.tables).map(([t, v]) => [t, v.rows]));
  log('info', 'committed', { runId: run.runId, published: report.published, rows, rejects: report.rejects.total });
  return {
    runId: run.runId,
    status: report.status,
    published: report.published,
    rows,
    rejects: report.rejects.total,
    report: runReportKey(run.runId),
  };
}
