import { readdir, stat } from 'node:fs/promises';
import { basename, join, sep } from 'node:path';
import { ForecastRequestError, ModelFormatError } from '../training/forecast/errors.js';
import { forecast, loadModel, type ForecastModel, type KeyForecast } from '../training/forecast/model.js';
import { InvalidInputError, ModelLoadError, ModelNotReadyError } from './errors.js';
import type { ScoreRequest } from './schema.js';

/** Which model answered: the registry name and version, and what it was trained on. */
export interface ModelIdentity {
  name: string;
  version: string;
  kind: string;
  keyType: string;
  /** Last day of the training data; forecasts start the day after unless a start date is given. */
  lastDate: string;
  /** Longest horizon the model forecasts. */
  horizon: number;
}

/** A key the model could not forecast, with the reason. */
export interface UnknownKey {
  key: string;
  reason: string;
}

/** The `/score` answer. */
export interface ScoreResponse {
  model: ModelIdentity;
  horizon: number;
  forecasts: KeyForecast[];
  unknown_keys: UnknownKey[];
}

/**
 * Finds model.json under AZUREML_MODEL_DIR. Azure ML mounts a registered model folder one level below
 * the directory it names (`…/azureml-models/<name>/<version>/<folder>/`), locally it is the directory itself.
 */
export async function resolveModelDir(dir: string): Promise<string> {
  const isFile = (path: string) =>
    stat(path).then(
      (s) => s.isFile(),
      () => false,
    );
  if (await isFile(join(dir, 'model.json'))) return dir;
  let entries: string[];
  try {
    entries = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch (error) {
    throw new ModelLoadError(`model directory ${dir} cannot be read: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const candidates: string[] = [];
  for (const entry of entries)
    if (await isFile(join(dir, entry, 'model.json'))) candidates.push(join(dir, entry));
  if (candidates.length === 1) return candidates[0] as string;
  if (candidates.length > 1) {
    throw new ModelLoadError(`model directory ${dir} holds several models: ${candidates.join(', ')}`);
  }
  throw new ModelLoadError(`no model.json in ${dir} or its subfolders`);
}

/**
 * Name and version of the model: from `INFERENCE_MODEL_REF` (`azureml:<name>:<version>`) when the
 * deployment sets it, else from the Azure ML mount path `azureml-models/<name>/<version>`, else the folder.
 */
export function identifyModel(dir: string, modelRef: string | undefined): { name: string; version: string } {
  const ref = /^(?:azureml:)?([^:@/]+)[:@]([^:@/]+)$/.exec(modelRef ?? '');
  if (ref) return { name: ref[1] as string, version: ref[2] as string };
  const parts = dir.split(sep).filter(Boolean);
  const at = parts.lastIndexOf('azureml-models');
  if (at >= 0 && parts[at + 1] && parts[at + 2]) {
    return { name: parts[at + 1] as string, version: parts[at + 2] as string };
  }
  return { name: basename(dir), version: 'local' };
}

/**
 * The model lifecycle (KServe style): `load()` reads and validates the model and sets `ready`;
 * `score()` answers one validated request, mapping the model's request errors to InvalidInputError.
 */
export class ForecastModelServer {
  private model: ForecastModel | undefined;
  private identity: ModelIdentity | undefined;
  private draining = false;

  constructor(
    private readonly modelDir: string,
    private readonly modelRef?: string,
  ) {}

  /** True once the model is loaded and until shutdown begins. */
  get ready(): boolean {
    return this.model !== undefined && !this.draining;
  }

  /** The loaded model's identity; throws ModelNotReadyError before load(). */
  get info(): ModelIdentity {
    if (!this.identity) throw new ModelNotReadyError();
    return this.identity;
  }

  /** Loads the model; throws ModelLoadError when it is missing or of an incompatible format. */
  async load(): Promise<ModelIdentity> {
    const dir = await resolveModelDir(this.modelDir);
    let model: ForecastModel;
    try {
      model = await loadModel(dir);
    } catch (error) {
      if (error instanceof ModelFormatError) {
        throw new ModelLoadError(`incompatible model in ${dir}: ${error.message}`, { cause: error });
      }
      throw error;
    }
    this.model = model;
    this.identity = {
      ...identifyModel(this.modelDir, this.modelRef),
      kind: model.file.kind,
      keyType: model.file.keyType,
      lastDate: model.lastDate,
      horizon: model.horizon,
    };
    return this.identity;
  }

  /** Turns readiness false so the router drains this instance; requests already accepted still score. */
  beginDrain(): void {
    this.draining = true;
  }

  /** Forecasts for a validated request. */
  score(request: ScoreRequest): ScoreResponse {
    const model = this.model;
    if (!model || !this.identity) throw new ModelNotReadyError();
    let result: ReturnType<typeof forecast>;
    try {
      result = forecast(model, {
        keys: request.keys,
        horizon: request.horizon,
        ...(request.start_date !== undefined ? { startDate: request.start_date } : {}),
        ...(request.history !== undefined ? { history: request.history } : {}),
      });
    } catch (error) {
      if (error instanceof ForecastRequestError) {
        const field =
          error.code === 'HORIZON_NOT_SUPPORTED'
            ? 'horizon'
            : error.code === 'BAD_HISTORY'
              ? 'history'
              : 'start_date';
        throw new InvalidInputError(`${field}: ${error.message}`, { cause: error });
      }
      throw error;
    }
    return {
      model: this.identity,
      horizon: request.horizon,
      forecasts: result.forecasts,
      unknown_keys: result.unknownKeys.map((key) => ({
        key,
        reason: 'the model has no history for this key and the request supplied none',
      })),
    };
  }
}
