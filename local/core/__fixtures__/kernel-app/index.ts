import { app } from '@azure/functions';
import * as df from 'durable-functions';

app.http('hello', {
  route: 'hello/{name}',
  handler: async (request, context) => {
    context.log('saying hello');
    return { jsonBody: { hello: request.params.name, q: request.query.get('q') } };
  },
});

app.hook.preInvocation((ctx) => {
  ctx.hookData.seen = true;
});

df.app.activity('double', { handler: (x: number) => x * 2 });
