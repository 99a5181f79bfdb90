/**
 * The local model registry: versions' metadata in an Azurite table, artifacts copied into a container,
 * with Azure ML's rules: versions are immutable apart from tags and description, the same registration
 * twice is a no-op, and each new version emits ModelRegistered.
 */
import {
  assertValidName,
  MlPlatformError,
  type DataLake,
  type ModelVersion,
  type ModelVersionInput,
} from '../port.js';
import type { BlobLocation } from './datastores.js';
import { JsonTable } from './tableStore.js';

/** Container holding registered model artifacts, at `{name}/{version}/`. */
export const modelContainer = 'azureml-models';

interface ModelRecord extends ModelVersion {
  artifacts: BlobLocation;
}

/** Dependencies of the registry. */
export interface LocalRegistryDeps {
  connectionString: string;
  dataLake: DataLake;
  /** Where a model URI's files are (a job output or a datastore path). */
  resolveModelUri(uri: string): Promise<BlobLocation>;
  onRegistered(model: ModelVersion): Promise<void>;
  now(): Date;
}

function sameImmutable(a: ModelVersion, b: ModelVersionInput): boolean {
  return (
    a.modelType === (b.modelType ?? 'custom_model') &&
    a.modelUri === b.modelUri &&
    (a.jobName ?? '') === (b.jobName ?? '') &&
    JSON.stringify(a.properties) === JSON.stringify(b.properties ?? {})
  );
}

function publicView(record: ModelRecord): ModelVersion {
  const { artifacts: _artifacts, ...model } = record;
  return model;
}

function newestFirst(a: ModelVersion, b: ModelVersion): number {
  const [x, y] = [Number(a.version), Number(b.version)];
  if (Number.isFinite(x) && Number.isFinite(y) && x !== y) return y - x;
  return (b.createdAt ?? '').localeCompare(a.createdAt ?? '') || b.version.localeCompare(a.version);
}

/** Model versions in Azurite. */
export class LocalModelRegistry {
  readonly #table: JsonTable<ModelRecord>;

  constructor(private readonly deps: LocalRegistryDeps) {
    this.#table = new JsonTable<ModelRecord>(deps.connectionString, 'amlmodelversions');
  }

  /** Registers a version (copying its artifacts); identical repeats return the existing one. */
  async register(input: ModelVersionInput): Promise<ModelVersion> {
    assertValidName('Model', input.name);
    if (!/^[a-zA-Z0-9][a-zA-Z0-9.\-_]{0,29}$/.test(input.version)) {
      throw new MlPlatformError('InvalidRequest', `Model version '${input.version}' is invalid.`, {
        platformCode: 'InvalidVersion',
      });
    }
    const existing = await this.#table.get(input.name, input.version);
    if (existing) {
      if (sameImmutable(existing.value, input)) return publicView(existing.value);
      throw new MlPlatformError(
        'Conflict',
        `Model ${input.name}:${input.version} exists with different content; versions are immutable apart from tags and description.`,
        { platformCode: 'Conflict' },
      );
    }
    const source = await this.deps.resolveModelUri(input.modelUri);
    const prefix = source.path === '' || source.path.endsWith('/') ? source.path : `${source.path}/`;
    const files = await this.deps.dataLake.list(source.container, prefix);
    if (files.length === 0) {
      throw new MlPlatformError(
        'InvalidRequest',
        `Model URI ${input.modelUri} holds no files (${source.container}/${prefix}).`,
        {
          platformCode: 'ModelArtifactsNotFound',
        },
      );
    }
    const target = { container: modelContainer, path: `${input.name}/${input.version}/` };
    for (const f of files) {
      const data = await this.deps.dataLake.download(f.container, f.path);
      await this.deps.dataLake.upload(target.container, `${target.path}${f.path.slice(prefix.length)}`, data);
    }
    const record: ModelRecord = {
      name: input.name,
      version: input.version,
      modelType: input.modelType ?? 'custom_model',
      modelUri: input.modelUri,
      ...(input.jobName ? { jobName: input.jobName } : {}),
      ...(input.description ? { description: input.description } : {}),
      tags: { ...input.tags },
      properties: { ...input.properties },
      createdAt: this.deps.now().toISOString(),
      artifacts: target,
    };
    try {
      await this.#table.insert(input.name, input.version, record);
    } catch (err) {
      // A concurrent identical registration won the race: answer like a repeat.
      if (err instanceof MlPlatformError && err.code === 'Conflict') return this.register(input);
      throw err;
    }
    await this.deps.onRegistered(publicView(record));
    return publicView(record);
  }

  /** One version. */
  async get(name: string, version: string): Promise<ModelVersion> {
    return publicView(await this.#record(name, version));
  }

  /** Where a version's artifacts are stored. */
  async artifacts(name: string, version: string): Promise<BlobLocation> {
    return (await this.#record(name, version)).artifacts;
  }

  async #record(name: string, version: string): Promise<ModelRecord> {
    const found = await this.#table.get(name, version);
    if (!found)
      throw new MlPlatformError('NotFound', `Model ${name}:${version} is not registered.`, {
        platformCode: 'NotFound',
      });
    return found.value;
  }

  /** Versions of a model, newest first, optionally with a tag (and value). */
  async list(name: string, filter?: { tag?: { key: string; value?: string } }): Promise<ModelVersion[]> {
    const all = (await this.#table.list(name)).map(publicView);
    const tag = filter?.tag;
    const selected = tag
      ? all.filter((m) => tag.key in m.tags && (tag.value === undefined || m.tags[tag.key] === tag.value))
      : all;
    return selected.sort(newestFirst);
  }

  /** Merges tags into a version, with optimistic concurrency against parallel taggers. */
  async setTags(name: string, version: string, tags: Record<string, string>): Promise<ModelVersion> {
    for (;;) {
      const found = await this.#table.get(name, version);
      if (!found)
        throw new MlPlatformError('NotFound', `Model ${name}:${version} is not registered.`, {
          platformCode: 'NotFound',
        });
      const updated = { ...found.value, tags: { ...found.value.tags, ...tags } };
      try {
        await this.#table.replace(name, version, updated, found.etag);
        return publicView(updated);
      } catch (err) {
        if (!(err instanceof MlPlatformError && err.code === 'Conflict')) throw err;
      }
    }
  }
}
