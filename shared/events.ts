/** Schemas of the handlers' events: each handler validates its event before any work starts. */
import { z } from 'zod';
import { checkLocations, RUN_MODES, resolveSettings, type Settings } from './config.ts';
import { SOURCES } from './keys.ts';
import type { RunContext, Shard } from './plan.ts';
import { REDUCE_PHASES } from './reduce.ts';

const settings = z.unknown().transform((raw): Settings => resolveSettings(raw));

/** The run context every worker receives. */
export const runContextSchema: z.ZodType<RunContext> = z
  .object({
    runId: z.string().regex(/^[0-9A-Za-z-]+$/),
    source: z.string().min(1),
    target: z.string().min(1),
    mode: z.enum(RUN_MODES),
    baseline: z
      .string()
      .regex(/^[0-9A-Za-z-]+$/)
      .nullable(),
    publishedDigest: z.number().int().positive().nullable(),
    settings,
    startedAt: z.string(),
  })
  // The same allowed locations as the execution input: a worker never touches a bucket the deployment did not name.
  .superRefine((run, ctx) => {
    try {
      checkLocations(run.source, run.target);
    } catch (error) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: (error as Error).message });
    }
  });

const shardSchema: z.ZodType<Shard> = z.object({
  shardId: z.string().regex(/^[a-z_]+-\d+$/),
  source: z.enum(SOURCES),
  keys: z.array(z.string().min(1)),
  bytes: z.number().int().min(0),
});

/** What a Catch caught (ResultPath $.failure), handed to the state that handles it. */
const failureSchema = z.object({ Error: z.string(), Cause: z.string().optional() });

/** The map worker's event: one ItemBatcher batch; with `failure` (what the Catch caught), the batch failed. */
export const mapEventSchema = z.object({
  BatchInput: z.object({ run: runContextSchema }),
  Items: z.array(shardSchema).min(1),
  failure: failureSchema.optional(),
});

/** The reducer's event: one bucket of one phase. */
export const reduceEventSchema = z.object({
  run: runContextSchema,
  phase: z.enum(REDUCE_PHASES),
  bucket: z.number().int().min(0),
});

/** Commit's event; with `failure` (what a Catch caught) it is the Abort of a failed run. */
export const commitEventSchema = z.object({
  run: runContextSchema,
  failure: failureSchema.optional(),
});
