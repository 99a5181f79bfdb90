/**
 * Child process of bench:train: fits this GBDT on the head-to-head matrix and prints, as its last line,
 * `{"cpuSeconds","wallSeconds","wape","baseScore"}`. It runs in a fresh process, as XGBoost does in its
 * Python one: measured inside bench:train after the 500-key training run, the same fit cost 30–60% more
 * CPU (garbage collection over the heap that run left behind), which is not the fit's own cost.
 * Usage: gbdtFit.ts <keys> <days> <originStride>
 */
import { compileGbdt, fitGbdt, predictRow } from '../training/forecast/models/gbdt.js';
import { benchSeries, datasetWape, HEAD_TO_HEAD_PARAMS, headToHeadDatasets } from './headToHead.js';

const [keys, days, stride] = process.argv.slice(2).map(Number);
if (!keys || !days || !stride) throw new Error('usage: gbdtFit.ts <keys> <days> <originStride>');
const { train, test } = headToHeadDatasets(benchSeries(keys, days), stride);
const cpu0 = process.cpuUsage();
const wall0 = performance.now();
const fit = fitGbdt(train, HEAD_TO_HEAD_PARAMS, undefined, (it) => {
  process.stderr.write(`\rthis GBDT: tree ${it.tree}/${HEAD_TO_HEAD_PARAMS.maxTrees}`.padEnd(100));
});
const cpu = process.cpuUsage(cpu0);
const wallSeconds = (performance.now() - wall0) / 1000;
const compiled = compileGbdt(fit.model);
const wape = datasetWape(test, (offset) => predictRow(compiled, test.x, offset));
console.log(
  JSON.stringify({
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    wallSeconds,
    wape,
    baseScore: fit.model.baseScore,
  }),
);
