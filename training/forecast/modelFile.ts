import { z } from 'zod';
import { type DEFAULT_GBDT_PARAMS } from './models/gbdt.js';

/** Version of the model.json layout; loading another version fails with ModelFormatError. */
export const MODEL_FORMAT_VERSION = 1;

const treeSchema = z.object({
  feature: z.array(z.number().int()),
  threshold: z.array(z.number()),
  left: z.array(z.number().int()),
  right: z.array(z.number().int()),
  leafValue: z.array(z.number()),
});

const objectiveSchema = z.enum(['l2', 'poisson', 'tweedie']);

const gbdtParamsSchema = z.object({
  objective: objectiveSchema,
  tweedieVariancePower: z.number(),
  learningRate: z.number(),
  maxTrees: z.number().int(),
  maxLeaves: z.number().int(),
  maxDepth: z.number().int(),
  minDataInLeaf: z.number(),
  minSumHessian: z.number(),
  lambdaL2: z.number(),
  maxBins: z.number().int(),
  featureFraction: z.number(),
  earlyStoppingRounds: z.number().int(),
  seed: z.number().int(),
}) satisfies z.ZodType<typeof DEFAULT_GBDT_PARAMS>;

/** Recent days of one key, in columns (compact in JSON); day i is startDate + i. */
const keyHistorySchema = z.object({
  startDate: z.string(),
  purchases: z.array(z.number()),
  views: z.array(z.number()),
  carts: z.array(z.number()),
  priceMean: z.array(z.number().nullable()),
});

/** Schema of model.json, format version 1. */
export const modelFileSchema = z.object({
  formatVersion: z.literal(MODEL_FORMAT_VERSION),
  kind: z.enum(['gbdt', 'seasonal-naive', 'moving-average']),
  keyType: z.string(),
  horizon: z.union([z.literal(7), z.literal(14), z.literal(28)]),
  featureSetVersion: z.number().int(),
  featureNames: z.array(z.string()),
  historyDays: z.number().int(),
  calendar: z.object({ extraDays: z.array(z.string()) }),
  /** Last day of the training data, `YYYY-MM-DD`. */
  lastDate: z.string(),
  keys: z.array(z.string()),
  history: z.record(z.string(), keyHistorySchema),
  movingAverageDays: z.number().int().optional(),
  /** The training configuration, so a champion can be re-fitted on a candidate's backtest. */
  gbdtParams: gbdtParamsSchema.optional(),
  gbdt: z
    .object({
      objective: objectiveSchema,
      featureCount: z.number().int(),
      baseScore: z.number(),
      trees: z.array(treeSchema),
    })
    .optional(),
});

/** Contents of model.json. */
export type ModelFile = z.infer<typeof modelFileSchema>;
/** One key's stored history. */
export type KeyHistory = z.infer<typeof keyHistorySchema>;
