import type { ActivityDeps } from './deps.js';
import type { TagModelInput } from './contracts.js';

/**
 * Activity: sets and removes model tags (champion, rejected, retired). Registries merge tags, so a
 * removed tag is written empty and getModel leaves empty tags out.
 */
export function createTagModel(deps: ActivityDeps) {
  return async function tagModel(input: TagModelInput): Promise<Record<string, string>> {
    const tags: Record<string, string> = {};
    for (const key of input.remove ?? []) tags[key] = '';
    Object.assign(tags, input.set);
    const model = await deps.platform.setModelTags(input.model.name, input.model.version, tags);
    return model.tags;
  };
}
