import type { ActivityDeps } from './deps.js';
import type { ModelRef } from './contracts.js';

/**
 * Activity: the current champion and the model that served before it (the most recently retired version
 * that was never rejected), for a manual rollback.
 */
export function createFindPreviousChampion(deps: ActivityDeps) {
  return async function findPreviousChampion(input: {
    modelName: string;
  }): Promise<{ current?: ModelRef; previous?: ModelRef }> {
    const models = await deps.platform.listModels(input.modelName);
    const tag = (m: (typeof models)[number], key: string) => m.tags[key] ?? '';
    const current = models.find((m) => tag(m, 'champion') === 'true');
    const previous = models
      .filter((m) => m !== current && tag(m, 'retired') !== '' && tag(m, 'rejected') === '')
      .sort((a, b) => tag(b, 'retired').localeCompare(tag(a, 'retired')))[0];
    return {
      ...(current ? { current: { name: current.name, version: current.version } } : {}),
      ...(previous ? { previous: { name: previous.name, version: previous.version } } : {}),
    };
  };
}
