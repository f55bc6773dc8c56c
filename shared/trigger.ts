/**
 * The S3-event path: EventBridge "Object Created" events for the raw bucket, batched by an SQS queue, become
 * executions that load exactly the keys that arrived (execution input `keys`). Pure: the handler only starts the
 * executions this module describes.
 */
import { createHash } from 'node:crypto';
import { SOURCES } from './keys.ts';

/** Keys per execution: an input of 1,000 keys stays far below Step Functions' 256 KiB. */
export const KEYS_PER_EXECUTION = 1000;

/** One SQS record, as the Lambda event source delivers it. */
export interface QueueRecord {
  messageId: string;
  body: string;
}

/** An S3 "Object Created" event as EventBridge delivers it (the fields used). */
interface ObjectCreated {
  source?: string;
  'detail-type'?: string;
  detail?: { bucket?: { name?: string }; object?: { key?: string; sequencer?: string } };
}

/** What a batch of records asks for. */
export interface Arrivals {
  /** Distinct keys under song_data/ or log_data/, in order. */
  keys: string[];
  /** The newest S3 sequencer per key: two writes of one key differ here, two deliveries of one write do not. */
  sequencers: Record<string, string>;
  /** Records that were not an Object Created event of a source prefix (counted, logged, dropped). */
  ignored: { messageId: string; why: string }[];
}

/** Reads a batch of queued EventBridge events. */
export function arrivals(records: readonly QueueRecord[], bucket: string): Arrivals {
  const sequencers: Record<string, string> = {};
  const ignored: Arrivals['ignored'] = [];
  for (const r of records) {
    let event: ObjectCreated;
    try {
      event = JSON.parse(r.body) as ObjectCreated;
    } catch {
      ignored.push({ messageId: r.messageId, why: 'not JSON' });
      continue;
    }
    const key = event.detail?.object?.key;
    if (event.source !== 'aws.s3' || event['detail-type'] !== 'Object Created' || typeof key !== 'string') {
      ignored.push({ messageId: r.messageId, why: 'not an S3 Object Created event' });
      continue;
    }
    if (event.detail?.bucket?.name !== bucket) {
      ignored.push({ messageId: r.messageId, why: `bucket ${event.detail?.bucket?.name} is not ${bucket}` });
      continue;
    }
    if (!SOURCES.some((s) => key.startsWith(`${s}/`)) || key.endsWith('/')) {
      ignored.push({ messageId: r.messageId, why: `${key} is not an object under song_data/ or log_data/` });
      continue;
    }
    const sequencer = event.detail?.object?.sequencer ?? '';
    // S3 sequencers of one key compare as hex strings of unequal length: pad before comparing.
    if (!(key in sequencers) || newer(sequencer, sequencers[key] as string)) sequencers[key] = sequencer;
  }
  return { keys: Object.keys(sequencers).sort(), sequencers, ignored };
}

function newer(a: string, b: string): boolean {
  const width = Math.max(a.length, b.length);
  return a.padEnd(width, '0') > b.padEnd(width, '0');
}

/** One execution to start. */
export interface ExecutionRequest {
  /** Deterministic: a redelivered batch starts no second execution (Step Functions refuses a name twice). */
  name: string;
  input: { source: string; target: string; keys: string[] };
}

/** The executions for a batch: its keys in chunks of KEYS_PER_EXECUTION. */
export function executionsFor(found: Arrivals, source: string, target: string): ExecutionRequest[] {
  const out: ExecutionRequest[] = [];
  for (let i = 0; i < found.keys.length; i += KEYS_PER_EXECUTION) {
    const keys = found.keys.slice(i, i + KEYS_PER_EXECUTION);
    const hash = createHash('sha256');
    for (const k of keys) hash.update(`${k}\u0000${found.sequencers[k]}\u0000`);
    out.push({ name: `s3-${hash.digest('hex').slice(0, 64)}`, input: { source, target, keys } });
  }
  return out;
}
