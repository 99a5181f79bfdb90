/** Maps Azure ML datastore URIs onto Azurite containers for the local adapter. */
import { MlPlatformError } from '../port.js';
import { parseDatastoreUri } from '../azure/jobSpec.js';

/** A location in local blob storage. */
export interface BlobLocation {
  container: string;
  /** Blob path or prefix inside the container (no leading slash). */
  path: string;
}

/** Datastore name → Azurite container. Unlisted datastores map to a container of the same name. */
export type DatastoreMap = Record<string, string>;

/** The default mapping: Azure ML's workspace stores share one container. */
export const defaultDatastores: DatastoreMap = {
  workspaceblobstore: 'azureml',
  workspaceartifactstore: 'azureml',
};

/** Resolves `azureml://datastores/{ds}/paths/{p}` to a container and path. */
export function resolveDatastoreUri(uri: string, datastores: DatastoreMap): BlobLocation {
  const parsed = parseDatastoreUri(uri);
  if (!parsed)
    throw new MlPlatformError(
      'InvalidRequest',
      `'${uri}' is not an azureml://datastores/{name}/paths/{path} URI.`,
    );
  // Container names are lower-case in Azure Storage; datastore names need not be.
  const container = datastores[parsed.datastore] ?? parsed.datastore.toLowerCase().replace(/_/g, '-');
  return { container, path: parsed.path.replace(/^\/+/, '') };
}
