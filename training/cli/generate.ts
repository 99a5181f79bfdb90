import { parseArgs } from 'node:util';
import { generateClickstream } from '../data/generator.js';
import { startProgress } from '../shared/progress.js';

const usage = `usage: npm run data:generate -- --days N --products N --seed N --out FILE.csv.gz
  [--start 2019-10-01] [--dirty 0.01] [--duplicates 0.002] [--events-per-day N] [--gzip-level 6]`;

/** CLI: writes a synthetic clickstream file in the source schema. */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      days: { type: 'string', default: '120' },
      products: { type: 'string', default: '3000' },
      seed: { type: 'string', default: '7' },
      out: { type: 'string' },
      start: { type: 'string' },
      dirty: { type: 'string', default: '0' },
      duplicates: { type: 'string' },
      'events-per-day': { type: 'string' },
      'gzip-level': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || !values.out) {
    console.error(usage);
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  const number = (name: string, text: string | undefined): number | undefined => {
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!Number.isFinite(n)) throw new RangeError(`--${name} must be a number, got ${text}`);
    return n;
  };
  const days = number('days', values.days) ?? 120;
  const progress = startProgress('generate', days, 'days');
  const summary = await generateClickstream({
    days,
    products: number('products', values.products) ?? 3000,
    seed: number('seed', values.seed) ?? 7,
    out: values.out,
    startDate: values.start,
    dirty: number('dirty', values.dirty),
    duplicateRate: number('duplicates', values.duplicates),
    eventsPerDay: number('events-per-day', values['events-per-day']),
    gzipLevel: number('gzip-level', values['gzip-level']),
    onProgress: (p) => progress.update(p.day, { rows: p.rows, bytes: p.uncompressedBytes }),
    // A failure must stop the bar too: its redraw timer would keep the process alive.
  }).finally(() => progress.stop());
  console.log(JSON.stringify(summary, null, 2));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
