import type { TriggerConfig } from '../config.js';

/** The trigger configuration the trigger tests use (only what the handlers read is filled in). */
export const testTriggerConfig = {
  modelName: 'demand-forecast',
  keyType: 'category_code',
  horizon: 7,
  raw: { container: 'raw', prefix: 'clickstream/' },
  quietWindowSeconds: 60,
  retrainOnlyIfChanged: true,
  training: {},
  release: { endpointName: 'forecast' },
} as unknown as TriggerConfig;
