/**
 * A durable host as a child process for the crash test and the benchmark: runs the fixture app against
 * the Azurite named by DURABLE_STORAGE and prints `DURABLE_HOST_URL <url>` once it listens.
 * Run with `node --import tsx` so that a kill hits the host itself, not a wrapper process.
 */
import { SystemClock } from '../../../local/clock.js';
import { LocalHost } from '../../../local/host.js';
import { createLogger } from '../../../local/log.js';
import { createDurableExtension } from '../../../local/durable/index.js';
import { fixtureAppDir } from './durableHost.js';

const connectionString = process.env.DURABLE_STORAGE;
if (!connectionString) throw new Error('DURABLE_STORAGE must name the storage account.');
const host = await LocalHost.start({
  appDir: fixtureAppDir,
  port: 0,
  clock: new SystemClock(),
  extensions: [createDurableExtension()],
  storage: { connectionString },
  stateDir: process.env.DURABLE_STATE_DIR,
  logger: createLogger(process.env.DURABLE_LOG_LEVEL === 'info' ? 'info' : 'warn'),
  settings: { DURABLE_TEST_HUB: process.env.DURABLE_TEST_HUB ?? 'CrashTests' },
});
process.stdout.write(`DURABLE_HOST_URL ${host.baseUrl}\n`);
process.once('SIGTERM', () => void host.stop().then(() => process.exit(0)));
