import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** A fresh temporary folder for a host's state (keys, Azurite data). */
export function tempStateDir(prefix = 'host-state-'): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `attempts` tries. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  what: string,
  attempts = 200,
): Promise<T> {
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`Gave up waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

export const fixtureAppDir = path.join(import.meta.dirname, '../fixtures/host-app');
