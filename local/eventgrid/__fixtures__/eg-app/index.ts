// An app with two Event Grid triggers, written like a user's app: the local Event Grid must reach them
// through the host's webhook. Received events are kept on globalThis for the test in the same process.
import { app, type EventGridEvent, type InvocationContext } from '@azure/functions';

const received = ((globalThis as { egReceived?: { fn: string; event: EventGridEvent }[] }).egReceived ??= []);

app.eventGrid('onRawBlob', {
  handler: (event: EventGridEvent, _context: InvocationContext) => {
    received.push({ fn: 'onRawBlob', event });
  },
});

app.eventGrid('onAppEvent', {
  handler: (event: EventGridEvent, _context: InvocationContext) => {
    received.push({ fn: 'onAppEvent', event });
  },
});
