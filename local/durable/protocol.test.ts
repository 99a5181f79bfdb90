import { describe, expect, it } from 'vitest';
import { FunctionInvocationError } from '../core/invoker.js';
import { resolveHubName } from './index.js';
import { activityFailure, activityTriggerData, readOrchestratorResult, typedDataToJson } from './protocol.js';

describe('durable protocol helpers', () => {
  it('recovers the OrchestratorState carried by an OrchestrationFailureError', () => {
    const state = { isDone: false, actions: [[]], error: 'boom', schemaVersion: 3 };
    const err = new FunctionInvocationError(
      'orch',
      'inv',
      `false\n\n$OutOfProcData$:${JSON.stringify(state)}`,
      undefined,
    );
    expect(readOrchestratorResult({ error: err })).toEqual({ state });
    expect(readOrchestratorResult({ error: new Error('no marker') })).toEqual({ crash: 'no marker' });
  });

  it('records activity failures as the extension does: message between Exception: and Stack:, kept with its space', () => {
    const err = new FunctionInvocationError('flaky', 'inv', 'it broke', 'Error: it broke\n    at x');
    const failure = activityFailure('flaky', err);
    expect(failure.reason).toBe("Activity function 'flaky' failed:  it broke");
    expect(JSON.parse(failure.details)).toMatchObject({ Message: err.hostMessage });
    expect(failure.failureDetails).toBeUndefined();
    const structured = new FunctionInvocationError(
      'x',
      'inv',
      JSON.stringify({
        errorType: 'QuotaError',
        errorMessage: 'quota',
        isNonRetriable: true,
        properties: { a: 1 },
      }),
      undefined,
    );
    expect(activityFailure('x', structured).failureDetails).toMatchObject({
      ErrorType: 'QuotaError',
      ErrorMessage: 'quota',
      IsNonRetriable: true,
      Properties: { a: 1 },
    });
  });

  it('converts activity inputs and results like the extension (strings arrive JSON-encoded)', () => {
    expect(activityTriggerData('"Tokyo"')).toEqual({ string: '"Tokyo"' });
    expect(activityTriggerData({ a: 1 })).toEqual({ string: '{"a":1}' });
    expect(activityTriggerData(undefined)).toEqual({});
    expect(typedDataToJson({ string: 'Hello' })).toBe('"Hello"');
    expect(typedDataToJson({ int: 0 })).toBe('0');
    expect(typedDataToJson({ json: '{"x":false}' })).toBe('{"x":false}');
    expect(typedDataToJson(undefined)).toBeNull();
  });

  it('resolves the hub name from host.json with %SETTING% placeholders and validates it', () => {
    const hostJson = { extensions: { durableTask: { hubName: '%HUB%' } } };
    expect(resolveHubName({ hostJson, settings: { HUB: 'MyHub1' } })).toBe('MyHub1');
    expect(resolveHubName({ hostJson: {}, settings: {} })).toBe('TestHubName');
    expect(() => resolveHubName({ hostJson, settings: {} })).toThrow(/app setting 'HUB'/);
    expect(() => resolveHubName({ hostJson, settings: { HUB: 'bad-hub' } })).toThrow(/invalid/);
  });
});
