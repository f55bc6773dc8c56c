/**
 * What a run would cost on AWS, estimated from its own counts: Lambda GB-seconds at each function's memory,
 * Step Functions state transitions, S3 requests. The prices are one table, here (README, "Cost estimate").
 */
import type { StoreUsage } from './store.ts';

/** On-demand prices in us-east-1 (USD), as AWS lists them. Update here when they change. */
export const PRICES = {
  region: 'us-east-1',
  /** Lambda on arm64, per GB-second (first tier). */
  lambdaPerGbSecond: 0.0000133334,
  /** Lambda, per request. */
  lambdaPerRequest: 0.2 / 1_000_000,
  /** Step Functions Standard workflows, per state transition. */
  stepFunctionsPerTransition: 0.025 / 1000,
  /** S3 Standard PUT, COPY, POST and LIST requests. */
  s3PerPutOrList: 0.005 / 1000,
  /** S3 Standard GET and other reads (DELETE is free). */
  s3PerGet: 0.0004 / 1000,
} as const;

/** Each function's memory as serverless.yml deploys it (MB); a test keeps the two in step. */
export const LAMBDA_MEMORY_MB = { plan: 1024, map: 1769, reduce: 1769, commit: 1769 } as const;
export type StageFunction = keyof typeof LAMBDA_MEMORY_MB;

/** The figures the estimate is made from. */
export interface CostInputs {
  /** Summed time of each function's invocations (ms). */
  busyMs: Record<StageFunction, number>;
  invocations: Record<StageFunction, number>;
  /** Distributed Map child executions: map batches, and reduce buckets per phase. */
  mapBatches: number;
  reduceItems: number;
  storage: StoreUsage;
}

/** The estimate, with what it counted. */
export interface CostEstimate {
  region: string;
  lambdaGbSeconds: number;
  lambdaRequests: number;
  stateTransitions: number;
  s3PutOrList: number;
  s3Get: number;
  usd: { lambda: number; stepFunctions: number; s3: number; total: number };
}

/** The six states of the top-level machine a run passes (Plan, the Choice, three Maps, Commit). */
const TOP_LEVEL_TRANSITIONS = 6;

/** Estimates a run's AWS cost. Retries and the scheduler's own requests are left out. */
export function estimateCost(inputs: CostInputs): CostEstimate {
  const fns = Object.keys(LAMBDA_MEMORY_MB) as StageFunction[];
  const lambdaGbSeconds = fns.reduce((n, f) => n + (inputs.busyMs[f] / 1000) * (LAMBDA_MEMORY_MB[f] / 1024), 0);
  const lambdaRequests = fns.reduce((n, f) => n + inputs.invocations[f], 0);
  // Each child execution of a Distributed Map runs one Task state: one transition each.
  const stateTransitions = TOP_LEVEL_TRANSITIONS + inputs.mapBatches + inputs.reduceItems;
  const s3PutOrList = inputs.storage.put + inputs.storage.list;
  const s3Get = inputs.storage.get;
  const lambda = lambdaGbSeconds * PRICES.lambdaPerGbSecond + lambdaRequests * PRICES.lambdaPerRequest;
  const stepFunctions = stateTransitions * PRICES.stepFunctionsPerTransition;
  const s3 = s3PutOrList * PRICES.s3PerPutOrList + s3Get * PRICES.s3PerGet;
  return {
    region: PRICES.region,
    lambdaGbSeconds,
    lambdaRequests,
    stateTransitions,
    s3PutOrList,
    s3Get,
    usd: { lambda, stepFunctions, s3, total: lambda + stepFunctions + s3 },
  };
}
