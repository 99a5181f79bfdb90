#!/usr/bin/env node
/**
 * `local/cli.ts start [--app DIR] [--port N] [--memory] [--entry GLOB] [--state DIR]`: the project's stand-in
 * for `func start`. Prints each function with its trigger and URL, then `Host started: <url>` on stdout.
 * SIGINT/SIGTERM stop it cleanly (a second signal exits at once).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createDurableExtension } from './durable/index.js';
import type { HostExtension } from './extension.js';
import { localEventGridExtension } from './eventgrid/extension.js';
import { LocalHost, type HostStorageOption } from './host.js';
import { createLogger, type LogLevelName } from './log.js';

const usage = `Usage: local/cli.ts start [options]

  --app DIR      folder with package.json, host.json, local.settings.json (default: the project root)
  --port N       HTTP port (default: local.settings.json Host.LocalHttpPort, else 7071; 0 = any free port)
  --memory       in-memory Azurite on free ports (state is lost on exit)
  --entry GLOB   load this entry instead of package.json "main"
  --state DIR    host state folder: keys, Azurite data (default: <app>/.local)
  --log LEVEL    debug | info | warn | error (default: info)
`;

/** The nearest folder at or above `from` holding a package.json. */
function findAppRoot(from: string): string {
  let dir = from;
  for (;;) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return from;
    dir = parent;
  }
}

/**
 * Under tsx (this file is .ts) there may be no build: map `main` from the build output back to its .ts source
 * (`dist/functions/index.js` → `functions/index.ts`) when that source exists.
 */
function sourceEntryFor(appDir: string): string | undefined {
  if (!import.meta.url.endsWith('.ts')) return undefined;
  try {
    const pkg = JSON.parse(readFileSync(path.join(appDir, 'package.json'), 'utf8')) as { main?: string };
    const main = pkg.main ?? '';
    const source = main.replace(/^(\.\/)?dist\//, '').replace(/\.js$/, '.ts');
    if (source !== main && existsSync(path.join(appDir, source)) && !existsSync(path.join(appDir, main))) {
      return source;
    }
  } catch {
    // no package.json: the host reports that with its own message
  }
  return undefined;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      app: { type: 'string' },
      port: { type: 'string' },
      memory: { type: 'boolean', default: false },
      entry: { type: 'string' },
      state: { type: 'string' },
      log: { type: 'string', default: 'info' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const command = positionals[0] ?? 'start';
  if (values.help || command !== 'start') {
    process.stdout.write(usage);
    return values.help ? 0 : 2;
  }
  const appDir = path.resolve(values.app ?? findAppRoot(import.meta.dirname));
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    process.stderr.write(`--port must be a port number, got "${values.port}"\n`);
    return 2;
  }
  const levels = ['debug', 'info', 'warn', 'error', 'silent'];
  if (!levels.includes(values.log)) {
    process.stderr.write(`--log must be one of ${levels.join(', ')}, got "${values.log}"\n`);
    return 2;
  }
  const storage: HostStorageOption = values.memory ? 'memory' : 'persistent';
  const logger = createLogger(values.log as LogLevelName);
  const entry = values.entry ?? sourceEntryFor(appDir);
  // Durable Task (orchestrations, activities, /runtime/webhooks/durabletask) and the local Event Grid topic.
  const extensions: HostExtension[] = [createDurableExtension(), localEventGridExtension()];

  const host = await LocalHost.start({
    appDir,
    storage,
    logger,
    extensions,
    settingsFallbackToSample: true,
    ...(port === undefined ? {} : { port }),
    ...(entry ? { entry } : {}),
    ...(values.state ? { stateDir: path.resolve(values.state) } : {}),
  });
  process.stdout.write(`Host started: ${host.baseUrl}\n`);

  await new Promise<void>((resolve) => {
    let signalled = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (signalled) {
        process.stderr.write(`${signal} again: exiting without waiting.\n`);
        process.exit(130);
      }
      signalled = true;
      logger.info(`${signal} received: stopping the host`);
      host
        .stop()
        .catch((err: unknown) => logger.error('Stopped with errors', { error: (err as Error).message }))
        .finally(resolve);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const e = err as Error & { code?: string };
    process.stderr.write(`Host failed to start${e.code ? ` (${e.code})` : ''}: ${e.message}\n`);
    process.exit(1);
  },
);
