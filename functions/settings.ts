/**
 * Every app setting the app reads, with what it means and its default. `config.ts` builds the typed
 * configuration from these; `infra/` must set each one marked `azure: 'required'` on the Function App
 * (a test parses the Bicep and checks it), and `local.settings.json.sample` documents the local values.
 */
export interface AppSettingSpec {
  description: string;
  /** Value used when the setting is absent; settings without a default are required where they apply. */
  default?: string;
  /** Whether the Function App in Azure must set it ('required'), may ('optional'), or it is local-only. */
  azure: 'required' | 'optional' | 'local-only';
  secret?: boolean;
}

export const appSettings = {
  AzureWebJobsStorage: {
    description: 'Storage behind the Functions host and the durable task hub (identity-based in Azure).',
    azure: 'optional',
  },
  AzureWebJobsStorage__accountName: {
    description: 'Storage account name for identity-based AzureWebJobsStorage.',
    azure: 'required',
  },
  AzureWebJobsStorage__credential: {
    description: "'managedidentity': AzureWebJobsStorage uses the app's managed identity, no keys.",
    azure: 'required',
  },
  AzureWebJobsStorage__clientId: {
    description: 'Client id of the user-assigned identity used for AzureWebJobsStorage.',
    azure: 'required',
  },
  TASKHUB_NAME: {
    description: 'Durable Task hub name (host.json reads %TASKHUB_NAME%).',
    default: 'mlops',
    azure: 'required',
  },
  MLOPS_PLATFORM: {
    description: "Which ML platform adapter to use: 'azure' (Azure ML) or 'local' (local emulation).",
    default: 'local',
    azure: 'required',
  },
  AZURE_CLIENT_ID: {
    description: 'Client id of the user-assigned managed identity DefaultAzureCredential uses.',
    azure: 'required',
  },
  AZURE_SUBSCRIPTION_ID: { description: 'Subscription of the Azure ML workspace.', azure: 'required' },
  AZURE_RESOURCE_GROUP: { description: 'Resource group of the Azure ML workspace.', azure: 'required' },
  AML_WORKSPACE_NAME: { description: 'Azure ML workspace name.', azure: 'required' },
  AML_LOCATION: {
    description: 'Azure region of the workspace (endpoint and deployment bodies carry it).',
    azure: 'required',
  },
  AML_CODE_ID: {
    description:
      'ARM id of the registered code asset version (the repository) that the ETL and training jobs run; set by infra/hooks/postdeploy.',
    azure: 'optional',
  },
  AML_JOB_ENVIRONMENT_ID: {
    description:
      'ARM id of the registered environment (inference/train.Dockerfile) the ETL and training jobs run in; set by infra/hooks/postdeploy.',
    azure: 'optional',
  },
  AML_INFERENCE_ENVIRONMENT_ID: {
    description:
      'ARM id of the registered environment (inference/infer.Dockerfile) blue and green deployments run; set by infra/hooks/postdeploy.',
    azure: 'optional',
  },
  AML_COMPUTE_NAME: {
    description: 'Compute cluster that runs the ETL and training jobs.',
    default: 'cpu-cluster',
    azure: 'required',
  },
  AML_ENDPOINT_NAME: {
    description: 'Managed online endpoint that serves the model.',
    default: 'demand-forecast',
    azure: 'required',
  },
  AML_DATASTORE_NAME: {
    description: 'Azure ML datastore over the data lake container.',
    default: 'workspaceblobstore',
    azure: 'optional',
  },
  DATA_LAKE_ACCOUNT_URL: {
    description: 'Blob endpoint of the data lake (https://{account}.blob.core.windows.net).',
    azure: 'required',
  },
  RAW_CONTAINER: {
    description: 'Container where raw clickstream files land.',
    default: 'raw',
    azure: 'required',
  },
  RAW_PREFIX: {
    description: 'Prefix under which raw clickstream files land (BlobCreated filter).',
    default: 'clickstream/',
    azure: 'required',
  },
  CURATED_CONTAINER: { description: 'Container for ETL outputs.', default: 'curated', azure: 'required' },
  MODELS_CONTAINER: { description: 'Container for model artifacts.', default: 'models', azure: 'required' },
  RUNS_CONTAINER: {
    description: 'Container for run records (decisions, gate tables).',
    default: 'runs',
    azure: 'required',
  },
  MODEL_NAME: { description: 'Registered model name.', default: 'demand-forecast', azure: 'required' },
  FORECAST_KEY_TYPE: {
    description: 'Forecast key: category_code, product_id or brand.',
    default: 'category_code',
    azure: 'required',
  },
  FORECAST_HORIZON: {
    description: 'Forecast horizon in days: 7, 14 or 28.',
    default: '7',
    azure: 'required',
  },
  RETRAIN_SCHEDULE: {
    description: 'NCRONTAB of scheduled retraining (UTC).',
    default: '0 0 2 * * 1',
    azure: 'required',
  },
  RETRAIN_ONLY_IF_CHANGED: {
    description: 'Scheduled retraining skips when the data is unchanged.',
    default: 'true',
    azure: 'optional',
  },
  BLOB_QUIET_WINDOW_SECONDS: {
    description: 'Blobs landing within this window train together.',
    default: '60',
    azure: 'optional',
  },
  GATE_MAX_MAPE: { description: 'Quality gate: maximum overall MAPE.', default: '0.20', azure: 'optional' },
  GATE_MAX_P90_KEY_MAPE: {
    description: 'Quality gate: maximum P90 of per-key MAPE.',
    default: '0.25',
    azure: 'optional',
  },
  GATE_CHAMPION_TOLERANCE: {
    description: 'Quality gate: allowed WAPE regression vs the champion.',
    default: '0.02',
    azure: 'optional',
  },
  CANARY_STEPS: {
    description: 'Canary traffic percentages for green, comma-separated.',
    default: '10,50,100',
    azure: 'optional',
  },
  CANARY_BAKE_SECONDS: { description: 'Bake period at each canary step.', default: '900', azure: 'optional' },
  CANARY_INTERVAL_SECONDS: { description: 'Canary analysis interval.', default: '60', azure: 'optional' },
  SLO_P95_MS: { description: 'SLO: p95 latency in milliseconds.', default: '600', azure: 'optional' },
  SLO_MAX_5XX_RATE: { description: 'SLO: maximum 5xx rate.', default: '0.01', azure: 'optional' },
  SLO_MAX_REGRESSION_VS_BLUE: {
    description: 'How much worse than blue (p95 latency, 5xx rate) green may be, as a fraction (0.25 = 25%).',
    default: '0.25',
    azure: 'optional',
  },
  SLO_MIN_REQUESTS: {
    description: 'Minimum requests in an analysis window to judge a canary.',
    default: '100',
    azure: 'optional',
  },
  APPROVAL_REQUIRED: {
    description: 'Releases wait for a person to approve.',
    default: 'false',
    azure: 'optional',
  },
  APPROVAL_TIMEOUT_SECONDS: {
    description: 'How long a release waits for approval before rejecting.',
    default: '86400',
    azure: 'optional',
  },
  APPLICATIONINSIGHTS_CONNECTION_STRING: {
    description:
      'Turns on telemetry export to App Insights (applicationinsights v3, loaded only then); leave unset locally and in tests, where nothing is exported.',
    azure: 'required',
  },
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: {
    description:
      "'Authorization=AAD;ClientId=<id>': App Insights ingestion with that managed identity (the component has local auth off).",
    azure: 'optional',
  },
  LOG_ANALYTICS_WORKSPACE_ID: {
    description: 'Log Analytics workspace the canary analysis queries.',
    azure: 'required',
  },
  EVENTGRID_TOPIC_ENDPOINT: {
    description: "Custom topic for the app's own events (run decisions).",
    azure: 'optional',
  },
  LOCAL_DEPLOYMENT_FAULTS: {
    description:
      'JSON faults the local endpoint injects per deployment name, e.g. {"v2":{"addedLatencyMs":800}} (tests, demos).',
    azure: 'local-only',
  },
  LOCAL_STATE_DIR: {
    description: 'Where the local platform keeps its state.',
    default: '.local',
    azure: 'local-only',
  },
} as const satisfies Record<string, AppSettingSpec>;

export type AppSettingName = keyof typeof appSettings;

/** Names of the settings the Function App in Azure must set. */
export const requiredAzureSettings = (Object.keys(appSettings) as AppSettingName[]).filter(
  (name) => appSettings[name].azure === 'required',
);
