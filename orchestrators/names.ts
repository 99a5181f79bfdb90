/**
 * Orchestrator names, the external events they wait for, and the instance ids of singleton
 * coordinators. Triggers import this file to start and signal orchestrations.
 */
export const OrchestratorName = {
  trainingSaga: 'trainingSaga',
  releaseSaga: 'releaseSaga',
  trainingCoordinator: 'trainingCoordinator',
  releaseCoordinator: 'releaseCoordinator',
  rollbackSaga: 'rollbackSaga',
} as const;
export type OrchestratorName = (typeof OrchestratorName)[keyof typeof OrchestratorName];

export const ExternalEvent = {
  /** A run is asked to stop; the saga compensates and ends as canceled. */
  cancel: 'cancel',
  /** A person approves or rejects a release waiting for approval. Data: {@link ApprovalDecision}. */
  approval: 'approval',
  /** New work for a coordinator. Data: TrainingRequest or ReleaseRequest. */
  work: 'work',
} as const;

export interface ApprovalDecision {
  approved: boolean;
  by?: string;
  comment?: string;
}

/** Instance id of the coordinator that serialises training runs of one model. */
export function trainingCoordinatorId(modelName: string): string {
  return `training-coordinator-${modelName}`;
}

/** Instance id of the coordinator that serialises releases to one endpoint. */
export function releaseCoordinatorId(endpointName: string): string {
  return `release-coordinator-${endpointName}`;
}

/** Instance id of the release of one model version: a duplicate ModelRegistered lands on the same run. */
export function releaseInstanceId(modelName: string, version: string): string {
  return `release-${modelName}-${version}`;
}
