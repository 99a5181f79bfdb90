import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** How to start one inference-server process: the executable and its arguments. */
export interface ServerLauncher {
  command: string;
  args: string[];
}

/**
 * Launches `inference/main` with the current Node: the compiled `.js` when running from `dist/`,
 * otherwise the `.ts` source through the tsx loader (the repo's dev runtime).
 */
export function defaultServerLauncher(): ServerLauncher {
  const compiled = fileURLToPath(new URL('../../../inference/main.js', import.meta.url));
  if (existsSync(compiled)) return { command: process.execPath, args: [compiled] };
  const source = fileURLToPath(new URL('../../../inference/main.ts', import.meta.url));
  const tsxLoader = createRequire(import.meta.url).resolve('tsx');
  return { command: process.execPath, args: ['--import', pathToFileURL(tsxLoader).href, source] };
}
