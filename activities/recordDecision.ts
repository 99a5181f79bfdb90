import type { ActivityDeps } from './deps.js';
import type { RecordDecisionInput } from './contracts.js';

/** Where a run's record lives in the runs container. */
export function runRecordPath(kind: string, runId: string): string {
  return `${kind}/${runId}.json`;
}

/** Activity: writes the run's outcome (status, reason, steps, gate table, analyses) as its record. */
export function createRecordDecision(deps: ActivityDeps, now: () => Date = () => new Date()) {
  return async function recordDecision(input: RecordDecisionInput): Promise<{ path: string }> {
    const path = runRecordPath(input.kind, input.runId);
    const record = { ...input, recordedAt: now().toISOString() };
    await deps.platform.dataLake.upload(deps.runsContainer, path, JSON.stringify(record, null, 2), {
      contentType: 'application/json',
    });
    return { path: `${deps.runsContainer}/${path}` };
  };
}
