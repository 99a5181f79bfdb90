import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { generateClickstream } from '../../training/data/generator.js';
import { sampleMonths } from '../../scripts/sample.js';

/**
 * Writes a smaller version of `npm start`'s sample into `<stateDir>/sample`, where npm start reuses files
 * it finds: the same months and products, fewer events a day, so the whole saga runs in a fraction of the time.
 */
export async function writeSmallSample(stateDir: string, eventsPerDay = 1500): Promise<void> {
  const dir = path.join(stateDir, 'sample');
  await mkdir(dir, { recursive: true });
  for (const month of sampleMonths) {
    const start = new Date(`${month}T00:00:00Z`);
    const days = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 0)).getUTCDate();
    await generateClickstream({
      startDate: month,
      days,
      products: 15,
      eventsPerDay,
      seed: 7,
      out: path.join(dir, `${month.slice(0, 7)}.csv.gz`),
    });
  }
}
