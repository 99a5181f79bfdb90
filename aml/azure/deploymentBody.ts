/** Builds the ARM `OnlineDeployment` body from the port's DeploymentSpec and an optional CLI v2 YAML. */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { MlPlatformError, type DeploymentSpec } from '../port.js';
import { assetId } from './jobBody.js';

interface DeploymentYaml {
  instance_type?: string;
  instance_count?: number;
  environment_variables?: Record<string, string | number | boolean>;
  environment?: string | Record<string, unknown>;
  code_configuration?: { code?: string; scoring_script?: string };
  liveness_probe?: Record<string, number>;
  readiness_probe?: Record<string, number>;
  request_settings?: { request_timeout_ms?: number; max_concurrent_requests_per_instance?: number };
  app_insights_enabled?: boolean;
}

const seconds = (s: number | undefined) => (s === undefined ? undefined : `PT${s}S`);

function probe(p: Record<string, number> | undefined) {
  if (!p) return undefined;
  return Object.fromEntries(
    Object.entries({
      initialDelay: seconds(p.initial_delay),
      period: seconds(p.period),
      timeout: seconds(p.timeout),
      failureThreshold: p.failure_threshold,
      successThreshold: p.success_threshold,
    }).filter(([, v]) => v !== undefined),
  );
}

/** Reads an `aml/deployments/*.yml` file's fields that shape the ARM body. */
export async function readDeploymentYaml(file: string): Promise<DeploymentYaml> {
  try {
    return (parseYaml(await readFile(file, 'utf8')) ?? {}) as DeploymentYaml;
  } catch (cause) {
    throw new MlPlatformError('InvalidRequest', `Cannot read deployment spec ${file}.`, { cause });
  }
}

/** The body of `PUT {WS}/onlineEndpoints/{ep}/deployments/{name}`. */
export function deploymentBody(
  spec: DeploymentSpec,
  yaml: DeploymentYaml,
  ids: { workspaceId: string; location: string; environmentIds?: Record<string, string> },
): Record<string, unknown> {
  const specName = spec.specPath?.split(/[\\/]/).pop();
  // An inline environment (`build:` from a Dockerfile) has no ARM id until the deploy step registers it;
  // that registered id is configured per spec file and wins over the YAML, as for jobs.
  const env =
    (specName ? ids.environmentIds?.[specName] : undefined) ??
    (typeof yaml.environment === 'string'
      ? assetId(ids.workspaceId, 'environments', yaml.environment)
      : undefined);
  if (!env && yaml.environment !== undefined) {
    throw new MlPlatformError(
      'InvalidRequest',
      `${specName ?? 'deployment spec'}: its inline environment must be registered first (infra/hooks/postdeploy); configure environmentIds.`,
    );
  }
  const code = yaml.code_configuration?.code;
  const requestSettings = yaml.request_settings
    ? {
        ...(yaml.request_settings.request_timeout_ms !== undefined
          ? { requestTimeout: `PT${yaml.request_settings.request_timeout_ms / 1000}S` }
          : {}),
        ...(yaml.request_settings.max_concurrent_requests_per_instance !== undefined
          ? { maxConcurrentRequestsPerInstance: yaml.request_settings.max_concurrent_requests_per_instance }
          : {}),
      }
    : undefined;
  const environmentVariables = {
    ...Object.fromEntries(Object.entries(yaml.environment_variables ?? {}).map(([k, v]) => [k, String(v)])),
    ...spec.environmentVariables,
  };
  return {
    location: ids.location,
    sku: { name: 'Default', capacity: spec.instanceCount ?? yaml.instance_count ?? 1 },
    tags: spec.tags ?? {},
    properties: {
      endpointComputeType: 'Managed',
      model: `${ids.workspaceId}/models/${spec.model.name}/versions/${spec.model.version}`,
      instanceType: spec.instanceType ?? yaml.instance_type ?? 'Standard_DS3_v2',
      scaleSettings: { scaleType: 'Default' },
      ...(env ? { environmentId: env } : {}),
      ...(code
        ? {
            codeConfiguration: {
              codeId: assetId(ids.workspaceId, 'codes', code),
              scoringScript: yaml.code_configuration?.scoring_script,
            },
          }
        : {}),
      ...(requestSettings ? { requestSettings } : {}),
      ...(yaml.liveness_probe ? { livenessProbe: probe(yaml.liveness_probe) } : {}),
      ...(yaml.readiness_probe ? { readinessProbe: probe(yaml.readiness_probe) } : {}),
      environmentVariables,
      appInsightsEnabled: yaml.app_insights_enabled ?? true,
    },
  };
}
