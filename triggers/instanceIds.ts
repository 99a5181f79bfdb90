import { createHash } from 'node:crypto';

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

/**
 * Training run id from the work that caused it: the same blob version, event or schedule occurrence
 * always maps to the same run, so duplicate deliveries land on the existing run.
 */
export function trainingRunId(modelName: string, source: string, work: string): string {
  return `train-${modelName}-${source}-${shortHash(work)}`;
}
