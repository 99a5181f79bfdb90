import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../local/clock.js';
import {
  durablePrefix,
  fireNextTimer,
  startDurableHost,
  type DurableTestHost,
} from './support/durableHost.js';

let t: DurableTestHost;
let clock: ManualClock;

beforeAll(async () => {
  clock = new ManualClock('2026-03-02T08:00:00.000Z');
  t = await startDurableHost({ clock });
});
afterAll(async () => {
  await t?.stop();
});

describe('durable patterns on the local task hub', () => {
  it('chains activities and logs each execution', async () => {
    const id = await t.start('chain', undefined, 'chain-1');
    const status = await t.waitFor(id, ['Completed']);
    expect(status.output).toEqual(['Hello Tokyo', 'Hello Seattle', 'Hello London']);
    expect(
      t.logs.some((l) => /Activity executed .*instanceId=chain-1 name=hello .*outcome=Succeeded/.test(l)),
    ).toBe(true);
    expect(
      t.logs.some((l) =>
        /Orchestration executed .*instanceId=chain-1 name=chain .*outcome=Completed/.test(l),
      ),
    ).toBe(true);
  });

  it('fans out to 500 activities and fans in', async () => {
    const id = await t.start('fanOut', 500);
    const status = await t.waitFor(id, ['Completed'], 60_000);
    expect(status.output).toBe(2 * ((499 * 500) / 2));
  });

  it('serves the async HTTP API: 202 with status URLs, then 200 with the output', async () => {
    const res = await t.call('POST', '/api/orchestrators/chain/http-1');
    expect(res.status).toBe(202);
    const links = res.body as Record<string, string>;
    expect(links.id).toBe('http-1');
    expect(res.headers.get('location')).toBe(links.statusQueryGetUri);
    expect(links.statusQueryGetUri?.startsWith(t.host.baseUrl)).toBe(true);
    let poll = await t.call('GET', links.statusQueryGetUri!);
    for (let i = 0; poll.status === 202 && i < 500; i++) {
      await new Promise((r) => setTimeout(r, 20));
      poll = await t.call('GET', links.statusQueryGetUri!);
    }
    expect(poll.status).toBe(200);
    expect((poll.body as { output: unknown }).output).toEqual([
      'Hello Tokyo',
      'Hello Seattle',
      'Hello London',
    ]);
  });

  it('runs a monitor as timer loops with continueAsNew, each a new execution', async () => {
    const id = await t.start('monitor', { round: 0, rounds: 3 }, 'monitor-1');
    for (let round = 0; round < 3; round++) {
      const status = await t.waitFor(id, ['Running']);
      expect(status.customStatus === null || typeof status.customStatus === 'object').toBe(true);
      await fireNextTimer(clock);
    }
    const done = await t.waitFor(id, ['Completed']);
    expect(done.output).toBe('done after 3 rounds');
    expect(done.input).toEqual({ round: 2, rounds: 3 });
    const history = await t.call('GET', `${durablePrefix}/instances/${id}?showHistory=true`);
    const types = (history.body as { historyEvents: { EventType: string }[] }).historyEvents.map(
      (e) => e.EventType,
    );
    expect(types.filter((x) => x === 'ExecutionStarted')).toHaveLength(1);
    expect(types.at(-1)).toBe('ExecutionCompleted');
  });

  it('human interaction: the approval event wins over the 7-day timer', async () => {
    const id = await t.start('approval', undefined, 'approve-yes');
    await t.waitFor(id, ['Running']);
    await vi.waitFor(() => expect(clock.nextDue()).toBeDefined());
    const raised = await t.call('POST', `${durablePrefix}/instances/${id}/raiseEvent/Approval`, {
      by: 'ada',
    });
    expect(raised.status).toBe(202);
    const status = await t.waitFor(id, ['Completed']);
    expect(status.output).toBe('approved by ada');
    expect(clock.nextDue()).toBeUndefined();
  });

  it('human interaction: the 7-day timeout fires without real waiting', async () => {
    const id = await t.start('approval', undefined, 'approve-timeout');
    const due = await fireNextTimer(clock);
    expect(due.getTime() - clock.now().getTime()).toBeLessThanOrEqual(0);
    const status = await t.waitFor(id, ['Completed']);
    expect(status.output).toBe('timed out');
    const late = await t.call('POST', `${durablePrefix}/instances/${id}/raiseEvent/Approval`, { by: 'late' });
    expect(late.status).toBe(410);
  });

  it('runs sub-orchestrations with chosen and default instance ids, and surfaces child failures', async () => {
    const id = await t.start('parentOrch', undefined, 'parent-1');
    const status = await t.waitFor(id, ['Completed']);
    const output = status.output as { named: unknown; unnamed: unknown; failure: string };
    expect(output.named).toEqual({ doubled: 42, parent: 'parent-1' });
    expect(output.unnamed).toEqual({ doubled: 10, parent: 'parent-1' });
    expect(output.failure).toContain('negative input -1');
    const child = await t.call('GET', `${durablePrefix}/instances/parent-1-child`);
    expect((child.body as { runtimeStatus: string }).runtimeStatus).toBe('Completed');
  });

  it('retries an activity that succeeds on the 3rd attempt', async () => {
    const id = await t.start('retrying', { key: 'third', succeedOn: 3, attempts: 5 });
    await fireNextTimer(clock);
    await fireNextTimer(clock);
    const status = await t.waitFor(id, ['Completed']);
    expect(status.output).toBe('ok after 3');
  });

  it('exhausts retries and fails with the activity error message', async () => {
    const id = await t.start('retrying', { key: 'never', succeedOn: 99, attempts: 2 });
    await fireNextTimer(clock);
    const status = await t.waitFor(id, ['Failed']);
    expect(String(status.output)).toContain(
      "Activity function 'flaky' failed:  flaky never failed attempt 2",
    );
    const history = await t.call('GET', `${durablePrefix}/instances/${id}?showHistory=true`);
    const types = (history.body as { historyEvents: { EventType: string }[] }).historyEvents.map(
      (e) => e.EventType,
    );
    // attempt, retry timer, attempt, immediate timer after the last attempt, then the failure.
    expect(types.filter((x) => x === 'TaskFailed')).toHaveLength(2);
    expect(types.filter((x) => x === 'TimerFired')).toHaveLength(2);
  });

  it('keeps newGuid and currentUtcDateTime stable across replays and reports isReplaying', async () => {
    const id = await t.start('replaySafe');
    const status = await t.waitFor(id, ['Completed']);
    const out = status.output as { sameGuid: boolean; replayFlags: boolean[]; startedAt: string };
    expect(out.sameGuid).toBe(true);
    expect(out.replayFlags).toEqual([true, false]);
    // currentUtcDateTime is the first episode's OrchestratorStarted time, i.e. when the instance began.
    expect(`${out.startedAt.slice(0, 19)}Z`).toBe(status.createdTime);
  });

  it('fails a non-deterministic orchestrator with the expected and actual action', async () => {
    const flips = [0.1, 0.9, 0.9, 0.9];
    const spy = vi.spyOn(Math, 'random').mockImplementation(() => flips.shift() ?? 0.9);
    try {
      const id = await t.start('coinFlip');
      const status = await t.waitFor(id, ['Failed']);
      expect(String(status.output)).toMatch(/^Non-Deterministic workflow detected: /);
      expect(String(status.output)).toContain("an activity task named 'hello'");
      expect(String(status.output)).toContain("an activity task named 'double'");
    } finally {
      spy.mockRestore();
    }
  });

  it('terminates a running instance; later messages get 410', async () => {
    const id = await t.start('waitForGo', undefined, 'term-1');
    await t.waitFor(id, ['Running']);
    expect((await t.call('POST', `${durablePrefix}/instances/${id}/terminate?reason=enough`)).status).toBe(
      202,
    );
    const status = await t.waitFor(id, ['Terminated']);
    expect(status.output).toBe('enough');
    expect((await t.call('POST', `${durablePrefix}/instances/${id}/terminate?reason=again`)).status).toBe(
      410,
    );
  });

  it('suspends (buffering events) and resumes', async () => {
    const id = await t.start('waitForGo', undefined, 'susp-1');
    await t.waitFor(id, ['Running']);
    expect((await t.call('POST', `${durablePrefix}/instances/${id}/suspend?reason=hold`)).status).toBe(202);
    await t.waitFor(id, ['Suspended']);
    expect((await t.call('POST', `${durablePrefix}/instances/${id}/raiseEvent/Go`, 7)).status).toBe(202);
    await new Promise((r) => setTimeout(r, 200));
    expect((await t.waitFor(id, ['Suspended'])).runtimeStatus).toBe('Suspended');
    expect((await t.call('POST', `${durablePrefix}/instances/${id}/resume?reason=go`)).status).toBe(202);
    const status = await t.waitFor(id, ['Completed']);
    expect(status.output).toEqual({ go: 7 });
  });

  it('purges one instance and by filter', async () => {
    const a = await t.start('chain', undefined, 'purge-a');
    const b = await t.start('chain', undefined, 'purge-b');
    await t.waitFor(a, ['Completed']);
    await t.waitFor(b, ['Completed']);
    const one = await t.call('DELETE', `${durablePrefix}/instances/${a}`);
    expect(one.status).toBe(200);
    expect(one.body).toEqual({ instancesDeleted: 1 });
    expect((await t.call('GET', `${durablePrefix}/instances/${a}`)).status).toBe(404);
    expect((await t.call('DELETE', `${durablePrefix}/instances/${a}`)).status).toBe(404);
    const from = encodeURIComponent('2000-01-01T00:00:00Z');
    const byFilter = await t.call(
      'DELETE',
      `${durablePrefix}/instances?createdTimeFrom=${from}&runtimeStatus=Completed`,
    );
    expect(byFilter.status).toBe(200);
    expect((byFilter.body as { instancesDeleted: number }).instancesDeleted).toBeGreaterThanOrEqual(1);
    expect((await t.call('GET', `${durablePrefix}/instances/${b}`)).status).toBe(404);
  });
});
