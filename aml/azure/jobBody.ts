/** Turns a CLI v2 command job into the ARM `JobBase` body (REST 2024-10-01), as the v2 CLI would send it. */
import { MlPlatformError } from '../port.js';
import type { CommandJob } from './jobSpec.js';

/** How asset short forms in YAML resolve on a workspace. */
export interface JobAssetIds {
  /** `/subscriptions/.../workspaces/{ws}` */
  workspaceId: string;
  /** Registered code asset per spec file name (e.g. `train.yml` → `{WS}/codes/train-src/versions/7`), for local `code:` folders. */
  codeIds?: Record<string, string>;
  /** Environment ARM ids per spec file name, for specs whose environment is inline. */
  environmentIds?: Record<string, string>;
}

const inputModes: Record<string, string> = {
  ro_mount: 'ReadOnlyMount',
  rw_mount: 'ReadWriteMount',
  download: 'Download',
  direct: 'Direct',
  eval_mount: 'EvalMount',
  eval_download: 'EvalDownload',
};
const outputModes: Record<string, string> = {
  rw_mount: 'ReadWriteMount',
  upload: 'Upload',
  direct: 'Direct',
};

/** `azureml:name:version` → `{WS}/{kind}/name/versions/version`; ARM ids and registry URIs pass through. */
export function assetId(
  workspaceId: string,
  kind: 'environments' | 'codes' | 'models' | 'data',
  ref: string,
): string {
  if (ref.startsWith('/subscriptions/') || ref.startsWith('azureml://')) return ref;
  const m = /^azureml:([^:@]+):([^:@]+)$/.exec(ref);
  if (!m) {
    throw new MlPlatformError(
      'JobSpecInvalid',
      `'${ref}' is not a versioned asset reference (azureml:name:version); @latest needs a lookup the saga avoids.`,
    );
  }
  return `${workspaceId}/${kind}/${m[1]}/versions/${m[2]}`;
}

/** The ARM body of `PUT {WS}/jobs/{name}`. */
export function commandJobBody(job: CommandJob, ids: JobAssetIds): { properties: Record<string, unknown> } {
  const specName = job.specFile.split(/[\\/]/).pop() ?? job.specFile;
  // A configured id wins over the YAML: the deploy step pins the exact version it registered, where the
  // YAML can only say `@latest` (which ARM does not resolve).
  const environmentId =
    ids.environmentIds?.[specName] ??
    (typeof job.environment === 'string'
      ? assetId(ids.workspaceId, 'environments', job.environment)
      : undefined);
  if (!environmentId) {
    throw new MlPlatformError(
      'JobSpecInvalid',
      `${specName}: give the environment as azureml:name:version or configure environmentIds.`,
    );
  }
  let codeId: string | undefined;
  if (job.code !== undefined) {
    codeId = job.code.startsWith('azureml:')
      ? assetId(ids.workspaceId, 'codes', job.code)
      : ids.codeIds?.[specName];
    if (!codeId) {
      throw new MlPlatformError(
        'JobSpecInvalid',
        `${specName}: the local code folder must be registered as a code asset in Azure (deploy step); configure codeIds.`,
      );
    }
  }
  const compute = job.compute?.replace(/^azureml:/, '');
  const inputs: Record<string, unknown> = {};
  for (const [name, input] of Object.entries(job.inputs)) {
    inputs[name] =
      input.kind === 'literal'
        ? { jobInputType: 'literal', value: input.value }
        : {
            jobInputType: input.type,
            uri: input.path,
            ...(input.mode ? { mode: inputModes[input.mode] ?? input.mode } : {}),
          };
  }
  const outputs: Record<string, unknown> = {};
  for (const [name, output] of Object.entries(job.outputs)) {
    outputs[name] = {
      jobOutputType: output.type,
      ...(output.path ? { uri: output.path } : {}),
      ...(output.mode ? { mode: outputModes[output.mode] ?? output.mode } : {}),
    };
  }
  return {
    properties: {
      jobType: 'Command',
      ...(job.displayName ? { displayName: job.displayName } : {}),
      experimentName: job.experimentName,
      ...(job.description ? { description: job.description } : {}),
      tags: job.tags,
      ...(compute
        ? {
            computeId: compute.startsWith('/subscriptions/')
              ? compute
              : `${ids.workspaceId}/computes/${compute}`,
          }
        : {}),
      environmentId,
      ...(codeId ? { codeId } : {}),
      command: job.command,
      environmentVariables: job.environmentVariables,
      inputs,
      outputs,
      ...(job.timeoutSeconds !== undefined
        ? { limits: { jobLimitsType: 'Command', timeout: `PT${job.timeoutSeconds}S` } }
        : {}),
    },
  };
}
