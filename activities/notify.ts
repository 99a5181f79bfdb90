import type { ActivityDeps } from './deps.js';
import type { NotifyInput } from './contracts.js';

/** Event type of the app's own events on its custom topic. */
export const runEventType = (event: string) => `DemandForecast.${event}`;

/** Activity: logs a run event (App Insights sees it as a trace) and publishes it to the app's topic. */
export function createNotify(deps: ActivityDeps) {
  return async function notify(input: NotifyInput): Promise<null> {
    const level = /failed|rolled-back|rejected/.test(input.event) ? 'warn' : 'info';
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
