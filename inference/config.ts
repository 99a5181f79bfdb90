import { defaultMaxBatchKeys } from './schema.js';

/** Everything the server reads from its environment. */
export interface ServerConfig {
  modelDir: string;
  modelRef: string | undefined;
  host: string;
  port: number;
  logLevel: string;
  maxBatchKeys: number;
  faults: { errorRate: number; addedLatencyMs: number };
  instanceId: string | undefined;
}

/** A configuration the server cannot start with. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'INVALID_CONFIG';
  readonly transient = false;
}

function number(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new ConfigError(`${name}=${raw} is not a number in [${min}, ${max}]`);
  }
  return value;
}

/**
 * Reads the server configuration. The server binds loopback, except inside the Azure ML inference
 * container (`AZUREML_INFERENCE_CONTAINER=true`, set by infer.Dockerfile) where it binds 0.0.0.0:8080 as
 * Azure ML routes probes and scoring to that port.
 */
export function readServerConfig(env: NodeJS.ProcessEnv): ServerConfig {
  const modelDir = env.AZUREML_MODEL_DIR;
  if (!modelDir) throw new ConfigError('AZUREML_MODEL_DIR is not set: point it at a model directory');
  const inContainer = env.AZUREML_INFERENCE_CONTAINER === 'true';
  return {
    modelDir,
    modelRef: env.INFERENCE_MODEL_REF || undefined,
    host: inContainer ? '0.0.0.0' : '127.0.0.1',
    port: number(env, 'INFERENCE_PORT', inContainer ? 8080 : 5001, 0, 65535),
    logLevel: env.LOG_LEVEL || 'info',
    maxBatchKeys: number(env, 'INFERENCE_MAX_BATCH_KEYS', defaultMaxBatchKeys, 1, 100_000),
    faults: {
      errorRate: number(env, 'INFERENCE_FAULT_ERROR_RATE', 0, 0, 1),
      addedLatencyMs: number(env, 'INFERENCE_FAULT_LATENCY_MS', 0, 0, 600_000),
    },
    instanceId: env.INFERENCE_INSTANCE_ID || undefined,
  };
}
