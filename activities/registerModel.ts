import { isMlPlatformError } from '../aml/port.js';
import type { ActivityDeps } from './deps.js';
import { toBlobLocation } from './deps.js';
import type { ModelRef, RegisterModelInput } from './contracts.js';

const maxAttempts = 5;

/** Keys the smoke test asks the deployment for: the first keys the model knows, from its model.json. */
async function sampleKeys(deps: ActivityDeps, modelUri: string): Promise<string> {
  try {
    const dir = toBlobLocation(deps, modelUri);
    const raw = await deps.platform.dataLake.download(dir.container, `${dir.path}/model.json`);
    const model = JSON.parse(raw.toString('utf8')) as { keys?: unknown };
    const keys = Array.isArray(model.keys) ? model.keys : [];
    return keys
      .filter((k): k is string => typeof k === 'string')
      .slice(0, 3)
      .join(',');
  } catch {
    // Without model.json the smoke test cannot pick keys; registering is still right, the smoke test will say so.
    return '';
  }
}

/**
 * Activity: registers the model once per run. The run id tag makes a second call return the version the
 * first registered; versions are the next integer, retried on a concurrent registration of the same one.
 */
export function createRegisterModel(deps: ActivityDeps) {
  return async function registerModel(input: RegisterModelInput): Promise<ModelRef> {
    const mine = await deps.platform.listModels(input.modelName, {
      tag: { key: 'runId', value: input.runId },
    });
    if (mine[0]) return { name: mine[0].name, version: mine[0].version };
    const keys = await sampleKeys(deps, input.modelUri);
    for (let attempt = 1; ; attempt++) {
      const existing = await deps.platform.listModels(input.modelName);
      const next = existing.reduce((max, m) => Math.max(max, Number.parseInt(m.version, 10) || 0), 0) + 1;
      try {
        const model = await deps.platform.registerModel({
          name: input.modelName,
          version: String(next),
          modelType: 'custom_model',
          modelUri: input.modelUri,
          tags: { ...input.tags, runId: input.runId },
          properties: { ...input.properties, ...(keys ? { sampleKeys: keys } : {}) },
          description: `Demand forecast registered by run ${input.runId}`,
        });
        deps.log('info', `registered ${model.name}:${model.version}`, { runId: input.runId });
        return { name: model.name, version: model.version };
      } catch (err) {
        if (!isMlPlatformError(err, 'Conflict') || attempt >= maxAttempts) throw err;
      }
    }
  };
}
