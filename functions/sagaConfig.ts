import { z } from 'zod';
import type { ReleaseConfig, RetryPolicy, TrainingConfig } from '../activities/contracts.js';
import type { TriggerConfig } from '../triggers/config.js';
import { configErrorFrom } from './config.js';
import { appSettings, type AppSettingName } from './settings.js';

const fallback = (name: AppSettingName): string | undefined =>
  (appSettings[name] as { default?: string }).default;
const setting = <T extends z.ZodType>(name: AppSettingName, schema: T) =>
  z.preprocess((v) => (v === undefined || v === '' ? fallback(name) : v), schema);

const number = (min: number, max: number) => z.coerce.number().min(min).max(max);
const seconds = number(0, 30 * 24 * 3600);
const bool = z.enum(['true', 'false']).transform((v) => v === 'true');

const schema = z.object({
  MODEL_NAME: setting(
    'MODEL_NAME',
    z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9\-_]{0,254}$/, 'is not a valid Azure ML model name'),
  ),
  FORECAST_KEY_TYPE: setting('FORECAST_KEY_TYPE', z.enum(['category_code', 'product_id', 'brand'])),
  FORECAST_HORIZON: setting(
    'FORECAST_HORIZON',
    z.enum(['7', '14', '28']).transform((v) => Number(v) as 7 | 14 | 28),
  ),
  RAW_CONTAINER: setting('RAW_CONTAINER', z.string().min(3)),
  RAW_PREFIX: setting('RAW_PREFIX', z.string()),
  CURATED_CONTAINER: setting('CURATED_CONTAINER', z.string().min(3)),
  RUNS_CONTAINER: setting('RUNS_CONTAINER', z.string().min(3)),
  AML_COMPUTE_NAME: setting('AML_COMPUTE_NAME', z.string().min(1)),
  AML_ENDPOINT_NAME: setting(
    'AML_ENDPOINT_NAME',
    z.string().regex(/^[a-zA-Z][a-zA-Z0-9-]{2,31}$/, 'must be 3-32 letters, digits or -'),
  ),
  RETRAIN_ONLY_IF_CHANGED: setting('RETRAIN_ONLY_IF_CHANGED', bool),
  BLOB_QUIET_WINDOW_SECONDS: setting('BLOB_QUIET_WINDOW_SECONDS', seconds),
  GATE_MAX_MAPE: setting('GATE_MAX_MAPE', number(0, 10)),
  GATE_MAX_P90_KEY_MAPE: setting('GATE_MAX_P90_KEY_MAPE', number(0, 10)),
  GATE_CHAMPION_TOLERANCE: setting('GATE_CHAMPION_TOLERANCE', number(0, 1)),
  CANARY_STEPS: setting(
    'CANARY_STEPS',
    z
      .string()
      .transform((v) => v.split(',').map((x) => Number(x.trim())))
      .refine(
        (steps) => steps.every((s) => Number.isInteger(s) && s > 0 && s <= 100),
        'must be percentages 1-100',
      )
      .refine((steps) => steps.every((s, i) => i === 0 || s > steps[i - 1]!), 'must increase')
      .refine((steps) => steps.at(-1) === 100, 'must end at 100'),
  ),
  CANARY_BAKE_SECONDS: setting('CANARY_BAKE_SECONDS', number(1, 7 * 24 * 3600)),
  CANARY_INTERVAL_SECONDS: setting('CANARY_INTERVAL_SECONDS', number(1, 24 * 3600)),
  SLO_P95_MS: setting('SLO_P95_MS', number(1, 600_000)),
  SLO_MAX_5XX_RATE: setting('SLO_MAX_5XX_RATE', number(0, 1)),
  SLO_MIN_REQUESTS: setting('SLO_MIN_REQUESTS', number(0, 1e9)),
  SLO_MAX_REGRESSION_VS_BLUE: setting('SLO_MAX_REGRESSION_VS_BLUE', number(0, 100)),
  APPROVAL_REQUIRED: setting('APPROVAL_REQUIRED', bool),
  APPROVAL_TIMEOUT_SECONDS: setting('APPROVAL_TIMEOUT_SECONDS', number(1, 30 * 24 * 3600)),
});

/** Datastore name of a data-lake container: the same in Azure (infra/app/aml.bicep) and locally. */
export const datastoreOf = (container: string) => `lake_${container.replace(/-/g, '_')}`;

/** The sagas' configuration: what triggers snapshot into each run's input. */
export interface SagaConfig extends TriggerConfig {
  curatedContainer: string;
  runsContainer: string;
}

/**
 * Reads the saga settings (defaults from functions/settings.ts); throws ConfigError naming each bad one.
 * Job polls are paced for real Azure ML jobs; the local platform's jobs finish in seconds, so its polls start short.
 */
export function loadSagaConfig(
  env: Readonly<Record<string, string | undefined>>,
  platform: 'local' | 'azure',
): SagaConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) throw configErrorFrom(parsed.error);
  const s = parsed.data;
  const local = platform === 'local';
  // Transient platform failures (throttling, 5xx, timeouts) are retried on durable timers, then fail the step.
  const retry: RetryPolicy = local
    ? { maxAttempts: 3, firstDelaySeconds: 1, backoffFactor: 2, maxDelaySeconds: 5 }
    : { maxAttempts: 5, firstDelaySeconds: 15, backoffFactor: 2, maxDelaySeconds: 300 };
  const training: TrainingConfig = {
    modelName: s.MODEL_NAME,
    computeName: s.AML_COMPUTE_NAME,
    jobPoll: local
      ? { initialDelaySeconds: 2, maxDelaySeconds: 10, backoffFactor: 1.5, timeoutSeconds: 3600 }
      : { initialDelaySeconds: 60, maxDelaySeconds: 600, backoffFactor: 2, timeoutSeconds: 12 * 3600 },
    retry,
    gate: {
      maxMape: s.GATE_MAX_MAPE,
      maxP90KeyMape: s.GATE_MAX_P90_KEY_MAPE,
      championTolerance: s.GATE_CHAMPION_TOLERANCE,
    },
  };
  const release: ReleaseConfig = {
    endpointName: s.AML_ENDPOINT_NAME,
    instanceType: 'Standard_DS3_v2',
    instanceCount: 1,
    canarySteps: s.CANARY_STEPS,
    bakeSeconds: s.CANARY_BAKE_SECONDS,
    analysisIntervalSeconds: Math.min(s.CANARY_INTERVAL_SECONDS, s.CANARY_BAKE_SECONDS),
    slo: {
      maxP95LatencyMs: s.SLO_P95_MS,
      max5xxRate: s.SLO_MAX_5XX_RATE,
      minRequests: s.SLO_MIN_REQUESTS,
      maxRegressionVsBlue: s.SLO_MAX_REGRESSION_VS_BLUE,
    },
    approval: { required: s.APPROVAL_REQUIRED, timeoutSeconds: s.APPROVAL_TIMEOUT_SECONDS },
    retireGraceSeconds: local ? Math.min(30, s.CANARY_BAKE_SECONDS) : 900,
    deploymentPoll: local
      ? { initialDelaySeconds: 1, maxDelaySeconds: 5, backoffFactor: 1.5, timeoutSeconds: 600 }
      : { initialDelaySeconds: 30, maxDelaySeconds: 120, backoffFactor: 1.5, timeoutSeconds: 3600 },
    retry,
  };
  return {
    modelName: s.MODEL_NAME,
    keyType: s.FORECAST_KEY_TYPE,
    horizon: s.FORECAST_HORIZON,
    raw: { container: s.RAW_CONTAINER, prefix: s.RAW_PREFIX },
    quietWindowSeconds: s.BLOB_QUIET_WINDOW_SECONDS,
    retrainOnlyIfChanged: s.RETRAIN_ONLY_IF_CHANGED,
    training,
    release,
    curatedContainer: s.CURATED_CONTAINER,
    runsContainer: s.RUNS_CONTAINER,
  };
}
