/** Map handler: one ItemBatcher batch of shards → validated rows in the shuffle, rejects recorded. */
import { parseEvent } from '../shared/config.ts';
import { mapEventSchema } from '../shared/events.ts';
import { mapBatch } from '../shared/map.ts';
import { log } from './log.ts';

/** @example await handler({ BatchInput: { run }, Items: [shard] }) */
export async function handler(event: unknown) {
  const batch = parseEvent(mapEventSchema, event, 'map');
  const result = await mapBatch(batch);
  log('info', 'mapped', { runId: batch.BatchInput.run.runId, ...result });
  return result;
}
