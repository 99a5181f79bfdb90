import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { EndpointError } from './errors.js';

/** ARM resource-name rule for endpoints and deployments. */
export const resourceNamePattern = /^[a-zA-Z0-9][a-zA-Z0-9\-_]{0,254}$/;

const probeSchema = z.object({
  path: z.string().startsWith('/'),
  initialDelayMs: z.number().int().min(0),
  periodMs: z.number().int().min(10),
  timeoutMs: z.number().int().min(1),
  failureThreshold: z.number().int().min(1),
  successThreshold: z.number().int().min(1),
});

/** A liveness or readiness probe: HTTP GET `path` every `periodMs` after `initialDelayMs`. */
export type ProbeSettings = z.infer<typeof probeSchema>;

/** Azure ML defaults (10 s delay and period, 2 s timeout, 30 failures, 1 success), in ms. */
export const defaultProbe = (path: string): ProbeSettings => ({
  path,
  initialDelayMs: 10_000,
  periodMs: 10_000,
  timeoutMs: 2_000,
  failureThreshold: 30,
  successThreshold: 1,
});

const faultSchema = z.object({
  /** Fraction 0..1 of scoring requests answered with 500. */
  errorRate: z.number().min(0).max(1).default(0),
  /** Added to every scoring request before it is answered. */
  addedLatencyMs: z.number().int().min(0).default(0),
});

/** Injected faults of a deployment (for tests and demos). */
export type FaultSettings = z.infer<typeof faultSchema>;

const deploymentSpecSchema = z.object({
  name: z.string().regex(resourceNamePattern, 'deployment name must match ^[a-zA-Z0-9][a-zA-Z0-9-_]{0,254}$'),
  /** Local directory holding the model files (AZUREML_MODEL_DIR of each instance). */
  modelDir: z.string().min(1),
  /** The registry reference it came from, e.g. `azureml:demand-forecast:3`, for display. */
  model: z.string().optional(),
  instanceType: z.string().default('Standard_DS3_v2'),
  instanceCount: z.number().int().min(1).max(20).default(1),
  environmentVariables: z.record(z.string(), z.string()).default({}),
  livenessProbe: probeSchema.default(defaultProbe('/health')),
  readinessProbe: probeSchema.default(defaultProbe('/ready')),
  requestSettings: z
    .object({
      requestTimeoutMs: z.number().int().min(1).default(5_000),
      maxConcurrentRequestsPerInstance: z.number().int().min(1).default(1),
    })
    .default({ requestTimeoutMs: 5_000, maxConcurrentRequestsPerInstance: 1 }),
  faults: faultSchema.default({ errorRate: 0, addedLatencyMs: 0 }),
  tags: z.record(z.string(), z.string()).default({}),
});

/** A deployment as the local endpoint runs it (fully defaulted). */
export type DeploymentSpec = z.output<typeof deploymentSpecSchema>;
/** What callers pass: everything but `name` and `modelDir` defaults as Azure ML does. */
export type DeploymentSpecInput = z.input<typeof deploymentSpecSchema>;

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
}

/** Validates and defaults a deployment spec; throws EndpointError InvalidDeploymentSpec naming the field. */
export function parseDeploymentSpec(input: unknown): DeploymentSpec {
  const result = deploymentSpecSchema.safeParse(input);
  if (!result.success) {
    throw new EndpointError(
      'InvalidDeploymentSpec',
      `Invalid deployment spec: ${describeIssues(result.error)}`,
    );
  }
  return result.data;
}

// --- Azure ML CLI v2 managedOnlineDeployment YAML -------------------------------------------------

const yamlProbeSchema = z
  .object({
    initial_delay: z.number().int().min(0).optional(),
    period: z.number().int().min(1).optional(),
    timeout: z.number().int().min(1).optional(),
    failure_threshold: z.number().int().min(1).optional(),
    success_threshold: z.number().int().min(1).optional(),
  })
  .optional();

const routeSchema = z.object({ port: z.number().int().optional(), path: z.string() }).optional();

const managedOnlineDeploymentYamlSchema = z.looseObject({
  name: z.string(),
  endpoint_name: z.string(),
  model: z.string().optional(),
  instance_type: z.string().optional(),
  instance_count: z.number().int().min(1).optional(),
  environment_variables: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  request_settings: z
    .object({
      request_timeout_ms: z.number().int().min(1).optional(),
      max_concurrent_requests_per_instance: z.number().int().min(1).optional(),
    })
    .optional(),
  liveness_probe: yamlProbeSchema,
  readiness_probe: yamlProbeSchema,
  environment: z
    .union([
      z.string(),
      z.looseObject({
        inference_config: z
          .object({ liveness_route: routeSchema, readiness_route: routeSchema, scoring_route: routeSchema })
          .optional(),
      }),
    ])
    .optional(),
  tags: z.record(z.string(), z.string()).optional(),
});

/** The fields of an `aml/deployments/*.yml` file the local endpoint uses (snake_case as in the CLI schema). */
export type ManagedOnlineDeploymentYaml = z.infer<typeof managedOnlineDeploymentYamlSchema>;

function probeFromYaml(probe: z.infer<typeof yamlProbeSchema>, path: string): ProbeSettings {
  const base = defaultProbe(path);
  const seconds = (value: number | undefined, fallbackMs: number): number =>
    value === undefined ? fallbackMs : value * 1000;
  return {
    path,
    initialDelayMs: seconds(probe?.initial_delay, base.initialDelayMs),
    periodMs: seconds(probe?.period, base.periodMs),
    timeoutMs: seconds(probe?.timeout, base.timeoutMs),
    failureThreshold: probe?.failure_threshold ?? base.failureThreshold,
    successThreshold: probe?.success_threshold ?? base.successThreshold,
  };
}

/** Parses CLI v2 managedOnlineDeployment YAML text; throws InvalidDeploymentSpec naming the field. */
export function parseDeploymentYaml(text: string): ManagedOnlineDeploymentYaml {
  const result = managedOnlineDeploymentYamlSchema.safeParse(parseYaml(text));
  if (!result.success) {
    throw new EndpointError(
      'InvalidDeploymentSpec',
      `Invalid deployment YAML: ${describeIssues(result.error)}`,
    );
  }
  return result.data;
}

/**
 * Turns deployment YAML into a local spec. The YAML names a registry model; the caller resolves it to a
 * local directory (`modelDir`) and may override fields (name, faults) — e.g. green takes blue's YAML.
 * Environment variables and tags given by the caller are merged over the YAML's.
 */
export function deploymentSpecFromYaml(
  yaml: ManagedOnlineDeploymentYaml,
  local: { modelDir: string } & Partial<DeploymentSpecInput>,
): DeploymentSpec {
  const inferenceConfig =
    typeof yaml.environment === 'object' ? yaml.environment.inference_config : undefined;
  const environmentVariables = Object.fromEntries(
    Object.entries(yaml.environment_variables ?? {}).map(([key, value]) => [key, String(value)]),
  );
  return parseDeploymentSpec({
    name: yaml.name,
    model: yaml.model,
    instanceType: yaml.instance_type,
    instanceCount: yaml.instance_count,
    livenessProbe: probeFromYaml(yaml.liveness_probe, inferenceConfig?.liveness_route?.path ?? '/health'),
    readinessProbe: probeFromYaml(yaml.readiness_probe, inferenceConfig?.readiness_route?.path ?? '/ready'),
    requestSettings: {
      requestTimeoutMs: yaml.request_settings?.request_timeout_ms ?? 5_000,
      maxConcurrentRequestsPerInstance: yaml.request_settings?.max_concurrent_requests_per_instance ?? 1,
    },
    ...local,
    // Overrides add to the YAML's environment and tags rather than replacing them.
    environmentVariables: { ...environmentVariables, ...local.environmentVariables },
    tags: { ...yaml.tags, ...local.tags },
  });
}

/** Reads and parses an `aml/deployments/*.yml` file. */
export async function readDeploymentYaml(path: string): Promise<ManagedOnlineDeploymentYaml> {
  return parseDeploymentYaml(await readFile(path, 'utf8'));
}
