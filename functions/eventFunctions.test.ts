import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventFunctionNames } from './registerSagas.js';

describe('Event Grid and timer function names', () => {
  it('are the names infra/eventSubscriptions.json subscribes in Azure', () => {
    const file = path.resolve(import.meta.dirname, '../infra/eventSubscriptions.json');
    const infra = JSON.parse(readFileSync(file, 'utf8')) as {
      subscriptions: { functionName: string }[];
      timerFunctions: string[];
    };
    const subscribed = [...infra.subscriptions.map((s) => s.functionName), ...infra.timerFunctions].sort();
    expect(Object.values(eventFunctionNames).sort()).toEqual(subscribed);
  });
});
