import type { Clock } from '../clock.js';
import {
  FunctionInvocationError,
  type FunctionInvoker,
  type InvocationOutcome,
  type InvocationRequest,
} from '../core/invoker.js';
import type { RegisteredFunction } from '../core/registry.js';
import type { RpcRetryOptions } from '../core/types.js';

/** Delay before retry number `retry` (1-based) under a function-level retry policy, in ms. */
export function retryDelayMs(options: RpcRetryOptions, retry: number): number {
  if (options.retryStrategy === 'exponentialBackoff') {
    const min = (options.minimumInterval?.seconds ?? 0) * 1000;
    const max = (options.maximumInterval?.seconds ?? Number.MAX_SAFE_INTEGER / 1000) * 1000;
    // deterministic doubling (the host adds jitter) so tests on a manual clock know when the next try is due
    return Math.min(max, min * 2 ** (retry - 1));
  }
  return (options.delayInterval?.seconds ?? 0) * 1000;
}

/**
 * Invokes `fn`, retrying per its function-level `retry` policy (`retryOptions` in metadata) the way the host
 * does for timer triggers: each try carries `retryContext {retryCount, maxRetryCount, exception}`, waits go
 * through the Clock, `maxRetryCount: -1` retries until success or `signal` aborts.
 */
export async function invokeWithRetry(
  invoker: FunctionInvoker,
  clock: Clock,
  fn: RegisteredFunction,
  request: InvocationRequest,
  signal?: AbortSignal,
): Promise<InvocationOutcome> {
  const options = fn.metadata.retryOptions;
  if (!options) return invoker.invoke(fn, request);
  const maxRetryCount = options.maxRetryCount ?? 0;
  let lastError: FunctionInvocationError | undefined;
  for (let retryCount = 0; ; retryCount++) {
    try {
      return await invoker.invoke(fn, {
        ...request,
        retryContext: {
          retryCount,
          maxRetryCount,
          ...(lastError
            ? { exception: { message: lastError.innerMessage, stackTrace: lastError.innerStack ?? null } }
            : {}),
        },
      });
    } catch (err) {
      if (!(err instanceof FunctionInvocationError)) throw err;
      lastError = err;
      if (maxRetryCount !== -1 && retryCount >= maxRetryCount) throw err;
      try {
        await clock.sleepUntil(
          new Date(clock.now().getTime() + retryDelayMs(options, retryCount + 1)),
          signal,
        );
      } catch {
        // the host is stopping: report the last failure instead of waiting on
        throw err;
      }
    }
  }
}
