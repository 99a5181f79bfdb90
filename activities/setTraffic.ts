import type { ActivityDeps } from './deps.js';
import type { SetTrafficInput } from './contracts.js';

/** Activity: replaces the endpoint's live (and mirror) traffic and waits until it applies. */
export function createSetTraffic(deps: ActivityDeps) {
  return async function setTraffic(input: SetTrafficInput): Promise<Record<string, number>> {
    const endpoint = await deps.platform.setTraffic(
      input.endpointName,
      input.traffic,
      input.mirrorTraffic ?? {},
      {
        wait: true,
      },
    );
    deps.log('info', `traffic on ${input.endpointName}: ${JSON.stringify(endpoint.traffic)}`, {
      endpoint: input.endpointName,
    });
    return endpoint.traffic;
  };
}
