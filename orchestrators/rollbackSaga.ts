import type * as df from 'durable-functions';
import {
  ActivityName,
  type ModelRef,
  type ReleaseInput,
  type ReleaseOutput,
  type RollbackInput,
  type RollbackOutput,
  type TagModelInput,
} from '../activities/contracts.js';
import { callActivity } from './activityCalls.js';
import { OrchestratorName } from './names.js';
import { StepTracker, describeError, recordOutcome } from './steps.js';

/**
 * Manual rollback: puts the model that served before the current champion back at 100%. It runs the
 * release saga for that model with a single 100% step and no approval (deploy, smoke test, bake, promote,
 * retire the current one), then tags the current model rejected with the reason.
 */
export function* rollbackSaga(context: df.OrchestrationContext): Generator<df.Task, RollbackOutput, unknown> {
  const input = context.df.getInput() as RollbackInput;
  const steps = new StepTracker(context);
  const output: RollbackOutput = { status: 'failed', reason: '' };
  try {
    steps.begin('find-previous');
    const found: { current?: ModelRef; previous?: ModelRef } = yield* callActivity(
      context,
      ActivityName.findPreviousChampion,
      { modelName: input.modelName },
      input.config.retry,
    );
    if (found.current) output.from = found.current;
    if (!found.previous) {
      steps.end('skipped', 'no earlier model served before the current champion');
      output.status = 'nothing-to-roll-back-to';
      output.reason = `no earlier ${input.modelName} version to roll back to`;
      yield* recordOutcome(context, 'rollback', output, steps, {});
      return output;
    }
    output.to = found.previous;
    steps.begin('redeploy', `${found.previous.name}:${found.previous.version} back to 100%`);
    const release: ReleaseInput = {
      model: found.previous,
      trigger: {
        source: 'http',
        eventId: context.df.instanceId,
        ...(input.requestedBy ? { requestedBy: input.requestedBy } : {}),
      },
      config: { ...input.config, canarySteps: [100], approval: { required: false, timeoutSeconds: 0 } },
    };
    const result = (yield context.df.callSubOrchestrator(
      OrchestratorName.releaseSaga,
      release,
      `${context.df.instanceId}-release`,
    )) as ReleaseOutput;
    if (result.status !== 'promoted') {
      steps.end('failed', result.reason);
      output.reason = `redeploying ${found.previous.version} ${result.status}: ${result.reason}`;
      yield* recordOutcome(context, 'rollback', output, steps, {});
      return output;
    }
    if (found.current) {
      steps.begin('reject-current');
      const tag: TagModelInput = {
        model: found.current,
        set: { rejected: `rolled back by hand: ${input.reason}`.slice(0, 250) },
        remove: ['champion'],
      };
      yield* callActivity(context, ActivityName.tagModel, tag, input.config.retry);
    }
    steps.end('succeeded', `${found.previous.version} serves 100%`);
    output.status = 'rolled-back';
    output.reason = `${input.modelName}:${found.previous.version} serves 100% again${found.current ? ` instead of ${found.current.version}` : ''}: ${input.reason}`;
    yield* recordOutcome(context, 'rollback', output, steps, {});
    return output;
  } catch (err) {
    steps.end('failed', describeError(err));
    output.reason = describeError(err);
    yield* recordOutcome(context, 'rollback', output, steps, {});
    throw err;
  }
}
