import type * as df from 'durable-functions';
import {
  ActivityName,
  type AnalyzeCanaryInput,
  type AnalyzeCanaryOutput,
  type DeploymentSpec,
  type DeploymentStateOutput,
  type EndpointState,
  type ModelInfo,
  type ModelRef,
  type ReleaseInput,
  type ReleaseOutput,
  type SetTrafficInput,
  type SmokeTestOutput,
  type TagModelInput,
} from '../activities/contracts.js';
import { callActivity } from './activityCalls.js';
import { type ApprovalDecision, ExternalEvent } from './names.js';
import {
  RunCanceledError,
  StepTracker,
  describeError,
  recordOutcome,
  secondsFromNow,
  sleepOrCancel,
} from './steps.js';

/** Deployment names derive from the model version: a retried create lands on the same deployment. */
export function deploymentNameFor(model: ModelRef): string {
  const version = model.version.toLowerCase().replace(/[^a-z0-9-]/g, '-');
  return `v${version}`.slice(0, 32);
}

/** A release stopped on purpose (SLO breach, failed smoke test, rejection); traffic goes back to blue. */
class RollbackSignal extends Error {
  readonly code = 'ROLLBACK';
}

/**
 * The release saga: deploy green at 0% → wait ready → smoke test → optional approval → canary steps with
 * bake and analysis → promote (100% green, champion tag, retire blue after a grace period) or roll back
 * (100% blue, green deleted, model tagged rejected with the reason). Blue serves throughout.
 */
export function* releaseSaga(context: df.OrchestrationContext): Generator<df.Task, ReleaseOutput, unknown> {
  const input = context.df.getInput() as ReleaseInput;
  const { config } = input;
  const steps = new StepTracker(context);
  const cancelEvent = context.df.waitForExternalEvent(ExternalEvent.cancel);
  const output: ReleaseOutput = { status: 'failed', reason: '', model: input.model, analyses: [] };
  const green = deploymentNameFor(input.model);
  let blue: string | undefined;
  let previousChampion: ModelRef | undefined;
  let greenCreated = false;
  let trafficMoved = false;
  // Set once the registry names green the champion: a rollback after that must hand the tag back.
  let championMoved = false;

  // Every platform call retries transient failures as the configuration says.
  const call = <T = unknown>(name: string, data: unknown) =>
    callActivity<T>(context, name, data, config.retry);

  function* setTraffic(traffic: Record<string, number>): Generator<df.Task, void, unknown> {
    const request: SetTrafficInput = { endpointName: config.endpointName, traffic };
    yield* call(ActivityName.setTraffic, request);
  }

  function* waitDeploymentReady(): Generator<df.Task, void, unknown> {
    const policy = config.deploymentPoll;
    const startedAt = context.df.currentUtcDateTime.getTime();
    let delay = policy.initialDelaySeconds;
    for (;;) {
      const state = (yield* call(ActivityName.getDeploymentState, {
        endpointName: config.endpointName,
        deploymentName: green,
      })) as DeploymentStateOutput;
      steps.progress(`${green}: ${state.state}`);
      if (state.state === 'Succeeded') return;
      if (state.state === 'Failed' || state.state === 'Canceled' || state.state === 'NotFound') {
        throw new RollbackSignal(`deployment ${green} ${state.state}: ${state.error ?? 'no reason given'}`);
      }
      const elapsed = (context.df.currentUtcDateTime.getTime() - startedAt) / 1000;
      if (elapsed + delay > policy.timeoutSeconds) {
        throw new RollbackSignal(
          `deployment ${green} not ready within ${policy.timeoutSeconds} s (${state.state})`,
        );
      }
      yield* sleepOrCancel(context, cancelEvent, delay);
      delay = Math.min(policy.maxDelaySeconds, delay * policy.backoffFactor);
    }
  }

  function* bake(percent: number): Generator<df.Task, void, unknown> {
    let healthy = 0;
    let waited = 0;
    // A bake that has not seen green healthy once (no traffic yet, or timers that fell due together after
    // the host was down) goes on for up to one more bake period before it gives up.
    while (waited < config.bakeSeconds || (healthy === 0 && waited < 2 * config.bakeSeconds)) {
      const remaining = (waited < config.bakeSeconds ? 1 : 2) * config.bakeSeconds - waited;
      const interval = Math.min(config.analysisIntervalSeconds, remaining);
      yield* sleepOrCancel(context, cancelEvent, interval);
      waited += interval;
      const request: AnalyzeCanaryInput = {
        endpointName: config.endpointName,
        green,
        ...(blue && percent < 100 ? { blue } : {}),
        windowSeconds: config.analysisIntervalSeconds,
        slo: config.slo,
      };
      const analysis = (yield* call(ActivityName.analyzeCanary, request)) as AnalyzeCanaryOutput;
      output.analyses.push(analysis);
      steps.progress(
        `${percent}% green, ${waited}/${config.bakeSeconds} s: ${analysis.verdict} (${analysis.reason})`,
      );
      if (analysis.verdict === 'breach')
        throw new RollbackSignal(`canary at ${percent}%: ${analysis.reason}`);
      if (analysis.verdict === 'healthy') healthy += 1;
    }
    if (healthy === 0) {
      throw new RollbackSignal(
        `canary at ${percent}%: not enough requests to judge green within twice the bake period`,
      );
    }
  }

  function* rollBack(reason: string): Generator<df.Task, void, unknown> {
    steps.begin('rollback');
    if (trafficMoved) yield* setTraffic(blue ? { [blue]: 100 } : {});
    if (greenCreated)
      yield* call(ActivityName.deleteDeployment, {
        endpointName: config.endpointName,
        deploymentName: green,
      });
    const tag: TagModelInput = {
      model: input.model,
      set: { rejected: reason.slice(0, 250) },
      remove: ['champion'],
    };
    yield* call(ActivityName.tagModel, tag);
    if (championMoved && previousChampion && blue) {
      // Traffic went back to blue: the registry must say blue's model serves again.
      yield* call(ActivityName.tagModel, {
        model: previousChampion,
        set: { champion: 'true' },
        remove: ['retired'],
      } satisfies TagModelInput);
    }
    steps.end('succeeded', reason);
  }

  function* record(): Generator<df.Task, void, unknown> {
    yield* recordOutcome(
      context,
      'release',
      output,
      steps,
      { model: `${input.model.name}:${input.model.version}` },
      config.retry,
    );
  }

  try {
    steps.begin('check-model');
    const model = (yield* call(ActivityName.getModel, input.model)) as ModelInfo;
    if (model.tags.rejected !== undefined || model.tags.gate !== 'passed') {
      const why = model.tags.rejected
        ? `rejected earlier: ${model.tags.rejected}`
        : 'the quality gate did not pass it';
      steps.end('skipped', why);
      output.status = 'skipped';
      output.reason = `${model.name}:${model.version} not released: ${why}`;
      yield* record();
      return output;
    }
    const endpoint = (yield* call(ActivityName.getEndpointState, {
      endpointName: config.endpointName,
    })) as EndpointState;
    const serving = Object.entries(endpoint.traffic).sort((a, b) => b[1] - a[1])[0];
    blue = serving && serving[1] > 0 ? serving[0] : undefined;
    previousChampion = endpoint.deployments.find((d) => d.name === blue)?.model;
    output.greenDeployment = green;
    if (blue) output.previousDeployment = blue;
    if (blue === green) {
      steps.end('skipped', `${green} already serves ${serving?.[1]}%`);
      output.status = 'skipped';
      output.reason = `${model.name}:${model.version} is already serving as ${green}`;
      yield* record();
      return output;
    }

    steps.begin('deploy');
    const spec: DeploymentSpec = {
      endpointName: config.endpointName,
      deploymentName: green,
      model: input.model,
      instanceCount: config.instanceCount,
      instanceType: config.instanceType,
    };
    greenCreated = true;
    yield* call(ActivityName.createDeployment, spec);
    yield* waitDeploymentReady();

    steps.begin('smoke-test');
    const smoke = (yield* call(ActivityName.smokeTest, {
      endpointName: config.endpointName,
      deploymentName: green,
      model: input.model,
      horizon: 7,
    })) as SmokeTestOutput;
    if (!smoke.passed) throw new RollbackSignal(`smoke test failed: ${smoke.detail}`);
    steps.end('succeeded', `${Math.round(smoke.latencyMs)} ms`);

    if (config.approval.required) {
      steps.begin('approval', `waiting up to ${config.approval.timeoutSeconds} s for approval`);
      const approval = context.df.waitForExternalEvent(ExternalEvent.approval);
      const deadline = secondsFromNow(context, config.approval.timeoutSeconds);
      const timeout = context.df.createTimer(deadline);
      const winner = yield context.df.Task.any([approval, timeout, cancelEvent]);
      if (winner !== timeout) timeout.cancel();
      if (winner === cancelEvent) throw new RunCanceledError('canceled while waiting for approval');
      if (winner === timeout)
        throw new RollbackSignal(`approval timed out after ${config.approval.timeoutSeconds} s`);
      const decision = approval.result as ApprovalDecision;
      if (!decision.approved) {
        throw new RollbackSignal(
          `rejected${decision.by ? ` by ${decision.by}` : ''}${decision.comment ? `: ${decision.comment}` : ''}`,
        );
      }
      steps.end('succeeded', `approved${decision.by ? ` by ${decision.by}` : ''}`);
    }

    // With nothing serving yet there is no blue to share traffic with: green goes straight to 100% and bakes there.
    for (const percent of blue ? config.canarySteps : [100]) {
      steps.begin(`canary-${percent}`);
      trafficMoved = true;
      yield* setTraffic(
        blue && percent < 100
          ? { [green]: percent, [blue]: 100 - percent }
          : blue
            ? { [green]: 100, [blue]: 0 }
            : { [green]: 100 },
      );
      yield* bake(percent);
    }

    steps.begin('promote');
    championMoved = true;
    // A model that served before (a manual rollback redeploys one) is no longer retired.
    yield* call(ActivityName.tagModel, {
      model: input.model,
      set: { champion: 'true' },
      remove: ['rejected', 'retired'],
    } satisfies TagModelInput);
    if (previousChampion) {
      yield* call(ActivityName.tagModel, {
        model: previousChampion,
        set: { retired: context.df.currentUtcDateTime.toISOString() },
        remove: ['champion'],
      } satisfies TagModelInput);
    }
    output.status = 'promoted';
    output.reason = `${input.model.name}:${input.model.version} serves 100% as ${green}`;
    if (blue) {
      steps.begin('retire', `deleting ${blue} in ${config.retireGraceSeconds} s`);
      yield context.df.createTimer(secondsFromNow(context, config.retireGraceSeconds));
      yield* setTraffic({ [green]: 100 });
      yield* call(ActivityName.deleteDeployment, { endpointName: config.endpointName, deploymentName: blue });
    }
    steps.end('succeeded', output.reason);
    yield* record();
    return output;
  } catch (err) {
    const reason = describeError(err);
    steps.end('failed', reason);
    try {
      yield* rollBack(reason);
    } catch (compensationError) {
      output.reason = `${reason}; rollback failed: ${describeError(compensationError)}`;
      output.status = 'failed';
      yield* record();
      throw compensationError;
    }
    output.reason = reason;
    if (err instanceof RollbackSignal || err instanceof RunCanceledError) {
      output.status = err instanceof RunCanceledError ? 'rejected' : 'rolled-back';
      yield* record();
      return output;
    }
    output.status = 'failed';
    yield* record();
    throw err;
  }
}
