import type { ActivityDeps } from './deps.js';
import type { ModelInfo, ModelRef } from './contracts.js';

/** Activity: one registered model version with its tags. */
export function createGetModel(deps: ActivityDeps) {
  return async function getModel(input: ModelRef): Promise<ModelInfo> {
    const model = await deps.platform.getModel(input.name, input.version);
    return {
      name: model.name,
      version: model.version,
      // The registry only merges tags, so a removed tag is stored empty (see tagModel).
      tags: Object.fromEntries(Object.entries(model.tags).filter(([, value]) => value !== '')),
      properties: model.properties,
      uri: model.modelUri,
    };
  };
}
