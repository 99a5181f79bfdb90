import { describe, expect, it } from 'vitest';
import { ActivityFailureError, toActivityFailure } from '../activities/activityFailure.js';
import { PermanentActivityError } from '../activities/deps.js';
import { MlPlatformError } from '../aml/port.js';
import { activityFailureOf } from './activityCalls.js';

describe('activity failure envelope', () => {
  it('keeps a port error`s code and transience, read back from the host`s wrapped message', () => {
    const sent = new ActivityFailureError(
      toActivityFailure(new MlPlatformError('Throttled', 'slow down\nplease')),
    );
    const received = new Error(`Activity function 'setTraffic' failed: ${sent.message} \n {"ClassName":"x"}`);
    expect(activityFailureOf(received)).toEqual({
      code: 'Throttled',
      transient: true,
      message: 'slow down\nplease',
    });
  });

  it('keeps an activity`s own permanent code, and gives uncoded errors a generic one', () => {
    expect(toActivityFailure(new PermanentActivityError('BLOB_EMPTY', 'empty'))).toEqual({
      code: 'BLOB_EMPTY',
      transient: false,
      message: 'empty',
    });
    expect(toActivityFailure(new Error('boom'))).toEqual({
      code: 'ACTIVITY_FAILED',
      transient: false,
      message: 'boom',
    });
  });

  it('finds nothing in errors without an envelope or with a broken one', () => {
    expect(activityFailureOf(new Error('plain'))).toBeUndefined();
    expect(activityFailureOf(new Error('activity-failure:{"code":1}'))).toBeUndefined();
    expect(activityFailureOf(undefined)).toBeUndefined();
  });
});
