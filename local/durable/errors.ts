/** Error codes of the durable task hub. */
export type DurableErrorCode =
  'DURABLE_CONFLICT' | 'DURABLE_STORAGE' | 'DURABLE_BAD_REQUEST' | 'DURABLE_NOT_FOUND' | 'DURABLE_PROTOCOL';

/** A failure in the durable task hub; `transient` says whether retrying the same call may succeed. */
export class DurableHubError extends Error {
  constructor(
    readonly code: DurableErrorCode,
    message: string,
    readonly transient = false,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DurableHubError';
  }
}
