import { Attr, SpanName } from './names.js';
import { describeFailure, recordActivityDuration, withSpan, type RunAttributes } from './telemetry.js';

/** What the Functions host tells an activity about its invocation. */
export interface ActivityInvocation {
  /** Instance id of the orchestration that called the activity (the run id). */
  instanceId?: string;
  /** W3C `traceparent` of the host's invocation. */
  traceParent?: string;
}

type Fields = Record<string, unknown>;
const fieldsOf = (value: unknown): Fields =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Fields) : {};
const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value.length > 0 ? value : undefined;

/**
 * The run attributes an activity input names. Activity contracts use a few common field names (`runId`,
 * `model: {name, version}`, `modelName`, `jobName`, `endpointName`, `deploymentName`, `green`), so reading
 * those covers every activity without each one describing itself.
 */
export function runAttributesOf(input: unknown, invocation: ActivityInvocation = {}): RunAttributes {
  const fields = fieldsOf(input);
  const model = fieldsOf(fields.model);
  return {
    [Attr.runId]: text(fields.runId) ?? invocation.instanceId,
    [Attr.instanceId]: invocation.instanceId,
    [Attr.modelName]: text(model.name) ?? text(fields.modelName),
    [Attr.modelVersion]: text(model.version),
    [Attr.jobName]: text(fields.jobName),
    [Attr.endpoint]: text(fields.endpointName),
    [Attr.deployment]: text(fields.deploymentName) ?? text(fields.green),
  };
}

/** Model attributes an activity output names (registerModel answers the version it registered). */
function outputAttributes(output: unknown): RunAttributes {
  const fields = fieldsOf(output);
  const model = text(fields.name) && text(fields.version) ? fields : fieldsOf(fields.model);
  return { [Attr.modelName]: text(model.name), [Attr.modelVersion]: text(model.version) };
}

/**
 * Wraps an activity handler in an `activity <name>` span carrying the run id, instance id, model, job,
 * endpoint and deployment the input names, the outcome and, on failure, the error code; and records the
 * invocation's duration. The handler's result or error passes through unchanged.
 */
export function traceActivity<I, O>(
  name: string,
  handler: (input: I) => Promise<O>,
): (input: I, invocation?: ActivityInvocation) => Promise<O> {
  return async (input, invocation = {}) => {
    const started = performance.now();
    try {
      const output = await withSpan(
        SpanName.activity(name),
        {
          run: runAttributesOf(input, invocation),
          attributes: { [Attr.activity]: name },
          ...(invocation.traceParent ? { traceParent: invocation.traceParent } : {}),
        },
        async (span) => {
          const result = await handler(input);
          for (const [key, value] of Object.entries(outputAttributes(result))) {
            if (value !== undefined) span.setAttribute(key, value);
          }
          return result;
        },
      );
      recordActivityDuration(name, performance.now() - started);
      return output;
    } catch (err) {
      recordActivityDuration(name, performance.now() - started, describeFailure(err));
      throw err;
    }
  };
}
