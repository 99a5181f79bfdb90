/**
 * Training benchmark: on 500 synthetic keys × 365 days, the full training run (features, 4-fold backtest
 * against the baselines, final fit) with wall time and peak RSS; forecast throughput and single-key latency;
 * and this GBDT against XGBoost `hist` on the same feature matrix exported as CSV, with the same
 * hyper-parameters on both sides (bench/headToHead.ts), each fitted in a fresh process: fit CPU-time ratio
 * and WAPE difference.
 * XGBoost comes from Debian's python3-xgboost, installed here when missing; it is never a runtime dependency.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { once } from 'node:events';
import { loadavg } from 'node:os';
import { forecast, modelFromFile } from '../training/forecast/model.js';
import type { Dataset } from '../training/forecast/models/gbdt.js';
import { trainOnSeries } from '../training/forecast/train.js';
import { benchSeries, COMPARE_TREES, HEAD_TO_HEAD_PARAMS, headToHeadDatasets } from './headToHead.js';

const OUT = resolve('bench/out/train');
/** Keys in the synthetic set (override with BENCH_TRAIN_KEYS for a quick smoke run). */
const KEYS = Number(process.env.BENCH_TRAIN_KEYS ?? 500);
const DAYS = 365;
const TARGETS = { fitTimeRatioVsXgboost: 2, wapeRelativeDiffVsXgboost: 0.03, singleKeyForecastP95Ms: 5 };

function progress(line: string): void {
  process.stderr.write(`\r${line.padEnd(100)}`);
}

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Debian's python3-xgboost lives in the system Python, which may not be the first python3 on PATH. */
const PYTHONS = ['python3', '/usr/bin/python3'];

function pythonWithXgboost(): { python: string; version: string } | null {
  for (const python of PYTHONS) {
    const probe = spawnSync(python, ['-c', 'import xgboost; print(xgboost.__version__)'], {
      encoding: 'utf8',
    });
    if (probe.status === 0) return { python, version: probe.stdout.trim() };
  }
  return null;
}

function ensureXgboost(): { python: string; version: string } {
  const found = pythonWithXgboost();
  if (found) return found;
  console.error('python3-xgboost missing: installing it with apt-get (bench only)');
  execFileSync('sh', ['-c', 'apt-get update && apt-get install -y python3-xgboost'], { stdio: 'inherit' });
  const installed = pythonWithXgboost();
  if (!installed) throw new Error('python3-xgboost installed but no python3 can import xgboost');
  return installed;
}

/** Writes x, y and weight as CSV (header: f0…, y, w); NaN stays `nan`. */
async function writeCsv(path: string, data: Dataset): Promise<void> {
  const out = createWriteStream(path);
  const header = [...Array.from({ length: data.cols }, (_, f) => `f${f}`), 'y', 'w'].join(',');
  out.write(`${header}\n`);
  let chunk = '';
  for (let r = 0; r < data.rows; r++) {
    const cells: string[] = [];
    for (let f = 0; f < data.cols; f++) {
      const v = data.x[r * data.cols + f] as number;
      cells.push(Number.isNaN(v) ? 'nan' : String(v));
    }
    cells.push(String(data.y[r]), String(data.weight?.[r] ?? 1));
    chunk += `${cells.join(',')}\n`;
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
}

const XGBOOST_SCRIPT = `
import json, sys, time
import numpy as np, xgboost as xgb
train_path, test_path, params_json = sys.argv[1], sys.argv[2], sys.argv[3]
p = json.loads(params_json)
train = np.loadtxt(train_path, delimiter=',', skiprows=1, dtype=np.float32)
test = np.loadtxt(test_path, delimiter=',', skiprows=1, dtype=np.float32)
cpu0, wall0 = time.process_time(), time.perf_counter()
dtrain = xgb.DMatrix(train[:, :-2], label=train[:, -2], weight=train[:, -1], nthread=1)
booster = xgb.train({
  'tree_method': 'hist', 'grow_policy': 'lossguide', 'max_leaves': p['maxLeaves'], 'max_depth': p['maxDepth'],
  'eta': p['learningRate'], 'lambda': p['lambdaL2'], 'alpha': 0, 'gamma': 0, 'max_bin': p['maxBins'],
  'colsample_bytree': p['featureFraction'], 'subsample': 1, 'min_child_weight': p['minSumHessian'],
  'objective': 'reg:squarederror', 'base_score': p['baseScore'], 'nthread': 1, 'seed': p['seed'],
}, dtrain, num_boost_round=p['trees'])
cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
pred = booster.predict(xgb.DMatrix(test[:, :-2], nthread=1))
y, w = test[:, -2].astype(np.float64), test[:, -1].astype(np.float64)
wape = float(np.sum(np.abs(y * w - pred * w)) / np.sum(y * w))
print(json.dumps({'cpuSeconds': cpu, 'wallSeconds': wall, 'wape': wape, 'version': xgb.__version__}))
`;

async function main(): Promise<void> {
  await mkdir(OUT, { recursive: true });
  const { python, version: xgboostVersion } = ensureXgboost();
  const series = benchSeries(KEYS, DAYS);

  // 1. The full training run, as the training job does it.
  const rssBefore = process.resourceUsage().maxRSS / 1024;
  const wall0 = performance.now();
  const cpu0 = cpuSeconds();
  let trees = 0;
  const artifacts = trainOnSeries(series, {
    keyType: 'category_code',
    horizon: 7,
    onProgress: (p) => {
      if (p.tree) trees++;
      const seconds = (performance.now() - wall0) / 1000;
      progress(
        `train ${p.phase} fold ${p.fold === undefined ? '-' : `${p.fold + 1}/${p.folds}`} ${p.model ?? ''} tree ${p.tree ?? 0}/${p.maxTrees ?? 0} | ${trees} trees, ${(trees / seconds).toFixed(1)} trees/s`,
      );
    },
  });
  const trainWallSeconds = (performance.now() - wall0) / 1000;
  const trainCpuSeconds = cpuSeconds() - cpu0;
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  process.stderr.write('\n');

  // 2. Forecast throughput (all keys × 7 days per call) and single-key latency.
  const model = modelFromFile(artifacts.model);
  const keys = artifacts.model.keys;
  const rounds = 20;
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) forecast(model, { keys, horizon: 7 });
  const forecastsPerSecond = (rounds * keys.length) / ((performance.now() - t0) / 1000);
  const latencies: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const s = performance.now();
    forecast(model, { keys: [keys[i % keys.length] as string], horizon: 7 });
    latencies.push(performance.now() - s);
  }
  latencies.sort((a, b) => a - b);
  const singleKeyP95Ms = latencies[Math.floor(latencies.length * 0.95)] as number;

  // 3. Head to head with XGBoost hist on the same matrix: train on targets up to 14 days before the
  //    last day, test on the last 14 days. Each side fits in a fresh process of its own.
  const stride = artifacts.metrics.training.originStride;
  const { train, test } = headToHeadDatasets(series, stride);
  progress(`writing CSV: ${train.rows} train rows, ${test.rows} test rows × ${train.cols} features`);
  await writeCsv(join(OUT, 'train.csv'), train);
  await writeCsv(join(OUT, 'test.csv'), test);
  process.stderr.write('\n');
  const params = HEAD_TO_HEAD_PARAMS;
  const oursRun = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'gbdtFit.ts'), String(KEYS), String(DAYS), String(stride)],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 },
  );
  process.stderr.write('\n');
  if (oursRun.status !== 0) throw new Error(`GBDT fit process failed with status ${oursRun.status}`);
  const ours = JSON.parse(oursRun.stdout.trim().split('\n').at(-1) as string) as {
    cpuSeconds: number;
    wallSeconds: number;
    wape: number;
    baseScore: number;
  };
  const { cpuSeconds: oursCpu, wallSeconds: oursWall, wape: oursWape } = ours;
  progress('XGBoost hist: fitting (one thread, same parameters)');
  const xgbRun = spawnSync(
    python,
    [
      '-c',
      XGBOOST_SCRIPT,
      join(OUT, 'train.csv'),
      join(OUT, 'test.csv'),
      JSON.stringify({ ...params, trees: COMPARE_TREES, baseScore: ours.baseScore }),
    ],
    { encoding: 'utf8', maxBuffer: 1 << 24 },
  );
  process.stderr.write('\n');
  if (xgbRun.status !== 0) throw new Error(`xgboost run failed: ${xgbRun.stderr}`);
  const xgb = JSON.parse(xgbRun.stdout.trim().split('\n').at(-1) as string) as {
    cpuSeconds: number;
    wallSeconds: number;
    wape: number;
    version: string;
  };
  const fitTimeRatio = oursCpu / xgb.cpuSeconds;
  const wapeRelativeDiff = (oursWape - xgb.wape) / xgb.wape;

  const m = artifacts.metrics;
  const loadAverage = loadavg();
  const table = [
    ['series', `${KEYS} keys × ${DAYS} days, horizon 7, ${m.folds.length} folds`],
    ['training rows', `${m.training.rows} (origin stride ${m.training.originStride})`],
    ['training wall / CPU', `${trainWallSeconds.toFixed(1)} s / ${trainCpuSeconds.toFixed(1)} s`],
    ['peak RSS', `${peakRssMb.toFixed(0)} MB (before training ${rssBefore.toFixed(0)} MB)`],
    [
      'backtest WAPE gbdt / naive / MA',
      `${m.overall.wape?.toFixed(4)} / ${m.baselines['seasonal-naive'].overall.wape?.toFixed(4)} / ${m.baselines['moving-average'].overall.wape?.toFixed(4)}`,
    ],
    ['forecasts/s (key × 7 days)', forecastsPerSecond.toFixed(0)],
    ['single-key forecast p95', `${singleKeyP95Ms.toFixed(3)} ms`],
    ['head-to-head matrix', `${train.rows} × ${train.cols} train, ${test.rows} test, ${COMPARE_TREES} trees`],
    [
      'fit CPU this / XGBoost',
      `${oursCpu.toFixed(2)} s / ${xgb.cpuSeconds.toFixed(2)} s (ratio ${fitTimeRatio.toFixed(2)})`,
    ],
    [
      'fit wall this / XGBoost',
      `${oursWall.toFixed(2)} s / ${xgb.wallSeconds.toFixed(2)} s (each in a fresh process)`,
    ],
    [
      'test WAPE this / XGBoost',
      `${oursWape.toFixed(4)} / ${xgb.wape.toFixed(4)} (${(wapeRelativeDiff * 100).toFixed(2)}%)`,
    ],
    [
      'head-to-head params (both)',
      `objective l2, ${params.maxTrees} trees, eta ${params.learningRate}, ${params.maxLeaves} leaves, depth ${params.maxDepth}, ` +
        `${params.maxBins} bins, lambda ${params.lambdaL2}, min_child_weight ${params.minSumHessian}, ` +
        `colsample ${params.featureFraction}, min rows/leaf ${params.minDataInLeaf}, 1 thread`,
    ],
    ['XGBoost', `${xgboostVersion} (python3-xgboost), tree_method hist, lossguide, nthread 1`],
    ['load average (1/5/15 min)', loadAverage.map((l) => l.toFixed(2)).join(' / ')],
  ];
  const width = Math.max(...table.map(([k]) => (k as string).length));
  for (const [k, v] of table) console.log(`${(k as string).padEnd(width)}  ${v}`);
  const pass = {
    fitTimeRatioVsXgboost: fitTimeRatio <= TARGETS.fitTimeRatioVsXgboost,
    wapeRelativeDiffVsXgboost:
      Math.abs(wapeRelativeDiff) <= TARGETS.wapeRelativeDiffVsXgboost || oursWape < xgb.wape,
    singleKeyForecastP95Ms: singleKeyP95Ms <= TARGETS.singleKeyForecastP95Ms,
  };
  console.log(
    JSON.stringify({
      bench: 'train',
      keys: KEYS,
      days: DAYS,
      trainingRows: m.training.rows,
      trainWallSeconds,
      trainCpuSeconds,
      peakRssMb,
      backtestWape: m.overall.wape,
      seasonalNaiveWape: m.baselines['seasonal-naive'].overall.wape,
      forecastsPerSecond,
      singleKeyForecastP95Ms: singleKeyP95Ms,
      oursFitCpuSeconds: oursCpu,
      xgboostFitCpuSeconds: xgb.cpuSeconds,
      fitTimeRatioVsXgboost: fitTimeRatio,
      oursWape,
      xgboostWape: xgb.wape,
      wapeRelativeDiffVsXgboost: wapeRelativeDiff,
      loadAverage,
      targets: TARGETS,
      pass,
    }),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
