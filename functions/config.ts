import { z } from 'zod';
import { appSettings, type AppSettingName } from './settings.js';

/** The app's configuration is missing or invalid; the message names every offending setting. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(
    readonly settings: string[],
    message: string,
  ) {
    super(message);
  }
}

/** A ConfigError naming every setting zod rejected, with the reasons. */
export function configErrorFrom(error: z.ZodError): ConfigError {
  const settings = [...new Set(error.issues.map((i) => String(i.path[0] ?? '?')))];
  const details = error.issues.map((i) => `${String(i.path[0] ?? '?')}: ${i.message}`).join('; ');
  return new ConfigError(settings, `Invalid app settings — ${details}`);
}

const defaultOf = (name: AppSettingName): string | undefined =>
  (appSettings[name] as { default?: string }).default;

const text = (name: AppSettingName) => {
  const fallback = defaultOf(name);
  const base = z.string().trim().min(1, `${name} must not be empty`);
  return fallback === undefined ? base : base.default(fallback);
};

const schema = z
  .object({
    MLOPS_PLATFORM: z.enum(['local', 'azure']).default('local'),
    AzureWebJobsStorage: z.string().trim().min(1).optional(),
    AzureWebJobsStorage__accountName: z.string().trim().min(1).optional(),
    TASKHUB_NAME: text('TASKHUB_NAME'),
    MODEL_NAME: text('MODEL_NAME'),
    RAW_CONTAINER: text('RAW_CONTAINER'),
    CURATED_CONTAINER: text('CURATED_CONTAINER'),
    MODELS_CONTAINER: text('MODELS_CONTAINER'),
    RUNS_CONTAINER: text('RUNS_CONTAINER'),
    RETRAIN_SCHEDULE: text('RETRAIN_SCHEDULE'),
    AZURE_SUBSCRIPTION_ID: z.string().trim().min(1).optional(),
    AZURE_RESOURCE_GROUP: z.string().trim().min(1).optional(),
    AML_WORKSPACE_NAME: z.string().trim().min(1).optional(),
  })
  .superRefine((s, issue) => {
    if (!s.AzureWebJobsStorage && !s.AzureWebJobsStorage__accountName) {
      issue.addIssue({
        code: 'custom',
        path: ['AzureWebJobsStorage'],
        message: 'AzureWebJobsStorage (or AzureWebJobsStorage__accountName) is not set',
      });
    }
    if (s.MLOPS_PLATFORM === 'azure') {
      for (const name of ['AZURE_SUBSCRIPTION_ID', 'AZURE_RESOURCE_GROUP', 'AML_WORKSPACE_NAME'] as const) {
        if (!s[name]) {
          issue.addIssue({
            code: 'custom',
            path: [name],
            message: `${name} is required when MLOPS_PLATFORM=azure`,
          });
        }
      }
    }
  });

/** The app's typed configuration. */
export interface AppConfig {
  platform: 'local' | 'azure';
  storage: { connectionString?: string; accountName?: string };
  taskHubName: string;
  modelName: string;
  containers: { raw: string; curated: string; models: string; runs: string };
  retrainSchedule: string;
  azure?: { subscriptionId: string; resourceGroup: string; workspaceName: string };
}

/** Reads and validates the configuration from app settings; throws {@link ConfigError} naming what is wrong. */
export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env): AppConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) throw configErrorFrom(parsed.error);
  const s = parsed.data;
  return {
    platform: s.MLOPS_PLATFORM,
    storage: {
      ...(s.AzureWebJobsStorage ? { connectionString: s.AzureWebJobsStorage } : {}),
      ...(s.AzureWebJobsStorage__accountName ? { accountName: s.AzureWebJobsStorage__accountName } : {}),
    },
    taskHubName: s.TASKHUB_NAME,
    modelName: s.MODEL_NAME,
    containers: {
      raw: s.RAW_CONTAINER,
      curated: s.CURATED_CONTAINER,
      models: s.MODELS_CONTAINER,
      runs: s.RUNS_CONTAINER,
    },
    retrainSchedule: s.RETRAIN_SCHEDULE,
    ...(s.MLOPS_PLATFORM === 'azure' &&
    s.AZURE_SUBSCRIPTION_ID &&
    s.AZURE_RESOURCE_GROUP &&
    s.AML_WORKSPACE_NAME
      ? {
          azure: {
            subscriptionId: s.AZURE_SUBSCRIPTION_ID,
            resourceGroup: s.AZURE_RESOURCE_GROUP,
            workspaceName: s.AML_WORKSPACE_NAME,
          },
        }
      : {}),
  };
}

/** The configuration without secrets (connection strings reduced to their endpoints), for display. */
export function publicConfig(config: AppConfig): Record<string, unknown> {
  const endpoint = config.storage.connectionString
    ? (/BlobEndpoint=([^;]+)/i.exec(config.storage.connectionString)?.[1] ??
      (/UseDevelopmentStorage=true/i.test(config.storage.connectionString)
        ? 'development storage'
        : 'connection string'))
    : `account ${config.storage.accountName ?? '?'} (managed identity)`;
  return { ...config, storage: { blob: endpoint } };
}
