/** The `durableClient` input binding value (EXT `BindingHelper.DurableOrchestrationClientToString`, §6.1). */
export interface DurableClientPayload {
  taskHubName: string;
  creationUrls: { createNewInstancePostUri: string; createAndWaitOnNewInstancePostUri: string };
  managementUrls: Record<string, string>;
  baseUrl: string;
  requiredQueryStringParameters: string;
  rpcBaseUrl: string;
  connectionName: null;
  httpBaseUrl: null;
}

/** Builds the client payload for a host serving the durable HTTP API at `origin`. */
export function durableClientPayload(
  origin: string,
  hubName: string,
  systemKey: string,
): DurableClientPayload {
  const baseUrl = `${origin}/runtime/webhooks/durabletask`;
  const code = `code=${encodeURIComponent(systemKey)}`;
  const common = `taskHub=${encodeURIComponent(hubName)}&connection=Storage&${code}`;
  const instance = `${baseUrl}/instances/INSTANCEID`;
  return {
    taskHubName: hubName,
    creationUrls: {
      createNewInstancePostUri: `${baseUrl}/orchestrators/{functionName}[/{instanceId}]?${code}`,
      createAndWaitOnNewInstancePostUri:
        `${baseUrl}/orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}` +
        `&pollingInterval={intervalInSeconds}&${code}`,
    },
    managementUrls: {
      id: 'INSTANCEID',
      statusQueryGetUri: `${instance}?${common}`,
      sendEventPostUri: `${instance}/raiseEvent/{eventName}?${common}`,
      terminatePostUri: `${instance}/terminate?reason={text}&${common}`,
      rewindPostUri: `${instance}/rewind?reason={text}&${common}`,
      purgeHistoryDeleteUri: `${instance}?${common}`,
      restartPostUri: `${instance}/restart?${common}`,
      suspendPostUri: `${instance}/suspend?reason={text}&${common}`,
      resumePostUri: `${instance}/resume?reason={text}&${common}`,
    },
    baseUrl,
    requiredQueryStringParameters: code,
    // The SDK resolves routes with new URL(relative, rpcBaseUrl): the trailing slash matters (§6.1).
    rpcBaseUrl: `${baseUrl}/`,
    connectionName: null,
    httpBaseUrl: null,
  };
}
