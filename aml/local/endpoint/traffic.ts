import { EndpointError } from './errors.js';

/** Deployment name → percentage of live (or mirrored) requests. */
export type TrafficMap = Readonly<Record<string, number>>;

/** An immutable routing table compiled from a validated traffic and mirror map. */
export interface TrafficPlan {
  readonly traffic: TrafficMap;
  readonly mirrorTraffic: TrafficMap;
  /** Deployments with a share > 0, each with the cumulative upper bound of its slice of [0, 100). */
  readonly slices: readonly { readonly deployment: string; readonly upTo: number }[];
  readonly mirror: { readonly deployment: string; readonly percent: number } | undefined;
}

function checkPercentages(map: TrafficMap, code: 'InvalidTraffic' | 'InvalidMirrorTraffic'): number {
  let sum = 0;
  for (const [name, value] of Object.entries(map)) {
    if (!Number.isInteger(value) || value < 0 || value > 100) {
      throw new EndpointError(
        code,
        `Traffic for deployment '${name}' must be an integer 0..100, got ${value}.`,
      );
    }
    sum += value;
  }
  return sum;
}

/**
 * Checks a traffic and mirror map against the rules Azure ML enforces on a managed online endpoint:
 * live traffic sums to 100 (or is empty / all zero), every name is an existing deployment, mirror traffic
 * goes to at most one deployment, totals at most 50% and only targets a deployment with no live traffic.
 */
export function validateTraffic(
  traffic: TrafficMap,
  mirrorTraffic: TrafficMap,
  deployments: ReadonlySet<string>,
): void {
  const sum = checkPercentages(traffic, 'InvalidTraffic');
  if (sum !== 100 && sum !== 0) {
    throw new EndpointError('InvalidTraffic', `Traffic values need to sum to 100, got ${sum}.`);
  }
  for (const name of [...Object.keys(traffic), ...Object.keys(mirrorTraffic)]) {
    if (!deployments.has(name)) {
      throw new EndpointError('DeploymentNotFound', `Deployment '${name}' does not exist on this endpoint.`);
    }
  }
  const mirrorSum = checkPercentages(mirrorTraffic, 'InvalidMirrorTraffic');
  if (mirrorSum > 50) {
    throw new EndpointError(
      'InvalidMirrorTraffic',
      `Mirror traffic may total at most 50%, got ${mirrorSum}.`,
    );
  }
  const mirrored = Object.entries(mirrorTraffic).filter(([, value]) => value > 0);
  if (mirrored.length > 1) {
    throw new EndpointError('InvalidMirrorTraffic', 'Mirror traffic may target only one deployment.');
  }
  for (const [name] of mirrored) {
    if ((traffic[name] ?? 0) > 0) {
      throw new EndpointError(
        'InvalidMirrorTraffic',
        `Deployment '${name}' takes live traffic and cannot also receive mirror traffic.`,
      );
    }
  }
  if (mirrored.length > 0 && sum === 0) {
    throw new EndpointError('InvalidMirrorTraffic', 'Mirror traffic needs live traffic to copy from.');
  }
}

/** Validates and compiles traffic rules into an immutable plan that request routing reads in one step. */
export function compileTrafficPlan(
  traffic: TrafficMap,
  mirrorTraffic: TrafficMap,
  deployments: ReadonlySet<string>,
): TrafficPlan {
  validateTraffic(traffic, mirrorTraffic, deployments);
  const slices: { deployment: string; upTo: number }[] = [];
  let upTo = 0;
  for (const [deployment, share] of Object.entries(traffic)) {
    if (share <= 0) continue;
    upTo += share;
    slices.push({ deployment, upTo });
  }
  const mirrorEntry = Object.entries(mirrorTraffic).find(([, value]) => value > 0);
  return Object.freeze({
    traffic: Object.freeze({ ...traffic }),
    mirrorTraffic: Object.freeze({ ...mirrorTraffic }),
    slices: Object.freeze(slices),
    mirror: mirrorEntry ? Object.freeze({ deployment: mirrorEntry[0], percent: mirrorEntry[1] }) : undefined,
  });
}

/** The deployment a request lands on for a uniform draw `roll` in [0, 100); undefined when no traffic. */
export function pickDeployment(plan: TrafficPlan, roll: number): string | undefined {
  for (const slice of plan.slices) {
    if (roll < slice.upTo) return slice.deployment;
  }
  return plan.slices.at(-1)?.deployment;
}

/** The deployment that receives a copy of a request for a uniform draw `roll` in [0, 100), if any. */
export function pickMirror(plan: TrafficPlan, roll: number): string | undefined {
  return plan.mirror && roll < plan.mirror.percent ? plan.mirror.deployment : undefined;
}

/** The live plus mirror share of a deployment; a deployment with any share cannot be deleted. */
export function shareOf(plan: TrafficPlan, deployment: string): number {
  return (plan.traffic[deployment] ?? 0) + (plan.mirrorTraffic[deployment] ?? 0);
}
