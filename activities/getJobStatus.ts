import { isTerminalJobStatus } from '../aml/port.js';
import type { ActivityDeps } from './deps.js';
import type { GetJobStatusInput, GetJobStatusOutput } from './contracts.js';

/** Activity: the job's status, and its output locations once it completed. */
export function createGetJobStatus(deps: ActivityDeps) {
  return async function getJobStatus(input: GetJobStatusInput): Promise<GetJobStatusOutput> {
    const job = await deps.platform.getJob(input.jobName);
    const outputs = Object.fromEntries(Object.entries(job.outputs).map(([name, o]) => [name, o.uri]));
    return {
      jobName: job.name,
      status: job.status,
      terminal: isTerminalJobStatus(job.status),
      outputs,
      ...(job.error ? { error: job.error } : {}),
    };
  };
}
