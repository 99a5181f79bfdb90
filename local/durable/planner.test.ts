import { describe, expect, it } from 'vitest';
import { events } from './history.js';
import {
  ActionType,
  applyDeliveredEvent,
  newExecutionBook,
  planActions,
  type OrchestratorAction,
} from './planner.js';

const now = new Date('2026-01-01T00:00:00Z');
const activity = (name: string, input?: unknown): OrchestratorAction => ({
  actionType: ActionType.CallActivity,
  functionName: name,
  input,
});

describe('action planner (SDK id contract)', () => {
  it('numbers compound leaves depth-first and skips external-event waits', () => {
    const book = newExecutionBook();
    const plan = planActions(
      book,
      [
        activity('a'),
        {
          actionType: ActionType.WhenAny,
          compoundActions: [
            { actionType: ActionType.WaitForExternalEvent, externalEventName: 'Go' },
            { actionType: ActionType.CreateTimer, fireAt: '2026-01-02T00:00:00.000Z', isCanceled: false },
            { actionType: ActionType.WhenAll, compoundActions: [activity('b'), activity('c')] },
          ],
        },
      ],
      [],
      now,
    );
    expect(plan.scheduled.map((w) => `${w.kind}:${w.id}`)).toEqual([
      'activity:0',
      'timer:1',
      'activity:2',
      'activity:3',
    ]);
    expect(book.actionFirstIds).toEqual([0, 1]);
  });

  it('takes a retry-timer id after a failed attempt and an attempt id after the timer, with a final immediate timer', () => {
    const book = newExecutionBook();
    const retry: OrchestratorAction = {
      actionType: ActionType.CallActivityWithRetry,
      functionName: 'flaky',
      retryOptions: { firstRetryIntervalInMilliseconds: 1000, maxNumberOfAttempts: 2, backoffCoefficient: 2 },
    };
    expect(planActions(book, [retry], [], now).scheduled).toMatchObject([{ id: 0, kind: 'activity' }]);
    const timer = applyDeliveredEvent(book, events.taskFailed(now, 0, 'r', 'd'), now);
    expect(timer).toMatchObject([{ id: 1, kind: 'timer', fireAt: new Date(now.getTime() + 1000) }]);
    const attempt = applyDeliveredEvent(book, events.timerFired(now, 1, now.toISOString()), now);
    expect(attempt).toMatchObject([{ id: 2, kind: 'activity', name: 'flaky' }]);
    const finalTimer = applyDeliveredEvent(book, events.taskFailed(now, 2, 'r', 'd'), now);
    expect(finalTimer).toMatchObject([{ id: 3, kind: 'timer', fireAt: now, finalRetryTimer: true }]);
    expect(applyDeliveredEvent(book, events.timerFired(now, 3, now.toISOString()), now)).toEqual([]);
    expect(book.open).toEqual({});
  });

  it('detects a replay that schedules a different activity under a recorded id', () => {
    const book = newExecutionBook();
    planActions(book, [activity('hello')], [], now);
    const history = [events.taskScheduled(now, 0, 'hello', '[null]')];
    const plan = planActions(book, [activity('double')], history, now);
    expect(plan.failure?.message).toMatch(/^Non-Deterministic workflow detected: .*'hello'.*'double'/);
  });

  it('detects a replay that lost a recorded action, and one that swapped a timer for an activity', () => {
    const lost = newExecutionBook();
    planActions(lost, [activity('a'), activity('b')], [], now);
    const history = [
      events.taskScheduled(now, 0, 'a', '[null]'),
      events.taskScheduled(now, 1, 'b', '[null]'),
    ];
    expect(planActions(lost, [activity('a')], history, now).failure?.message).toMatch(
      /hasn't \(yet\?\) scheduled/,
    );
    const swapped = newExecutionBook();
    planActions(swapped, [activity('a')], [], now);
    const timer: OrchestratorAction = {
      actionType: ActionType.CreateTimer,
      fireAt: now.toISOString(),
      isCanceled: false,
    };
    expect(planActions(swapped, [timer], history, now).failure?.message).toMatch(
      /instead produced a timer task/,
    );
  });

  it('closes a timer that a later replay shows as cancelled', () => {
    const book = newExecutionBook();
    const timer: OrchestratorAction = {
      actionType: ActionType.CreateTimer,
      fireAt: '2026-02-01T00:00:00.000Z',
      isCanceled: false,
    };
    planActions(book, [timer], [], now);
    expect(Object.keys(book.open)).toEqual(['0']);
    const history = [events.timerCreated(now, 0, new Date('2026-02-01T00:00:00Z'))];
    const plan = planActions(book, [{ ...timer, isCanceled: true }], history, now);
    expect(plan.canceledTimers).toEqual([0]);
    expect(book.open).toEqual({});
  });
});
