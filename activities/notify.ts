import { emitRunEvent } from '../telemetry/index.js';
import type { ActivityDeps } from './deps.js';
import type { NotifyInput } from './contracts.js';

/** Event type of the app's own events on its custom topic. */
export const runEventType = (event: string) => `DemandForecast.${event}`;

/**
 * Activity: announces a run event through telemetry (App Insights: a custom event of the event's name and
 * a trace row in the run's operation), logs it, and publishes it to the app's topic.
 */
export function createNotify(deps: ActivityDeps) {
  return async function notify(input: NotifyInput): Promise<null> {
    const level = /failed|rolled-back|rejected/.test(input.event) ? 'warn' : 'info';
    emitRunEvent({
      name: input.event,
      runId: input.runId,
      kind: input.kind,
      message: input.message,
      level,
      ...(input.properties ? { properties: input.properties } : {}),
    });
    deps.log(level, `${input.event}: ${input.message}`, {
      runId: input.runId,
      kind: input.kind,
      ...input.properties,
    });
    await deps.platform.events.publish([
      {
        eventType: runEventType(input.event),
        subject: `/runs/${input.kind}/${input.runId}`,
        data: input,
        dataVersion: '1',
        // The same notification from a replayed activity carries the same id, so subscribers can dedupe.
        id: `${input.runId}:${input.event}`,
      },
    ]);
    return null;
  };
}
