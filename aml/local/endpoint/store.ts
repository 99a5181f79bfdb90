import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EndpointError } from './errors.js';
import type { DeploymentSpec } from './spec.js';
import type { TrafficMap } from './traffic.js';

/** One endpoint as persisted, enough to re-create it (router and processes) after a host restart. */
export interface PersistedEndpoint {
  name: string;
  primaryKey: string;
  secondaryKey: string;
  port: number;
  traffic: TrafficMap;
  mirrorTraffic: TrafficMap;
  tags: Record<string, string>;
  deployments: DeploymentSpec[];
}

/** The whole state file. */
export interface PersistedState {
  version: 1;
  endpoints: PersistedEndpoint[];
}

const stateFile = 'endpoints.json';
let writeCounter = 0;

/** Reads the state file; an absent file is an empty state. */
export async function loadState(stateDir: string): Promise<PersistedState> {
  let text: string;
  try {
    text = await readFile(join(stateDir, stateFile), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, endpoints: [] };
    throw error;
  }
  const parsed = JSON.parse(text) as Partial<PersistedState>;
  if (parsed.version !== 1 || !Array.isArray(parsed.endpoints)) {
    throw new EndpointError(
      'StateCorrupt',
      `${join(stateDir, stateFile)} is not a version 1 endpoint state.`,
    );
  }
  return parsed as PersistedState;
}

/** Writes the state file atomically (temp file + rename), so a crash never leaves half a file. */
export async function saveState(stateDir: string, state: PersistedState): Promise<void> {
  await mkdir(stateDir, { recursive: true });
  writeCounter += 1;
  const temp = join(stateDir, `${stateFile}.${process.pid}.${writeCounter}.tmp`);
  await writeFile(temp, JSON.stringify(state, null, 2));
  await rename(temp, join(stateDir, stateFile));
}
