/** Stable codes for everything the local endpoint refuses or fails at; names follow the ARM error codes. */
export type EndpointErrorCode =
  | 'EndpointNotFound'
  | 'DeploymentNotFound'
  | 'InvalidTraffic'
  | 'InvalidMirrorTraffic'
  | 'DeploymentHasTraffic'
  | 'InvalidDeploymentSpec'
  | 'DeploymentFailed'
  | 'DeploymentTimeout'
  | 'ManagerStopped'
  | 'StateCorrupt';

const statusByCode: Record<EndpointErrorCode, number> = {
  EndpointNotFound: 404,
  DeploymentNotFound: 404,
  InvalidTraffic: 400,
  InvalidMirrorTraffic: 400,
  DeploymentHasTraffic: 409,
  InvalidDeploymentSpec: 400,
  DeploymentFailed: 500,
  DeploymentTimeout: 504,
  ManagerStopped: 409,
  StateCorrupt: 500,
};

/** An error of the local managed online endpoint, with an ARM-style code and HTTP status. */
export class EndpointError extends Error {
  override readonly name = 'EndpointError';
  /** HTTP status an ARM-shaped fake should answer with. */
  readonly status: number;

  constructor(
    readonly code: EndpointErrorCode,
    message: string,
    /** True when retrying the same call later may succeed (e.g. a deployment still starting). */
    readonly transient = false,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.status = statusByCode[code];
  }

  /** The ARM error body shape, `{"error":{code,message}}`. */
  toArmBody(): { error: { code: string; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}
