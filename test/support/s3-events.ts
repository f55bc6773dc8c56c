/** S3 events as the deployed path delivers them to the trigger: EventBridge "Object Created" events in SQS records. */
import type { QueueRecord } from '../../shared/trigger.ts';

/** An SQS record holding an EventBridge "Object Created" event, as the rule delivers it. */
export function objectCreated(
  key: string,
  sequencer = '0064D3901D00059242',
  bucket = 'sparkify-raw',
  id = key,
): QueueRecord {
  return {
    messageId: id,
    body: JSON.stringify({
      version: '0',
      'detail-type': 'Object Created',
      source: 'aws.s3',
      detail: { version: '0', bucket: { name: bucket }, object: { key, size: 10, etag: 'e', sequencer } },
    }),
  };
}
