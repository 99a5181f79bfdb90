import type { MlPlatform } from '../aml/port.js';

/** What the dashboard reads besides the durable client. Only functions/ builds it. */
export interface DashboardDeps {
  platform: Pick<
    MlPlatform,
    'listModels' | 'getModel' | 'getEndpoint' | 'listDeployments' | 'getDeploymentMetrics' | 'dataLake'
  >;
  modelName: string;
  endpointName: string;
  /** Azure ML datastore name of each data-lake container (to read model directories). */
  datastores: Record<string, string>;
  /** Container holding the sagas' run records. */
  runsContainer: string;
  /** The app's root folder (holding package.json, dashboard/static and node_modules). */
  appRoot: string;
}

/** A request the dashboard cannot answer as asked: `status` 400 (bad input) or 404 (no such thing). */
export class DashboardError extends Error {
  override readonly name = 'DashboardError';
  constructor(
    readonly status: 400 | 404,
    readonly code: 'BadRequest' | 'NotFound',
    message: string,
  ) {
    super(message);
  }
}

/** 400 with a message. */
export const badRequest = (message: string) => new DashboardError(400, 'BadRequest', message);
/** 404 with a message. */
export const notFound = (message: string) => new DashboardError(404, 'NotFound', message);
