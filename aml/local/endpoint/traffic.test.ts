import { describe, expect, it } from 'vitest';
import { EndpointError } from './errors.js';
import { compileTrafficPlan, pickDeployment, pickMirror, shareOf, validateTraffic } from './traffic.js';

const deployments = new Set(['blue', 'green']);

function codeOf(run: () => void): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(EndpointError);
    return (error as EndpointError).code;
  }
  return 'accepted';
}

describe('traffic rules', () => {
  it.each([
    [{ blue: 100 }, {}, 'accepted'],
    [{ blue: 90, green: 10 }, {}, 'accepted'],
    [{}, {}, 'accepted'],
    [{ blue: 0, green: 0 }, {}, 'accepted'],
    [{ blue: 90, green: 5 }, {}, 'InvalidTraffic'],
    [{ blue: 60, green: 50 }, {}, 'InvalidTraffic'],
    [{ blue: 99.5, green: 0.5 }, {}, 'InvalidTraffic'],
    [{ blue: -10, green: 110 }, {}, 'InvalidTraffic'],
    [{ red: 100 }, {}, 'DeploymentNotFound'],
    [{ blue: 100 }, { green: 10 }, 'accepted'],
    [{ blue: 100 }, { green: 50 }, 'accepted'],
    [{ blue: 100 }, { green: 51 }, 'InvalidMirrorTraffic'],
    [{ blue: 90, green: 10 }, { green: 10 }, 'InvalidMirrorTraffic'],
    [{ blue: 100 }, { red: 10 }, 'DeploymentNotFound'],
    [{}, { green: 10 }, 'InvalidMirrorTraffic'],
  ])('traffic %j mirror %j → %s', (traffic, mirror, expected) => {
    expect(codeOf(() => validateTraffic(traffic, mirror, deployments))).toBe(expected);
  });

  it('rejects mirroring to two deployments', () => {
    const three = new Set(['blue', 'green', 'red']);
    expect(codeOf(() => validateTraffic({ blue: 100 }, { green: 10, red: 10 }, three))).toBe(
      'InvalidMirrorTraffic',
    );
  });

  it('slices [0, 100) by share and skips zero shares', () => {
    const plan = compileTrafficPlan({ blue: 90, green: 10 }, {}, deployments);
    expect(pickDeployment(plan, 0)).toBe('blue');
    expect(pickDeployment(plan, 89.99)).toBe('blue');
    expect(pickDeployment(plan, 90)).toBe('green');
    expect(pickDeployment(plan, 99.99)).toBe('green');
    const allBlue = compileTrafficPlan({ blue: 100, green: 0 }, {}, deployments);
    expect(pickDeployment(allBlue, 99.99)).toBe('blue');
    expect(pickDeployment(compileTrafficPlan({}, {}, deployments), 50)).toBeUndefined();
  });

  it('mirrors the configured share only', () => {
    const plan = compileTrafficPlan({ blue: 100 }, { green: 20 }, deployments);
    expect(pickMirror(plan, 19.9)).toBe('green');
    expect(pickMirror(plan, 20)).toBeUndefined();
    expect(shareOf(plan, 'green')).toBe(20);
    expect(shareOf(plan, 'blue')).toBe(100);
  });

  it('freezes the plan so a routing request never sees a half-changed split', () => {
    const plan = compileTrafficPlan({ blue: 100 }, {}, deployments);
    expect(Object.isFrozen(plan)).toBe(true);
    expect(Object.isFrozen(plan.traffic)).toBe(true);
  });
});
