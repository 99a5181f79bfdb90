import { parseArgs } from 'node:util';
import { Presets, SingleBar } from 'cli-progress';
import { type TrainingProgress } from '../forecast/backtest.js';
import { ForecastRequestError, ModelFormatError, TrainingDataError } from '../forecast/errors.js';
import { type Horizon } from '../forecast/model.js';
import { type Objective } from '../forecast/models/gbdt.js';
import { type ModelKind } from '../forecast/predictor.js';
import { type KeyType } from '../forecast/readSeries.js';
import { trainModel } from '../forecast/train.js';

const usage = `usage: npm run train -- --data DIR --out DIR [--key category_code] [--horizon 7|14|28]
  [--champion MODEL_DIR] [--model gbdt|seasonal-naive|moving-average] [--objective l2|poisson|tweedie]
  [--seed 1] [--folds 4] [--max-trees 300] [--special-days YYYY-MM-DD,...]
Reads DIR/series/key_type=<key>/*.parquet (the ETL output) and writes model.json, metrics.json,
reference-stats.json, backtest.parquet and forecast-vs-actual.svg to --out. The same command is the
Azure ML training job (aml/jobs/train.yml). Exit code 2 means bad input.`;

const KEY_TYPES = ['product_id', 'category_code', 'brand'] as const;
const MODELS = ['gbdt', 'seasonal-naive', 'moving-average'] as const;
const OBJECTIVES = ['l2', 'poisson', 'tweedie'] as const;

function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new TrainingDataError('NO_SERIES', `--${name} must be one of ${allowed.join(', ')}; got ${value}`);
  }
  return value as T;
}

function integer(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n))
    throw new TrainingDataError('NO_SERIES', `--${name} must be an integer; got ${value}`);
  return n;
}

/** One updating line on stderr: the phase, fold and trees grown in the current fit, with a rate. */
function progressLine(): { update(p: TrainingProgress): void; stop(): void } {
  const started = performance.now();
  let trees = 0;
  const bar = new SingleBar(
    {
      format:
        'train {phase} | fold {fold} | {model} | tree {tree}/{maxTrees} | {trees} trees total, {rate} trees/s',
      stream: process.stderr,
      noTTYOutput: !process.stderr.isTTY,
      notTTYSchedule: 5000,
    },
    Presets.legacy,
  );
  bar.start(1, 0, { phase: 'read', fold: '-', model: '-', tree: 0, maxTrees: 0, trees: 0, rate: 0 });
  return {
    update(p) {
      if (p.tree && p.tree > 0) trees++;
      const seconds = (performance.now() - started) / 1000;
      bar.update(0, {
        phase: p.phase,
        fold: p.fold === undefined ? '-' : `${p.fold + 1}/${p.folds ?? '?'}`,
        model: p.model ?? (p.phase === 'final' ? 'candidate' : '-'),
        tree: p.tree ?? 0,
        maxTrees: p.maxTrees ?? 0,
        trees,
        rate: (trees / Math.max(seconds, 1e-3)).toFixed(1),
      });
    },
    stop() {
      bar.stop();
    },
  };
}

/** CLI: ETL series → trained model directory with backtest metrics. */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      out: { type: 'string' },
      key: { type: 'string', default: 'category_code' },
      horizon: { type: 'string', default: '7' },
      champion: { type: 'string' },
      model: { type: 'string', default: 'gbdt' },
      objective: { type: 'string' },
      seed: { type: 'string' },
      folds: { type: 'string' },
      'max-trees': { type: 'string' },
      'special-days': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || !values.data || !values.out) {
    console.error(usage);
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  const horizon = Number(values.horizon);
  if (horizon !== 7 && horizon !== 14 && horizon !== 28) {
    throw new TrainingDataError('NO_SERIES', `--horizon must be 7, 14 or 28; got ${values.horizon}`);
  }
  const maxTrees = integer('max-trees', values['max-trees']);
  const gbdt = {
    ...(values.objective ? { objective: oneOf<Objective>('objective', values.objective, OBJECTIVES) } : {}),
    ...(maxTrees === undefined ? {} : { maxTrees }),
  };
  const progress = progressLine();
  const seed = integer('seed', values.seed);
  const folds = integer('folds', values.folds);
  // The progress bar's timer keeps the process alive: stop it on failure too, or a failed job never exits.
  const result = await trainModel({
    dataDir: values.data,
    outDir: values.out,
    keyType: oneOf<KeyType>('key', values.key, KEY_TYPES),
    horizon: horizon as Horizon,
    model: oneOf<ModelKind>('model', values.model, MODELS),
    gbdt,
    ...(seed === undefined ? {} : { seed }),
    ...(folds === undefined ? {} : { folds }),
    ...(values.champion ? { champion: values.champion } : {}),
    ...(values['special-days']
      ? { extraSpecialDays: values['special-days'].split(',').map((d) => d.trim()) }
      : {}),
    onProgress: (p) => progress.update(p),
  }).finally(() => progress.stop());
  const m = result.metrics;
  console.log(
    JSON.stringify(
      {
        outDir: result.outDir,
        files: result.files,
        model: m.model,
        keys: m.training.keys,
        trees: m.training.trees,
        overall: m.overall,
        perKeyMape: m.perKey.mape,
        seasonalNaiveWape: m.baselines['seasonal-naive'].overall.wape,
        championWape: m.champion?.overall.wape ?? null,
      },
      null,
      2,
    ),
  );
}

main().catch((error: unknown) => {
  const permanent =
    error instanceof TrainingDataError ||
    error instanceof ModelFormatError ||
    error instanceof ForecastRequestError;
  console.error(permanent ? `train failed [${error.code}]: ${error.message}` : error);
  process.exitCode = permanent ? 2 : 1;
});
