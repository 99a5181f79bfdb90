/**
 * A child process running this app on the local host, for end-to-end tests that kill and restart it.
 * Reads E2E_STORAGE (the test's Azurite), E2E_STATE_DIR and E2E_SETTINGS (JSON app settings); prints
 * `E2E_HOST_URL <url> <function key>` once it listens.
 */
import path from 'node:path';
import { createDurableExtension } from '../../../local/durable/index.js';
import { localEventGridExtension } from '../../../local/eventgrid/index.js';
import { LocalHost } from '../../../local/host.js';
import { createLogger } from '../../../local/log.js';

const root = path.resolve(import.meta.dirname, '../../..');
const stateDir = process.env.E2E_STATE_DIR ?? '';
const settings = JSON.parse(process.env.E2E_SETTINGS ?? '{}') as Record<string, string>;

const host = await LocalHost.start({
  appDir: root,
  entry: path.join(root, 'functions', 'index.ts'),
  stateDir,
  storage: { connectionString: process.env.E2E_STORAGE ?? '' },
  port: 0,
  logger: createLogger('warn'),
  extensions: [createDurableExtension(), localEventGridExtension({ watchContainers: ['raw'] })],
  settingsFallbackToSample: true,
  settings: { ...settings, LOCAL_STATE_DIR: stateDir },
});
process.stdout.write(`E2E_HOST_URL ${host.baseUrl} ${host.keys.defaultFunctionKey}\n`);
process.once('SIGTERM', () => {
  void host.stop().then(() => process.exit(0));
});
