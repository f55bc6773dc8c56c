/** Map handler: one ItemBatcher batch of shards → validated rows in the shuffle, rejects recorded; or a failed batch recorded. */
import { parseEvent } from '../shared/config.ts';
import { mapEventSchema } from '../shared/events.ts';
import { mapBatch, recordFailedBatch } from '../shared/map.ts';
import { log } from './log.ts';

/** @example await handler({ BatchInput: { run }, Items: [shard] }) */
export async function handler(event: unknown) {
  const { failure, ...batch } = parseEvent(mapEventSchema, event, 'map');
  if (failure) {
    log('error', 'map batch failed', {
      runId: batch.BatchInput.run.runId,
      shards: batch.Items.map((s) => s.shardId),
      error: failure.Error,
    });
    return recordFailedBatch(batch, failure);
  }
  const result = await mapBatch(batch);
  log('info', 'mapped', { runId: batch.BatchInput.run.runId, ...result });
  return result;
}
