import { TableClient } from '@azure/data-tables';
import { QueueClient } from '@azure/storage-queue';
import { startTestAzurite } from './azurite.js';
const az = await startTestAzurite();
const t = TableClient.fromConnectionString(az.connectionString, 'probeHistory', {
  allowInsecureConnection: true,
});
await t.createTable();
const q = new QueueClient(az.connectionString, 'probe-control');
await q.createIfNotExists();
async function pool(n: number, conc: number, f: (i: number) => Promise<unknown>) {
  let next = 0;
  const s = performance.now();
  await Promise.all(
    Array.from({ length: conc }, async () => {
      while (next < n) {
        const i = next++;
        await f(i);
      }
    }),
  );
  return performance.now() - s;
}
for (const conc of [1, 8, 32]) {
  const ms = await pool(600, conc, (i) => q.sendMessage(String(i)));
  console.log('send conc', conc, 'ops/s', (600 / ms) * 1000);
  const ms2 = await pool(600, conc, (i) =>
    t.submitTransaction([
      ['upsert', { partitionKey: `p${i % 50}`, rowKey: `r${i}a`, x: 'y' }],
      ['upsert', { partitionKey: `p${i % 50}`, rowKey: `r${i}b`, x: 'y' }],
      ['upsert', { partitionKey: `p${i % 50}`, rowKey: 'sentinel', n: i }],
    ]),
  );
  console.log('batch conc', conc, 'ops/s', (600 / ms2) * 1000);
  const ms3 = await pool(600, conc, (i) => t.upsertEntity({ partitionKey: `p${i % 50}`, rowKey: 'x', n: i }));
  console.log('upsert conc', conc, 'ops/s', (600 / ms3) * 1000);
}
await az.stop();
