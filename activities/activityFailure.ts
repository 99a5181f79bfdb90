import { activityFailurePrefix, type ActivityFailure } from './contracts.js';

/** What the orchestrators need to know of a failure: its code (if it has one) and whether it is transient. */
export function toActivityFailure(err: unknown): ActivityFailure {
  const fields = (typeof err === 'object' && err !== null ? err : {}) as {
    code?: unknown;
    transient?: unknown;
  };
  return {
    code: typeof fields.code === 'string' && fields.code ? fields.code : 'ACTIVITY_FAILED',
    transient: fields.transient === true,
    message: err instanceof Error ? err.message : String(err),
  };
}

/** An activity's failure as it crosses the Durable boundary: the message carries code and transience. */
export class ActivityFailureError extends Error {
  override readonly name = 'ActivityFailureError';

  constructor(
    readonly failure: ActivityFailure,
    options?: { cause?: unknown },
  ) {
    super(`${activityFailurePrefix}${JSON.stringify(failure)}`, options);
  }
}

/** Runs an activity; whatever it throws leaves as an ActivityFailureError the orchestrators can read. */
export async function withFailureEnvelope<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof ActivityFailureError) throw err;
    throw new ActivityFailureError(toActivityFailure(err), { cause: err });
  }
}
