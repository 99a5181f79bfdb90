/**
 * Loads infra/ for the tests: every Bicep file parsed, the shared Event Grid list validated, and small
 * lookups that follow a value from main.bicep into a module.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import {
  type BicepDeclaration,
  type BicepObject,
  type BicepValue,
  declarationOf,
  parseBicep,
  type ResolvedResource,
  resourcesOf,
  textOf,
  valueAt,
} from './bicep.js';

export const repoRoot = join(import.meta.dirname, '..', '..');
export const infraDir = join(repoRoot, 'infra');

/** One parsed Bicep file. */
export interface BicepSource {
  /** Path relative to infra/, e.g. 'app/rbac.bicep'. */
  path: string;
  text: string;
  declarations: BicepDeclaration[];
  resources: ResolvedResource[];
}

/** Reads and parses one file under infra/. */
export function loadBicep(path: string): BicepSource {
  const text = readFileSync(join(infraDir, path), 'utf8');
  const declarations = parseBicep(text);
  return { path, text, declarations, resources: resourcesOf(declarations) };
}

/** main.bicep and every module under infra/app/. */
export function loadAllBicep(): BicepSource[] {
  const modules = readdirSync(join(infraDir, 'app'))
    .filter((f) => f.endsWith('.bicep'))
    .sort()
    .map((f) => loadBicep(`app/${f}`));
  return [loadBicep('main.bicep'), ...modules];
}

const advancedFilterSchema = z.object({
  key: z.string().min(1),
  operatorType: z.string().min(1),
  values: z.array(z.string()).min(1),
});

/** Shape of infra/eventSubscriptions.json, shared by the Bicep (loadJsonContent) and the tests. */
export const eventSubscriptionsSchema = z.object({
  subscriptions: z
    .array(
      z.object({
        functionName: z.string().regex(/^[A-Za-z][A-Za-z0-9-]{2,63}$/),
        source: z.enum(['storage', 'mlWorkspace']),
        eventTypes: z.array(z.string().min(1)).min(1),
        subjectBeginsWith: z.string(),
        subjectEndsWith: z.string(),
        advancedFilters: z.array(advancedFilterSchema),
      }),
    )
    .min(1),
  delivery: z.object({
    maxDeliveryAttempts: z.number().int().min(1).max(30),
    eventTimeToLiveInMinutes: z.number().int().min(1).max(1440),
    maxEventsPerBatch: z.number().int().min(1),
    preferredBatchSizeInKilobytes: z.number().int().min(1),
    deadLetterContainer: z.string().min(3),
  }),
  timerFunctions: z.array(z.string()),
});

export type EventSubscriptionList = z.infer<typeof eventSubscriptionsSchema>;

/** The validated Event Grid function list. */
export function loadEventSubscriptions(): EventSubscriptionList {
  const raw: unknown = JSON.parse(readFileSync(join(infraDir, 'eventSubscriptions.json'), 'utf8'));
  return eventSubscriptionsSchema.parse(raw);
}

/** Removes all whitespace, so expressions compare regardless of how the tokens were spaced. */
export function squash(text: string): string {
  return text.replace(/\s+/g, '');
}

/** The params object of a module call in a file. */
export function moduleParams(source: BicepSource, moduleSymbol: string): BicepObject {
  const module = declarationOf(source.declarations, 'module', moduleSymbol);
  if (!module) throw new Error(`module ${moduleSymbol} not declared in ${source.path}`);
  const params = valueAt(module.value, 'params');
  if (params?.kind !== 'object') throw new Error(`module ${moduleSymbol} has no params object`);
  return params;
}

/** The module call in main.bicep that deploys a given file under infra/. */
export function moduleCallFor(main: BicepSource, modulePath: string): BicepDeclaration | undefined {
  return main.declarations.find(
    (d) => d.keyword === 'module' && d.type.replace(/^\.\//, '') === modulePath.replace(/^\.\//, ''),
  );
}

/** Squashed text of one entry of an object, or '' when absent. */
export function entryText(object: BicepValue | undefined, path: string): string {
  return squash(textOf(valueAt(object, path)));
}

/** The string value of a literal entry, or undefined when it is not a plain string. */
export function stringAt(object: BicepValue | undefined, path: string): string | undefined {
  const value = valueAt(object, path);
  return value?.kind === 'expr' ? value.stringValue : undefined;
}

/** The single resource of a type (non-existing) in a source; throws unless there is exactly one. */
export function onlyResource(source: BicepSource, type: string): ResolvedResource {
  const found = source.resources.filter((r) => r.type === type && !r.existing);
  if (found.length !== 1) throw new Error(`${source.path}: expected one ${type}, found ${found.length}`);
  return found[0] as ResolvedResource;
}
