/**
 * Reads Azure ML CLI v2 command job YAML (`aml/jobs/*.yml`). Both adapters use it: Azure turns it into the
 * ARM `JobBase` body, the local adapter runs its `command`.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { MlPlatformError, type JobInputValue, type JobOutputValue, type JobSubmission } from '../port.js';

const literal = z.union([z.string(), z.number(), z.boolean()]);
const dataInput = z.object({
  type: z.enum([
    'uri_folder',
    'uri_file',
    'mltable',
    'custom_model',
    'mlflow_model',
    'triton_model',
    'literal',
  ]),
  path: z.string().optional(),
  mode: z.string().optional(),
  default: literal.optional(),
  value: literal.optional(),
  optional: z.boolean().optional(),
  description: z.string().optional(),
});
const output = z.object({
  type: z
    .enum(['uri_folder', 'uri_file', 'mltable', 'custom_model', 'mlflow_model', 'triton_model'])
    .optional(),
  path: z.string().optional(),
  mode: z.string().optional(),
  description: z.string().optional(),
});

const commandJobYaml = z.object({
  $schema: z.string().optional(),
  type: z.literal('command').optional(),
  name: z.string().optional(),
  display_name: z.string().optional(),
  experiment_name: z.string().optional(),
  description: z.string().optional(),
  command: z.string().min(1),
  code: z.string().optional(),
  environment: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
  compute: z.string().optional(),
  environment_variables: z.record(z.string(), literal).optional(),
  inputs: z.record(z.string(), z.union([literal, dataInput])).optional(),
  outputs: z.record(z.string(), output.nullable()).optional(),
  tags: z.record(z.string(), literal).optional(),
  resources: z.object({ instance_count: z.number().int().positive().optional() }).passthrough().optional(),
  limits: z
    .object({ timeout: z.union([z.number(), z.string()]).optional() })
    .passthrough()
    .optional(),
});

/** One resolved input of a job. */
export type ResolvedInput =
  | { kind: 'literal'; value: string }
  | {
      kind: 'data';
      type: 'uri_folder' | 'uri_file' | 'mltable' | 'custom_model' | 'mlflow_model' | 'triton_model';
      path: string;
      mode?: string;
    };

/** One resolved output of a job. */
export interface ResolvedOutput {
  type: NonNullable<JobOutputValue['type']> | 'mltable' | 'triton_model';
  /** Explicit destination, when the spec or the caller gave one. */
  path?: string;
  mode?: string;
}

/** A command job spec with the caller's overrides applied. */
export interface CommandJob {
  name: string;
  specFile: string;
  command: string;
  /** Absolute folder of the job's code (`code:` relative to the YAML), or an `azureml:` asset reference. */
  code?: string;
  environment?: string | Record<string, unknown>;
  compute?: string;
  experimentName: string;
  displayName?: string;
  description?: string;
  environmentVariables: Record<string, string>;
  inputs: Record<string, ResolvedInput>;
  outputs: Record<string, ResolvedOutput>;
  tags: Record<string, string>;
  /** Seconds, when the spec sets `limits.timeout`. */
  timeoutSeconds?: number;
}

const placeholder = /\$\{\{\s*(inputs|outputs)\.([A-Za-z0-9_]+)\s*\}\}/g;

/** CLI v2 optional sections: `$[[ ... ]]` is dropped when an input it uses is not given. */
const optionalSection = /\$\[\[([\s\S]*?)\]\]/g;

/** Names of `${{inputs.x}}` / `${{outputs.y}}` placeholders a command needs (outside optional sections). */
export function commandPlaceholders(command: string): { inputs: string[]; outputs: string[] } {
  const found = { inputs: new Set<string>(), outputs: new Set<string>() };
  for (const m of command.replace(optionalSection, '').matchAll(placeholder)) {
    found[m[1] as 'inputs' | 'outputs'].add(m[2] ?? '');
  }
  return { inputs: [...found.inputs], outputs: [...found.outputs] };
}

/** Keeps each `$[[ ... ]]` section's text when every input it uses is given, and drops it otherwise. */
export function resolveOptionalSections(
  command: string,
  given: (kind: 'inputs' | 'outputs', name: string) => boolean,
): string {
  return command.replace(optionalSection, (_all, inner: string) =>
    [...inner.matchAll(placeholder)].every((m) => given(m[1] as 'inputs' | 'outputs', m[2] ?? ''))
      ? inner
      : '',
  );
}

/** Replaces `${{inputs.x}}` / `${{outputs.y}}` using `resolve`; throws JobSpecInvalid for unknown names. */
export function substitutePlaceholders(
  command: string,
  resolve: (kind: 'inputs' | 'outputs', name: string) => string | undefined,
): string {
  return command.replace(placeholder, (_all, kind: 'inputs' | 'outputs', name: string) => {
    const value = resolve(kind, name);
    if (value === undefined) {
      throw new MlPlatformError(
        'JobSpecInvalid',
        `The command uses \${{${kind}.${name}}}, which the job does not define.`,
      );
    }
    return value;
  });
}

/** A spec input: resolved, or a data input the submission must bind (`optional` ones may stay unbound). */
function toInput(
  name: string,
  raw: z.infer<typeof dataInput> | string | number | boolean,
): ResolvedInput | { kind: 'unbound'; optional: boolean } {
  if (typeof raw !== 'object') return { kind: 'literal', value: String(raw) };
  if (raw.type === 'literal') {
    const value = raw.value ?? raw.default;
    if (value === undefined) return { kind: 'unbound', optional: raw.optional ?? false };
    return { kind: 'literal', value: String(value) };
  }
  if (raw.path === undefined) return { kind: 'unbound', optional: raw.optional ?? false };
  return { kind: 'data', type: raw.type, path: raw.path, ...(raw.mode ? { mode: raw.mode } : {}) };
}

function overrideInput(value: JobInputValue): ResolvedInput {
  if (typeof value === 'object') {
    return { kind: 'data', type: value.type, path: value.path, ...(value.mode ? { mode: value.mode } : {}) };
  }
  return { kind: 'literal', value: String(value) };
}

function timeoutSeconds(raw: number | string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw === 'number') return raw;
  const m = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$/.exec(raw);
  if (!m)
    throw new MlPlatformError(
      'JobSpecInvalid',
      `limits.timeout '${raw}' is neither seconds nor an ISO duration.`,
    );
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

/** Reads a CLI v2 command job YAML and applies a submission's overrides. */
export async function loadCommandJob(submission: JobSubmission, projectRoot: string): Promise<CommandJob> {
  const specFile = path.resolve(projectRoot, submission.specPath);
  let text: string;
  try {
    text = await readFile(specFile, 'utf8');
  } catch (cause) {
    throw new MlPlatformError('JobSpecInvalid', `Cannot read job spec ${specFile}.`, { cause });
  }
  const parsed = commandJobYaml.safeParse(parseYaml(text));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new MlPlatformError(
      'JobSpecInvalid',
      `Job spec ${specFile}: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}.`,
    );
  }
  const spec = parsed.data;
  const inputs: Record<string, ResolvedInput> = {};
  const unbound: { name: string; optional: boolean; mode?: string }[] = [];
  for (const [name, raw] of Object.entries(spec.inputs ?? {})) {
    const input = toInput(name, raw);
    if (input.kind === 'unbound')
      unbound.push({
        name,
        optional: input.optional,
        ...(typeof raw === 'object' && raw.mode ? { mode: raw.mode } : {}),
      });
    else inputs[name] = input;
  }
  for (const [name, value] of Object.entries(submission.inputs ?? {})) {
    const override = overrideInput(value);
    // A data input bound by the caller keeps the spec's delivery mode unless the caller names one.
    const specMode =
      unbound.find((u) => u.name === name)?.mode ??
      (inputs[name]?.kind === 'data' ? (inputs[name] as { mode?: string }).mode : undefined);
    inputs[name] =
      override.kind === 'data' && !override.mode && specMode ? { ...override, mode: specMode } : override;
  }
  const missing = unbound.filter((u) => !u.optional && !inputs[u.name]).map((u) => u.name);
  if (missing.length > 0) {
    throw new MlPlatformError(
      'JobSpecInvalid',
      `${specFile}: input(s) ${missing.join(', ')} have no path in the spec; pass them in the submission.`,
    );
  }
  const outputs: Record<string, ResolvedOutput> = {};
  for (const [name, raw] of Object.entries(spec.outputs ?? {})) {
    outputs[name] = {
      type: raw?.type ?? 'uri_folder',
      ...(raw?.path ? { path: raw.path } : {}),
      ...(raw?.mode ? { mode: raw.mode } : {}),
    };
  }
  for (const [name, value] of Object.entries(submission.outputs ?? {})) {
    outputs[name] = {
      ...outputs[name],
      type: value.type ?? outputs[name]?.type ?? 'uri_folder',
      ...(value.path ? { path: value.path } : {}),
    };
  }
  const used = commandPlaceholders(spec.command);
  for (const name of used.inputs) {
    if (!inputs[name])
      throw new MlPlatformError(
        'JobSpecInvalid',
        `${specFile}: the command uses input '${name}', which is not defined.`,
      );
  }
  for (const name of used.outputs) {
    if (!outputs[name])
      throw new MlPlatformError(
        'JobSpecInvalid',
        `${specFile}: the command uses output '${name}', which is not defined.`,
      );
  }
  const code =
    spec.code === undefined
      ? undefined
      : spec.code.startsWith('azureml:')
        ? spec.code
        : path.resolve(path.dirname(specFile), spec.code);
  const tags = Object.fromEntries(Object.entries(spec.tags ?? {}).map(([k, v]) => [k, String(v)]));
  const timeout = timeoutSeconds(spec.limits?.timeout);
  return {
    name: submission.name,
    specFile,
    command: spec.command,
    ...(code !== undefined ? { code } : {}),
    ...(spec.environment !== undefined ? { environment: spec.environment } : {}),
    ...(spec.compute !== undefined ? { compute: spec.compute } : {}),
    experimentName: submission.experimentName ?? spec.experiment_name ?? 'Default',
    ...((submission.displayName ?? spec.display_name)
      ? { displayName: submission.displayName ?? spec.display_name }
      : {}),
    ...(spec.description !== undefined ? { description: spec.description } : {}),
    environmentVariables: Object.fromEntries(
      Object.entries(spec.environment_variables ?? {}).map(([k, v]) => [k, String(v)]),
    ),
    inputs,
    outputs,
    tags: { ...tags, ...submission.tags },
    ...(timeout !== undefined ? { timeoutSeconds: timeout } : {}),
  };
}

/** A parsed `azureml://datastores/{datastore}/paths/{path}` URI. */
export interface DatastorePath {
  datastore: string;
  path: string;
}

/** Parses `azureml://datastores/{ds}/paths/{path}`; undefined for any other form. */
export function parseDatastoreUri(uri: string): DatastorePath | undefined {
  const m = /^azureml:\/\/datastores\/([^/]+)\/paths\/(.*)$/.exec(uri);
  return m ? { datastore: m[1] ?? '', path: m[2] ?? '' } : undefined;
}

/** Parses `azureml://jobs/{job}/outputs/{output}[/paths/{sub}]`; undefined for any other form. */
export function parseJobOutputUri(uri: string): { job: string; output: string; subPath: string } | undefined {
  const m = /^azureml:\/\/jobs\/([^/]+)\/outputs\/([^/]+)(?:\/paths\/(.*))?\/?$/.exec(uri);
  return m ? { job: m[1] ?? '', output: m[2] ?? '', subPath: m[3] ?? '' } : undefined;
}

/** Default location Azure ML gives an output without a path. */
export function defaultOutputUri(
  jobName: string,
  outputName: string,
  datastore = 'workspaceblobstore',
): string {
  return `azureml://datastores/${datastore}/paths/azureml/${jobName}/${outputName}/`;
}
