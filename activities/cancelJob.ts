import { isMlPlatformError } from '../aml/port.js';
import type { ActivityDeps } from './deps.js';
import type { CancelJobInput } from './contracts.js';

/** Activity: cancels a job the saga started (terminal jobs are left as they are). */
export function createCancelJob(deps: ActivityDeps) {
  return async function cancelJob(input: CancelJobInput): Promise<{ jobName: string; status: string }> {
    try {
      const job = await deps.platform.cancelJob(input.jobName);
      deps.log('info', `cancel requested for ${input.jobName}: ${input.reason}`, { job: input.jobName });
      return { jobName: job.name, status: job.status };
    } catch (err) {
      // A job whose submission never reached the platform has nothing to cancel.
      if (isMlPlatformError(err, 'NotFound')) return { jobName: input.jobName, status: 'NotFound' };
      throw err;
    }
  };
}
