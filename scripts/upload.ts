/**
 * `npm run data:upload -- FILE [NAME]`: puts a clickstream file into the local raw container, as a new
 * month would land in the data lake. The local Event Grid turns it into BlobCreated and a retraining.
 */
import path from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';

const [file, name] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: npm run data:upload -- FILE.csv.gz [BLOB_NAME]\n');
  process.exit(2);
}
// npm start keeps Azurite on its default ports with data under .local/.
const connection =
  process.env.AzureWebJobsStorage && process.env.AzureWebJobsStorage !== 'UseDevelopmentStorage=true'
    ? process.env.AzureWebJobsStorage
    : 'UseDevelopmentStorage=true';
const container = BlobServiceClient.fromConnectionString(connection).getContainerClient(
  process.env.RAW_CONTAINER ?? 'raw',
);
const blob = `${process.env.RAW_PREFIX ?? 'clickstream/'}${name ?? path.basename(file)}`;
try {
  await container.createIfNotExists();
  await container.getBlockBlobClient(blob).uploadFile(file);
  process.stdout.write(`Uploaded ${file} to ${container.containerName}/${blob}\n`);
} catch (err) {
  process.stderr.write(`Upload failed (is npm start running?): ${(err as Error).message}\n`);
  process.exit(1);
}
