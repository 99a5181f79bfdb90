import { createReadStream, existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { generateClickstream } from '../training/data/generator.js';

/**
 * The sample `npm start` trains on: four monthly files of the source's shape (Feb–May 2019, so the backtest
 * stays clear of the New Year weeks a short history has never seen), 15 products, seed 7. Small enough to
 * run in a few minutes on two cores, with the weekly seasonality, promotions and price effects the model
 * learns.
 */
export const sampleMonths = ['2019-02-01', '2019-03-01', '2019-04-01', '2019-05-01'];

function daysInMonth(start: string): number {
  const d = new Date(`${start}T00:00:00Z`);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
}

/** Category codes that occur in a generated file (for scoring requests). */
async function categoriesIn(file: string, lines = 20_000): Promise<string[]> {
  const found = new Set<string>();
  const reader = createInterface({ input: createReadStream(file).pipe(createGunzip()) });
  let n = 0;
  for await (const line of reader) {
    if (n++ === 0) continue;
    const code = line.split(',')[4];
    if (code) found.add(code);
    if (n > lines) break;
  }
  reader.close();
  return [...found].sort();
}

/** Generates the sample files into `dir` (reusing files already there) and returns their paths. */
export async function generateSample(dir: string, say: (line: string) => void): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  for (const month of sampleMonths) {
    const out = path.join(dir, `${month.slice(0, 7)}.csv.gz`);
    files.push(out);
    if (existsSync(out)) continue;
    const started = performance.now();
    const summary = await generateClickstream({
      startDate: month,
      days: daysInMonth(month),
      products: 15,
      eventsPerDay: 8000,
      seed: 7,
      out,
    });
    const seconds = (performance.now() - started) / 1000;
    say(
      `Generated ${path.basename(out)}: ${summary.rows.toLocaleString('en')} rows, ${(summary.uncompressedBytes / 1e6).toFixed(0)} MB ` +
        `uncompressed in ${seconds.toFixed(1)} s (${Math.round(summary.rows / seconds).toLocaleString('en')} rows/s)`,
    );
  }
  await writeFile(path.join(dir, 'keys.json'), JSON.stringify(await categoriesIn(files[0]!)));
  return files;
}
