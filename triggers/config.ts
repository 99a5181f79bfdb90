import type { Horizon, KeyType, ReleaseConfig, TrainingConfig } from '../activities/contracts.js';

/** What triggers need to turn an arrival into saga work; built from app settings in functions/. */
export interface TriggerConfig {
  modelName: string;
  keyType: KeyType;
  horizon: Horizon;
  raw: { container: string; prefix: string };
  quietWindowSeconds: number;
  retrainOnlyIfChanged: boolean;
  training: TrainingConfig;
  release: ReleaseConfig;
}
