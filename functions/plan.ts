/** Plan handler: validates the execution input, lists the input and writes the shard manifest. */
import { plan } from '../shared/plan.ts';
import { log } from './log.ts';

/** @example await handler({ source: 's3://raw/sparkify', target: 's3://lake/sparkify' }) */
export async function handler(event: unknown) {
  const result = await plan(event);
  log('info', 'planned', { runId: result.run.runId, shards: result.shards, inputs: result.inputs });
  return result;
}
