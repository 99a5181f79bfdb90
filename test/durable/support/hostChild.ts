import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';

/** A host child process and the URL it serves. */
export interface HostChild {
  child: ChildProcess;
  baseUrl: string;
  output: () => string;
}

/** Spawns test/durable/support/hostProcess.ts on the given storage and waits for its URL. */
export async function spawnHostChild(env: Record<string, string>): Promise<HostChild> {
  const script = path.join(import.meta.dirname, 'hostProcess.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const baseUrl = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /DURABLE_HOST_URL (\S+)/.exec(output);
      if (match) resolve(match[1]!);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code, signal) =>
      reject(new Error(`host exited (${code ?? signal}) before listening:\n${output}`)),
    );
  });
  return { child, baseUrl, output: () => output };
}

/** kill -9 and wait until the process is gone. */
export async function killHard(host: HostChild): Promise<void> {
  if (host.child.exitCode !== null || host.child.signalCode !== null) return;
  const exited = once(host.child, 'exit');
  host.child.kill('SIGKILL');
  await exited;
}
