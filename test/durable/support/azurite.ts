import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { once } from 'node:events';

/** A throw-away Azurite child process (in-memory, loopback, no telemetry) for durable tests and benches. */
export interface TestAzurite {
  connectionString: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

const wellKnownKey =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** Starts Azurite on ephemeral loopback ports and resolves once all three services listen. */
export async function startTestAzurite(): Promise<TestAzurite> {
  const require = createRequire(import.meta.url);
  const entry = require.resolve('azurite/dist/src/azurite.js');
  const child = spawn(
    process.execPath,
    [
      entry,
      '--inMemoryPersistence',
      '--disableTelemetry',
      '--skipApiVersionCheck',
      '--silent',
      ...['blob', 'queue', 'table'].flatMap((s) => [`--${s}Host`, '127.0.0.1', `--${s}Port`, '0']),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const ports: Record<string, string> = {};
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      for (const m of output.matchAll(
        /Azurite (Blob|Queue|Table) service is successfully listening at http:\/\/127\.0\.0\.1:(\d+)/g,
      )) {
        ports[m[1]!.toLowerCase()] = m[2]!;
      }
      if (ports.blob && ports.queue && ports.table) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`Azurite exited early (${code}): ${output}`)));
  });
  const connectionString =
    `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${wellKnownKey};` +
    `BlobEndpoint=http://127.0.0.1:${ports.blob}/devstoreaccount1;` +
    `QueueEndpoint=http://127.0.0.1:${ports.queue}/devstoreaccount1;` +
    `TableEndpoint=http://127.0.0.1:${ports.table}/devstoreaccount1;`;
  return {
    connectionString,
    process: child,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}
