import { OrchestratorName } from '../orchestrators/names.js';

/** The kinds of run the dashboard shows, by the orchestrator that runs them. */
export const runTypes = {
  training: OrchestratorName.trainingSaga,
  release: OrchestratorName.releaseSaga,
  rollback: OrchestratorName.rollbackSaga,
} as const;
export type RunType = keyof typeof runTypes;

/** The run type of an orchestrator name; undefined for coordinators and anything else. */
export function runTypeOf(orchestratorName: string): RunType | undefined {
  return (Object.entries(runTypes) as [RunType, string][]).find(([, name]) => name === orchestratorName)?.[0];
}
