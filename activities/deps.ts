import type { MlPlatform } from '../aml/port.js';

/** A log line from an activity, with properties for structured sinks (App Insights custom dimensions). */
export type ActivityLog = (
  level: 'info' | 'warn' | 'error',
  message: string,
  properties?: Record<string, string | number | boolean>,
) => void;

/** What activities are built with: the platform port and where things live. Only functions/ builds it. */
export interface ActivityDeps {
  platform: MlPlatform;
  /** Folder holding the Azure ML CLI v2 job specs (`etl.yml`, `train.yml`). */
  jobSpecDir: string;
  /** Managed online deployment spec (CLI v2 YAML) used for new deployments. */
  deploymentSpecPath?: string;
  /** Azure ML datastore name of each data-lake container the sagas read or write. */
  datastores: Record<string, string>;
  /** Container where job outputs (ETL series, model directories) are written. */
  outputsContainer: string;
  /** Container for run records. */
  runsContainer: string;
  log: ActivityLog;
}

/** A step cannot succeed with this input; retrying will not help. */
export class PermanentActivityError extends Error {
  readonly transient = false;
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'PermanentActivityError';
  }
}

const blobUri = /^blob:\/\/([^/]+)\/?(.*)$/;
const datastoreUri = /^azureml:\/\/datastores\/([^/]+)\/paths\/?(.*)$/;

/** `blob://{container}/{path}` → `azureml://datastores/{ds}/paths/{path}` using the deps' datastore map. */
export function toDatastoreUri(deps: Pick<ActivityDeps, 'datastores'>, uri: string): string {
  const m = blobUri.exec(uri);
  if (!m) return uri;
  const [, container = '', path = ''] = m;
  const datastore = deps.datastores[container];
  if (!datastore) {
    throw new PermanentActivityError(
      'NO_DATASTORE',
      `No Azure ML datastore is configured for container "${container}".`,
    );
  }
  return `azureml://datastores/${datastore}/paths/${path}`;
}

/** `azureml://datastores/{ds}/paths/{path}` → the data-lake container and path, if the datastore is known. */
export function toBlobLocation(
  deps: Pick<ActivityDeps, 'datastores'>,
  uri: string,
): { container: string; path: string } {
  const m = datastoreUri.exec(uri);
  const container = m ? Object.entries(deps.datastores).find(([, ds]) => ds === m[1])?.[0] : undefined;
  if (!m || !container) {
    throw new PermanentActivityError(
      'UNREADABLE_URI',
      `Cannot read "${uri}": not a datastore of the data lake.`,
    );
  }
  return { container, path: (m[2] ?? '').replace(/\/+$/, '') };
}
