import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { glob } from 'tinyglobby';

/** The app's entry could not be found or loaded; the message names the file and the cause. */
export class AppLoadError extends Error {
  readonly code = 'APP_LOAD_FAILED';
}

/**
 * Reads package.json `main` (a path or a glob, as the Node worker accepts) and returns the files to load.
 * `mainOverride` replaces `main` (the CLI uses it to load TypeScript sources under tsx without a build).
 */
export async function resolveEntryPoints(appDir: string, mainOverride?: string): Promise<string[]> {
  const packagePath = path.join(appDir, 'package.json');
  let pkg: { main?: unknown };
  try {
    pkg = JSON.parse(await readFile(packagePath, 'utf8')) as { main?: unknown };
  } catch (err) {
    throw new AppLoadError(`Cannot read ${packagePath}: ${(err as Error).message}`);
  }
  if (mainOverride) pkg.main = mainOverride;
  if (typeof pkg.main !== 'string' || pkg.main.length === 0) {
    throw new AppLoadError(`${packagePath} has no "main" entry: set it to the app's entry file or a glob.`);
  }
  const files = await glob(pkg.main, { cwd: appDir, absolute: true, onlyFiles: true });
  if (files.length === 0) {
    throw new AppLoadError(
      `package.json "main" (${pkg.main}) matches no file in ${appDir}. Did you build the app (npm run build)?`,
    );
  }
  return files.sort();
}

/**
 * Fails when the app resolves to more than one copy of `@azure/functions`: each copy would set its own
 * programming model and `instanceof HttpResponse` checks across copies break.
 */
export function assertSingleFunctionsLibrary(appDir: string, entryFiles: string[]): void {
  const seen = new Set<string>();
  for (const from of [path.join(appDir, 'package.json'), ...entryFiles]) {
    try {
      seen.add(createRequire(from).resolve('@azure/functions'));
    } catch {
      // an entry that cannot see the library registers nothing through it
    }
  }
  if (seen.size > 1) {
    throw new AppLoadError(
      `Several copies of @azure/functions are installed: ${[...seen].join(', ')}. Dedupe them.`,
    );
  }
}

/** Imports every entry file; a file that throws while loading stops the app, as on Node ≥ 20 workers. */
export async function importEntryPoints(files: string[]): Promise<void> {
  for (const file of files) {
    try {
      await import(pathToFileURL(file).href);
    } catch (err) {
      const e = err as Error;
      throw new AppLoadError(`Worker was unable to load entry point "${file}": ${e.message}`, { cause: err });
    }
  }
}
