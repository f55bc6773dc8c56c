/**
 * Named errors: the contract with the state machine's Retry and Catch. Transient errors are retried by the ASL
 * (see TRANSIENT_ERRORS and statemachine/etl.asl.json); everything else fails the run at once.
 */

/** Base of every error the pipeline raises on purpose. */
export class EtlError extends Error {
  override name = 'EtlError';
}

/** Bad configuration or execution input: fix the input, retrying will not help. */
export class ConfigError extends EtlError {
  override name = 'ConfigError';
}

/** A storage call failed in a way that may pass on retry (throttling, timeouts, resets). */
export class TransientError extends EtlError {
  override name = 'TransientError';
}

/** A storage object is missing or unreadable for good. */
export class StorageError extends EtlError {
  override name = 'StorageError';
}

/** The run's data failed a check (reject limit, quality gate); nothing is published. */
export class DataQualityError extends EtlError {
  override name = 'DataQualityError';
}

/** Another run holds the lake's lease: this run was refused before it changed anything. */
export class LakeBusyError extends EtlError {
  override name = 'LakeBusyError';
}

/** Error names the ASL retries; a test keeps this list and the ASL's Retry blocks in step. */
export const TRANSIENT_ERRORS = [
  'TransientError',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
] as const;

/** What a state machine Catch hands on: the error's name, and its cause (Lambda wraps it as JSON). */
export interface CaughtFailure {
  Error: string;
  Cause?: string | undefined;
}

/** The message inside a caught failure's Cause. */
export function failureMessage(failure: CaughtFailure): string {
  const cause = failure.Cause ?? '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: string };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // not JSON: the message itself
  }
  return cause || failure.Error;
}

/** The caught failure as an error again, under its own name: the execution then fails with that name. */
export function failureError(failure: CaughtFailure): EtlError {
  const error = new EtlError(failureMessage(failure));
  error.name = failure.Error;
  return error;
}

/** One line for a person: the error's name and message, with its cause. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? ` (cause: ${error.cause.message})` : '';
  return `${error.name}: ${error.message}${cause}`;
}
