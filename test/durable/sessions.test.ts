import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../local/clock.js';
import { fireNextTimer, startDurableHost, type DurableTestHost } from './support/durableHost.js';

let t: DurableTestHost;
let clock: ManualClock;
beforeAll(async () => {
  clock = new ManualClock('2026-04-01T00:00:00.000Z');
  t = await startDurableHost({ clock, extendedSessions: true, hubName: 'SessionTests' });
});
afterAll(async () => {
  await t?.stop();
});

const invocationsOf = (name: string) =>
  t.logs.filter((l) => l.includes(`Executed 'Functions.${name}'`)).length;
const episodesOf = (id: string) =>
  t.logs.filter((l) => l.includes('Orchestration executed') && l.includes(`instanceId=${id} `)).length;

describe('extended sessions', () => {
  it('continues the kept executor instead of replaying: one invocation, many episodes, same results', async () => {
    const id = await t.start('chain', undefined, 'session-chain');
    const status = await t.waitFor(id, ['Completed']);
    expect(status.output).toEqual(['Hello Tokyo', 'Hello Seattle', 'Hello London']);
    expect(episodesOf(id)).toBe(4);
    expect(invocationsOf('chain')).toBe(1);
  });

  it('keeps retries, timers, events and fan-out correct on the cached path', async () => {
    const fan = await t.start('fanOut', 40);
    expect((await t.waitFor(fan, ['Completed'])).output).toBe(2 * ((39 * 40) / 2));
    const retry = await t.start('retrying', { key: 'session-third', succeedOn: 3, attempts: 4 });
    await fireNextTimer(clock);
    await fireNextTimer(clock);
    expect((await t.waitFor(retry, ['Completed'])).output).toBe('ok after 3');
    const approval = await t.start('approval', undefined, 'session-approval');
    await t.waitFor(approval, ['Running']);
    await t.call('POST', `/runtime/webhooks/durabletask/instances/${approval}/raiseEvent/Approval`, {
      by: 'grace',
    });
    expect((await t.waitFor(approval, ['Completed'])).output).toBe('approved by grace');
    const replayed = await t.start('replaySafe');
    const out = (await t.waitFor(replayed, ['Completed'])).output as {
      sameGuid: boolean;
      replayFlags: boolean[];
    };
    expect(out.sameGuid).toBe(true);
    expect(out.replayFlags).toEqual([false, false]);
  });
});
