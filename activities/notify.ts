import { addEvent, Attr, SpanEventName } from '../telemetry/index.js';
import type { ActivityDeps } from './deps.js';
import type { NotifyInput } from './contracts.js';

/** Event type of the app's own events on its custom topic. */
export const runEventType = (event: string) => `DemandForecast.${event}`;

/**
 * Activity: announces a run event as a telemetry span event (App Insights: a trace row in the run's
 * operation, with the event's properties as custom dimensions), logs it, and publishes it to the app's topic.
 */
export function createNotify(deps: ActivityDeps) {
  return async function notify(input: NotifyInput): Promise<null> {
    const level = /failed|rolled-back|rejected/.test(input.event) ? 'warn' : 'info';
    addEvent(SpanEventName.runEvent, {
      [Attr.runId]: input.runId,
      [Attr.saga]: input.kind,
      [Attr.runEvent]: input.event,
      [Attr.message]: input.message,
      ...Object.fromEntries(
        Object.entries(input.properties ?? {}).map(([key, value]) => [`${Attr.runEvent}.${key}`, value]),
      ),
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
