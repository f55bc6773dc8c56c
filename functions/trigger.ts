/**
 * Trigger handler: a batch of queued S3 "Object Created" events (EventBridge → SQS) starts runs for the keys that
 * arrived. A failure makes SQS deliver the batch again; after the queue's maxReceiveCount it goes to the
 * dead-letter queue.
 */
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { z } from 'zod';
import { parseEvent } from '../shared/config.ts';
import { ConfigError } from '../shared/errors.ts';
import { arrivals, executionsFor } from '../shared/trigger.ts';
import { log } from './log.ts';

const environment = z.object({
  STATE_MACHINE_ARN: z.string().startsWith('arn:'),
  RAW_BUCKET: z.string().min(3),
  SOURCE: z.string().startsWith('s3://'),
  TARGET: z.string().startsWith('s3://'),
});

const sqsEvent = z.object({ Records: z.array(z.object({ messageId: z.string(), body: z.string() })) });

let client: SFNClient | undefined;

/** @example await handler({ Records: [{ messageId: '1', body: JSON.stringify(objectCreatedEvent) }] }) */
export async function handler(event: unknown) {
  const parsed = environment.safeParse(process.env);
  if (!parsed.success) {
    const names = parsed.error.issues.map((i) => i.path.join('.')).join(', ');
    throw new ConfigError(`trigger: missing or bad environment variables ${names} (serverless.yml sets them)`);
  }
  const env = parsed.data;
  const { Records } = parseEvent(sqsEvent, event, 'trigger');
  const found = arrivals(Records, env.RAW_BUCKET);
  for (const i of found.ignored) log('info', 'event ignored', { messageId: i.messageId, why: i.why });
  client ??= new SFNClient({});
  const started: string[] = [];
  for (const request of executionsFor(found, env.SOURCE, env.TARGET)) {
    try {
      const out = await client.send(
        new StartExecutionCommand({
          stateMachineArn: env.STATE_MACHINE_ARN,
          name: request.name,
          input: JSON.stringify(request.input),
        }),
      );
      started.push(out.executionArn ?? request.name);
    } catch (error) {
      // This batch was delivered before and its execution started: nothing to do twice.
      if (!(error instanceof ExecutionAlreadyExists)) throw error;
      log('info', 'execution already started', { name: request.name });
    }
  }
  log('info', 'triggered', { records: Records.length, keys: found.keys.length, executions: started.length });
  return { records: Records.length, keys: found.keys.length, ignored: found.ignored.length, executions: started };
}
