import { createHash } from 'node:crypto';
import type { ActivityDeps } from './deps.js';
import { PermanentActivityError } from './deps.js';
import type { ValidateDatasetInput, ValidateDatasetOutput } from './contracts.js';

/** Bumped when the ETL's output for the same input changes, so the dataset version changes with it. */
export const etlCodeVersion = 'etl-1';

/**
 * Activity: resolves the dataset to concrete blobs (all `.csv.gz` under the prefix, or the named ones),
 * refuses empty or missing ones, and versions it by content identity (paths, sizes, eTags).
 */
export function createValidateDataset(deps: ActivityDeps) {
  return async function validateDataset(input: ValidateDatasetInput): Promise<ValidateDatasetOutput> {
    const { container, prefix } = input.dataset;
    const listed = await deps.platform.dataLake.list(container, prefix);
    const byPath = new Map(listed.map((b) => [b.path, b]));
    const wanted = input.dataset.blobs ?? listed.filter((b) => b.path.endsWith('.csv.gz')).map((b) => b.path);
    if (wanted.length === 0) {
      throw new PermanentActivityError('DATASET_EMPTY', `No .csv.gz files under ${container}/${prefix}.`);
    }
    const blobs = wanted.map((path) => {
      const blob = byPath.get(path);
      if (!blob) throw new PermanentActivityError('BLOB_MISSING', `${container}/${path} does not exist.`);
      if (blob.size === 0) throw new PermanentActivityError('BLOB_EMPTY', `${container}/${path} is empty.`);
      return { path, bytes: blob.size, etag: blob.etag };
    });
    blobs.sort((a, b) => a.path.localeCompare(b.path));
    const hash = createHash('sha256').update(etlCodeVersion);
    for (const b of blobs) hash.update(`\n${b.path}|${b.bytes}|${b.etag}`);
    const champion = (
      await deps.platform.listModels(input.modelName, { tag: { key: 'champion', value: 'true' } })
    )[0];
    const output: ValidateDatasetOutput = {
      datasetVersion: hash.digest('hex').slice(0, 16),
      totalBytes: blobs.reduce((sum, b) => sum + b.bytes, 0),
      blobs,
    };
    if (champion) {
      output.championVersion = champion.version;
      output.championModelUri = champion.modelUri;
      if (champion.tags.datasetVersion) output.championDatasetVersion = champion.tags.datasetVersion;
    }
    return output;
  };
}
