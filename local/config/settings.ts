import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { HostJson } from '../extension.js';

/** A host configuration file or setting is missing or malformed. */
export class HostConfigError extends Error {
  constructor(
    readonly code: 'BAD_LOCAL_SETTINGS' | 'BAD_HOST_JSON' | 'MISSING_SETTING',
    message: string,
  ) {
    super(message);
  }
}

/** local.settings.json as `func` reads it. */
export interface LocalSettings {
  /** The file the settings came from; undefined when there was none. */
  source?: string;
  IsEncrypted?: boolean;
  Values: Record<string, string>;
  Host: { LocalHttpPort?: number; CORS?: string; [setting: string]: unknown };
  ConnectionStrings: Record<string, string>;
}

async function readJsonIfPresent(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  // Both files are commonly saved by editors with a BOM.
  return JSON.parse(text.replace(/^\uFEFF/, '')) as unknown;
}

/**
 * Reads `local.settings.json` from the app folder (absent file → empty settings, as with `func`). With
 * `fallbackToSample`, a fresh clone without it uses the committed `local.settings.json.sample` instead.
 */
export async function readLocalSettings(
  appDir: string,
  opts: { fallbackToSample?: boolean } = {},
): Promise<LocalSettings> {
  const candidates = [
    'local.settings.json',
    ...(opts.fallbackToSample ? ['local.settings.json.sample'] : []),
  ];
  let raw: unknown;
  let source: string | undefined;
  for (const name of candidates) {
    const file = path.join(appDir, name);
    try {
      raw = await readJsonIfPresent(file);
    } catch (err) {
      throw new HostConfigError('BAD_LOCAL_SETTINGS', `${file} is not valid JSON: ${(err as Error).message}`);
    }
    if (raw !== undefined) {
      source = file;
      break;
    }
  }
  const file = source ?? path.join(appDir, 'local.settings.json');
  const obj = (raw ?? {}) as Partial<LocalSettings>;
  if (obj.IsEncrypted === true) {
    throw new HostConfigError(
      'BAD_LOCAL_SETTINGS',
      `${file} is encrypted; the local host reads plain values only.`,
    );
  }
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(obj.Values ?? {})) {
    // func passes every value as an environment string
    values[key] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return {
    ...(source ? { source } : {}),
    Values: values,
    Host: obj.Host ?? {},
    ConnectionStrings: obj.ConnectionStrings ?? {},
  };
}

/**
 * Copies `Values` into `env` without overwriting variables that are already set, as `func start` does.
 * Returns the names it set.
 */
export function applySettingsToEnv(
  values: Record<string, string>,
  env: NodeJS.ProcessEnv = process.env,
): string[] {
  const applied: string[] = [];
  for (const [key, value] of Object.entries(values)) {
    if (env[key] !== undefined) continue;
    env[key] = value;
    applied.push(key);
  }
  return applied;
}

/** Reads `host.json` (absent file → `{ version: '2.0' }`). */
export async function readHostJson(appDir: string): Promise<HostJson> {
  const file = path.join(appDir, 'host.json');
  try {
    return ((await readJsonIfPresent(file)) as HostJson | undefined) ?? { version: '2.0' };
  } catch (err) {
    throw new HostConfigError('BAD_HOST_JSON', `${file} is not valid JSON: ${(err as Error).message}`);
  }
}

/** host.json `extensions.http.routePrefix`, default `api`, without surrounding slashes (`''` removes it). */
export function routePrefixOf(hostJson: HostJson): string {
  const prefix = hostJson.extensions?.http?.routePrefix;
  return (typeof prefix === 'string' ? prefix : 'api').replace(/^\/+|\/+$/g, '');
}

/**
 * Resolves `%Setting%` placeholders the way the Functions host does for binding properties and host.json
 * (e.g. `schedule: '%RETRAIN_SCHEDULE%'`). A placeholder naming a missing setting is an error.
 */
export function resolveSettingPlaceholders(
  text: string,
  settings: Readonly<Record<string, string | undefined>> = process.env,
): string {
  return text.replace(/%([^%\s]+)%/g, (_match, name: string) => {
    const value = settings[name];
    if (value === undefined) {
      throw new HostConfigError('MISSING_SETTING', `The setting "${name}" used as %${name}% is not defined.`);
    }
    return value;
  });
}
