import { afterAll, beforeAll } from 'vitest';
import path from 'node:path';
import { ManualClock } from '../../local/clock.js';
import type {
  CanarySlo,
  PollPolicy,
  ReleaseConfig,
  ReleaseInput,
  TrainingConfig,
  TrainingRunInput,
} from '../../activities/contracts.js';
import { startDurableHost, type DurableTestHost, durablePrefix } from '../durable/support/durableHost.js';

export const sagaAppDir = path.resolve(import.meta.dirname, '../fixtures/saga-app');

const poll: PollPolicy = {
  initialDelaySeconds: 30,
  maxDelaySeconds: 300,
  backoffFactor: 2,
  timeoutSeconds: 6 * 3600,
};

export const trainingConfig: TrainingConfig = {
  modelName: 'demand-forecast',
  computeName: 'cpu-cluster',
  jobPoll: poll,
  gate: { maxMape: 0.2, maxP90KeyMape: 0.25, championTolerance: 0.02 },
};

export function trainingInput(overrides: Partial<TrainingRunInput> = {}): TrainingRunInput {
  return {
    dataset: { container: 'raw', prefix: 'clickstream/', blobs: ['clickstream/2019-10.csv.gz'] },
    skipIfUnchanged: false,
    keyType: 'category_code',
    horizon: 7,
    trigger: { source: 'blob', eventId: 'evt-1' },
    config: trainingConfig,
    ...overrides,
  };
}

export const slo: CanarySlo = {
  maxP95LatencyMs: 600,
  max5xxRate: 0.01,
  minRequests: 100,
  maxRegressionVsBlue: 0.2,
};

export const releaseConfig: ReleaseConfig = {
  endpointName: 'forecast',
  instanceType: 'Standard_DS3_v2',
  instanceCount: 1,
  canarySteps: [10, 50, 100],
  bakeSeconds: 600,
  analysisIntervalSeconds: 300,
  slo,
  approval: { required: false, timeoutSeconds: 3600 },
  retireGraceSeconds: 900,
  deploymentPoll: { initialDelaySeconds: 20, maxDelaySeconds: 120, backoffFactor: 2, timeoutSeconds: 3600 },
};

export function releaseInput(version: string, overrides: Partial<ReleaseConfig> = {}): ReleaseInput {
  return {
    model: { name: 'demand-forecast', version },
    trigger: { source: 'blob', eventId: `registered-${version}` },
    config: { ...releaseConfig, ...overrides },
  };
}

/** A durable host over the saga fixture with a manual clock, started before the file's tests and stopped after. */
export function useSagaHost(): { t: DurableTestHost; clock: ManualClock } {
  const clock = new ManualClock('2026-03-02T08:00:00.000Z');
  const handle = { t: undefined as unknown as DurableTestHost, clock };
  beforeAll(async () => {
    handle.t = await startDurableHost({ clock, appDir: sagaAppDir, hubName: 'SagaTests' });
  });
  afterAll(async () => {
    await handle.t?.stop();
  });
  return handle;
}

/**
 * Runs an instance to one of `statuses`, firing each durable timer as soon as one is armed, the way time
 * passes for the saga in production but without waiting.
 */
export async function runUntil(
  t: DurableTestHost,
  clock: ManualClock,
  instanceId: string,
  statuses: string[],
  timeoutMs = 30_000,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await t.call('GET', `${durablePrefix}/instances/${instanceId}`);
    const status = res.body as { runtimeStatus?: string };
    if (res.status < 300 && status.runtimeStatus && statuses.includes(status.runtimeStatus)) {
      return res.body as Record<string, unknown>;
    }
    if (Date.now() > deadline)
      throw new Error(`${instanceId} did not reach ${statuses.join('/')}: ${res.text}`);
    const due = clock.nextDue();
    if (due) clock.advanceTo(due);
    await new Promise((r) => setTimeout(r, 15));
  }
}

/** Raises an external event on an instance through the management API. */
export async function raise(
  t: DurableTestHost,
  instanceId: string,
  event: string,
  data: unknown,
): Promise<void> {
  const res = await t.call('POST', `${durablePrefix}/instances/${instanceId}/raiseEvent/${event}`, data);
  if (res.status !== 202) throw new Error(`raiseEvent ${event} answered ${res.status}: ${res.text}`);
}

/** Fires durable timers as they are armed until `done` holds (real-time bounded). */
export async function driveUntil(
  clock: ManualClock,
  done: () => Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error('condition not reached while firing timers');
    const due = clock.nextDue();
    if (due) clock.advanceTo(due);
    await new Promise((r) => setTimeout(r, 15));
  }
}

/** The runtime status of an instance, or undefined when it does not exist. */
export async function runtimeStatus(t: DurableTestHost, instanceId: string): Promise<string | undefined> {
  const res = await t.call('GET', `${durablePrefix}/instances/${instanceId}`);
  return res.status === 404 ? undefined : (res.body as { runtimeStatus: string }).runtimeStatus;
}
