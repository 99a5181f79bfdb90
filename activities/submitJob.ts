import path from 'node:path';
import type { JobInputValue } from '../aml/port.js';
import type { ActivityDeps } from './deps.js';
import { toDatastoreUri } from './deps.js';
import type { SubmitJobInput, SubmitJobOutput } from './contracts.js';

/** Which output each job kind writes, placed under the outputs container by job name. */
const outputNames: Record<SubmitJobInput['kind'], string> = { etl: 'series', train: 'model' };

/** Activity: submits the ETL or training job by its caller-chosen name (a resubmission returns the same job). */
export function createSubmitJob(deps: ActivityDeps) {
  return async function submitJob(input: SubmitJobInput): Promise<SubmitJobOutput> {
    const inputs: Record<string, JobInputValue> = {};
    for (const [name, value] of Object.entries(input.inputs)) {
      const uri = toDatastoreUri(deps, value);
      inputs[name] = uri.startsWith('azureml://') ? { type: 'uri_folder', path: uri } : value;
    }
    const output = outputNames[input.kind];
    const job = await deps.platform.submitJob({
      name: input.jobName,
      specPath: path.join(deps.jobSpecDir, `${input.kind}.yml`),
      inputs,
      outputs: {
        [output]: {
          type: 'uri_folder',
          path: toDatastoreUri(deps, `blob://${deps.outputsContainer}/jobs/${input.jobName}/${output}/`),
        },
      },
      tags: input.tags,
      displayName: `${input.kind} ${input.tags.runId ?? input.jobName}`,
    });
    return { jobName: job.name, status: job.status };
  };
}
