/**
 * `npm run bench`: runs every benchmark in turn (each is `npm run bench:<name>`), shows their output as it
 * comes, then prints one table of what each held against its targets and, last, one JSON line with all figures.
 */
import { spawn } from 'node:child_process';

const names = ['durable', 'etl', 'train', 'infer'];

interface BenchResult {
  name: string;
  exitCode: number | null;
  seconds: number;
  figures?: Record<string, unknown>;
}

/** Runs one benchmark, echoing its output, and parses its last line as its JSON figures. */
function run(name: string): Promise<BenchResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', '--silent', `bench:${name}`], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      process.stdout.write(chunk);
    });
    child.on('exit', (exitCode) => {
      const last = out.trim().split('\n').at(-1) ?? '';
      let figures: Record<string, unknown> | undefined;
      try {
        figures = JSON.parse(last) as Record<string, unknown>;
      } catch {
        figures = undefined;
      }
      resolve({
        name,
        exitCode,
        seconds: (performance.now() - started) / 1000,
        ...(figures ? { figures } : {}),
      });
    });
  });
}

const results: BenchResult[] = [];
for (const name of names) {
  process.stdout.write(`\n=== bench:${name} ===\n`);
  results.push(await run(name));
}

process.stdout.write('\nbenchmark   exit   wall s   targets met\n');
for (const r of results) {
  const pass = (r.figures?.pass ?? {}) as Record<string, unknown>;
  const met = Object.entries(pass).map(([k, v]) => `${k}:${v === true ? 'yes' : 'NO'}`);
  process.stdout.write(
    `${r.name.padEnd(10)}  ${String(r.exitCode).padStart(4)}   ${r.seconds.toFixed(0).padStart(6)}   ${met.join(' ') || (r.figures ? '(no pass map)' : 'no JSON figures')}\n`,
  );
}
process.stdout.write(`${JSON.stringify({ bench: 'all', results })}\n`);
process.exit(results.every((r) => r.exitCode === 0) ? 0 : 1);
