/** The local Event Grid: topic endpoint, subscriptions with retries and dead-lettering, blob watcher. */
export { BlobWatcher, type BlobWatcherOptions } from './blobWatcher.js';
export {
  localEventGridDevKey,
  localEventGridExtension,
  localEventGridPrefix,
  type LocalEventGridExtensionOptions,
} from './extension.js';
export {
  customTopicId,
  LocalEventGrid,
  type DeliveryRetryPolicy,
  type LocalEventGridOptions,
} from './grid.js';
export {
  acceptPublishedEvent,
  acceptSystemEvent,
  blobCreatedEvent,
  storageAccountTopic,
  EventValidationError,
  type EventGridEvent,
} from './schema.js';
export { matchesSubscription, type EventSubscription } from './subscriptions.js';
export {
  postSystemEvents,
  registerTopicRoutes,
  startTopicServer,
  verifySharedAccessSignature,
  type TopicServer,
} from './topic.js';
