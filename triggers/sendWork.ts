import type * as df from 'durable-functions';
import { ExternalEvent } from '../orchestrators/names.js';

const live = new Set(['Running', 'Pending', 'ContinuedAsNew', 'Suspended']);

/**
 * Hands work to a coordinator orchestration, starting it first when it is not running. Two callers may
 * race to start it; the loser's start fails and it simply sends its work to the winner.
 */
export async function sendWork(
  client: df.DurableClient,
  coordinator: { name: string; instanceId: string; initialState: unknown },
  work: unknown,
): Promise<void> {
  let running = false;
  try {
    const status = await client.getStatus(coordinator.instanceId, { showInput: false });
    running = live.has(String(status.runtimeStatus));
  } catch {
    running = false;
  }
  if (!running) {
    try {
      await client.startNew(coordinator.name, {
        instanceId: coordinator.instanceId,
        input: coordinator.initialState,
      });
    } catch (err) {
      const status = await client.getStatus(coordinator.instanceId).catch(() => undefined);
      if (!status || !live.has(String(status.runtimeStatus))) throw err;
    }
  }
  await client.raiseEvent(coordinator.instanceId, ExternalEvent.work, work);
}
