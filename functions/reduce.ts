/** Reduce handler: one bucket of one phase → deduplicated dimensions or joined songplays. */
import { parseEvent } from '../shared/config.ts';
import { reduceEventSchema } from '../shared/events.ts';
import { reduceBucket } from '../shared/reduce.ts';
import { log } from './log.ts';

/** @example await handler({ run, phase: 'dimensions', bucket: 0 }) */
export async function handler(event: unknown) {
  const input = parseEvent(reduceEventSchema, event, 'reduce');
  const result = await reduceBucket(input);
  log('info', 'reduced', { runId: input.run.runId, phase: input.phase, ...result });
  return result;
}
