import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The folder holding the app's package.json, found upwards from here (works from functions/ and dist/functions/). */
export function appRoot(): string {
  let dir = import.meta.dirname;
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

/** Name and version from the app's package.json. */
export function appPackage(): { name: string; version: string } {
  const pkg = JSON.parse(readFileSync(path.join(appRoot(), 'package.json'), 'utf8')) as {
    name?: string;
    version?: string;
  };
  return { name: pkg.name ?? 'app', version: pkg.version ?? '0.0.0' };
}
