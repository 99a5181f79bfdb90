import { parseArgs } from 'node:util';
import { EtlError, type KeyType, runEtl } from '../etl/index.js';
import { startProgress } from '../shared/progress.js';

const usage = `usage: npm run etl -- --input 'DIR/2019-*.csv.gz' [--input FILE ...] --out DIR
  [--key-types product_id,category_code,brand] [--threads 2] [--memory-limit 512MB]
The same command is the Azure ML ETL job (aml/jobs/etl.yml). Exit code 2 means bad input.`;

/** CLI: raw clickstream files → daily series per key type, quarantine and etl-report.json. */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      input: { type: 'string', multiple: true },
      out: { type: 'string' },
      'key-types': { type: 'string' },
      threads: { type: 'string' },
      'memory-limit': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || !values.input?.length || !values.out) {
    console.error(usage);
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  let progress: ReturnType<typeof startProgress> | undefined;
  // The bar's redraw timer would keep a failed run's process alive (and its job "Running") forever.
  const report = await runEtl({
    inputs: values.input,
    outDir: values.out,
    keyTypes: values['key-types']?.split(',').map((k) => k.trim() as KeyType),
    threads: values.threads === undefined ? undefined : Number(values.threads),
    memoryLimit: values['memory-limit'],
    onProgress: (p) => {
      // One bar over all work: 100 units per file staged, then 100 for the merge.
      progress ??= startProgress('etl', p.filesTotal * 100 + 100, '%');
      const done =
        p.phase === 'merge' || p.phase === 'done'
          ? p.filesTotal * 100 + (p.percent ?? 0)
          : p.filesDone * 100 + (p.phase === 'stage' ? Math.min(99, p.percent ?? 0) : 0);
      progress.update(Math.round(done), { rows: p.rowsRead, bytes: p.bytesDone });
    },
  }).finally(() => progress?.stop());
  console.log(JSON.stringify(report, null, 2));
}

main().catch((error: unknown) => {
  console.error(error instanceof EtlError ? `etl failed [${error.code}]: ${error.message}` : error);
  process.exitCode = error instanceof EtlError && !error.transient ? 2 : 1;
});
