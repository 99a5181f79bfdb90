/**
 * The local managed online endpoint: the library the local ML platform adapter wraps.
 * See manager.ts for the entry point (`LocalEndpointManager.open`).
 */
export { LocalEndpointManager } from './manager.js';
export type { EndpointKeys, EndpointView, InvokeResult, LocalEndpointManagerOptions } from './manager.js';
export type { DeploymentProvisioningState, DeploymentView } from './deployment.js';
export type { InstanceState, InstanceView } from './instance.js';
export type { MetricsSnapshot } from './metrics.js';
export { EndpointError, type EndpointErrorCode } from './errors.js';
export {
  deploymentSpecFromYaml,
  parseDeploymentSpec,
  parseDeploymentYaml,
  readDeploymentYaml,
  type DeploymentSpec,
  type DeploymentSpecInput,
  type FaultSettings,
  type ProbeSettings,
} from './spec.js';
export { validateTraffic, type TrafficMap } from './traffic.js';
export { deploymentHeader } from './router.js';
export type { ServerLauncher } from './launcher.js';
